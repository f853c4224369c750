"""``flask --app wsgi pingxuan send-reminders``: the same reminder run as the Celery beat schedule's."""

from __future__ import annotations

import click
from flask.cli import AppGroup


def register(group: AppGroup) -> None:
    group.add_command(send_reminders_command)


@click.command("send-reminders")
def send_reminders_command() -> None:
    """Mail every expert whose reviews are due within two days or overdue."""
    from pingxuan.db import commit
    from reviewers.progress import send_reminders

    sent = send_reminders()
    commit()
    click.echo(f"Reminders sent to {sent} experts.")
