"""A section's paper drawn from a larger pool: per candidate or once for all, by blueprint."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select
from staff.support import StaffClient, import_candidates, make_exam, make_session, new_nik, reissue

from exam_server.bank.store import save_items
from exam_server.db.models import Attempt, Candidate, ExamSection
from exam_server.delivery.credentials import session_token
from exam_server.delivery.papers import paper_ids
from exam_server.staff.exam_forms import FormError, section_values
from question_bank.assembly import ItemRef
from question_bank.items import Item, ItemKind, Option

BASE = {"code": "TIU", "name": "Intelegensia Umum", "question_count": "4", "model": "right_wrong"}


def _section(section_id: int, draw: str, count: int = 4, **kw: object) -> ExamSection:
    return ExamSection(
        id=section_id,
        code=f"S{section_id}",
        name="x",
        question_count=count,
        draw=draw,
        balance_difficulty=kw.get("balance", False),
        category_quota=kw.get("quota", []),
    )


POOLS = {
    1: [ItemRef(100 + i, "S1", "Numerik" if i < 4 else "Verbal", i / 10) for i in range(10)],
    2: [ItemRef(200 + i, "S2") for i in range(10)],
}


def test_the_section_form_reads_the_draw_the_quotas_and_the_balance() -> None:
    values = section_values(
        {
            **BASE,
            "draw": "per_candidate",
            "category_quota": "Numerik=2; Verbal = 1",
            "balance_difficulty": "1",
        },
        shared_clock=True,
    )
    assert (values.draw, values.balance_difficulty) == ("per_candidate", True)
    assert values.category_quota == [["Numerik", 2], ["Verbal", 1]]
    assert section_values(BASE, shared_clock=True).draw == "pool"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"draw": "lottery"}, "tidak dikenal"),
        ({"draw": "same", "category_quota": "Numerik"}, "Kategori=jumlah"),
        ({"draw": "same", "category_quota": "Numerik=3; Verbal=2"}, "melebihi"),
        ({"draw": "pool", "category_quota": "Numerik=1"}, "undian acak saja"),
    ],
)
def test_a_bad_draw_setting_is_refused_in_words(form: dict[str, str], message: str) -> None:
    with pytest.raises(FormError, match=message):
        section_values({**BASE, **form}, shared_clock=True)


def test_pool_sections_take_the_pool_in_order_and_draws_follow_their_seed() -> None:
    pool_only = [_section(1, "pool"), _section(2, "pool")]
    assert paper_ids(pool_only, POOLS, "a", exam_seed="e") == [
        [100, 101, 102, 103],
        [200, 201, 202, 203],
    ]
    same = [_section(1, "same"), _section(2, "same")]
    assert paper_ids(same, POOLS, "a", exam_seed="e") == paper_ids(same, POOLS, "b", exam_seed="e")
    own = [_section(1, "per_candidate"), _section(2, "per_candidate")]
    papers = {
        tuple(map(tuple, paper_ids(own, POOLS, f"seed-{n}", exam_seed="e"))) for n in range(8)
    }
    assert len(papers) > 1  # candidates draw different papers
    assert paper_ids(own, POOLS, "seed-1", exam_seed="e") == paper_ids(
        own, POOLS, "seed-1", exam_seed="e"
    )


def test_a_quota_is_met_in_every_draw_and_a_short_pool_is_refused() -> None:
    quota = [_section(1, "per_candidate", count=3, quota=[["Verbal", 2]])]
    for n in range(10):
        (ids,) = paper_ids(quota, POOLS, f"s{n}", exam_seed="e")
        assert sum(1 for i in ids if i >= 104) >= 2 and len(ids) == 3
    with pytest.raises(ValueError, match="tidak cukup"):
        paper_ids([_section(1, "same", count=11)], POOLS, "s", exam_seed="e")


async def _draw_exam(client: StaffClient, services, pool: int, count: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    category = f"Draw-{secrets.token_hex(3)}"
    items = [
        Item(
            kind=ItemKind.SINGLE,
            stem_html=f"<p>{category} soal {i}</p>",
            section="TIU",
            category=category,
            difficulty=i / pool,
            options=(Option("A", "<p>ya</p>", 1.0), Option("B", "<p>tidak</p>", 0.0)),
        )
        for i in range(pool)
    ]
    async with services.sessions() as db, db.begin():
        await save_items(db, items)
    exam_id = await make_exam(client)
    form = {
        **BASE,
        "question_count": str(count),
        "draw": "per_candidate",
        "balance_difficulty": "1",
    }
    assert (await client.post(f"/panitia/ujian/{exam_id}/bagian", form)).status_code == 303
    page = await client.get(f"/panitia/ujian/{exam_id}")
    section_id = int(re.search(rf"/ujian/{exam_id}/bagian/(\d+)/soal", page.text).group(1))  # type: ignore[union-attr]
    resp = await client.post(
        f"/panitia/ujian/{exam_id}/bagian/{section_id}/soal",
        {"bank_section": "TIU", "category": category},
    )
    assert resp.status_code == 303
    return exam_id, section_id


async def _log_in(client: StaffClient, services, settings, exam_id: int, people: int):  # type: ignore[no-untyped-def]
    session_id = await make_session(client, exam_id, f"Sesi Undian {secrets.token_hex(2)}")
    niks = [new_nik() for _ in range(people)]
    await import_candidates(
        client, [(n, f"Undian {i}", "Dinas Undian") for i, n in enumerate(niks)]
    )
    await client.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": " ".join(niks)})
    async with services.sessions() as db:
        found = list(await db.scalars(select(Candidate).where(Candidate.nik.in_(niks))))
    token = session_token(settings.secret_key_value, session_id, 900)
    answers = []
    for person in found:
        password = await reissue(client, person.id)
        answers.append(
            await client.http.post(
                "/api/v1/candidate/login",
                json={
                    "participant_no": person.participant_no,
                    "password": password,
                    "session_token": token,
                },
            )
        )
    return answers, [p.id for p in found]


async def test_candidates_of_a_per_candidate_section_get_their_own_draw(
    panitia: StaffClient, services, settings
) -> None:  # type: ignore[no-untyped-def]
    exam_id, _ = await _draw_exam(panitia, services, pool=12, count=4)
    page = await panitia.get(f"/panitia/ujian/{exam_id}")
    assert "Undian acak per peserta" in page.text and 'class="warn"' not in page.text
    answers, ids = await _log_in(panitia, services, settings, exam_id, people=5)
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    async with services.sessions() as db:
        papers = [
            tuple(sorted(a.question_ids))
            for a in await db.scalars(select(Attempt).where(Attempt.candidate_id.in_(ids)))
        ]
    assert len(papers) == 5 and all(len(p) == 4 for p in papers)
    assert len(set(papers)) > 1


async def test_a_pool_too_small_is_shown_to_the_committee_and_refused_at_login_in_words(
    panitia: StaffClient, services, settings
) -> None:  # type: ignore[no-untyped-def]
    exam_id, section_id = await _draw_exam(panitia, services, pool=3, count=3)
    form = {**BASE, "question_count": "5", "draw": "per_candidate"}
    assert (
        await panitia.post(f"/panitia/ujian/{exam_id}/bagian/{section_id}", form)
    ).status_code == 303
    page = await panitia.get(f"/panitia/ujian/{exam_id}")
    assert 'class="warn"' in page.text and "butuh 5 soal, tersedia 3" in page.text
    answers, ids = await _log_in(panitia, services, settings, exam_id, people=1)
    assert answers[0].status_code == 409
    assert answers[0].json()["error"]["code"] == "exam_not_ready"
    async with services.sessions() as db:
        assert await db.scalar(select(Attempt.id).where(Attempt.candidate_id.in_(ids))) is None
