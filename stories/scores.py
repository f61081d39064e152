"""Survey scores: NPS (0-10) and CSAT (1-5)."""

from __future__ import annotations

from collections.abc import Iterable

from stories.models import NpsCategory


def nps_category(score: int | None) -> NpsCategory | None:
    """Promoter 9-10, passive 7-8, detractor 0-6; None when there is no score.

    >>> nps_category(9), nps_category(7), nps_category(6)
    ('promoter', 'passive', 'detractor')
    """
    if score is None:
        return None
    if not 0 <= score <= 10:
        raise ValueError(f"NPS score must be 0-10, got {score}")
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def net_promoter_score(scores: Iterable[int]) -> float | None:
    """% promoters minus % detractors, -100..100; None with no scores."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return round(100.0 * (promoters - detractors) / len(values), 1)


def csat_percent(scores: Iterable[int]) -> float | None:
    """Share of satisfied answers (4 or 5 out of 5), as a percentage; None with no scores."""
    values = list(scores)
    if not values:
        return None
    for s in values:
        if not 1 <= s <= 5:
            raise ValueError(f"CSAT score must be 1-5, got {s}")
    return round(100.0 * sum(1 for s in values if s >= 4) / len(values), 1)


def score_band(*, nps: int | None, csat: int | None) -> str | None:
    """A short phrase for the story's context line, e.g. 'NPS 3 (detractor)' or 'CSAT 5/5'."""
    parts = []
    if nps is not None:
        parts.append(f"NPS {nps} ({nps_category(nps)})")
    if csat is not None:
        parts.append(f"CSAT {csat}/5")
    return ", ".join(parts) or None
