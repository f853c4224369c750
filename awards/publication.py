"""Published results: the public reads a frozen, versioned snapshot, never a ranking computed per request.

Confirming a category's awards publishes (or refreshes) the campaign's results; so do issuing and correcting
certificates, conferring organization awards and a recount that corrects the live counts (``recount --fix``;
ballots cannot be struck once the vote is closed) once the campaign is published. An organizer may also publish
by hand (``publish_by_hand``: the back office's Awards → Published results, or the API), which says so when
nothing public has changed. Each
publication whose content differs from the newest one becomes the next version, with its SHA-256 over the
canonical JSON; identical content publishes nothing new. Versions are never changed or deleted. The public
results page, its API, the public CSV/XLSX and certificate verification read only the newest version: results
day costs one row read per request, however many cases the campaign had.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.models import User
from accounts.permissions import require_staff
from awards import notice
from awards.models import SUPERSEDED, Certificate, OrganizationAward, ResultSnapshot
from awards.ranking import results
from campaigns.models import Campaign, Organization
from pingxuan.cache import RESULTS, bump
from pingxuan.db import locked
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from voting.ballots import counts_visible


def snapshot_data(campaign: Campaign) -> dict[str, Any]:
    """Every figure the public sees of a campaign's results, as plain JSON."""
    visible = counts_visible(campaign)
    categories = [{
        "id": category.id, "name_zh": category.name_zh, "name_en": category.name_en,
        "award_zh": category.award_zh, "award_en": category.award_en,
        "entries": [{"rank": r.rank, "case_id": r.case.id, "number": r.case.number, "title": r.case.title,
                     "unit": r.case.unit.name, "votes": r.votes if visible else None,
                     "organization_zh": r.case.recommending_org.name_zh if r.case.recommending_org else "",
                     "organization_en": r.case.recommending_org.name_en if r.case.recommending_org else ""}
                    for r in ranked],
    } for category, ranked in results(campaign)]  # fmt: skip
    conferred = db.session.execute(
        select(OrganizationAward, Organization).join(Organization)
        .where(OrganizationAward.campaign_id == campaign.id).order_by(Organization.name_zh)
    )  # fmt: skip
    organizations = [{"id": award.id, "organization_id": org.id, "name_zh": org.name_zh, "name_en": org.name_en}
                     for award, org in conferred]  # fmt: skip
    issued = db.session.scalars(select(Certificate).where(Certificate.campaign_id == campaign.id)
                                .order_by(Certificate.id))  # fmt: skip
    certificates = {c.number: {"kind": c.kind, "content": c.content, "issued_on": c.issued_on.isoformat(),
                               "signature": c.signature, "current": c.status != SUPERSEDED, "case_id": c.case_id}
                    for c in issued}  # fmt: skip
    return {
        "campaign": {"id": campaign.id, "year": campaign.year, "title_zh": campaign.title_zh,
                     "title_en": campaign.title_en, "organizer_zh": campaign.organizer_zh,
                     "organizer_en": campaign.organizer_en},
        "categories": categories, "organizations": organizations, "certificates": certificates,
        "notice": notice.figures(campaign),
    }  # fmt: skip


def _digest(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def latest(campaign_id: int) -> ResultSnapshot | None:
    return db.session.scalar(select(ResultSnapshot).where(ResultSnapshot.campaign_id == campaign_id)
                             .order_by(ResultSnapshot.version.desc()).limit(1))  # fmt: skip


def versions(campaign: Campaign) -> list[ResultSnapshot]:
    return list(db.session.scalars(select(ResultSnapshot).where(ResultSnapshot.campaign_id == campaign.id)
                                   .order_by(ResultSnapshot.version.desc())))  # fmt: skip


def history(campaign: Campaign) -> list[tuple[ResultSnapshot, str]]:
    """Every version, newest first, with the name of who published it ("" for one made by the system)."""
    rows = db.session.execute(select(ResultSnapshot, User.name)
                              .outerjoin(User, User.id == ResultSnapshot.published_by_id)
                              .where(ResultSnapshot.campaign_id == campaign.id)
                              .order_by(ResultSnapshot.version.desc()))  # fmt: skip
    return [(snapshot, name or "") for snapshot, name in rows]


def publish(campaign: Campaign, actor: User | None, reason: str = "") -> ResultSnapshot:
    """Publish the campaign's results now; the newest version again when nothing public has changed."""
    if actor is not None:
        require_staff(actor)
    locked(Campaign, campaign.id)  # versions are numbered in turn: a parallel publication waits for this one
    data = snapshot_data(campaign)
    digest = _digest(data)
    newest = latest(campaign.id)
    if newest is not None and newest.content_hash == digest:
        return newest
    version = (db.session.scalar(select(func.max(ResultSnapshot.version))
                                 .where(ResultSnapshot.campaign_id == campaign.id)) or 0) + 1  # fmt: skip
    snapshot = ResultSnapshot(campaign_id=campaign.id, version=version, data=data, content_hash=digest,
                              reason=reason or _("Published by an organizer."),
                              published_by_id=actor.id if actor is not None else None)  # fmt: skip
    db.session.add(snapshot)
    db.session.flush()
    bump(RESULTS)
    return snapshot


def publish_by_hand(campaign: Campaign, actor: User, reason: str = "") -> ResultSnapshot:
    """An organizer's "publish results": the next version, recorded with who, when and why.

    Refused with nothing written when no category's awards are decided (an empty publication would tell the
    public there are no winners) and, as a repeated request, when nothing public changed since the newest one.
    """
    require_staff(actor)
    newest = latest(campaign.id)
    if newest is None and not any(c["entries"] for c in snapshot_data(campaign)["categories"]):
        raise Invalid(_("No category's awards are decided yet: there is nothing to publish."))
    snapshot = publish(campaign, actor, (reason or "").strip())
    if newest is not None and snapshot.id == newest.id:
        raise Conflict(_("Nothing public has changed since version %(version)d.", version=newest.version))
    return snapshot


def refresh(campaign: Campaign, actor: User | None, reason: str) -> ResultSnapshot | None:
    """After a change to what is public: a new version if the campaign's results are published already."""
    if latest(campaign.id) is None:
        return None
    return publish(campaign, actor, reason)


def refresh_campaign(campaign_id: int, reason: str) -> ResultSnapshot | None:
    campaign = db.session.get(Campaign, campaign_id)
    return refresh(campaign, None, reason) if campaign is not None else None


def published_certificate(number: str) -> tuple[ResultSnapshot, dict[str, Any]] | None:
    """The newest publication that lists this certificate number, with its entry."""
    number = (number or "").strip()
    row = db.session.execute(select(Certificate.campaign_id).where(Certificate.number == number)).first()
    snapshot = latest(row[0]) if row is not None else None
    if snapshot is None or number not in snapshot.data.get("certificates", {}):
        return None
    return snapshot, snapshot.data["certificates"][number]


def public_rows(data: dict[str, Any], english: bool) -> list[list[object]]:
    """The public results file's rows (header first) from a publication: awarded cases only, no scores."""
    lang = "en" if english else "zh"
    rows: list[list[object]] = [[_("Category"), _("Rank"), _("Case number"), _("Title"), _("Applicant unit"),
                                 _("Recommending organization")]]  # fmt: skip
    for category in data["categories"]:
        name = category.get(f"name_{lang}") or category["name_zh"]
        for entry in category["entries"]:
            rows.append([name, entry["rank"], entry["number"] or "", entry["title"], entry["unit"],
                         entry.get(f"organization_{lang}") or entry.get("organization_zh", "")])  # fmt: skip
    return rows
