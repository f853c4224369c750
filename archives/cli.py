"""``flask --app wsgi pingxuan archive export|verify|import``: keep a campaign, check it, restore it."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

archive_group = AppGroup("archive", help="Campaign archives: export, verify and import.")


def register(group: click.Group) -> None:
    group.add_command(archive_group)


def _campaign(which: str):
    from sqlalchemy import or_, select

    from campaigns.models import Campaign
    from pingxuan.extensions import db

    number = int(which) if which.isdigit() and len(which) < 10 else -1
    campaign = db.session.scalar(select(Campaign).where(or_(Campaign.year == number, Campaign.id == number))
                                 .order_by((Campaign.year == number).desc()))  # fmt: skip
    if campaign is None:
        click.echo(f"No campaign with the year or id {which}.", err=True)
        sys.exit(2)
    return campaign


@archive_group.command("export")
@click.argument("campaign")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Archive file to write.")
def export_command(campaign: str, output: Path | None) -> None:
    """Write CAMPAIGN (its year or id) to one archive file and print the manifest's SHA-256 to publish."""
    from archives.export import write_archive
    from pingxuan.db import rollback

    chosen = _campaign(campaign)
    target = output or Path(f"pingxuan-{chosen.year}-archive.zip")
    written = write_archive(chosen, target)
    rollback()
    click.echo(f"Archive written to {written.path}: {sum(written.tables.values())} rows in "
               f"{len(written.tables)} tables, {written.files} files.")  # fmt: skip
    for digest in written.missing_files:
        click.echo(f"  warning: stored file {digest} is missing and could not be archived", err=True)
    click.echo(f"Manifest SHA-256 (publish it): {written.manifest_sha256}")


@archive_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--manifest-sha256", help="The published SHA-256 of the manifest (instead of this key's signature).")
def verify_command(file: Path, manifest_sha256: str | None) -> None:
    """Recompute every hash, check the signature, recount ballots, review totals and the awards."""
    from archives.verify import verify_archive
    from pingxuan.errors import DomainError

    try:
        report = verify_archive(file, manifest_sha256)
    except DomainError as error:
        click.echo(f"Not verified: {error.message}", err=True)
        sys.exit(1)
    integrity = report.integrity
    click.echo(f"Manifest SHA-256: {integrity.manifest_sha256}")
    click.echo("Signature: " + ("valid" if integrity.signature_valid else "NOT valid for this key or hash"))
    for problem in integrity.problems:
        click.echo(f"  changed: {problem}")
    if integrity.intact:
        click.echo(f"Recounted from {sum(report.checked.values())} rows: ballots, review totals and awards.")
    for difference in report.differences:
        click.echo(f"  difference: {difference}")
    click.echo("Verified: the archive is intact and its results follow from its ballots and scores."
               if report.valid else "NOT verified.")  # fmt: skip
    sys.exit(0 if report.valid else 1)


@archive_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Restore an archive into this (empty) database, after checking every hash and the signature."""
    from archives.restore import import_archive
    from pingxuan.db import commit, rollback
    from pingxuan.errors import DomainError

    try:
        loaded = import_archive(file)
        commit()
    except DomainError as error:
        rollback()
        click.echo(f"Not imported: {error.message}", err=True)
        for reason in error.reasons:
            click.echo(f"  {reason}", err=True)
        sys.exit(1)
    click.echo(f"Imported {sum(loaded.values())} rows in {len(loaded)} tables.")
