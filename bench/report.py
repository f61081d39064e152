"""One row of ``python -m bench``'s table: a figure beside its bound or peer, measured in the same run."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    bench: str
    figure: str  # what was measured, with the size that ran ("ack p99, 2,000 requests")
    value: str  # the figure, with its unit
    peer: str  # the bound or peer it stands beside, with what it is ("bare aiohttp 4.1 ms")
    goal: str  # "<= 2x the peer", "<= 1.5x", "floor 0.504"
    met: bool | None  # None: no goal, shown for scale


def table(rows: list[Row]) -> str:
    """A Markdown table (README's Performance section holds one)."""
    lines = ["| bench | figure | measured | bound or peer (same run) | goal | |", "|---|---|---|---|---|---|"]
    for r in rows:
        verdict = "" if r.met is None else "met" if r.met else "NOT met"
        lines.append(f"| {r.bench} | {r.figure} | {r.value} | {r.peer} | {r.goal} | {verdict} |")
    return "\n".join(lines)


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    """A bench module's own printed tables, kept out of the one table (``--verbose`` shows them)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        yield buffer


def ratio_row(bench: str, figure: str, ours: float, peer: float, *, unit: str, peer_name: str, goal: float) -> Row:
    """``ours`` beside ``peer`` (smaller is better), met when ``ours / peer <= goal``."""
    ratio = ours / peer if peer else float("inf")
    return Row(
        bench,
        figure,
        f"{ours:,.{_places(ours)}f} {unit} ({ratio:.2f}x)",
        f"{peer_name} {peer:,.{_places(peer)}f} {unit}",
        f"<= {goal:g}x",
        ratio <= goal,
    )


def _places(value: float) -> int:
    return 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2 if abs(value) >= 0.1 else 4


Rows = Callable[..., list[Row]]
