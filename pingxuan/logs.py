"""Logging: plain lines by default, one JSON object per line with ``PINGXUAN_LOG_FORMAT=json``, and a request
id on every record, carried from the request that queued a Celery task into the task's own log lines.

The id is the request's ``X-Request-ID`` when a proxy set a sane one, else a new one; it is sent back in the
response's ``X-Request-ID`` and travels with each task as a message header.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID: ContextVar[str] = ContextVar("pingxuan_request_id", default="")
HEADER = "pingxuan_request_id"
SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or REQUEST_ID.get(),
        }  # fmt: skip
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def handler(log_format: str) -> logging.Handler:
    made = logging.StreamHandler()
    made.addFilter(RequestIdFilter())
    made.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(PLAIN))
    return made


# Libraries that log routine steps at INFO: the `transitions` state machine writes a line for every callback of
# every case's transition. Their warnings and errors still come through; all of it when debugging.
CHATTY = ("transitions",)


def configure(log_format: str, debug: bool = False) -> None:
    """JSON: replace the root logger's handlers with one JSON handler; plain: as before (basicConfig)."""
    if log_format == "json":
        root = logging.getLogger()
        root.handlers[:] = [handler("json")]
        root.setLevel(logging.INFO)
    else:
        logging.basicConfig(level=logging.INFO, format=PLAIN)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)


def new_request_id(incoming: str | None) -> str:
    return incoming if incoming and SANE.match(incoming) else uuid.uuid4().hex


def _carry(headers: dict | None = None, **_: object) -> None:
    if headers is not None and REQUEST_ID.get():
        headers[HEADER] = REQUEST_ID.get()


def _adopt(task=None, **_: object) -> None:
    carried = getattr(task.request, HEADER, None) if task is not None else None
    if carried:
        task.request.pingxuan_token = REQUEST_ID.set(str(carried))


def _drop(task=None, **_: object) -> None:
    token = getattr(task.request, "pingxuan_token", None) if task is not None else None
    if token is not None:
        REQUEST_ID.reset(token)


def _json_in_worker(**_: object) -> None:
    configure("json")  # connected to setup_logging: Celery then leaves the root logger to us


def connect_celery(log_format: str) -> None:
    """Carry the request id in each task's headers and adopt it while the task runs; JSON in the worker too."""
    from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun

    before_task_publish.connect(_carry, dispatch_uid="pingxuan-carry")
    task_prerun.connect(_adopt, dispatch_uid="pingxuan-adopt")
    task_postrun.connect(_drop, dispatch_uid="pingxuan-drop")
    if log_format == "json":
        setup_logging.connect(_json_in_worker, dispatch_uid="pingxuan-json")
