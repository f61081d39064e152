from __future__ import annotations

import pytest

from stories.scores import csat_percent, net_promoter_score, nps_category, score_band


@pytest.mark.parametrize(
    ("score", "category"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_category_boundaries(score: int, category: str) -> None:
    assert nps_category(score) == category


def test_nps_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="0-10"):
        nps_category(11)


def test_net_promoter_score() -> None:
    assert net_promoter_score([10, 9, 8, 0]) == 25.0
    assert net_promoter_score([]) is None


def test_csat_percent_counts_four_and_five_as_satisfied() -> None:
    assert csat_percent([5, 4, 3, 1]) == 50.0
    with pytest.raises(ValueError):
        csat_percent([6])


def test_score_band() -> None:
    assert score_band(nps=3, csat=None) == "NPS 3 (detractor)"
    assert score_band(nps=None, csat=5) == "CSAT 5/5"
    assert score_band(nps=None, csat=None) is None
