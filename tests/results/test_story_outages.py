"""The attempt's story shows the minutes the server recorded as lost to its own failure,
each at the time it began, and who gave them back (docs/results.md)."""

from __future__ import annotations

import datetime as dt

from exam_server.results.story import AttemptFacts, EventRow, LogRow, OutageRow, timeline

T0 = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)


def _facts(*outages: OutageRow) -> AttemptFacts:
    return AttemptFacts(
        created_at=T0,
        starts_at=T0,
        deadline_at=T0 + dt.timedelta(minutes=90),
        submitted_at=None,
        submit_reason=None,
        option_orders=[],
        sections=[],
        outages=outages,
    )


def test_each_recorded_outage_is_a_line_at_its_start_with_who_gave_it_back() -> None:
    redis_down = OutageRow(
        T0 + dt.timedelta(minutes=20),
        T0 + dt.timedelta(minutes=23),
        "redis",
        180_000,
        T0 + dt.timedelta(minutes=30),
        "proktor-1",
    )
    worker_gone = OutageRow(
        T0 + dt.timedelta(minutes=10), T0 + dt.timedelta(minutes=11), "worker", 60_000, None, None
    )
    lines = [
        line for line in timeline(_facts(redis_down, worker_gone), [], []) if line.kind == "outage"
    ]
    assert [line.at for line in lines] == [worker_gone.started_at, redis_down.started_at]
    assert "worker" in lines[0].en_text and "1.0 minutes" in lines[0].en_text
    assert "given back" not in lines[0].en_text
    assert "3.0 menit" in lines[1].id_text and "dikembalikan oleh proktor-1" in lines[1].id_text


def test_no_outage_no_line() -> None:
    assert [line for line in timeline(_facts(), [], []) if line.kind == "outage"] == []


def test_within_one_millisecond_changes_come_between_their_connect_and_disconnect() -> None:
    """Found as a flaky story test: an answer and the phone's drop in the same millisecond
    were listed disconnect first (events were listed before changes, the sort kept that)."""
    at = T0 + dt.timedelta(minutes=5)
    events = [EventRow(at, "disconnect", "hp"), EventRow(at, "connect", "hp")]
    log = [LogRow(1, "doubt", 0, True, "hp", at)]
    kinds = [line.kind for line in timeline(_facts(), log, events) if line.at == at]
    assert kinds == ["connect", "doubt", "disconnect"]
