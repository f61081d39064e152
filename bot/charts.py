"""The weekly pattern report's chart: a PNG both connectors attach (Slack uploads it, Teams inlines it).

Left, the week's patterns against their four-week average; right, NPS and CSAT over the five weeks. Drawn with
matplotlib's object API on the Agg canvas (no display, no pyplot global state, so safe in a worker thread), into
memory, small enough for a Teams card (a few tens of KB).
"""

from __future__ import annotations

import io
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from stories.patterns import PatternReport

WIDTH, HEIGHT, DPI = 8.0, 3.2, 90  # inches, dots per inch: 720 x 288 pixels
LABEL = 28  # characters of a pattern label on the axis
COLOURS = 64


def _plain(text: str) -> str:
    """Text matplotlib shows as written (a ``$`` would start mathtext)."""
    return text.replace("$", r"\$")


def _short(text: str) -> str:
    return _plain(text if len(text) <= LABEL else text[: LABEL - 1] + "…")


def report_chart(report: PatternReport) -> bytes:
    """The chart as PNG bytes."""
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    patterns = list(report.patterns)[::-1]  # the biggest at the top
    if patterns:
        rows = range(len(patterns))
        left.barh([r + 0.2 for r in rows], [p.count for p in patterns], height=0.4, label="this week", color="#2e6fbd")
        left.barh(
            [r - 0.2 for r in rows], [p.previous for p in patterns], height=0.4, label="4-week avg", color="#b8c7dc"
        )
        left.set_yticks(list(rows), [_short(p.label) for p in patterns], fontsize=8)
        left.legend(fontsize=7, loc="lower right")
    else:
        left.text(0.5, 0.5, "no recurring patterns", ha="center", va="center", fontsize=9)
        left.set_yticks([])
    left.set_title("Patterns (stories)", fontsize=9)
    left.tick_params(axis="x", labelsize=7)

    weeks = [date.fromisoformat(w.week_start).strftime("%d %b") for w in report.weeks]
    x = range(len(weeks))
    nps = [w.nps for w in report.weeks]
    csat = [w.csat for w in report.weeks]
    right.plot([i for i in x if nps[i] is not None], [v for v in nps if v is not None], marker="o", label="NPS")
    right.plot([i for i in x if csat[i] is not None], [v for v in csat if v is not None], marker="s", label="CSAT %")
    right.set_xticks(list(x), weeks, fontsize=7)
    right.set_ylim(-100, 100)
    right.axhline(0, color="#999999", linewidth=0.6)
    right.tick_params(axis="y", labelsize=7)
    right.set_title("NPS and CSAT by week", fontsize=9)
    right.legend(fontsize=7, loc="lower left")
    figure.suptitle(_plain(f"{report.department}: {report.stories} stories this week"), fontsize=10)
    figure.tight_layout()
    drawn = io.BytesIO()
    figure.savefig(drawn, format="png", dpi=DPI)
    return _small(drawn.getvalue())


def _small(png: bytes) -> bytes:
    """The PNG with a palette of :data:`COLOURS` (a flat chart loses nothing): ~7 KB instead of ~25 KB, which
    keeps a Teams card with the chart inline well under its size limit."""
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=COLOURS).save(out, format="PNG", optimize=True)
    return out.getvalue()
