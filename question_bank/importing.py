"""Reading a question file, all or nothing: ``parse_bank`` never raises on bad input.

A file with any problem is refused whole: the report lists every problem (by line for text
formats, by question name or identifier for XML) and carries no items, so the caller has
nothing to half-import. Duplicates against the existing bank are the caller's to count
(by ``Item.content_hash``); duplicates inside one file are errors here.
"""

from __future__ import annotations

from collections.abc import Callable

from question_bank import tabular
from question_bank.aiken import read_aiken
from question_bank.containers import check_container
from question_bank.drafts import Draft, FileProblem
from question_bank.formats import FORMATS, UnknownFormat, detect_format
from question_bank.gift import read_gift
from question_bank.items import Item
from question_bank.moodle_xml import read_moodle_xml
from question_bank.problems import ImportProblem, ImportReport
from question_bank.qti import read_qti
from question_bank.tcexam import read_tcexam
from question_bank.validation import Finding, item_findings

TEXT_FORMATS = {"csv", "gift", "aiken", "moodle_xml", "tcexam"}
_XML_FORMATS = {"moodle_xml", "tcexam"}  # checked as UTF-8, parsed from bytes


def _reader(fmt: str) -> Callable[[bytes | str], list[Draft]]:
    readers: dict[str, Callable[..., list[Draft]]] = {
        "csv": tabular.read_csv,
        "xlsx": tabular.read_xlsx,
        "aiken": read_aiken,
        "gift": read_gift,
        "moodle_xml": read_moodle_xml,
        "tcexam": read_tcexam,
    }
    return readers.get(fmt, read_qti)


def parse_bank(
    data: bytes, filename: str, fmt: str | None = None, *, skip_unsupported: bool = False
) -> ImportReport:
    """Read ``data`` into items, or into the list of everything wrong with it.

    With ``skip_unsupported`` the question types we do not deliver (essay, matching, ...)
    are dropped and listed in ``report.skipped`` instead of refusing the file.
    """
    report = ImportReport()
    try:
        _parse(report, data, filename, fmt, skip_unsupported)
    except FileProblem as problem:
        report.errors.extend(
            ImportProblem.found(finding, line=problem.line, file=problem.file, sheet=problem.sheet)
            for finding in problem.findings
        )
    except Exception as exc:  # a reader bug must still come back as a refusal, not a 500
        report.errors.append(ImportProblem.of("internal", detail=f"{type(exc).__name__}: {exc}"))
    if report.errors:
        report.items = []
    return report


def _parse(
    report: ImportReport, data: bytes, filename: str, fmt: str | None, skip_unsupported: bool
) -> None:
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileProblem(("empty_file", {}))
    check_container(filename, data, fmt)
    if fmt is None:
        try:
            fmt = detect_format(filename, data)
        except UnknownFormat:
            raise FileProblem(("unknown_format", {})) from None
    elif fmt not in FORMATS:
        raise FileProblem(("bad_format_name", {"fmt": fmt, "allowed": ", ".join(FORMATS)}))
    report.fmt = fmt
    payload: bytes | str = data
    if fmt in TEXT_FORMATS:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FileProblem(("not_utf8", {"position": exc.start})) from None
        payload = data if fmt in _XML_FORMATS else text
    drafts = _reader(fmt)(payload)
    _collect(report, drafts, skip_unsupported)


def _problem(draft: Draft, finding: Finding) -> ImportProblem:
    return ImportProblem.found(
        finding, line=draft.line, item=draft.label, file=draft.file, sheet=draft.sheet
    )


def _collect(report: ImportReport, drafts: list[Draft], skip_unsupported: bool) -> None:
    first_seen: dict[str, Draft] = {}
    for draft in drafts:
        if draft.unsupported is not None:
            if skip_unsupported:
                report.skipped.append(
                    _problem(draft, ("skipped_type", {"qtype": draft.unsupported}))
                )
            else:
                report.errors.append(
                    _problem(draft, ("unsupported_type", {"qtype": draft.unsupported}))
                )
            continue
        report.errors.extend(_problem(draft, f) for f in draft.errors)
        report.warnings.extend(_problem(draft, f) for f in draft.warnings)
        item = draft.item
        if not isinstance(item, Item) or draft.errors:
            continue
        findings = item_findings(item)
        report.errors.extend(_problem(draft, f) for f in findings)
        if findings:
            continue
        digest = item.content_hash()
        if digest in first_seen:
            report.duplicates += 1
            first = first_seen[digest]
            if first.line is not None:
                where = {"first_id": f"baris {first.line}", "first_en": f"line {first.line}"}
            else:
                at = f" ({first.file})" if first.file else ""
                where = {
                    "first_id": f"soal {first.label}{at}",
                    "first_en": f"item {first.label}{at}",
                }
            report.errors.append(_problem(draft, ("duplicate", where)))
            continue
        first_seen[digest] = draft
        report.items.append(item)
    if not drafts or (not report.items and not report.errors and not report.skipped):
        report.errors.append(ImportProblem.of("no_questions"))
