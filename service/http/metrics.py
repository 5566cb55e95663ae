"""Prometheus metrics for one app: request latency and counts, the index being served, cache hit rates."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from service.search.holder import IndexHolder

# Search runs in tens of milliseconds; answers with an LLM take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The app's own registry (one per create_app, so test apps never collide), rendered at /metrics."""

    def __init__(self, holder: IndexHolder) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("casebook_requests", "HTTP requests by route and status code",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("casebook_request_duration_seconds", "HTTP request latency by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.rate_limited = Counter("casebook_rate_limited", "requests refused with 429 by the rate limit",
                                    registry=self.registry)
        self.busy = Counter("casebook_busy", "requests refused with 503: no ranking slot came free in time",
                            registry=self.registry)
        self.registry.register(IndexCollector(holder))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request and its latency."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class IndexCollector(Collector):
    """Reads the live index and its caches at scrape time, so the numbers are never stale."""

    def __init__(self, holder: IndexHolder) -> None:
        self.holder = holder

    def collect(self) -> Iterator[Metric]:
        """Yield the index and cache metrics."""
        live = self.holder.live
        ready = GaugeMetricFamily("casebook_index_ready", "1 while an index version is loaded")
        ready.add_metric([], 1.0 if live else 0.0)
        yield ready
        reachable = GaugeMetricFamily("casebook_index_store_reachable",
                                      "1 while the index store answers (a database store: 0 while it is away)")
        reachable.add_metric([], 0.0 if self.holder.unavailable else 1.0)
        yield reachable
        refused = CounterMetricFamily("casebook_index_refused", "versions refused as corrupt or incompatible")
        refused.add_metric([], float(self.holder.refused))
        yield refused
        if live is None:
            return
        manifest = live.version.manifest
        info = GaugeMetricFamily("casebook_index_info", "the version served", labels=["version", "model"])
        info.add_metric([manifest.version, manifest.model], 1.0)
        yield info
        passages = GaugeMetricFamily("casebook_index_passages", "passages in the served index version")
        passages.add_metric([], float(len(live.version.passages)))
        yield passages
        hits = CounterMetricFamily("casebook_cache_hits", "cache hits since this version was loaded",
                                   labels=["cache"])
        misses = CounterMetricFamily("casebook_cache_misses", "cache misses since this version was loaded",
                                     labels=["cache"])
        ratio = GaugeMetricFamily("casebook_cache_hit_ratio", "hits / lookups since this version was loaded",
                                  labels=["cache"])
        for name, cache in (("searches", live.searches), ("answers", live.answers),
                            ("query_vectors", live.query_vectors)):
            hits.add_metric([name], float(cache.hits))
            misses.add_metric([name], float(cache.misses))
            lookups = cache.hits + cache.misses
            ratio.add_metric([name], cache.hits / lookups if lookups else 0.0)
        yield from (hits, misses, ratio)
