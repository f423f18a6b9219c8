"""Re-grading after a key correction: who changed, from what to what, in the audit log."""

from __future__ import annotations

from results.builders import add_candidate, build_exam, grade_all, set_key
from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.db.audit import Actor
from exam_server.db.models import Result
from exam_server.db.staff_models import AuditEntry
from exam_server.delivery.services import Services
from exam_server.results.regrade import regrade_exam

ALL_RIGHT = ["A", "A", "A", "A", "A", "A", "A", "A"]  # TWK 15, TIU 15, TKP 10 = 40


async def test_a_key_correction_changes_exactly_the_results_that_depend_on_it(
    db_engine, services: Services
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    chose_a = add_candidate(db_engine, built, "Ayu", ALL_RIGHT)
    chose_b = add_candidate(db_engine, built, "Budi", ["B", "A", "A", "A", "A", "A", "A", "A"])
    blank = add_candidate(db_engine, built, "Citra", [None, "A", "A", "A", "A", "A", "A", "A"])
    await grade_all(services, built)
    with Session(db_engine) as db:
        assert db.get(Result, built.attempts[chose_a]).total == 40  # type: ignore[union-attr]
        assert db.get(Result, built.attempts[chose_b]).passed is False  # type: ignore[union-attr]

    await set_key(services, built.question_ids[0], "B")  # the committee finds TWK 1's key was B
    async with services.sessions() as db, db.begin():
        report = await regrade_exam(db, built.exam_id, Actor(None, "uji"))

    assert report.graded == 3
    by_no = {c.participant_no: c for c in report.changes}
    assert set(by_no) == {chose_a, chose_b}  # the blank answer scores 0 under either key
    assert (by_no[chose_a].old_total, by_no[chose_a].new_total) == (40, 35)
    assert (by_no[chose_b].old_total, by_no[chose_b].new_total) == (35, 40)
    assert (by_no[chose_b].old_passed, by_no[chose_b].new_passed) == (False, True)
    assert (by_no[chose_a].old_passed, by_no[chose_a].new_passed) == (True, False)
    assert by_no[chose_a].new_sections["TWK"] == 10
    with Session(db_engine) as db:
        assert db.get(Result, built.attempts[chose_b]).total == 40  # type: ignore[union-attr]
        entries = list(
            db.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "result.regrade",
                    AuditEntry.entity_id.in_(
                        [str(built.attempts[p]) for p in (chose_a, chose_b, blank)]
                    ),
                )
            )
        )
    assert sorted(e.entity_id for e in entries) == sorted(
        str(built.attempts[p]) for p in (chose_a, chose_b)
    )
    entry = next(e for e in entries if e.entity_id == str(built.attempts[chose_b]))
    assert entry.old["total"] == 35 and entry.new["total"] == 40 and entry.new["passed"] is True


async def test_grading_again_with_unchanged_keys_changes_nothing_and_keeps_the_code(
    db_engine, services: Services
) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    pno = add_candidate(db_engine, built, "Dewi", ["A", "C", None, "A", "B", "A", "B", "E"])
    await grade_all(services, built)
    with Session(db_engine) as db:
        before = db.get(Result, built.attempts[pno])
        assert before is not None
        code, total = before.verify_code, before.total
    async with services.sessions() as db, db.begin():
        report = await regrade_exam(db, built.exam_id, Actor(None, "uji"))
    assert report.changes == [] and report.graded == 1
    with Session(db_engine) as db:
        after = db.get(Result, built.attempts[pno])
        assert after is not None and (after.verify_code, after.total) == (code, total)
