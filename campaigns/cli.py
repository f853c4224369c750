"""``flask --app wsgi pingxuan campaign export|import|clone``: a campaign's configuration as a YAML file.

Changes are audited under a staff account: ``--by EMAIL``, by default the first administrator.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

campaign_group = AppGroup("campaign", help="Campaign configuration: export, import (with --dry-run), clone.")


def register(group: click.Group) -> None:
    group.add_command(campaign_group)


def _campaign(which: str):
    from sqlalchemy import select

    from campaigns.models import Campaign
    from pingxuan.extensions import db

    campaign = db.session.scalar(select(Campaign).where(Campaign.year == int(which))) if which.isdigit() else None
    if campaign is None:
        click.echo(f"No campaign for the year {which}.", err=True)
        sys.exit(2)
    return campaign


def _actor(email: str | None):
    from sqlalchemy import select

    from accounts.models import User
    from pingxuan.extensions import db
    from workflow.definition import ADMIN, STAFF

    query = select(User).where(User.role.in_(STAFF)) if email else select(User).where(User.role == ADMIN)
    if email:
        query = query.where(User.email == email.strip().lower())
    user = db.session.scalar(query.order_by(User.id))
    if user is None:
        click.echo("No such organizer or administrator account (give one with --by EMAIL).", err=True)
        sys.exit(2)
    return user


def _refused(error) -> None:
    click.echo(f"Refused: {error.message}", err=True)
    for field, message in error.field_errors.items():
        click.echo(f"  {field}: {message}", err=True)
    for reason in error.reasons:
        click.echo(f"  {reason}", err=True)
    sys.exit(1)


@campaign_group.command("export")
@click.argument("year")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)
def export_command(year: str, output: Path | None) -> None:
    """Write the configuration of the campaign of YEAR (settings, taxonomy, rubric, organizations) as YAML."""
    from campaigns.transfer import export_yaml

    text = export_yaml(_campaign(year))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Written to {output}.")


@campaign_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="List what would be created or changed; write nothing.")
@click.option("--make-current", is_flag=True, help="Make the imported campaign the current one.")
@click.option("--by", "email", help="Staff account the changes are audited under (default: first administrator).")
def import_command(file: Path, dry_run: bool, make_current: bool, email: str | None) -> None:
    """Create the campaign of FILE's year, or update it to match FILE."""
    from campaigns.transfer import import_config, parse_yaml
    from pingxuan.db import commit, rollback
    from pingxuan.errors import DomainError

    try:
        report = import_config(parse_yaml(file.read_bytes()), _actor(email), dry_run=dry_run, make_current=make_current)
        commit()
    except DomainError as error:
        rollback()
        _refused(error)
    click.echo(("Dry run, nothing written. " if dry_run else "") + f"Campaign {report.year}:")
    for line in report.created:
        click.echo(f"  create {line}")
    for line in report.changed:
        click.echo(f"  change {line}")
    if not report.created and not report.changed:
        click.echo("  nothing to change")


@campaign_group.command("clone")
@click.argument("year")
@click.option("--to", "new_year", type=int, help="The new edition's year (default: the next year).")
@click.option("--make-current", is_flag=True, help="Make the new edition the current campaign.")
@click.option("--by", "email", help="Staff account the changes are audited under (default: first administrator).")
def clone_command(year: str, new_year: int | None, make_current: bool, email: str | None) -> None:
    """Start next year's edition from the campaign of YEAR: dates moved, taxonomy, rubric, experts; no cases."""
    from campaigns.transfer import clone_campaign
    from pingxuan.db import commit, rollback
    from pingxuan.errors import DomainError

    try:
        clone = clone_campaign(_campaign(year), _actor(email), year=new_year, make_current=make_current)
        commit()
    except DomainError as error:
        rollback()
        _refused(error)
    click.echo(f"Campaign {clone.year} created from {year} with {len(clone.categories)} categories.")
