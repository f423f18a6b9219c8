"""Long lists page and search (docs/committee.md): twin names by whole groups, a session's
candidates 100 at a time, both searchable."""

from __future__ import annotations

import re
import secrets

from results.builders import build_exam, new_nik
from sqlalchemy.orm import Session

from exam_server.db.models import Candidate, SessionCandidate


def _people(db_engine, names: list[str], session_id: int | None = None) -> None:  # type: ignore[no-untyped-def]
    with Session(db_engine) as db, db.begin():
        for name in names:
            c = Candidate(
                nik=new_nik(),
                name=name,
                participant_no=f"L-{secrets.token_hex(5)}",
                password_hash="x",
            )
            db.add(c)
            db.flush()
            if session_id is not None:
                db.add(SessionCandidate(session_id=session_id, candidate_id=c.id))


async def test_twin_names_page_by_whole_groups_and_search(db_engine, panitia) -> None:  # type: ignore[no-untyped-def]
    tag = secrets.token_hex(3)
    _people(db_engine, [f"Kembar {tag} {i:02d}" for i in range(30) for _ in range(2)])
    first = await panitia.get("/panitia/kandidat", params={"status": "twins", "q": f"kembar {tag}"})
    assert first.status_code == 200
    assert len(re.findall(rf"<h2>Kembar {tag} \d\d", first.text)) == 25
    assert "Halaman 1 / 2" in first.text
    second = await panitia.get(
        "/panitia/kandidat", params={"status": "twins", "q": f"kembar {tag}", "page": "2"}
    )
    shown = re.findall(rf"<h2>Kembar {tag} (\d\d)", second.text)
    assert shown == ["25", "26", "27", "28", "29"]
    # Each group whole: two rows under each name.
    assert second.text.count(f"<td>Kembar {tag} 29</td>") == 2
    one = await panitia.get(
        "/panitia/kandidat", params={"status": "twins", "q": f"Kembar {tag} 07"}
    )
    assert re.findall(rf"<h2>Kembar {tag} (\d\d)", one.text) == ["07"]


async def test_a_session_list_pages_and_searches(db_engine, panitia) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    sid = built.session_ids[0]
    tag = secrets.token_hex(3)
    _people(db_engine, [f"Orang {tag} {i:03d}" for i in range(120)], sid)
    page = await panitia.get(f"/panitia/sesi/{sid}")
    assert page.status_code == 200
    assert len(re.findall(rf"<td>Orang {tag} \d+</td>", page.text)) == 100
    assert " · 120" in page.text and "Halaman 1 / 2" in page.text
    rest = await panitia.get(f"/panitia/sesi/{sid}", params={"page": "2"})
    assert len(re.findall(rf"<td>Orang {tag} \d+</td>", rest.text)) == 20
    found = await panitia.get(f"/panitia/sesi/{sid}", params={"q": f"orang {tag} 042"})
    assert re.findall(rf"<td>Orang {tag} (\d+)</td>", found.text) == ["042"]
