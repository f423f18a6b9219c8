"""``tkd audit verify``: is the audit log's hash chain whole, and if not, where it breaks.

The ``audit`` command itself is registered in ``exam_server/cli/staff.py``.
"""

from __future__ import annotations

import argparse
import json

from exam_server.cli.runner import migrated_engine
from exam_server.settings import Settings
from exam_server.staff.audit_chain import verify_chain


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:

    with migrated_engine(settings) as engine, engine.connect() as conn:
        report = verify_chain(conn)
    if args.json:
        print(
            json.dumps(
                {
                    "whole": report.whole,
                    "entries": report.entries,
                    "last_hash": report.last_hash,
                    "broken_at": report.broken_at,
                    "problem": report.problem or None,
                }
            )
        )
    else:
        print(report.sentence())
    return 0 if report.whole else 1
