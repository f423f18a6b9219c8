"""The candidate's result and slip, and the public verification page."""

from __future__ import annotations

import datetime as dt

import httpx
from results.builders import add_candidate, build_exam, grade_all
from sqlalchemy.orm import Session

from exam_server.db.models import Result
from exam_server.delivery.services import Services
from exam_server.grading.grade import new_verify_code

FAILS_TIU = ["A", "A", "A", "A", None, None, "A", "B"]  # TWK 15, TIU 5 (< 10), TKP 9


async def _graded(db_engine, services: Services, **exam: object) -> tuple[object, str, str]:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine, **exam)  # type: ignore[arg-type]
    pno = add_candidate(db_engine, built, "Indah Lestari", FAILS_TIU)
    await grade_all(services, built)
    with Session(db_engine) as db:
        code = db.get(Result, built.attempts[pno]).verify_code  # type: ignore[union-attr]
    return built, pno, code


def _token(services: Services, built, pno: str, lang: str = "id") -> str:  # type: ignore[no-untyped-def]
    return services.tokens.issue(built.attempts[pno], built.candidates[pno], lang)


async def test_a_candidate_reads_their_result_with_the_reason_it_failed(
    db_engine, services: Services, anonymous: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    built, pno, code = await _graded(db_engine, services)
    resp = await anonymous.get(
        "/api/v1/candidate/result",
        headers={"Authorization": f"Bearer {_token(services, built, pno)}"},
    )
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert (data["total"], data["passed"], data["verify_code"]) == (29, False, code)
    assert data["reasons_id"] == ["TIU 5, di bawah ambang batas 10"]
    assert data["reasons_en"] == ["TIU 5, below the pass mark 10"]
    tiu = next(s for s in data["sections"] if s["code"] == "TIU")
    assert (tiu["correct"], tiu["wrong"], tiu["blank"], tiu["rule_id"]) == (
        1,
        0,
        2,
        "Benar 5, salah 0, kosong 0",
    )
    assert data["nik_masked"] != built.niks[pno] and data["nik_masked"].endswith(
        built.niks[pno][-2:]
    )


async def test_the_result_api_refuses_a_missing_forged_or_url_borne_token(
    db_engine, services: Services, anonymous: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    built, pno, _ = await _graded(db_engine, services)
    token = _token(services, built, pno)
    assert (await anonymous.get("/api/v1/candidate/result")).json()["error"]["code"] == "bad_token"
    forged = await anonymous.get(
        "/api/v1/candidate/result", headers={"Authorization": f"Bearer {token}x"}
    )
    assert forged.status_code == 401
    in_url = await anonymous.get(f"/api/v1/candidate/result?token={token}")
    assert in_url.status_code == 401
    assert (await anonymous.get(f"/hasil/slip.pdf?token={token}")).status_code in (404, 405)


async def test_a_result_the_exam_does_not_release_is_not_shown(
    db_engine, services: Services, anonymous: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    built, pno, code = await _graded(db_engine, services, release="never")
    resp = await anonymous.get(
        "/api/v1/candidate/result",
        headers={"Authorization": f"Bearer {_token(services, built, pno, 'en')}"},
    )
    assert resp.status_code == 403
    assert resp.json()["error"] == {
        "code": "not_released",
        "message": "Results of this test have not been released yet.",
    }
    page = await anonymous.get("/verify", params={"code": code})
    assert page.status_code == 404 and "Indah" not in page.text


async def test_the_candidate_page_and_pdf_take_the_token_from_a_posted_form(
    db_engine, services: Services, anonymous: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    built, pno, code = await _graded(db_engine, services)
    token = _token(services, built, pno)
    page = await anonymous.post("/hasil", data={"token": token})
    assert page.status_code == 200
    assert code in page.text and "TIU 5, di bawah ambang batas 10" in page.text
    assert page.headers["cache-control"] == "no-store"
    pdf = await anonymous.post("/hasil/slip.pdf", data={"token": token})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 2000
    api_pdf = await anonymous.post(
        "/api/v1/candidate/result/slip.pdf", headers={"Authorization": f"Bearer {token}"}
    )
    assert api_pdf.content.startswith(b"%PDF")
    assert (await anonymous.post("/hasil", data={"token": "nope"})).status_code == 401


async def test_anyone_can_verify_a_genuine_code_and_sees_only_the_slip(
    db_engine, services: Services, anonymous: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    built, pno, code = await _graded(db_engine, services)
    typed = code.lower().replace("-", "")
    page = await anonymous.get("/verify", params={"code": typed})
    assert page.status_code == 200
    assert 'id="verify-ok"' in page.text and "Indah Lestari" in page.text
    assert '<th id="slip-total">29</th>' in page.text
    assert built.niks[pno] not in page.text  # the NIK only masked, as on the slip
    assert "soal" not in page.text  # no questions, no answers: nothing the slip lacks
    pdf = await anonymous.get("/verify/slip.pdf", params={"code": code})
    assert pdf.content.startswith(b"%PDF")


async def test_the_verify_page_refuses_a_forged_code(
    db_engine, services: Services, anonymous: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    _, _, code = await _graded(db_engine, services)
    forged = new_verify_code()  # well formed, but no result carries it
    page = await anonymous.get("/verify", params={"code": forged})
    assert page.status_code == 404 and 'id="verify-bad"' in page.text
    assert "Indah" not in page.text
    near = code[:-1] + ("0" if code[-1] != "0" else "1")  # one character off
    assert (await anonymous.get("/verify", params={"code": near})).status_code == 404
    bad = await anonymous.get("/verify", params={"code": "<script>alert(1)</script>"})
    assert bad.status_code == 404 and "<script>alert" not in bad.text
    assert (await anonymous.get("/verify/slip.pdf", params={"code": forged})).status_code == 404
    empty = await anonymous.get("/verify")
    assert empty.status_code == 200 and 'name="code"' in empty.text


async def test_results_released_later_appear_at_release_time(
    db_engine, services: Services, anonymous: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    built, _, code = await _graded(db_engine, services, release="after")
    assert (await anonymous.get("/verify", params={"code": code})).status_code == 404
    from sqlalchemy import update

    from exam_server.db.models import Exam

    with Session(db_engine) as db, db.begin():
        db.execute(
            update(Exam)
            .where(Exam.id == built.exam_id)  # type: ignore[attr-defined]
            .values(release_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    assert (await anonymous.get("/verify", params={"code": code})).status_code == 200
