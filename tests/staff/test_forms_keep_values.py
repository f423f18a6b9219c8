"""A refused form keeps what was typed and lists every problem at once (docs/committee.md,
"Forms")."""

from __future__ import annotations

import re

from staff.support import StaffClient, make_exam


def _problems(html: str) -> list[str]:
    block = re.search(r'<div class="error" role="alert">(.*?)</div>', html, re.S)
    assert block, "no error block"
    return re.findall(r"<li>(.*?)</li>", block.group(1))


async def test_a_refused_section_form_keeps_its_values_and_lists_every_problem(
    panitia: StaffClient,
) -> None:
    exam_id = await make_exam(panitia)
    resp = await panitia.post(
        f"/panitia/ujian/{exam_id}/bagian",
        {
            "code": "T W K",
            "name": "Wawasan Kebangsaan Baru",
            "question_count": "35",
            "minutes": "abc",
            "model": "right_wrong",
            "points_correct": "5",
            "points_wrong": "0",
            "pass_mark": "-3",
            "draw": "pool",
        },
    )
    assert resp.status_code == 400
    problems = _problems(resp.text)
    assert len(problems) == 3, problems
    assert any("Kode bagian" in p for p in problems)
    assert any("Durasi bagian harus angka" in p for p in problems)
    assert any("Nilai ambang minimal 0" in p for p in problems)
    add_form = resp.text.split(f'action="/panitia/ujian/{exam_id}/bagian"')[1].split("</form>")[0]
    for typed in (
        'value="T W K"',
        'value="Wawasan Kebangsaan Baru"',
        'value="35"',
        'value="abc"',
        'value="-3"',
    ):
        assert typed in add_form, typed


async def test_a_refused_session_form_keeps_its_values_and_lists_every_problem(
    panitia: StaffClient,
) -> None:
    exam_id = await make_exam(panitia)
    resp = await panitia.post(
        "/panitia/sesi",
        {
            "exam_id": str(exam_id),
            "name": "Sesi Kupang Pagi",
            "room": "Aula Kupang",
            "date": "2026-12-07",
            "start": "10:00",
            "end": "08:00",
            "capacity": "-5",
            "token_minutes": "0",
            "time_zone": "Asia/Makassar",
        },
    )
    assert resp.status_code == 400
    problems = _problems(resp.text)
    assert len(problems) == 3, problems
    assert any("Jam selesai harus setelah jam mulai" in p for p in problems)
    assert any("Kapasitas" in p for p in problems) and any("token" in p for p in problems)
    for typed in (
        'value="Sesi Kupang Pagi"',
        'value="Aula Kupang"',
        'value="10:00"',
        'value="08:00"',
        'value="-5"',
        'value="Asia/Makassar" selected',
    ):
        assert typed in resp.text, typed
