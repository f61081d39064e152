"""Prometheus metrics for one App, in its own ``CollectorRegistry`` (not the process-wide one), so two Apps in
one process (tests, benches) never share counts.

:class:`Metrics` is the :class:`stories.meter.Meter` the core, the connectors and the dispatcher count through;
:data:`CATALOGUE` lists every metric it knows (a name not listed is a KeyError, so a typo fails). The gauges that
describe stored state (open and overdue commitments, deliveries by state) are read from the database at each scrape
by :class:`StoredState` (storage/gauges.py: two aggregate queries).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from storage.gauges import commitment_counts, delivery_counts

Kind = Literal["counter", "histogram"]
# Slack wants an answer within 3 s; the buckets resolve the few milliseconds an ack should take, and the 3 s line.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)

CATALOGUE: dict[str, tuple[Kind, str, tuple[str, ...]]] = {
    "cxbot_ack_seconds": (
        "histogram",
        "Time to answer a chat platform's request (Slack's limit is 3 s)",
        ("platform",),
    ),
    "cxbot_ingest_requests_total": ("counter", "POST /ingest requests by outcome", ("outcome",)),
    "cxbot_comments_ingested_total": (
        "counter",
        "Comments taken in, by source and outcome (created, duplicate, rejected)",
        ("source", "outcome"),
    ),
    "cxbot_stories_total": ("counter", "Stories created, by the summariser that wrote them", ("summarizer",)),
    "cxbot_redactions_total": ("counter", "Personal data removed from comments, by kind", ("kind",)),
    "cxbot_deliveries_total": (
        "counter",
        "Delivery attempts by platform, kind and outcome",
        ("platform", "kind", "outcome"),
    ),
    "cxbot_rate_limited_total": ("counter", "Posts a platform refused with 429 (rate limited)", ("platform",)),
    "cxbot_model_calls_total": (
        "counter",
        "Requests to the language model, by model and outcome",
        ("model", "outcome"),
    ),
    "cxbot_model_tokens_total": (
        "counter",
        "Language model tokens, by model and kind (prompt, completion)",
        ("model", "kind"),
    ),
    "cxbot_summarizer_fallbacks_total": (
        "counter",
        "Comments summarised by the fallback because the language model's answer could not be used",
        ("reason",),
    ),
    "cxbot_teams_activities_total": ("counter", "Teams activities received by outcome", ("outcome",)),
}


class Metrics:
    """One App's metrics: counters and histograms from :data:`CATALOGUE`, and the stored-state gauges."""

    def __init__(self, *, engine: Engine | None = None, today: Callable[[], date] | None = None) -> None:
        self.registry = CollectorRegistry()
        self._counters: dict[str, Counter] = {}
        self._histograms: dict[str, Histogram] = {}
        # Labelled children by (name, label values): prometheus_client's labels() validates and locks on every call
        # (about 8 us), which an ack paid each time.
        self._children: dict[tuple[str, ...], Any] = {}
        for name, (kind, doc, labels) in CATALOGUE.items():
            if kind == "counter":
                self._counters[name] = Counter(name, doc, labels, registry=self.registry)
            else:
                self._histograms[name] = Histogram(name, doc, labels, registry=self.registry, buckets=ACK_BUCKETS)
        if engine is not None and today is not None:
            self.registry.register(StoredState(engine, today=today))

    def count(self, name: str, amount: float = 1, /, **labels: str) -> None:
        self._child(self._counters, name, labels).inc(amount)

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        self._child(self._histograms, name, labels).observe(value)

    def _child(self, family: Mapping[str, Any], name: str, labels: dict[str, str]) -> Any:
        key = (name, *labels, *labels.values())
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = family[name].labels(**labels)
        return child

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when never counted): for ``cxbot`` commands and tests."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def exposition(self) -> bytes:
        """The Prometheus text format of everything in this registry."""
        return generate_latest(self.registry)


class StoredState(Collector):
    """Gauges computed at scrape from the database: open and overdue commitments, deliveries by state."""

    def __init__(self, engine: Engine, *, today: Callable[[], date]) -> None:
        self._engine = engine
        self._today = today

    def describe(self) -> Iterator[Metric]:  # registering must not query the database
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        open_, overdue = commitment_counts(self._engine, today=self._today())
        families = self._families()
        families[0].add_metric([], open_)
        families[1].add_metric([], overdue)
        for state, n in sorted(delivery_counts(self._engine).items()):
            families[2].add_metric([state], n)
        yield from families

    @staticmethod
    def _families() -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily("cxbot_commitments_open", "Open commitments"),
            GaugeMetricFamily("cxbot_commitments_overdue", "Open commitments past their due date"),
            GaugeMetricFamily("cxbot_outbox_deliveries", "Deliveries in the outbox by state", labels=["state"]),
        ]
