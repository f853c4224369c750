"""Campaign set-up: loading a campaign and its taxonomy from a data file, choosing the current one."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext as _
from sqlalchemy import select, update

from campaigns.models import Campaign, Category, Domain, Organization
from pingxuan.errors import Conflict, Invalid, NotFound
from pingxuan.extensions import db

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_TAXONOMY = DATA_DIR / "taxonomy-2017.yaml"

_SETTINGS = (
    "submission_opens", "submission_closes", "review_opens", "review_closes", "vote_opens", "vote_closes",
    "reviewers_per_case", "expert_weight", "public_weight", "awards_per_category",
)  # fmt: skip


def load_campaign(
    path: Path = DEFAULT_TAXONOMY, make_current: bool = True, overrides: dict[str, Any] | None = None
) -> Campaign:
    """Create a campaign with its 7 categories and their domains from a taxonomy file like the seed's."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    head = data["campaign"]
    if db.session.scalar(select(Campaign).where(Campaign.year == head["year"])) is not None:
        raise Conflict(_("A campaign for %(year)d exists already.", year=head["year"]))
    settings = {**data.get("campaign_settings", {}), **(overrides or {})}
    campaign = Campaign(
        year=head["year"],
        title_zh=head["title_zh"],
        title_en=head["title_en"],
        organizer_zh=head.get("organizer_zh", ""),
        organizer_en=head.get("organizer_en", ""),
        in_operation_before=_as_date(head["in_operation_before"]),
        awards_per_category=head.get("awards_per_category", 10),
    )
    for name in _SETTINGS:
        if name in settings:
            value = settings[name]
            setattr(campaign, name, _as_date(value) if name.endswith(("_opens", "_closes")) else value)
    for position, item in enumerate(data["categories"]):
        category = Category(
            code=item["code"], abbr=item["abbr"], name_zh=item["zh"], name_en=item["en"],
            award_zh=item.get("award_zh", ""), award_en=item.get("award_en", ""), position=position,
        )  # fmt: skip
        category.domains = [
            Domain(name_zh=d["zh"], name_en=d["en"], position=i) for i, d in enumerate(item.get("domains", []))
        ]
        campaign.categories.append(category)
    db.session.add(campaign)
    for item in data.get("organizations", []):
        if db.session.scalar(select(Organization).where(Organization.name_zh == item["zh"])) is None:
            db.session.add(
                Organization(name_zh=item["zh"], name_en=item.get("en", ""), kind=item.get("kind", "district"))
            )
    db.session.flush()
    if make_current:
        set_current_campaign(campaign)
    return campaign


def set_current_campaign(campaign: Campaign) -> Campaign:
    """Exactly one campaign is current: the one new cases go to and the public sees."""
    db.session.execute(update(Campaign).where(Campaign.id != campaign.id).values(is_current=False))
    campaign.is_current = True
    db.session.flush()
    return campaign


def current_campaign() -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.is_current.is_(True)))
    if campaign is None:
        raise NotFound(_("No campaign is open."))
    return campaign


def campaign_of_year(year: int | None) -> Campaign:
    """The campaign named by ``year``, else (no year given) the current one; a year without a campaign is not found."""
    if year is None:
        return current_campaign()
    if not 0 < year <= 9999:  # beyond any campaign's year, and beyond PostgreSQL's integer: not found, not a 500
        raise NotFound(_("No such campaign."))
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == year))
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return campaign


def organizations() -> list[Organization]:
    return list(db.session.scalars(select(Organization).where(Organization.active.is_(True)).order_by(Organization.id)))


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def check_campaign_settings(campaign: Campaign) -> None:
    """Settings staff edit must make sense together: windows in order, weights adding up to 100, …"""
    from campaigns.settings import campaign_errors, settings_of  # settings reads the domains above campaigns

    errors = campaign_errors(settings_of(campaign))
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
