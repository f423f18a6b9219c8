"""`tkd loadtest` against a live worker: the contract's keys, errors by kind, its own CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tests_support import REPO

pytestmark = pytest.mark.slow


def test_the_load_generator_plays_phones_and_reports_its_own_cost(
    live_server, candidate_pool, tmp_path, settings
) -> None:  # type: ignore[no-untyped-def]
    creds = [next(candidate_pool) for _ in range(3)]
    path = tmp_path / "credentials.csv"
    path.write_text(
        "participant_no,password\n" + "".join(f"{c.participant_no},{c.password}\n" for c in creds)
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "exam_server.cli.main",
            "loadtest",
            "--url",
            live_server.url,
            "--candidates",
            "3",
            "--duration",
            "6",
            "--ramp",
            "1",
            "--answer-every",
            "1",
            "--reconnect-ratio",
            "0",
            "--credentials",
            str(path),
            "--json",
        ],
        env={**os.environ, "TKD_DATA_DIR": str(settings.data_dir)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0, (report, done.stderr)
    for key in ("candidates", "logins_ok", "answers_acked", "errors", "login_ms", "ack_ms"):
        assert key in report
    assert report["logins_ok"] == 3 and report["errors"] == 0 and report["errors_by_kind"] == {}
    assert report["submitted"] == 3 and report["durable_ok"] == 3
    assert report["state_ms"]["p99"] is not None and report["loadtest_cpu_s"] >= 0
