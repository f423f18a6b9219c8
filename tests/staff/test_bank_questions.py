"""The question list and key corrections: the committee fixes a flagged key from the web."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from exam_server.bank.store import item_from_question, save_items
from exam_server.db.models import Question
from exam_server.db.staff_models import AuditEntry
from question_bank.exporting import export_bank
from question_bank.importing import parse_bank
from question_bank.items import Item, ItemKind, Option


def _item(weighted: bool = False, kind: ItemKind = ItemKind.SINGLE) -> Item:
    tag = secrets.token_hex(6)
    scores = [5, 4, 3, 2, 1] if weighted else [1, 0, 0, 0, 0]
    return Item(
        kind=kind,
        stem_html=f"<p>Soal koreksi {tag}</p>",
        section="TIU",
        category="Verbal",
        weighted=weighted,
        options=tuple(
            Option(x, f"<p>{x} {tag}</p>", float(s)) for x, s in zip("ABCDE", scores, strict=True)
        ),
    )


async def _add(services, *items: Item) -> list[int]:  # type: ignore[no-untyped-def]
    async with services.sessions() as db, db.begin():
        saved = await save_items(db, list(items))
    return saved.ids


async def _question(services, question_id: int) -> Question:  # type: ignore[no-untyped-def]
    async with services.sessions() as db:
        question = await db.get(Question, question_id)
        assert question is not None
        return question


async def test_the_list_finds_a_question_by_its_text_and_links_to_it(panitia, services) -> None:  # type: ignore[no-untyped-def]
    item = _item()
    (qid,) = await _add(services, item)
    word = item.stem_html.split()[-1].removesuffix("</p>")
    resp = await panitia.get("/panitia/bank/soal", params={"q": word})
    assert resp.status_code == 200
    assert f'href="/panitia/bank/soal/{qid}"' in resp.text and "(1)" in resp.text
    assert (await panitia.get("/panitia/bank/soal", params={"q": "tidak-ada-soal-ini"})).text.count(
        "/panitia/bank/soal/"
    ) == 0


async def test_a_corrected_key_is_saved_audited_and_the_export_adds_nothing(
    panitia, services
) -> None:  # type: ignore[no-untyped-def]
    (qid,) = await _add(services, _item())
    page = await panitia.get(f"/panitia/bank/soal/{qid}")
    assert page.status_code == 200 and 'value="A" aria-label="Kunci A" checked' in page.text
    resp = await panitia.post(
        f"/panitia/bank/soal/{qid}/kunci", {"key": "C", "reason": "Kunci tertukar, surat 12/2026"}
    )
    assert resp.status_code == 303
    question = await _question(services, qid)
    item = item_from_question(question)
    assert item.correct_ids == ("C",)
    assert question.content_hash == item.content_hash()  # the hash follows the key
    async with services.sessions() as db:
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "question.key", AuditEntry.entity_id == str(qid)
            )
        )
    assert entry is not None and entry.username == panitia.username
    assert entry.old["A"] == 1.0 and entry.new["C"] == 1.0 and entry.new["A"] == 0.0
    assert entry.reason == "Kunci tertukar, surat 12/2026"
    # The corrected question goes out and comes back as itself, not as a new one.
    report = parse_bank(export_bank([item], "xlsx"), "bank.xlsx")
    assert report.ok and report.items[0].content_hash() == question.content_hash


async def test_a_correction_without_a_reason_or_a_key_changes_nothing(panitia, services) -> None:  # type: ignore[no-untyped-def]
    (qid,) = await _add(services, _item())
    before = (await _question(services, qid)).options
    no_reason = await panitia.post(f"/panitia/bank/soal/{qid}/kunci", {"key": "B", "reason": " "})
    assert no_reason.status_code == 400 and "Tuliskan alasan" in no_reason.text
    no_key = await panitia.post(f"/panitia/bank/soal/{qid}/kunci", {"reason": "salah kunci"})
    assert no_key.status_code == 400 and "Pilih kunci" in no_key.text
    assert (await _question(services, qid)).options == before


async def test_weights_are_corrected_as_points_and_a_negative_weight_is_refused(
    panitia, services
) -> None:  # type: ignore[no-untyped-def]
    (qid,) = await _add(services, _item(weighted=True))
    form = {f"score_{x}": v for x, v in zip("ABCDE", ["1", "2", "3", "4", "5"], strict=True)}
    ok = await panitia.post(f"/panitia/bank/soal/{qid}/kunci", {**form, "reason": "bobot terbalik"})
    assert ok.status_code == 303
    assert [o["score"] for o in (await _question(services, qid)).options] == [1, 2, 3, 4, 5]
    bad = await panitia.post(
        f"/panitia/bank/soal/{qid}/kunci", {**form, "score_A": "-1", "reason": "coba"}
    )
    assert bad.status_code == 400 and "ditolak" in bad.text
    assert [o["score"] for o in (await _question(services, qid)).options] == [1, 2, 3, 4, 5]


async def test_a_correction_that_would_copy_another_question_is_refused(panitia, services) -> None:  # type: ignore[no-untyped-def]
    original = _item()
    twin = original.with_scores({"A": 0.0, "B": 1.0})
    first, second = await _add(services, original, twin)
    resp = await panitia.post(f"/panitia/bank/soal/{second}/kunci", {"key": "A", "reason": "x"})
    assert resp.status_code == 400 and f"#{first}" in resp.text
    assert item_from_question(await _question(services, second)).correct_ids == ("B",)


async def test_other_roles_cannot_see_or_correct_questions(proctor, viewer, services) -> None:  # type: ignore[no-untyped-def]
    (qid,) = await _add(services, _item())
    for client in (proctor, viewer):
        assert (await client.get(f"/panitia/bank/soal/{qid}")).status_code == 403
        assert (await client.get("/panitia/bank/soal")).status_code == 403
        resp = await client.post(f"/panitia/bank/soal/{qid}/kunci", {"key": "B", "reason": "x"})
        assert resp.status_code == 403
    assert item_from_question(await _question(services, qid)).correct_ids == ("A",)


async def test_a_correction_without_the_csrf_token_is_refused(panitia, services) -> None:  # type: ignore[no-untyped-def]
    (qid,) = await _add(services, _item())
    resp = await panitia.post(
        f"/panitia/bank/soal/{qid}/kunci", {"key": "B", "reason": "x"}, csrf=False
    )
    assert resp.status_code == 403
    assert item_from_question(await _question(services, qid)).correct_ids == ("A",)
