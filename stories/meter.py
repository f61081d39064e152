"""The port the core and the connectors count through (``bot/metrics.py`` implements it on Prometheus).

Names are the metrics' own (``cxbot_redactions_total``); labels are kinds, sources, platforms, outcomes: never
text anyone wrote. A name the implementation does not know is an error there, so a typo fails its tests.
"""

from __future__ import annotations

from typing import Protocol


class Meter(Protocol):
    def count(self, name: str, amount: float = 1, /, **labels: str) -> None:
        """Add ``amount`` to the counter ``name`` with these labels."""
        ...

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        """Record ``value`` (seconds, tokens) in the histogram ``name`` with these labels."""
        ...


class NoMeter:
    """Counts nothing: for parts built without a server (unit tests, benches, one-off commands)."""

    def count(self, name: str, amount: float = 1, /, **labels: str) -> None:
        return None

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        return None


NO_METER: Meter = NoMeter()
