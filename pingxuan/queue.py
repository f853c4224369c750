"""Queue a Celery task by name once the current transaction commits.

Operations never import task modules (tasks import operations); they name the task instead. With no broker
configured the task runs in-process right after the commit.
"""

from __future__ import annotations

from flask import current_app

from pingxuan.db import after_commit


def enqueue(task_name: str, *args: object) -> None:
    celery = current_app.extensions["celery"]
    task = celery.tasks[task_name]  # KeyError here means the task module was not imported by the factory
    after_commit(lambda: task.delay(*args))
