"""The answer sheet as the candidate saw it maps shuffled options back to the bank's
letters and the key, whatever the shuffle (docs/results.md, "The answer sheet")."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from exam_server.results.story import answer_sheet, bank_id, shown_letter

BANK = "ABCDE"


@st.composite
def papers(draw: st.DrawFn) -> tuple[list[int], list[list[str]], dict, dict[int, str | None]]:
    n = draw(st.integers(min_value=1, max_value=12))
    rng = random.Random(draw(st.integers(min_value=0, max_value=2**32)))
    question_ids = rng.sample(range(100, 1000), n)
    orders, questions, answers = [], {}, {}
    for q, qid in enumerate(question_ids):
        count = draw(st.integers(min_value=2, max_value=5))
        ids = list(BANK[:count])
        key = rng.choice(ids)
        questions[qid] = {
            "stem_html": f"<p>soal {qid}</p>",
            "options": [
                {"id": o, "html": f"<p>{qid}-{o}</p>", "score": 1.0 if o == key else 0.0}
                for o in ids
            ],
        }
        order = ids[:]
        rng.shuffle(order)
        orders.append(order)
        answers[q] = draw(st.sampled_from([None, *ids]))
    return question_ids, orders, questions, answers


@settings(max_examples=200, deadline=None)
@given(papers())
def test_answer_sheet_maps_shuffled_options_back(paper: tuple) -> None:
    question_ids, orders, questions, answers = paper
    sections = [{"code": "TIU", "start": 0, "count": len(question_ids)}]
    sheet = answer_sheet(question_ids, orders, sections, questions, answers)
    assert [row.number for row in sheet] == list(range(1, len(question_ids) + 1))
    for q, row in enumerate(sheet):
        qid = question_ids[q]
        assert row.question_id == qid
        by_id = {o["id"]: o for o in questions[qid]["options"]}
        # The screen shows the options in the candidate's order, lettered A, B, C...
        assert [o.bank for o in row.options] == orders[q]
        assert [o.shown for o in row.options] == list("ABCDE"[: len(orders[q])])
        for option in row.options:
            assert option.html == by_id[option.bank]["html"]
            assert bank_id(orders[q], option.shown) == option.bank
            assert shown_letter(orders[q], option.bank) == option.shown
        choice = answers[q]
        if choice is None:
            assert row.chosen_bank == () and row.chosen_shown == ()
        else:
            assert row.chosen_bank == (choice,)
            # The letter the candidate pressed is where their order put that bank option.
            assert row.chosen_shown == ("ABCDE"[orders[q].index(choice)],)
        key = next(o["id"] for o in questions[qid]["options"] if o["score"] > 0)
        assert row.key_bank == (key,)
        assert row.key_shown == ("ABCDE"[orders[q].index(key)],)


def test_weighted_question_shows_every_weight_in_screen_order() -> None:
    questions = {
        7: {
            "stem_html": "",
            "weighted": True,
            "options": [
                {"id": o, "html": o, "score": s}
                for o, s in zip("ABCDE", [5, 4, 3, 2, 1], strict=True)
            ],
        }
    }
    [row] = answer_sheet([7], [list("CEABD")], [], questions, {0: "A"})
    assert [(o.shown, o.bank, o.score) for o in row.options] == [
        ("A", "C", 3),
        ("B", "E", 1),
        ("C", "A", 5),
        ("D", "B", 4),
        ("E", "D", 2),
    ]
    assert row.chosen_shown == ("C",) and row.key_shown == ("C",) and row.weighted


async def test_a_candidate_sees_their_own_answer_sheet_only_where_the_exam_allows(
    db_engine,
    services,
    anonymous,  # type: ignore[no-untyped-def]
) -> None:
    from results.builders import add_candidate, build_exam, grade_all
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from exam_server.db.models import Attempt, Exam

    built = build_exam(db_engine)
    pno = add_candidate(db_engine, built, "Rini Sheet", ["B", "A", "A", "A", None, None, "A", "B"])
    with Session(db_engine) as db, db.begin():
        # The candidate's screen showed the options in the order E, D, C, B, A.
        db.execute(
            update(Attempt)
            .where(Attempt.id == built.attempts[pno])
            .values(option_orders=[list("EDCBA")] * 8)
        )
    await grade_all(services, built)
    token = services.tokens.issue(built.attempts[pno], built.candidates[pno], "id")
    page = await anonymous.post("/hasil", data={"token": token})
    assert page.status_code == 200 and "Lembar jawaban Anda" not in page.text
    with Session(db_engine) as db, db.begin():
        db.execute(update(Exam).where(Exam.id == built.exam_id).values(show_answer_sheet=True))
    page = await anonymous.post("/hasil", data={"token": token})
    assert "Lembar jawaban Anda" in page.text
    # Question 1: bank B was the 4th option on screen (D); the key, bank A, was E.
    first = page.text.split("<td>1</td><td>TWK</td>")[1].split("</tr>")[0].replace("\n", "")
    assert "<td>D</td><td>B</td>" in first and "<td>E</td><td>A</td>" in first
