"""What a question is: the item model every importer produces and every exam delivers.

Scores live on the options, not in a separate key, so one model covers single-answer,
multiple-answer, true/false, negative marking and TKP-style weights:

* ``weighted=False`` (TWK/TIU style): ``Option.score`` is a *fraction* of the item's
  credit, as in Moodle and GIFT: 1.0 for the key, 0.0 for a wrong option, negative for a
  penalised one, and fractions that add up to 1.0 across the right options of a
  multiple-answer item.
* ``weighted=True`` (TKP style): ``Option.score`` is the points the option is worth
  (for example 1 to 5), and there is no single "right" option.

How fractions become points (5 per right answer, negative marking, ...) is the section's
scoring model, not the item's: see ``exam_server.grading.scoring``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class ItemKind(StrEnum):
    SINGLE = "single"  # exactly one option may be chosen
    MULTIPLE = "multiple"  # any set of options may be chosen
    TRUE_FALSE = "true_false"  # two options, "true" and "false"


@dataclass(frozen=True, slots=True)
class Option:
    id: str  # stable within its item ("A".."E" or the source file's identifier)
    html: str  # sanitised HTML
    score: float = 0.0  # a fraction, or points when the item is weighted
    fixed: bool = False  # stays in its place when options are shuffled


@dataclass(frozen=True, slots=True)
class Image:
    """An image that travels with its item, so candidates never hot-link."""

    name: str  # file name referenced from the HTML as ``@@IMG@@/name``
    media_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Item:
    kind: ItemKind
    stem_html: str
    options: tuple[Option, ...]
    section: str = ""  # e.g. "TWK", "TIU", "TKP"
    category: str = ""  # e.g. "Pancasila", "Numerik"
    tags: tuple[str, ...] = ()
    difficulty: float | None = None  # 0 (easy) .. 1 (hard), when known
    weighted: bool = False
    external_id: str | None = None  # the source file's own identifier
    images: tuple[Image, ...] = ()
    # QTI map_response bounds for multiple-answer items (None: unbounded).
    lower_bound: float | None = None
    upper_bound: float | None = None
    # A multiple-answer item that earns full credit only for exactly the right set
    # (QTI match_correct with cardinality multiple, or a spreadsheet ``pgk`` item).
    all_or_nothing: bool = False

    def option(self, option_id: str) -> Option | None:
        for opt in self.options:
            if opt.id == option_id:
                return opt
        return None

    @property
    def correct_ids(self) -> tuple[str, ...]:
        """Ids of options that earn credit (the key, or the best-weighted options)."""
        if self.weighted:
            best = max((o.score for o in self.options), default=0.0)
            return tuple(o.id for o in self.options if o.score == best)
        return tuple(o.id for o in self.options if o.score > 0)

    def with_scores(self, scores: Mapping[str, float]) -> Item:
        """The same item with new option scores (a key correction); unnamed options keep theirs."""
        unknown = set(scores) - {o.id for o in self.options}
        if unknown:
            raise KeyError(f"no option {', '.join(sorted(unknown))} in this item")
        options = tuple(
            dataclasses.replace(o, score=float(scores.get(o.id, o.score))) for o in self.options
        )
        return dataclasses.replace(self, options=options)

    def content_hash(self) -> str:
        """A stable fingerprint of what a candidate sees and how it is scored.

        Two files that contain the same question give the same hash, whatever their
        external ids, tags or difficulty say; importing a file twice therefore adds nothing.
        Option identifiers are labels, not content (candidates see options by position), so
        a QTI item with options ``H``/``O`` and its relettered ``A``/``B`` spreadsheet
        export are the same question.
        """
        body: dict[str, object] = {
            "kind": self.kind.value,
            "stem": " ".join(self.stem_html.split()),
            "weighted": self.weighted,
            "options": [[" ".join(o.html.split()), round(o.score, 6)] for o in self.options],
            "images": [[i.name, hashlib.sha256(i.data).hexdigest()] for i in self.images],
        }
        if self.all_or_nothing:  # only when set, so older hashes stay as they were
            body["all_or_nothing"] = True
        if self.lower_bound is not None or self.upper_bound is not None:
            body["bounds"] = [
                None if b is None else round(b, 6) for b in (self.lower_bound, self.upper_bound)
            ]
        raw = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()
