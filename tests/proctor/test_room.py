"""The room's rows, counts and alarm, decided from plain data."""

from __future__ import annotations

from exam_server.proctor.room import Row, Seat, counts, make_row, mass_disconnect

NOW = 1_800_000_000_000
STALE = 6_000


def seat(n: int, attempt: int | None = None) -> Seat:
    return Seat(n, f"P-{n:04d}", f"Peserta {n}", "Unit", "1234567890123456", n, attempt, 10)


def checkpoint(**extra: str) -> dict[str, str]:
    return {
        "submitted": "0",
        "starts_ms": str(NOW - 60_000),
        "deadline_ms": str(NOW + 600_000),
        "paused_at_ms": "0",
        "a:0": '"A"',
        "a:3": '"B"',
        **extra,
    }


def test_a_seated_candidate_without_an_attempt_is_not_here_yet() -> None:
    row = make_row(seat(1), None, {}, NOW, STALE)
    assert row.st == "absent" and row.flags == []


def test_a_connected_candidate_works_and_the_page_counts_down_from_the_deadline() -> None:
    live = {"conn": "c1", "seen_ms": str(NOW - 1000), "device": "hp-1"}
    row = make_row(seat(1, 11), checkpoint(), live, NOW, STALE)
    assert (row.st, row.answered, row.total, row.deadline_ms) == ("running", 2, 10, NOW + 600_000)
    assert row.seen_ms == 0  # a live row does not change with every heartbeat


def test_a_closed_socket_is_disconnected_since_it_closed() -> None:
    live = {"conn": "", "since_ms": str(NOW - 7000), "seen_ms": str(NOW - 7000)}
    row = make_row(seat(1, 11), checkpoint(), live, NOW, STALE)
    assert row.st == "disconnected" and row.since_ms == NOW - 7000
    assert "disconnected" in row.flags


def test_a_socket_whose_worker_died_goes_stale_and_counts_as_disconnected() -> None:
    live = {"conn": "c1", "seen_ms": str(NOW - STALE - 1)}
    row = make_row(seat(1, 11), checkpoint(), live, NOW, STALE)
    assert row.st == "disconnected" and row.since_ms == NOW - STALE - 1


def test_paused_and_submitted_attempts_show_as_such_whatever_the_socket() -> None:
    paused = make_row(seat(1, 11), checkpoint(paused_at_ms=str(NOW - 5000)), {}, NOW, STALE)
    assert paused.st == "paused" and paused.left_ms == 605_000
    done = make_row(seat(2, 12), checkpoint(submitted="1"), {}, NOW, STALE)
    assert done.st == "submitted"


def test_two_devices_page_leaving_and_a_lockout_are_flagged_on_the_row() -> None:
    live = {"conn": "c", "seen_ms": str(NOW), "takeovers": "1", "hidden": "3"}
    row = make_row(seat(1, 11), checkpoint(), live, NOW, STALE, locked=True)
    assert row.flags == ["two_devices", "page_leaves", "locked"]
    calm = make_row(
        seat(2, 12), checkpoint(), {**live, "takeovers": "0", "hidden": "2"}, NOW, STALE
    )
    assert calm.flags == []


def dropped(n: int, ago_ms: int) -> Row:
    return Row(n, 100 + n, f"P-{n}", "x", "", n, "disconnected", since_ms=NOW - ago_ms)


def working(n: int) -> Row:
    return Row(n, 100 + n, f"P-{n}", "x", "", n, "running")


def test_many_dropping_within_seconds_raise_one_alarm_naming_them_all() -> None:
    rows = [dropped(i, 3000) for i in range(6)] + [working(i) for i in range(6, 20)]
    alarm = mass_disconnect(rows, NOW, minimum=5)
    assert alarm is not None and alarm.candidate_ids == list(range(6))
    assert alarm.attempts == [100 + i for i in range(6)]


def test_a_few_drops_or_old_drops_raise_no_alarm() -> None:
    few = [dropped(i, 3000) for i in range(4)] + [working(i) for i in range(4, 10)]
    assert mass_disconnect(few, NOW, minimum=5) is None
    old = [dropped(i, 60_000) for i in range(8)] + [working(i) for i in range(8, 10)]
    assert mass_disconnect(old, NOW, minimum=5) is None
    # In a big room five are not a crowd: at least a fifth of those working must drop.
    big = [dropped(i, 3000) for i in range(6)] + [working(i) for i in range(6, 100)]
    assert mass_disconnect(big, NOW, minimum=5) is None


def test_counts_cover_every_status_and_the_problems() -> None:
    rows = [dropped(1, 1000), working(2), working(3)]
    rows[0].flags = ["disconnected"]
    c = counts(rows)
    assert c["running"] == 2 and c["disconnected"] == 1 and c["problems"] == 1 and c["absent"] == 0
