"""How much of an item's credit a response earns, from the scores on its options.

The section's scoring model turns this into points (TWK: 5 per right answer; TKP: the
weight itself); this module only reads the item, so importers can be checked against the
score tables that other projects' tests assert (QTI ``map_response``, Moodle fractions).
"""

from __future__ import annotations

from collections.abc import Collection

from question_bank.items import Item, ItemKind


def credit(item: Item, chosen: Collection[str]) -> float:
    """The fraction of credit (or, for a weighted item, the points) for ``chosen`` options.

    An empty response earns nothing. Unknown option ids are ignored. A multiple-answer
    item without bounds is clamped to [0, 1], as Moodle does; QTI bounds replace that.
    """
    picked = [o for o in item.options if o.id in set(chosen)]
    if not picked:
        return 0.0
    if item.kind is not ItemKind.MULTIPLE:
        # One option counts; a client that sent more than one is treated as unanswered.
        return picked[0].score if len(picked) == 1 else 0.0
    if item.all_or_nothing:
        return 1.0 if {o.id for o in picked} == set(item.correct_ids) else 0.0
    total = sum(o.score for o in picked)
    lower = 0.0 if item.lower_bound is None else item.lower_bound
    upper = 1.0 if item.upper_bound is None else item.upper_bound
    total = min(max(total, lower), upper)
    return round(total, 9)
