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

Each version's public files (the results page, CSV and XLSX, in each language) are rendered when it is published
and stored beside it (``ResultRendering``); a request sends those bytes with their SHA-256 as the ETag
(``served``), looked up in the database at most every ``RESULTS_RECHECK_SECONDS`` per process. The page is a
function of the publication and the language only, so what publishing rendered is what a request would render.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.models import User
from accounts.permissions import require_staff
from awards import notice
from awards.models import SUPERSEDED, Certificate, OrganizationAward, ResultRendering, ResultSnapshot
from awards.ranking import results
from awards.sheets import csv_bytes, xlsx_bytes
from campaigns.models import Campaign, Organization
from pingxuan.cache import RESULTS, bump
from pingxuan.db import after_commit, locked
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from pingxuan.i18n import PUBLIC_FLAG
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
    _render_files(snapshot)
    bump(RESULTS)
    after_commit(forget_served)
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


# The public files of a publication -------------------------------------------------------------------------

LANGUAGES = ("zh", "en")
FILES = ("page", "csv", "xlsx")
SHOWCASE_ENDPOINTS = ("showcase.case_page", "showcase.case")  # the showcase's case page, when it exists


def case_url(case: object) -> str:
    """Where the public reads an awarded case (a Case or a published entry with ``case_id``): the showcase page
    when it exists, else the (public) case page."""
    case_id = getattr(case, "case_id", None) or case.id
    for endpoint in SHOWCASE_ENDPOINTS:
        if endpoint in current_app.view_functions:
            return url_for(endpoint, case_id=case_id)
    return url_for("cases.detail", case_id=case_id)


def published_view(snapshot: ResultSnapshot | None) -> dict[str, Any] | None:
    """A publication as the public pages show it: its figures with its version, hash and date."""
    if snapshot is None:
        return None
    return {"version": snapshot.version, "sha256": snapshot.content_hash, "published_at": snapshot.published_at,
            **snapshot.data}  # fmt: skip


def _view(data: object) -> object:
    """Dicts of a publication as attribute objects, so templates use ``pick(category, "name")`` as elsewhere."""
    if isinstance(data, dict):
        return SimpleNamespace(**{k: _view(v) for k, v in data.items()})
    if isinstance(data, list):
        return [_view(v) for v in data]
    return data


def render_page(campaign: Campaign | None, published: dict[str, Any] | None) -> str:
    """The public results page in the request's language. Once published, it shows the publication's own
    campaign title and links by year, so it depends on nothing but the publication and the language."""
    shown = _view(published["campaign"]) if published and published.get("campaign") else campaign
    in_notice = published is None and campaign is not None and notice.in_notice(campaign)
    return render_template("awards/results.html", campaign=shown, published=_view(published) if published else None,
                           case_url=case_url, in_notice=in_notice)  # fmt: skip


def public_files(published: dict[str, Any] | None, english: bool) -> tuple[bytes, bytes]:
    """The public CSV and XLSX of a publication (header only when nothing is published)."""
    published = published or {"categories": [], "organizations": []}
    lang = "en" if english else "zh"
    organizations = [[_("Organization award")]] + [[o.get(f"name_{lang}") or o["name_zh"]]
                                                   for o in published["organizations"]]  # fmt: skip
    rows = public_rows(published, english)
    return csv_bytes(rows), xlsx_bytes(rows, organizations)


def _render_files(snapshot: ResultSnapshot) -> None:
    """Render and store the version's public files in each language, as a request for them would: in a request
    context of their own (its own app context and session: the publishing transaction is not touched)."""
    app = current_app._get_current_object()
    published = published_view(snapshot)
    year = published["campaign"]["year"]
    for lang in LANGUAGES:
        url = f"/results?year={year}&lang={lang}"
        with app.app_context(), app.test_request_context(url, environ_overrides={PUBLIC_FLAG: True}):
            page = render_page(None, published).encode()  # a publication names its campaign
            csv, xlsx = public_files(published, lang == "en")
        for kind, body in (("page", page), ("csv", csv), ("xlsx", xlsx)):
            digest = hashlib.sha256(body).hexdigest()
            db.session.add(ResultRendering(snapshot_id=snapshot.id, kind=kind, lang=lang, body=body, sha256=digest))
    db.session.flush()


@dataclass(frozen=True)
class Served:
    body: bytes
    sha256: str
    year: int
    checked: float  # time.monotonic() of the last look-up in the database


_SERVED = "pingxuan.results_served"
RECHECK_SECONDS = 2.0  # default of RESULTS_RECHECK_SECONDS


def served(kind: str, lang: str, year: int | None) -> Served | None:
    """The stored ``kind`` file in ``lang`` of the newest publication of the campaign of ``year`` (the current
    campaign without one), or None when that publication has none (published before files were stored).

    Kept in the process: the database is asked again only after ``RESULTS_RECHECK_SECONDS`` (the body only when
    its hash changed), and a publication committed by this process is seen at once, so results day costs no
    query per request; another process's publication shows within those seconds.
    """
    store: dict = current_app.extensions.setdefault(_SERVED, {})
    key = (kind, lang, year or None)
    entry = store.get(key)
    now = time.monotonic()
    configured = current_app.config.get("RESULTS_RECHECK_SECONDS")
    recheck = RECHECK_SECONDS if configured in (None, "") else float(configured)
    if entry is not None and now - entry.checked < recheck:
        return entry
    which = Campaign.year == year if year else Campaign.is_current.is_(True)
    newest = (select(ResultSnapshot.id).join(Campaign, Campaign.id == ResultSnapshot.campaign_id).where(which)
              .order_by(ResultSnapshot.version.desc()).limit(1).scalar_subquery())  # fmt: skip
    row = db.session.execute(
        select(ResultRendering.snapshot_id, ResultRendering.sha256, Campaign.year)
        .join(ResultSnapshot, ResultSnapshot.id == ResultRendering.snapshot_id)
        .join(Campaign, Campaign.id == ResultSnapshot.campaign_id)
        .where(ResultRendering.snapshot_id == newest, ResultRendering.kind == kind, ResultRendering.lang == lang)
    ).first()
    if row is None:
        store.pop(key, None)
        return None
    if entry is not None and entry.sha256 == row.sha256:
        body = entry.body
    else:
        body = db.session.scalar(select(ResultRendering.body).where(
            ResultRendering.snapshot_id == row.snapshot_id, ResultRendering.kind == kind, ResultRendering.lang == lang
        ))  # fmt: skip
    store[key] = entry = Served(body, row.sha256, row.year, now)
    return entry


def forget_served() -> None:
    """This process serves the newest publication from the next request on (after a publication commits)."""
    current_app.extensions.get(_SERVED, {}).clear()
