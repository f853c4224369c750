"""Command line: ``flask --app wsgi pingxuan demo`` and ``flask --app wsgi pingxuan create-admin EMAIL NAME``.

The CLI sits at the top layer beside pages, API and back office: it calls operations and commits.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

group = AppGroup("pingxuan", help="pingxuan administration: demo data, administrator accounts.")


def register(app: Flask) -> None:
    app.cli.add_command(group)
    from archives.cli import register as register_archive_commands
    from campaigns.cli import register as register_campaign_commands
    from reviewers.cli import register as register_review_commands
    from voting.cli import register as register_vote_commands

    register_review_commands(group)
    register_vote_commands(group)
    register_archive_commands(group)
    register_campaign_commands(group)


@group.command("demo")
@click.option("--password", default=None, help="Password for every demo account (default: pingxuan-demo).")
def demo_command(password: str | None) -> None:
    """Load the 2017 campaign, demo users and ~40 cases into an empty database."""
    from shell import demo

    if demo.has_data():
        click.echo("The database already has users or campaigns: demo data not loaded (nothing was changed).")
        return
    result = demo.build(password or demo.DEMO_PASSWORD)
    click.echo("Demo data loaded.")
    click.echo("Cases by state: " + ", ".join(f"{state} {n}" for state, n in result.cases_by_state.items()))
    click.echo(f"Every demo account has the password: {result.password}")
    for account in result.accounts:
        where = f"  ({account.unit})" if account.unit else ""
        click.echo(f"  {account.role:<10} {account.email:<40} {account.name}{where}")


@group.command("create-admin")
@click.argument("email")
@click.argument("name")
@click.option(
    "--password",
    envvar="PINGXUAN_ADMIN_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Read from PINGXUAN_ADMIN_PASSWORD when set, otherwise prompted.",
)
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create an administrator account (production set-up)."""
    from accounts.operations import create_user
    from pingxuan.db import commit, rollback
    from pingxuan.errors import Invalid
    from workflow.definition import ADMIN

    try:
        user = create_user(email, name, password, ADMIN)
        commit()
    except Invalid as error:
        rollback()
        click.echo(f"Not created: {error}", err=True)
        for field, message in error.field_errors.items():
            click.echo(f"  {field}: {message}", err=True)
        sys.exit(1)
    click.echo(f"Administrator {user.email} created.")
