"""Prometheus metrics of one worker process, served at `GET /metrics` (docs/deploy.md).

Counters and histograms are updated at the edges (sockets, REST, the conversation service); the gauges
of state the service already keeps (live conversations, store commits, bus lag) are read at scrape time.
Each app has its own registry, so several apps in one process (the tests) never collide. Labels are
closed sets (endpoint, error code, QA rule): never a conversation id or any text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

TURN_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge("huashu_connections_active", "open WebSocket connections", ["endpoint"],
                                 registry=self.registry)
        self.turns = Counter("huashu_turns", "customer and agent messages handled", ["endpoint"],
                             registry=self.registry)
        self.turn_seconds = Histogram("huashu_turn_seconds", "time to handle a message frame (store and answer)",
                                      ["endpoint"], buckets=TURN_BUCKETS, registry=self.registry)
        self.errors = Counter("huashu_errors", "error frames and error responses, by code", ["code"],
                              registry=self.registry)
        self.handoffs = Counter("huashu_handoffs", "conversations handed to a human", registry=self.registry)
        self.commitments = Gauge("huashu_commitments", "promises made to customers, by status (open, overdue, "
                                 "done), counted in the store when scraped", ["status"], registry=self.registry)
        self.qa_findings = Counter("huashu_qa_findings", "QA findings of replays through the API", ["rule"],
                                   registry=self.registry)

    def watch(self, read_state: Callable[[], dict[str, Any]]) -> None:
        """Expose the service's own counters, read when scraped (`read_state` returns them by name)."""
        self.registry.register(_StateCollector(read_state))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector(Collector):
    def __init__(self, read_state: Callable[[], dict[str, Any]]) -> None:
        self._read_state = read_state

    def collect(self) -> Iterator[Metric]:
        state = self._read_state()
        yield GaugeMetricFamily("huashu_conversations_live", "conversations this worker holds in memory",
                                value=state["conversations_live"])
        for name, description, key in COUNTERS:
            yield CounterMetricFamily(name, description, value=state[key])


# Counters the service keeps itself: (metric, help, key of `read_state`'s answer).
COUNTERS = (
    ("huashu_store_commits", "transactions committed by the store", "commits"),
    ("huashu_store_commit_seconds", "time spent in committed transactions", "commit_seconds"),
    ("huashu_store_failed_commits", "commits that failed", "failed_commits"),
    ("huashu_bus_lag_seconds", "summed delay of bus batches from other workers", "bus_lag_seconds"),
    ("huashu_bus_batches_received", "bus batches received from other workers", "bus_batches"),
    ("huashu_bus_dropped", "bus batches this worker could not publish", "bus_dropped"),
)
