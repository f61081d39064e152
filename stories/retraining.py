"""When the routing learner is retrained, on what, and whether the new version may be used.

- Due: no version yet and enough labelled comments; or ``RETRAIN_AFTER`` new corrections since the newest
  version (batched: one "Not for us" does not retrain); or a day since the newest version and anything new
  (the nightly retrain, checked by the scheduler's sweep); or on demand (`cxbot routing learn`).
- The gate: a quarter of the readers' corrections (chosen by a hash of their text, so the same ones every
  time) is held out; a model trained on the rest must put the right department first at least as often as
  the rules alone do on them. With fewer than ``MIN_HELD_OUT`` corrections, a quarter of all labelled comments
  is held out instead. The version then stored is trained on everything, and is ``active`` only if the gate
  passed; a version that failed is kept (with its scores) so `cxbot routing status` can say why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from stories.blended_routing import compare, with_rules
from stories.learning import MIN_EXAMPLES, Example, LearnedModel, NotEnoughExamples, train
from stories.ports import RoutingModelStore, StoredModel
from stories.routing import Router

RETRAIN_AFTER = 10  # new corrections
NIGHTLY = timedelta(hours=24)
MIN_HELD_OUT = 8


def due(latest: StoredModel | None, *, labelled: int, corrections: int, now: datetime) -> str | None:
    """Why a retrain is due now, or None."""
    total = labelled + corrections
    if latest is None:
        return f"first model ({total} labelled comments)" if total >= MIN_EXAMPLES else None
    fresh = corrections - latest.corrections
    if fresh >= RETRAIN_AFTER:
        return f"{fresh} new corrections"
    if now - latest.created_at >= NIGHTLY and total != latest.examples:
        return "nightly"
    return None


def _held(text: str) -> bool:
    return hashlib.sha256(text.encode()).digest()[0] % 4 == 0


def split(labelled: Sequence[Example], corrections: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(train, held out): a stable quarter of the corrections, or of everything when corrections are few."""
    held_corrections = [e for e in corrections if _held(e.text)]
    if len(held_corrections) >= MIN_HELD_OUT:
        rest = [e for e in corrections if not _held(e.text)]
        return [*labelled, *rest], held_corrections
    everything = [*labelled, *corrections]
    return [e for e in everything if not _held(e.text)], [e for e in everything if _held(e.text)]


@dataclass(frozen=True, slots=True)
class Outcome:
    version: int
    active: bool
    why: str  # why it was retrained
    verdict: str  # the gate's scores in words


def retrain(store: RoutingModelStore, router: Router, *, now: datetime, why: str) -> Outcome | None:
    """Train, gate and store a new version; None if there is too little to learn from or another replica
    stored this version first."""
    labelled_rows, correction_rows = store.training_set()
    labelled = with_rules(router, [Example(text=t, department=d) for t, d in labelled_rows])
    corrections = with_rules(router, [Example(text=t, department=d) for t, d in correction_rows])
    training, held_out = split(labelled, corrections)
    try:
        candidate = train(training)
        model = train([*labelled, *corrections])
    except NotEnoughExamples:
        return None
    alone, blended = compare(router, candidate, held_out)
    assert blended is not None
    active = bool(held_out) and blended.top1 >= alone.top1
    verdict = f"held out {len(held_out)}: rules alone top-1 {alone.top1:.3f}, rules + learner {blended.top1:.3f}" + (
        "" if held_out else " (nothing held out yet: not used)"
    )
    latest = store.latest()
    version = (latest.version if latest else 0) + 1
    stored = store.save(
        StoredModel(
            version=version,
            created_at=now,
            examples=len(labelled) + len(corrections),
            corrections=len(corrections),
            held_out=len(held_out),
            rules_top1=alone.top1,
            learned_top1=blended.top1,
            active=active,
            model=model.to_json(),
        )
    )
    return Outcome(version=version, active=active, why=why, verdict=verdict) if stored else None


def retrain_if_due(store: RoutingModelStore, router: Router, *, now: datetime) -> Outcome | None:
    """The sweep's call: retrain when :func:`due` says so."""
    labelled, corrections = store.training_set()
    why = due(store.latest(), labelled=len(labelled), corrections=len(corrections), now=now)
    return retrain(store, router, now=now, why=why) if why else None


def active_model(store: RoutingModelStore) -> tuple[LearnedModel | None, int | None]:
    """The model routing should use (the newest active version), or (None, None): rules alone."""
    stored = store.active()
    if stored is None:
        return None, None
    return LearnedModel.from_json(stored.model), stored.version


__all__ = ["NIGHTLY", "RETRAIN_AFTER", "Outcome", "active_model", "due", "retrain", "retrain_if_due", "split"]
