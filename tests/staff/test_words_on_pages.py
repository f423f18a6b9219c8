"""Committee pages speak Bahasa Indonesia (docs/committee.md, "Words on the pages"): a
label for every stored value, numbers written 75 and 75,5."""

from __future__ import annotations

from staff.support import StaffClient, make_exam

from exam_server.staff.exam_forms import RELEASES, SCORING_MODELS
from exam_server.web.rendering import VALUE_LABELS, number, value_label


def test_numbers_are_written_the_indonesian_way() -> None:
    assert [number(v) for v in (75.0, 75.5, 0.25, 100, None)] == ["75", "75,5", "0,25", "100", ""]
    assert number(75.5, "en") == "75.5"


def test_every_choice_the_pages_offer_has_a_label_in_both_languages() -> None:
    kinds = ("single", "multiple", "true_false")
    states = ("running", "paused", "submitted", "waiting", "absent")
    formats = ("csv", "xlsx", "moodle_xml", "gift", "aiken", "qti", "tcexam")
    for value in (*SCORING_MODELS, *RELEASES, *kinds, *states, *formats):
        assert value in VALUE_LABELS, value
    assert "TKP" in value_label("weighted", "id") and "1-5" in value_label("weighted", "id")


async def test_the_exam_page_shows_labels_not_raw_values(panitia: StaffClient) -> None:
    exam_id = await make_exam(panitia)
    page = await panitia.get(f"/panitia/ujian/{exam_id}")
    assert page.status_code == 200
    assert ">right_wrong<" not in page.text and ">map_response<" not in page.text
    assert (
        "Benar/salah (TWK, TIU)" in page.text and "TKP: tiap pilihan diberi nilai 1-5" in page.text
    )
    exams = await panitia.get("/panitia/ujian")
    assert "<td>immediate</td>" not in exams.text
    bank = await panitia.get("/panitia/bank")
    assert "<option>moodle_xml</option>" not in bank.text and "Moodle XML" in bank.text
