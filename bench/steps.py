"""Single steps at the sizes that once were slow, timed: the speed bounds that used to be assertions in tests
(tests now assert behaviour and call budgets, which a loaded CI machine cannot change).

    python bench/steps.py      # or: python -m bench --only steps

Each figure is the fastest of three runs, beside the bound the test once asserted (and the size that ran).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Row
from bot.config import load_config
from stories.models import SummaryInput
from stories.redaction import PiiRedactor
from stories.routing import Router
from stories.summarize import OfflineSummarizer


def fastest(work: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _row(figure: str, seconds: float, bound: float, unit: str = "s", scale: float = 1.0) -> Row:
    return Row(
        "steps", figure, f"{seconds * scale:,.3f} {unit}", f"bound {bound * scale:g} {unit}", "< bound", seconds < bound
    )


def rows(*, quick: bool = False, data: Path | None = None, pg: str | None = None) -> list[Row]:
    del quick, data, pg
    comment = "The parcel came late and the box was crushed, order 12345 cost $49.99. " * 1450
    comment += "Reach me at kim@example.net or +1 202 555 0143."
    table = "Pasted from my statement:\n" + "\n".join(
        f"row {i}: called 0{7000000000 + i * 7919:d} on {1 + i % 28:02d}.03.2024" for i in range(300)
    )
    redactor = PiiRedactor()
    long_text = "The parcel came late and the box was crushed. " * 2300 + "Worst service I have ever had!"
    many = [
        SummaryInput(text=f"Order {i} arrived late and nobody answered. Not happy.", source="csv")
        for i in range(10_000)
    ]
    summarizer = OfflineSummarizer()
    router = Router(load_config())
    texts = ["I ordered a kettle three weeks ago and it still has not arrived.", "ok", "Great value. " * 20]
    n = 2000

    def routing() -> None:
        for i in range(n):
            router.route(
                text=texts[i % len(texts)],
                nps=i % 11,
                csat=None,
                sentiment="negative",
                source="csv",
                segment="Consumer",
                fields={},
            )

    return [
        _row("redact a 100 KB comment", fastest(lambda: redactor.redact(comment)), 5.0),
        _row("redact a pasted table of 300 numbers", fastest(lambda: redactor.redact(table)), 2.0),
        _row("redact 99,999 'a' then '@'", fastest(lambda: PiiRedactor(digit_runs=8).redact("a" * 99_999 + "@")), 1.0),
        _row(
            "summarise a 100 KB comment offline",
            fastest(lambda: summarizer.summarize([SummaryInput(text=long_text, source="csv")])),
            1.0,
        ),
        _row("summarise 10,000 comments offline", fastest(lambda: summarizer.summarize(many), runs=1), 5.0),
        _row("route one comment (2,000 in a row)", fastest(routing) / n, 0.0005, unit="us", scale=1e6),
    ]


if __name__ == "__main__":
    from bench.report import table as render

    print(render(rows()))
