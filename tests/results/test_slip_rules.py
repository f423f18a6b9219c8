"""The slip's pure rules: masking, verification code format, release and rule wording."""

from __future__ import annotations

import datetime as dt

from exam_server.display import mask_nik_public as mask_nik
from exam_server.grading.grade import new_verify_code
from exam_server.results.slip import describe_rule, is_released, normalise_code


def test_it_masks_the_middle_of_a_nik_keeping_region_and_last_two_digits() -> None:
    assert mask_nik("3201234567890107") == "3201**********07"
    assert "234567" not in mask_nik("3201234567890107")


def test_it_accepts_a_code_typed_in_lower_case_without_dashes() -> None:
    code = new_verify_code()
    assert normalise_code(code.lower().replace("-", " ")) == code
    assert normalise_code(f"  {code}  ") == code


def test_it_refuses_codes_of_the_wrong_length_or_alphabet() -> None:
    assert normalise_code("ABCDE-12345-ABCDE") is None
    assert normalise_code("ABCDE-12345-ABCDE-1234G") is None
    assert normalise_code("' OR 1=1 --") is None
    assert normalise_code("") is None


def test_verify_codes_carry_eighty_random_bits() -> None:
    codes = {new_verify_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(normalise_code(c) == c and len(c.replace("-", "")) == 20 for c in codes)


def test_results_are_released_by_the_exam_s_rule() -> None:
    now = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    assert is_released("immediate", None, now)
    assert not is_released("never", None, now)
    assert not is_released("after", None, now)
    assert not is_released("after", now + dt.timedelta(minutes=1), now)
    assert is_released("after", now, now)


def test_rules_are_described_in_both_languages() -> None:
    id_text, en_text = describe_rule({"model": "negative", "points_correct": 4, "points_wrong": -1})
    assert id_text == "Benar 4, salah -1, kosong 0"
    assert en_text == "Correct 4, wrong -1, blank 0"
    assert "bobot" in describe_rule({"model": "weighted"})[0]
