"""``flask --app wsgi pingxuan recount`` and ``flask --app wsgi pingxuan close-due-votes``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup


def register(group: AppGroup) -> None:
    """Attach the vote commands to the ``pingxuan`` command group."""
    group.add_command(recount_command)
    group.add_command(close_due_votes_command)


@click.command("recount")
@click.option("--year", type=int, default=None, help="Only this campaign (default: every campaign).")
@click.option("--fix", is_flag=True, help="Set the live counts to the recounted totals (there should be nothing).")
def recount_command(year: int | None, fix: bool) -> None:
    """Recount every case's valid ballots from the raw table and report any difference with the live counts."""
    from flask_babel import gettext as _
    from sqlalchemy import select

    from awards import publication
    from campaigns.models import Campaign
    from cases.models import Case
    from pingxuan.db import commit, rollback
    from pingxuan.extensions import db
    from voting.ballots import recount

    campaign = None
    if year is not None:
        campaign = db.session.scalar(select(Campaign).where(Campaign.year == year))
        if campaign is None:
            click.echo(f"No campaign for {year}.", err=True)
            sys.exit(2)
    differences = recount(campaign, fix=fix)
    republished = []
    if fix and differences:  # corrected counts are public figures: published results get their next version
        touched = db.session.scalars(select(Case.campaign_id).distinct()
                                     .where(Case.id.in_([d.case_id for d in differences])))  # fmt: skip
        reason = _("Live vote counts corrected by a recount.")
        republished = [s for s in (publication.refresh_campaign(i, reason) for i in touched) if s is not None]
    if fix:
        commit()
    else:
        rollback()
    if not differences:
        click.echo("Recount matches the live counts: no differences.")
        return
    click.echo(f"{len(differences)} difference(s) between live counts and ballots:")
    for d in differences:
        click.echo(f"  case {d.case_id}: live {d.live}, recounted {d.recounted}")
    if fix:
        click.echo("Live counts set to the recounted totals.")
        for snapshot in republished:
            click.echo(f"Results of campaign {snapshot.campaign_id} published again as version {snapshot.version}.")
    else:
        sys.exit(1)


@click.command("close-due-votes")
def close_due_votes_command() -> None:
    """Close every open public vote whose window has ended and empty the user agents past their retention (what
    Celery beat runs each night)."""
    from pingxuan.db import commit
    from voting.window import close_due_votes, purge_user_agents

    closed = close_due_votes()
    purged = purge_user_agents()
    commit()
    if purged:
        click.echo(f"Emptied the user agents of {purged} ballots past their retention.")
    if not closed:
        click.echo("No open vote is past its window.")
    for campaign in closed:
        click.echo(f"Closed the public vote of {campaign.year} ({campaign.title_en}).")
