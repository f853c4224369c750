"""Prometheus metrics (``/metrics``): request latency per endpoint, votes accepted and refused by reason,
workflow transitions fired, certificate renders, and the Celery queue's depth read from Redis at scrape time.

Under gunicorn (several worker processes) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder writable by the
workers, the same for every process of one node, emptied at each start: each process then writes its samples
there and ``/metrics`` adds them up (prometheus_client's multiprocess mode). Without it, the process's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from flask import current_app
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

REQUEST_SECONDS = Histogram(
    "pingxuan_request_seconds", "Time to answer a request, by endpoint", ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
VOTES = Counter("pingxuan_votes", "Votes cast through the vote operation", ["outcome", "reason"])
TRANSITIONS = Counter("pingxuan_transitions", "Workflow transitions fired", ["transition"])
SMS = Counter("pingxuan_sms", "Texts handed to the SMS gateway, by provider and outcome", ["provider", "outcome"])
CERTIFICATE_RENDERS = Counter("pingxuan_certificate_renders", "Certificates rendered", ["outcome"])


def vote_accepted() -> None:
    VOTES.labels("accepted", "").inc()


def vote_refused(reason: str) -> None:
    VOTES.labels("refused", reason).inc()


def transition_fired(name: str) -> None:
    TRANSITIONS.labels(name).inc()


def certificate_rendered(outcome: str) -> None:
    CERTIFICATE_RENDERS.labels(outcome).inc()


class QueueDepth:
    """Tasks waiting in the Celery queue (a Redis list named after the queue), read when scraped."""

    def __init__(self, broker_url: str, queue: str) -> None:
        self.broker_url, self.queue = broker_url, queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("pingxuan_celery_queue_depth", "Tasks waiting in the Celery queue", labels=["queue"])
        if self.broker_url.startswith(("redis://", "rediss://")):
            import redis

            try:
                depth = redis.Redis.from_url(self.broker_url, socket_connect_timeout=2).llen(self.queue)
            except redis.RedisError:
                depth = float("nan")
            family.add_metric([self.queue], depth)
        yield family


def exposition() -> tuple[bytes, str]:
    """The text format of every metric of this node (all its processes in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY  # this process's own
    celery = current_app.config["CELERY"]
    queue = CollectorRegistry()
    queue.register(QueueDepth(celery.get("broker_url") or "", celery.get("task_default_queue") or "celery"))
    return generate_latest(registry) + generate_latest(queue), CONTENT_TYPE_LATEST
