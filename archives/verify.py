"""Proving, years later, that a campaign's published results follow from its recorded ballots and scores.

The archive is restored into a scratch SQLite database beside the running one (built by the same application
factory), and the project's own rules run there: the recount of the ballots against the live counts, each
review's weighted total against its scores, and the ranking against the award decisions. The checks use the
same operations as the live system, so there is one home for each rule.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from archives.export import key_fingerprint
from archives.restore import Integrity, check_integrity, load_rows
from awards.models import OBJECTION_UPHELD, Objection
from awards.ranking import decided_ranking
from campaigns.models import Campaign
from cases.models import Case
from pingxuan.extensions import db
from pingxuan.signing import same_secret
from reviewers.models import SUBMITTED_REVIEW, Assignment, Review
from reviewers.scoring import weighted_total
from voting.ballots import recount
from workflow.definition import TRANSITION_BY_NAME

FACTORY = "pingxuan.factory"  # the application factory, registered on the app by the shell
AWARDED = TRANSITION_BY_NAME["confirm_award"].dest


@dataclass
class Report:
    integrity: Integrity
    differences: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.integrity.intact and self.integrity.signature_valid and not self.differences


def verify_archive(path: Path, manifest_sha256: str | None = None) -> Report:
    """Hashes and signature first; then, if every entry is intact, the recount in a scratch database.

    With the signing key (``holds_signing_key``) the signature decides, and a published SHA-256 given as
    ``manifest_sha256`` is one more check: a forger who sends their own manifest's hash with the archive gets
    nothing from it. Only an installation without that key, which cannot check the signature, lets the published
    hash stand in for it.
    """
    integrity = check_integrity(path)
    matches = manifest_sha256 is not None and manifest_sha256.strip().lower() == integrity.manifest_sha256
    if holds_signing_key(integrity.manifest):
        integrity.signature_valid = integrity.signature_valid and (manifest_sha256 is None or matches)
    else:
        integrity.signature_valid = matches
    report = Report(integrity)
    if integrity.intact:
        _recount(path, report)
    return report


def holds_signing_key(manifest: dict) -> bool:
    """Whether this installation's key must decide: the manifest names this installation's fingerprint, or the
    campaign it names (id and year) is here, whatever fingerprint it names. A forger who signs an altered copy of
    this installation's campaign with their own key and names that key's fingerprint is still judged by this key;
    only an archive of a campaign this installation does not hold, signed by another key, is left to the hash."""
    named = manifest.get("key")
    if named and same_secret(str(named), key_fingerprint()):
        return True
    campaign = manifest.get("campaign") if isinstance(manifest.get("campaign"), dict) else {}
    campaign_id, year = campaign.get("id"), campaign.get("year")
    if not all(type(n) is int and 0 < n < 2**31 for n in (campaign_id, year)):  # an integer column's range
        return False
    return db.session.scalar(select(Campaign.id).where(Campaign.id == campaign_id, Campaign.year == year)) is not None


def _recount(path: Path, report: Report) -> None:
    factory = current_app.extensions[FACTORY]
    celery = current_app.extensions["celery"]
    with tempfile.TemporaryDirectory(prefix="pingxuan-verify-") as scratch_dir:
        scratch = factory({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch_dir}/scratch.sqlite3", "SQLALCHEMY_ENGINE_OPTIONS": {},
            "STORAGE_DIR": f"{scratch_dir}/storage", "STORAGE_URL": "", "SECRET_KEY": current_app.config["SECRET_KEY"],
            "RATELIMIT_STORAGE_URI": "memory://",
            "CELERY": {**current_app.config["CELERY"], "broker_url": "memory://", "task_always_eager": True},
        })  # fmt: skip
        try:
            with scratch.app_context():
                db.create_all()
                with zipfile.ZipFile(path) as archive:
                    report.checked = load_rows(archive, report.integrity.manifest)
                db.session.flush()
                campaign = db.session.get(Campaign, report.integrity.manifest["campaign"]["id"])
                report.differences += _ballots(campaign) + _reviews(campaign) + _awards(campaign)
                db.session.rollback()
                db.session.remove()
                db.engine.dispose()
        finally:
            celery.set_default()  # the scratch app made its own Celery the default


def _ballots(campaign: Campaign) -> list[str]:
    return [_("Case %(case)d: %(live)d votes counted, %(recounted)d valid ballots.", case=d.case_id, live=d.live,
              recounted=d.recounted) for d in recount(campaign)]  # fmt: skip


def _reviews(campaign: Campaign) -> list[str]:
    found = []
    reviews = db.session.scalars(
        select(Review).join(Assignment).join(Case, Case.id == Assignment.case_id)
        .where(Case.campaign_id == campaign.id, Review.status == SUBMITTED_REVIEW)
    )  # fmt: skip
    for review in reviews:
        criteria = [score.criterion for score in review.scores]
        recomputed = weighted_total(criteria, {s.criterion_id: s.value for s in review.scores})
        if review.total is None or recomputed != review.total:
            found.append(_("Review %(id)d: total %(total)s recorded, %(recomputed)s from its scores.",
                           id=review.id, total=review.total, recomputed=recomputed))  # fmt: skip
    return found


def _awards(campaign: Campaign) -> list[str]:
    """The awarded cases of each category are the top of the recomputed ranking, as many as were awarded, once
    the public notice's decisions are replayed: a case whose proposed award an upheld objection revoked leaves
    the ranking, so the next one moves up into its place (or the category awards one fewer)."""
    revoked = set(
        db.session.scalars(
            select(Objection.case_id).join(Case, Case.id == Objection.case_id)
            .where(Case.campaign_id == campaign.id, Objection.status == OBJECTION_UPHELD)
        )
    )  # fmt: skip
    found = []
    for category in campaign.categories:
        ranking = decided_ranking(campaign, category)
        awarded = {r.case.id for r in ranking if r.case.state == AWARDED}
        standing = [r for r in ranking if r.case.id not in revoked]
        top = {r.case.id for r in standing[: len(awarded)]}
        for case_id in sorted(awarded - top):
            found.append(_("Case %(case)d is awarded but not in the top %(n)d of the recomputed ranking.",
                           case=case_id, n=len(awarded)))  # fmt: skip
        for case_id in sorted(top - awarded):
            found.append(_("Case %(case)d is in the top %(n)d of the recomputed ranking but not awarded.",
                           case=case_id, n=len(awarded)))  # fmt: skip
    return found
