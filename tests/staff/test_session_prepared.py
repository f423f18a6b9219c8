"""The committee prepares a session ahead and sees that it is prepared, and since when."""

from __future__ import annotations

from staff.support import StaffClient, exam_with_questions, import_candidates, make_session, new_nik


async def test_the_session_page_shows_and_keeps_the_preparation(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await exam_with_questions(panitia, services)
    session_id = await make_session(panitia, exam_id, "Pagi Disiapkan")
    niks = [new_nik() for _ in range(3)]
    resp = await import_candidates(
        panitia, [(n, f"Siap {i}", "Dinas Siap") for i, n in enumerate(niks)]
    )
    assert resp.status_code == 200
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": "\n".join(niks[:2])})

    page = await panitia.get(f"/panitia/sesi/{session_id}")
    assert "Belum disiapkan" in page.text and "Siapkan sekarang" in page.text
    resp = await panitia.post(f"/panitia/sesi/{session_id}/siapkan", {})
    assert resp.status_code == 303
    page = await panitia.get(f"/panitia/sesi/{session_id}")
    assert "Sesi disiapkan untuk 2 peserta" in page.text
    assert "Disiapkan" in page.text and "WIB · 2 peserta" in page.text

    # A candidate seated afterwards: the prepared data is rebuilt at once, not left stale.
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": niks[2]})
    page = await panitia.get(f"/panitia/sesi/{session_id}")
    assert "WIB · 3 peserta" in page.text and "ada perubahan" not in page.text
