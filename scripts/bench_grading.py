#!/usr/bin/env python3
"""Benchmark: grade N finished attempts of 110 questions into PostgreSQL, then export them.

Creates a throw-away database on the server of ``--database-url`` (default: $DATABASE_URL),
bulk-loads an SKD exam (TWK 30, TIU 35, TKP 45), N candidates, N submitted attempts and
their answer logs with COPY, then times:

* grading every attempt with ``exam_server.grading.grade.grade_attempts`` (``--workers``
  concurrent database sessions, one batch and commit per ``--batch`` attempts; with
  ``--one-by-one``, ``grade_attempt`` per attempt as before batching);
* the ranked XLSX export (xlsxwriter constant_memory, streamed rows) and the CSV export,
  with the Python heap's peak during each export (tracemalloc) and the process's peak RSS.

    .venv/bin/python scripts/bench_grading.py --attempts 10000

Prints one JSON object at the end. The database is dropped afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from exam_server.db.engine import make_async_engine, session_factory, sync_url, upgrade  # noqa: E402
from exam_server.grading.scoring import SKD_SECTIONS  # noqa: E402


def _db_url(base: str, name: str) -> str:
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _conninfo(url: str) -> str:
    return sync_url(url).replace("postgresql+psycopg://", "postgresql://")


def load(url: str, attempts: int, seed: int) -> tuple[int, float]:
    """Bulk-load the exam and ``attempts`` submitted attempts; returns (exam id, seconds)."""
    rng = random.Random(seed)
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(_conninfo(url)) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO exams (code, title, shared_minutes, shuffle_questions, shuffle_options, "
            "results_release, rules_id, rules_en) VALUES ('BENCH', 'Bench SKD', 100, false, false, "
            "'immediate', '', '') RETURNING id"
        )
        exam_id = cur.fetchone()[0]  # type: ignore[index]
        qids: list[int] = []
        layout, start = [], 0
        for position, (rule, count) in enumerate(SKD_SECTIONS):
            scoring = {
                "model": rule.model.value,
                "points_correct": rule.points_correct,
                "points_wrong": rule.points_wrong,
            }
            cur.execute(
                "INSERT INTO exam_sections (exam_id, position, code, name, question_count, scoring, pass_mark) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    exam_id,
                    position,
                    rule.code,
                    rule.name,
                    count,
                    json.dumps(scoring),
                    rule.pass_mark,
                ),
            )
            section_id = cur.fetchone()[0]  # type: ignore[index]
            weighted = rule.code == "TKP"
            for i in range(count):
                scores = (
                    rng.sample([1, 2, 3, 4, 5], 5)
                    if weighted
                    else [1 if j == i % 5 else 0 for j in range(5)]
                )
                options = [
                    {"id": o, "html": f"<p>{o}</p>", "score": float(s), "fixed": False}
                    for o, s in zip("ABCDE", scores, strict=True)
                ]
                cur.execute(
                    "INSERT INTO questions (content_hash, kind, section, category, tags, weighted, "
                    "all_or_nothing, stem_html, options) VALUES (%s, 'single', %s, '', '[]', %s, false, %s, %s) "
                    "RETURNING id",
                    (
                        secrets.token_hex(32),
                        rule.code,
                        weighted,
                        f"<p>{rule.code} {i}</p>",
                        json.dumps(options),
                    ),
                )
                qid = cur.fetchone()[0]  # type: ignore[index]
                cur.execute(
                    "INSERT INTO exam_questions (section_id, question_id, position) VALUES (%s, %s, %s)",
                    (section_id, qid, i),
                )
                qids.append(qid)
            layout.append(
                {
                    "code": rule.code,
                    "name": rule.name,
                    "start": start,
                    "count": count,
                    "minutes": None,
                }
            )
            start += count
        cur.execute(
            "INSERT INTO exam_sessions (exam_id, name, room, starts_at, ends_at, token_required, "
            "token_period_s) VALUES (%s, 'Bench', '', %s, %s, false, 900) RETURNING id",
            (exam_id, now - dt.timedelta(hours=3), now),
        )
        session_id = cur.fetchone()[0]  # type: ignore[index]
        units = ["Dinas Pendidikan", "Dinas Kesehatan", "Sekretariat Daerah", "Dinas Perhubungan"]
        with cur.copy(
            "COPY candidates (nik, name, unit, phone, email, photo, participant_no, password_hash) FROM STDIN"
        ) as cp:
            for i in range(attempts):
                cp.write_row(
                    (f"32{i:014d}", f"Peserta {i}", units[i % 4], "", "", "", f"B-{i:06d}", "x")
                )
        cur.execute("SELECT id FROM candidates ORDER BY id")
        cids = [r[0] for r in cur.fetchall()]
        with cur.copy("COPY session_candidates (session_id, candidate_id) FROM STDIN") as cp:
            for cid in cids:
                cp.write_row((session_id, cid))
        orders = json.dumps([list("ABCDE")] * len(qids))
        with cur.copy(
            "COPY attempts (candidate_id, session_id, exam_id, seed, question_ids, option_orders, sections, "
            "status, starts_at, deadline_at, paused_ms, submitted_at, submit_reason, durable_seq) FROM STDIN"
        ) as cp:
            for cid in cids:
                cp.write_row(
                    (
                        cid,
                        session_id,
                        exam_id,
                        "0" * 32,
                        json.dumps(qids),
                        orders,
                        json.dumps(layout),
                        "submitted",
                        now - dt.timedelta(hours=2),
                        now - dt.timedelta(minutes=20),
                        0,
                        now - dt.timedelta(minutes=25),
                        "candidate",
                        0,
                    )
                )
        cur.execute("SELECT id FROM attempts WHERE exam_id = %s ORDER BY id", (exam_id,))
        aids = [r[0] for r in cur.fetchall()]
        with cur.copy(
            "COPY answer_log (attempt_id, seq, kind, q, value, device, saved_at) FROM STDIN"
        ) as cp:
            for aid in aids:
                ability = rng.random()
                seq = 0
                for q in range(len(qids)):
                    if rng.random() < 0.08:
                        continue  # left blank
                    right = "ABCDE"[q % 5] if q < 65 else "A"
                    choice = right if rng.random() < 0.35 + 0.6 * ability else rng.choice("ABCDE")
                    seq += 1
                    cp.write_row(
                        (
                            aid,
                            seq,
                            "answer",
                            q,
                            json.dumps(choice),
                            "bench",
                            now - dt.timedelta(minutes=90 - q * 0.5),
                        )
                    )
        conn.commit()
    return exam_id, time.perf_counter() - started


async def grade_all(url: str, exam_id: int, workers: int, batch: int, one_by_one: bool) -> float:
    from exam_server.grading.grade import grade_attempt, grade_attempts

    engine = make_async_engine(url, pool_size=workers)
    sessions = session_factory(engine)
    async with engine.connect() as conn:
        ids = [
            r[0]
            for r in await conn.execute(
                text("SELECT id FROM attempts WHERE exam_id = :e ORDER BY id"), {"e": exam_id}
            )
        ]
    queue: asyncio.Queue[list[int]] = asyncio.Queue()
    for i in range(0, len(ids), batch):
        queue.put_nowait(ids[i : i + batch])

    async def worker() -> None:
        while not queue.empty():
            chunk = queue.get_nowait()
            async with sessions() as db, db.begin():
                if one_by_one:  # the way before batching, for comparison
                    for attempt_id in chunk:
                        await grade_attempt(db, attempt_id, dt.datetime.now(dt.UTC))
                else:
                    await grade_attempts(db, chunk, dt.datetime.now(dt.UTC))
                db.expunge_all()

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(workers)])
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed


def export(url: str, exam_id: int, fmt: str, out: Path) -> dict[str, float]:
    from exam_server.results.export import export_file
    from exam_server.results.standings import Columns, exam_heads

    async def heads() -> Columns:
        async_engine = make_async_engine(url, pool_size=1)
        try:
            async with session_factory(async_engine)() as db:
                return Columns(await exam_heads(db, exam_id))
        finally:
            await async_engine.dispose()

    columns = asyncio.run(heads())
    engine = create_engine(sync_url(url))
    tracemalloc.start()
    started = time.perf_counter()
    with engine.connect() as conn:
        rows = export_file(conn, out, fmt, exam_id, columns)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.dispose()
    return {
        "rows": rows,
        "seconds": round(elapsed, 2),
        "python_heap_peak_mib": round(peak / 2**20, 1),
        "file_mib": round(out.stat().st_size / 2**20, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4, help="concurrent grading sessions")
    parser.add_argument("--batch", type=int, default=200, help="attempts per transaction")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--one-by-one", action="store_true", help="grade_attempt per attempt")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()

    name = f"tkd_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(sync_url(args.database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _db_url(args.database_url, name)
    report: dict[str, object] = {
        "attempts": args.attempts,
        "questions": sum(c for _, c in SKD_SECTIONS),
        "workers": args.workers,
        "batch": args.batch,
    }
    try:
        upgrade(url)
        exam_id, load_s = load(url, args.attempts, args.seed)
        report["load_seconds"] = round(load_s, 1)
        cpu0 = time.process_time()
        grade_s = asyncio.run(grade_all(url, exam_id, args.workers, args.batch, args.one_by_one))
        report["grade_cpu_seconds"] = round(time.process_time() - cpu0, 1)
        report["one_by_one"] = args.one_by_one
        report["grade_seconds"] = round(grade_s, 1)
        report["grade_attempts_per_s"] = round(args.attempts / grade_s, 1)
        with psycopg.connect(_conninfo(url)) as conn:
            report["result_items"] = conn.execute("SELECT count(*) FROM result_items").fetchone()[0]  # type: ignore[index]
        with tempfile.TemporaryDirectory() as tmp:
            report["xlsx"] = export(url, exam_id, "xlsx", Path(tmp) / "hasil.xlsx")
            report["csv"] = export(url, exam_id, "csv", Path(tmp) / "hasil.csv")
        report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
