"""Aiken: a question line, lettered options ``A) text`` or ``A. text``, then ``ANSWER: X``.

Errors follow Moodle's Aiken importer line for line (the same four situations it reports),
but where Moodle imports the good questions and skips the rest, we refuse the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from question_bank.drafts import Draft
from question_bank.items import Item, ItemKind, Option
from question_bank.sanitize import text_to_html

_OPTION = re.compile(r"^([A-Za-z])\s*[.)]\s*(.*)$")
_ANSWER = re.compile(r"^ANSWER\s*:\s*(.*)$", re.I)


@dataclass
class _Open:
    line: int
    stem: list[str]
    options: list[tuple[str, str]] = field(default_factory=list)


def read_aiken(text: str) -> list[Draft]:
    drafts: list[Draft] = []
    current: _Open | None = None

    def fail(line: int, code: str, **fields: object) -> None:
        drafts.append(Draft(line=line, label=None, errors=[(code, fields)]))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        answer, option = _ANSWER.match(line), _OPTION.match(line)
        if answer:
            if current is None:
                fail(number, "aiken_not_started")
            elif len(current.options) < 2:
                fail(number, "aiken_few_answers")
            else:
                drafts.append(_finish(current, answer.group(1).strip()))
            current = None
        elif option:
            if current is None:
                fail(number, "aiken_not_started")
            else:
                current.options.append((option.group(1).upper(), option.group(2).strip()))
        elif current is not None and current.options:
            fail(number, "aiken_not_completed")
            current = _Open(number, [line])
        elif current is not None:
            current.stem.append(line)
        else:
            current = _Open(number, [line])
    if current is not None:
        fail(current.line, "aiken_unfinished_end")
    return drafts


def _finish(question: _Open, key: str) -> Draft:
    draft = Draft(line=question.line, label=None)
    ids = [letter for letter, _ in question.options]
    if key.upper() not in ids:
        draft.errors.append(("aiken_bad_answer", {"value": key}))
        return draft
    draft.item = Item(
        kind=ItemKind.SINGLE,
        stem_html=text_to_html("\n".join(question.stem)),
        options=tuple(
            Option(id=letter, html=text_to_html(body), score=1.0 if letter == key.upper() else 0.0)
            for letter, body in question.options
        ),
    )
    return draft
