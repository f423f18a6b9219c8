#!/usr/bin/env python3
"""Time and memory of importing a 10,000-item XLSX bank (the committee's template).

    .venv/bin/python scripts/bench_import.py [--items 10000] [--json]

It writes the workbook with ``export_bank`` (TWK/TIU single-answer and TKP weighted items,
five options each), then measures ``parse_bank`` on it: wall time, the peak of Python
allocations (tracemalloc, a second run) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from question_bank.exporting import export_bank
from question_bank.importing import parse_bank
from question_bank.items import Item, ItemKind, Option


def make_bank(count: int) -> list[Item]:
    bank = []
    for n in range(count):
        section = ("TWK", "TIU", "TKP")[n % 3]
        weighted = section == "TKP"
        options = tuple(
            Option(
                id="ABCDE"[k],
                html=f"Pilihan {k + 1} untuk soal nomor {n}, cukup panjang seperti soal sebenarnya",
                score=float(k + 1) if weighted else (1.0 if k == n % 5 else 0.0),
            )
            for k in range(5)
        )
        bank.append(
            Item(
                kind=ItemKind.SINGLE,
                stem_html=f"Soal nomor {n}: sebuah kalimat soal yang panjangnya wajar untuk {section} ...",
                options=options,
                section=section,
                category=f"Kategori {n % 7}",
                tags=("bench",),
                difficulty=(n % 10) / 10,
                weighted=weighted,
                external_id=f"B-{n:05d}",
            )
        )
    return bank


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = export_bank(make_bank(args.items), "xlsx")
    started = time.perf_counter()
    report = parse_bank(data, "bank.xlsx")
    elapsed = time.perf_counter() - started
    if not report.ok or len(report.items) != args.items:
        print(f"import failed: {report.errors[:3]}", file=sys.stderr)
        return 1
    del report
    tracemalloc.start()
    parse_bank(data, "bank.xlsx")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {
        "items": args.items,
        "xlsx_bytes": len(data),
        "import_seconds": round(elapsed, 2),
        "items_per_second": round(args.items / elapsed),
        "python_peak_mib": round(peak / 2**20, 1),
        "process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:22} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
