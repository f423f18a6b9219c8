"""The committee imports a question file on the bank page: all or nothing, problems by line."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from exam_server.db.models import Question, QuestionImage

TEMPLATE = (
    Path(__file__).resolve().parents[2] / "question_bank" / "templates" / "template-soal.xlsx"
)
BAD_AIKEN = (
    "Ibu kota provinsi Jawa Barat adalah?\nA. Bandung\nB. Bogor\nANSWER: A\n\n"
    "Soal ini lupa kuncinya\nA. satu\nB. dua\n\n"
)


async def count(services) -> int:  # type: ignore[no-untyped-def]
    async with services.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Question)) or 0)


async def count_without_images(services) -> int:  # type: ignore[no-untyped-def]
    """What a spreadsheet can carry: questions with pictures go only into QTI exports."""
    async with services.sessions() as db:
        pictured = select(QuestionImage.question_id).distinct()
        query = select(func.count()).select_from(Question).where(Question.id.not_in(pictured))
        return int(await db.scalar(query) or 0)


async def test_the_shipped_template_imports_once_and_a_second_time_adds_nothing(
    panitia, services
) -> None:  # type: ignore[no-untyped-def]
    files = {"file": ("template-soal.xlsx", TEMPLATE.read_bytes(), "application/octet-stream")}
    first = await panitia.http.post("/panitia/bank/impor", data={"csrf": panitia.csrf}, files=files)
    assert first.status_code == 200 and "soal diimpor" in first.text
    after_first = await count(services)
    again = await panitia.http.post("/panitia/bank/impor", data={"csrf": panitia.csrf}, files=files)
    assert again.status_code == 200 and "0 soal diimpor" in again.text
    assert await count(services) == after_first


async def test_a_half_valid_file_is_refused_whole_with_its_line(panitia, services) -> None:  # type: ignore[no-untyped-def]
    before = await count(services)
    files = {"file": ("soal.txt", BAD_AIKEN.encode(), "text/plain")}
    resp = await panitia.http.post(
        "/panitia/bank/impor", data={"csrf": panitia.csrf, "format": "aiken"}, files=files
    )
    assert resp.status_code == 400
    assert "ditolak seluruhnya" in resp.text
    assert (
        "<tr><td>6</td><td></td><td>Soal terakhir tidak punya baris ANSWER.</td></tr>" in resp.text
    )
    assert await count(services) == before


async def test_a_viewer_cannot_import(viewer) -> None:  # type: ignore[no-untyped-def]
    files = {"file": ("soal.txt", BAD_AIKEN.encode(), "text/plain")}
    resp = await viewer.http.post("/panitia/bank/impor", data={"csrf": viewer.csrf}, files=files)
    assert resp.status_code == 403


async def test_the_bank_exports_and_the_export_imports_as_nothing_new(panitia, services) -> None:  # type: ignore[no-untyped-def]
    from question_bank.importing import parse_bank

    resp = await panitia.get("/panitia/bank/ekspor.xlsx")
    assert resp.status_code == 200 and resp.content[:2] == b"PK"
    report = parse_bank(resp.content, "bank-soal.xlsx")
    assert report.ok and len(report.items) == await count_without_images(services)
    files = {"file": ("bank-soal.xlsx", resp.content, "application/octet-stream")}
    again = await panitia.http.post("/panitia/bank/impor", data={"csrf": panitia.csrf}, files=files)
    assert again.status_code == 200 and "0 soal diimpor" in again.text
    assert (await panitia.get("/panitia/bank/ekspor.qti")).content[:2] == b"PK"
    assert (await panitia.get("/panitia/bank/ekspor.doc")).status_code == 404


async def test_other_question_types_can_be_left_out_instead_of_refusing_the_file(
    panitia, services
) -> None:  # type: ignore[no-untyped-def]
    import secrets

    tag = secrets.token_hex(4)
    gift = (
        f"::Ibu kota {tag}:: Ibu kota provinsi Bali ({tag}) adalah {{=Denpasar ~Singaraja ~Tabanan}}\n\n"
        f"::Esai {tag}:: Jelaskan arti gotong royong ({tag}). {{}}\n"
    ).encode()
    files = {"file": ("soal.gift", gift, "text/plain")}
    refused = await panitia.http.post(
        "/panitia/bank/impor", data={"csrf": panitia.csrf}, files=files
    )
    assert refused.status_code == 400 and "ditolak seluruhnya" in refused.text
    before = await count(services)
    resp = await panitia.http.post(
        "/panitia/bank/impor", data={"csrf": panitia.csrf, "skip_unsupported": "1"}, files=files
    )
    assert resp.status_code == 200 and "1 soal diimpor" in resp.text
    assert (
        f"Esai {tag}" in resp.text and "dilewati" in resp.text
    )  # the committee sees what stayed out
    assert await count(services) == before + 1


def _qti_package_with_a_broken_item() -> bytes:
    import io
    import zipfile

    item = (
        '<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="q2">\n'
        "<itemBody>\n<choiceInteraction>\n<simpleChoice>Ya\n</choiceInteraction>\n"
        "</itemBody>\n</assessmentItem>\n"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "imsmanifest.xml",
            '<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
            '<resource identifier="res-q2" type="imsqti_item_xmlv2p1" href="items/q2.xml"/>'
            "</resources></manifest>",
        )
        archive.writestr("items/q2.xml", item)
    return out.getvalue()


async def test_a_broken_item_in_a_package_is_shown_with_its_file_identifier_and_line(
    panitia, services
) -> None:  # type: ignore[no-untyped-def]
    before = await count(services)
    files = {"file": ("paket.zip", _qti_package_with_a_broken_item(), "application/zip")}
    resp = await panitia.http.post("/panitia/bank/impor", data={"csrf": panitia.csrf}, files=files)
    assert resp.status_code == 400 and "ditolak seluruhnya" in resp.text
    assert (
        "<tr><td>5</td><td>res-q2</td><td>Berkas items/q2.xml: XML tidak sah di baris 5"
        in resp.text
    )
    assert await count(services) == before


async def test_a_zip_that_is_not_a_zip_is_not_called_an_encoding_problem(panitia) -> None:  # type: ignore[no-untyped-def]
    files = {
        "file": ("paket.zip", "::Kopi:: Kopi Aceh? {T} café".encode("cp1252"), "application/zip")
    }
    resp = await panitia.http.post("/panitia/bank/impor", data={"csrf": panitia.csrf}, files=files)
    assert resp.status_code == 400
    assert (
        "Paket zip tidak dapat dibuka: isinya bukan zip" in resp.text
        and "bukan UTF-8" not in resp.text
    )
