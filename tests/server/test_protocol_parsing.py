"""Client messages: everything malformed becomes a BadMessage, nothing raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exam_server.delivery.protocol import Answer, BadMessage, Doubt, Get, Hello, Ping, Submit, parse

LIMIT = 8192


def test_it_reads_each_message_type() -> None:
    assert parse('{"type":"hello","token":"t","device":"hp"}', LIMIT) == Hello("t", "hp")
    assert parse('{"type":"get","q":3}', LIMIT) == Get(3)
    assert parse('{"type":"answer","seq":1,"q":0,"choice":"B"}', LIMIT) == Answer(1, 0, "B")
    assert parse('{"type":"answer","seq":2,"q":0,"choice":null}', LIMIT) == Answer(2, 0, None)
    assert parse('{"type":"answer","seq":3,"q":0,"choice":["C","A"]}', LIMIT) == Answer(
        3, 0, ("A", "C")
    )
    assert parse('{"type":"doubt","seq":4,"q":1,"on":true}', LIMIT) == Doubt(4, 1, True)
    assert parse('{"type":"submit","seq":5}', LIMIT) == Submit(5)
    assert parse('{"type":"ping","t":12}', LIMIT) == Ping(12)


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1,2]",
        '{"type":"dance"}',
        '{"seq":1}',
        '{"type":"answer","seq":"1","q":0,"choice":"A"}',
        '{"type":"answer","seq":1.5,"q":0,"choice":"A"}',
        '{"type":"answer","seq":true,"q":0,"choice":"A"}',
        '{"type":"answer","seq":0,"q":0,"choice":"A"}',
        '{"type":"answer","seq":1,"q":-1,"choice":"A"}',
        '{"type":"answer","seq":1,"q":0}',
        '{"type":"answer","seq":1,"q":0,"choice":5}',
        '{"type":"answer","seq":1,"q":0,"choice":["A","A"]}',
        '{"type":"doubt","seq":1,"q":0,"on":"yes"}',
        '{"type":"hello"}',
        '{"type":"answer","seq":99999999999,"q":0,"choice":"A"}',
    ],
)
def test_it_turns_malformed_messages_into_bad_message(raw: str) -> None:
    assert isinstance(parse(raw, LIMIT), BadMessage)


def test_it_refuses_an_oversized_frame_before_parsing_it() -> None:
    huge = json.dumps({"type": "answer", "seq": 1, "q": 0, "choice": "A", "pad": "x" * LIMIT})
    result = parse(huge, LIMIT)
    assert isinstance(result, BadMessage) and "longer" in result.reason


def test_a_bad_change_keeps_its_seq_so_the_client_knows_which_one() -> None:
    result = parse('{"type":"answer","seq":7,"q":0,"choice":5}', LIMIT)
    assert isinstance(result, BadMessage) and result.seq == 7


@given(st.text(max_size=200))
def test_parsing_never_raises(raw: str) -> None:
    parse(raw, LIMIT)
