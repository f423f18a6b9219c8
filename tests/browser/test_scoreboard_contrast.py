"""The projector scoreboard is readable (docs/results.md): every text on it, measured in
Chromium from the computed colours, has a contrast ratio of at least 4.5:1 (WCAG AA)."""

from __future__ import annotations

import datetime as dt
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis as redis_lib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from results.builders import add_candidate, build_exam

from exam_server.db.models import Attempt
from exam_server.grading.grade import grade_attempt
from exam_server.results.scoreboard import switch_key

# The luminance and ratio of WCAG 2.x, on each element's colour and the first opaque
# background behind it.
MEASURE = """
() => {
  const rgb = s => s.match(/[\\d.]+/g).map(Number);
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = el => { for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c; }
    return [255, 255, 255]; };
  const out = [];
  for (const el of document.querySelectorAll("h1, #status, #board th, #board td")) {
    if (!el.textContent.trim()) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
    out.push({text: el.textContent.trim().slice(0, 30),
              ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)});
  }
  return out;
}
"""


def test_every_text_on_the_scoreboard_has_contrast_at_least_4_5(
    browser,
    live_server,
    settings,
    db_engine,  # type: ignore[no-untyped-def]
) -> None:
    built = build_exam(db_engine)
    add_candidate(db_engine, built, "Lulus Terang", ["A"] * 8)
    add_candidate(db_engine, built, "Gagal Terang", [None] * 8)
    add_candidate(db_engine, built, "Masih Kerja", ["A"] * 8, status="running")
    add_candidate(db_engine, built, "Belum Datang", None)

    import asyncio

    from exam_server.db.engine import make_async_engine, session_factory

    async def grade() -> None:
        engine = make_async_engine(str(settings.database_url), pool_size=1)
        async with session_factory(engine)() as db, db.begin():
            for attempt_id in built.attempts.values():
                if (await db.get(Attempt, attempt_id)).status == "submitted":  # type: ignore[union-attr]
                    await grade_attempt(db, attempt_id, dt.datetime.now(dt.UTC))
        await engine.dispose()

    # Playwright's sync API holds this thread's event loop: grade on another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, grade()).result()
    client = redis_lib.Redis.from_url(str(settings.redis_url), decode_responses=True)
    client.set(switch_key(built.session_ids[0]), "1")
    client.close()
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{live_server.url}/papan/{built.session_ids[0]}")
    page.wait_for_selector("#board tbody tr")
    measured = page.evaluate(MEASURE)
    page.close()
    assert len(measured) > 10
    low = [m for m in measured if m["ratio"] < 4.5]
    assert not low, low
