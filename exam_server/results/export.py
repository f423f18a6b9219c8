"""Streaming exports: CSV and XLSX of ranked results, never the whole table in memory.

Rows come from a server-side cursor in partitions of ``CHUNK`` rows. CSV is encoded
partition by partition straight into the response. XLSX goes through xlsxwriter's
``constant_memory`` mode (each row is flushed to a temporary file as soon as the next
one starts) into a temporary file that is then streamed and deleted.

Cells that start with ``= + - @`` are written as text (XLSX) or prefixed with ``'``
(CSV), so a candidate named ``=HYPERLINK(...)`` cannot plant a formula in a committee
member's spreadsheet. CSV is semicolon-separated with decimal commas by default
(``exam_server.web.spreadsheet_csv``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
import xlsxwriter
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from exam_server.results.standings import Columns, query_params, ranked_query, tiebreak_codes
from exam_server.web.spreadsheet_csv import SEMICOLON, CsvStyle, csv_text

CHUNK = 1000


class XlsxTable:
    """One worksheet written row by row in constant memory."""

    def __init__(self, path: Path, sheet: str, header: Sequence[str]) -> None:
        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self.sheet = self.book.add_worksheet(sheet[:31])
        self.bold = self.book.add_format({"bold": True})
        self.row = 0
        for col, title in enumerate(header):
            self.sheet.write_string(0, col, title, self.bold)
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            for col, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, bool):
                    self.sheet.write_boolean(self.row, col, value)
                elif isinstance(value, int | float):
                    self.sheet.write_number(self.row, col, value)
                else:
                    # write_string, never write(): no formula, URL or number guessing.
                    self.sheet.write_string(self.row, col, str(value))
            self.row += 1

    def close(self) -> None:
        self.book.close()


def temp_xlsx_path() -> Path:
    fd, name = tempfile.mkstemp(prefix="tkd-export-", suffix=".xlsx")
    os.close(fd)
    return Path(name)


# --- async (web) -------------------------------------------------------------------------


async def _partitions(
    conn: AsyncConnection, exam_id: int, columns: Columns, session_id: int | None, unit: str | None
) -> AsyncIterator[list[list[Any]]]:
    stmt = ranked_query(tiebreak_codes(columns.heads))
    result = await conn.stream(stmt, query_params(exam_id, session_id, unit))
    async for part in result.partitions(CHUNK):
        yield [columns.values(row) for row in part]


async def csv_stream(
    conn: AsyncConnection,
    exam_id: int,
    columns: Columns,
    session_id: int | None = None,
    unit: str | None = None,
    style: CsvStyle = SEMICOLON,
) -> AsyncIterator[bytes]:
    """UTF-8 with a BOM, so spreadsheet programs read names with accents correctly."""
    yield ("\ufeff" + csv_text([columns.header()], style)).encode()
    async for part in _partitions(conn, exam_id, columns, session_id, unit):
        yield csv_text(part, style).encode()


async def write_xlsx(
    conn: AsyncConnection,
    path: Path,
    exam_id: int,
    columns: Columns,
    session_id: int | None = None,
    unit: str | None = None,
) -> int:
    """Write the XLSX to ``path``; rows are formatted off the event loop, chunk by chunk."""
    table = await anyio.to_thread.run_sync(
        XlsxTable, path, "Hasil" if columns.lang == "id" else "Results", columns.header()
    )
    count = 0
    try:
        async for part in _partitions(conn, exam_id, columns, session_id, unit):
            await anyio.to_thread.run_sync(table.add, part)
            count += len(part)
    finally:
        await anyio.to_thread.run_sync(table.close)
    return count


async def file_chunks(path: Path, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    """Stream a temporary file and delete it afterwards, even if the client goes away."""
    try:
        async with await anyio.open_file(path, "rb") as f:
            while chunk := await f.read(size):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


# --- sync (command line, benchmark) ------------------------------------------------------


def _sync_partitions(
    conn: Connection, exam_id: int, columns: Columns, session_id: int | None, unit: str | None
) -> Iterator[list[list[Any]]]:
    stmt = ranked_query(tiebreak_codes(columns.heads))
    result = conn.execution_options(stream_results=True, max_row_buffer=CHUNK).execute(
        stmt, query_params(exam_id, session_id, unit)
    )
    for part in result.partitions(CHUNK):
        yield [columns.values(row) for row in part]


def export_file(
    conn: Connection,
    path: Path,
    fmt: str,
    exam_id: int,
    columns: Columns,
    session_id: int | None = None,
    unit: str | None = None,
    style: CsvStyle = SEMICOLON,
) -> int:
    """Write ``csv`` or ``xlsx`` to ``path``; returns the number of rows."""
    count = 0
    parts = _sync_partitions(conn, exam_id, columns, session_id, unit)
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            f.write(csv_text([columns.header()], style))
            for part in parts:
                f.write(csv_text(part, style))
                count += len(part)
        return count
    if fmt != "xlsx":
        raise ValueError(f"unknown format {fmt!r}")
    table = XlsxTable(path, "Hasil" if columns.lang == "id" else "Results", columns.header())
    try:
        for part in parts:
            table.add(part)
            count += len(part)
    finally:
        table.close()
    return count
