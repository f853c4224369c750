"""A campaign as a file (YAML export and import, with a dry run) and next year's edition as a clone.

The file has the shape of the seed's taxonomy file (``campaign``, ``categories`` with their domains,
``organizations``) plus every setting and the rubric, so the seed file imports too. An import creates the
campaign of the file's year or updates it, through the same operations as the back office and the API
(validation, audit, phase locks); a dry run does all of it in a savepoint, reports, and rolls back.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from accounts.models import User
from accounts.permissions import require_staff
from campaigns import settings
from campaigns.models import Campaign, Category, Organization
from campaigns.operations import set_current_campaign
from pingxuan.errors import DomainError, Invalid
from pingxuan.extensions import db
from reviewers.models import Expert

FORMAT = 1


# Export --------------------------------------------------------------------------------------------------------


def _criteria(campaign: Campaign, category: Category | None) -> list[dict[str, Any]]:
    return [settings.criterion_values(c) for c in settings.own_rubric(campaign, category)]


def export_config(campaign: Campaign) -> dict[str, Any]:
    """The campaign's configuration (settings, taxonomy, rubric, organizations) as plain data."""
    categories = []
    for category in campaign.categories:
        item: dict[str, Any] = {
            "code": category.code, "abbr": category.abbr, "zh": category.name_zh, "en": category.name_en,
            "award_zh": category.award_zh, "award_en": category.award_en,
            "domains": [{"zh": d.name_zh, "en": d.name_en, "description": d.description} for d in category.domains],
        }  # fmt: skip
        own = _criteria(campaign, category)
        if own:
            item["rubric"] = own
        categories.append(item)
    organizations = db.session.scalars(select(Organization).order_by(Organization.id))
    return {
        "format": FORMAT,
        "campaign": settings.settings_of(campaign),
        "rubric": _criteria(campaign, None),
        "categories": categories,
        "dossier_form": settings.dossier_form_data(campaign),
        "organizations": [
            {"zh": o.name_zh, "en": o.name_en, "kind": o.kind, "active": o.active} for o in organizations
        ],
    }


def export_yaml(campaign: Campaign) -> str:
    return yaml.safe_dump(export_config(campaign), allow_unicode=True, sort_keys=False, width=120)


# Import --------------------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import created and changed (one readable line each); the campaign is None after a dry run."""

    dry_run: bool
    year: int | None = None
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    campaign: Campaign | None = None


MAX_FILE_BYTES = 1024 * 1024  # a campaign file is a few kilobytes; the largest real one is far below this


def parse_yaml(text: str | bytes) -> dict[str, Any]:
    """The campaign file's data. Bounded: a file over ``MAX_FILE_BYTES`` and a file with YAML aliases (``*name``,
    what a "billion laughs" bomb of a few hundred bytes expands with) are refused before anything is built."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > MAX_FILE_BYTES:
        raise Invalid(_("The file is too large for a campaign file."),
                      {"file": _("At most %(size)s KB.", size=MAX_FILE_BYTES // 1024)})  # fmt: skip
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise Invalid(_("This is not a campaign file."),
                              {"file": _("YAML aliases (*name) are not accepted in a campaign file.")})  # fmt: skip
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise Invalid(_("This is not a valid YAML file."), {"file": str(error)}) from error
    if not isinstance(data, dict) or not isinstance(data.get("campaign"), dict):
        raise Invalid(_("This is not a campaign file."), {"file": _("The file needs a “campaign” section.")})
    return data


def _settings_from(data: dict[str, Any]) -> dict[str, Any]:
    head = {**data.get("campaign_settings", {}), **data["campaign"]}
    return {name: head[name] for name in settings.CAMPAIGN_FIELDS if name in head}


def _category_values(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": item.get("code"), "abbr": item.get("abbr"), "name_zh": item.get("zh", item.get("name_zh")),
        "name_en": item.get("en", item.get("name_en")), "award_zh": item.get("award_zh", ""),
        "award_en": item.get("award_en", ""),
    }  # fmt: skip


def _prefixed(error: DomainError, prefix: str) -> Invalid:
    fields = {f"{prefix}.{name}": message for name, message in error.field_errors.items()}
    return Invalid(error.message, fields or {prefix: error.message}, reasons=error.reasons)


def import_config(data: dict[str, Any], actor: User, dry_run: bool = False, make_current: bool = False) -> ImportReport:
    """Create or update the campaign of the file's year from its configuration; all or nothing."""
    require_staff(actor)
    report = ImportReport(dry_run=dry_run)
    nested = db.session.begin_nested()
    try:
        campaign = _import(data, actor, report)
        if make_current and not campaign.is_current:
            set_current_campaign(campaign)
            report.changed.append(_("campaign %(year)s becomes the current campaign", year=campaign.year))
    except Exception:
        nested.rollback()
        raise
    if dry_run:
        nested.rollback()
        db.session.expire_all()
    else:
        nested.commit()
        report.campaign = campaign
    return report


def _import(data: dict[str, Any], actor: User, report: ImportReport) -> Campaign:
    values = _settings_from(data)
    try:
        year = int(values.get("year"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid(_("Please correct the marked fields."), {"campaign.year": _("Enter a whole number.")}) from None
    report.year = year
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == year))
    if campaign is None:
        campaign = _new_campaign(values, actor)
        report.created.append(_("campaign %(year)s", year=year))
    else:
        try:
            changed = settings.update_campaign(campaign, values, actor)
        except DomainError as error:
            raise _prefixed(error, "campaign") from error
        report.changed.extend(f"campaign.{name}: {_plain(a)} → {_plain(b)}" for name, (a, b) in changed.items())
    _import_rubric(campaign, None, data.get("rubric"), actor, report)
    for index, item in enumerate(data.get("categories") or []):
        try:
            _import_category(campaign, item, actor, report)
        except DomainError as error:
            raise _prefixed(error, f"categories.{index}") from error
    _import_dossier_form(campaign, data.get("dossier_form"), actor, report)
    for index, item in enumerate(data.get("organizations") or []):
        name = (item or {}).get("zh")
        if name and db.session.scalar(select(Organization).where(Organization.name_zh == name)) is None:
            values = {"name_zh": name, "name_en": item.get("en", ""), "kind": item.get("kind", "district"),
                      "active": item.get("active", True)}  # fmt: skip
            try:  # checked and audited like one made in the back office or by the API
                settings.add_organization(values, actor, campaign)
            except DomainError as error:
                raise _prefixed(error, f"organizations.{index}") from error
            report.created.append(_("organization %(name)s", name=name))
    db.session.flush()
    return campaign


def _plain(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _new_campaign(values: dict[str, Any], actor: User) -> Campaign:
    wanted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    defaults = {
        c.name: c.default.arg
        for c in Campaign.__table__.columns
        if c.default is not None and not callable(c.default.arg)
    }
    for name, kind in settings.CAMPAIGN_FIELDS.items():
        raw = values.get(name, defaults.get(name, "" if kind == settings.TEXT else None))
        value, error = settings._coerce(kind, raw)
        if error:
            errors[f"campaign.{name}"] = error
        wanted[name] = value
    if not errors:
        errors = {f"campaign.{k}": v for k, v in settings.campaign_errors(wanted).items()}
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    campaign = Campaign(**wanted)
    db.session.add(campaign)
    db.session.flush()
    settings.audit(campaign, actor, "campaign", campaign.id, "created", None, {"year": campaign.year})
    return campaign


def _import_category(campaign: Campaign, item: dict[str, Any], actor: User, report: ImportReport) -> None:
    values = _category_values(item)
    category = next((c for c in campaign.categories if c.code == values["code"]), None)
    if category is None:
        category = settings.add_category(campaign, values, actor)
        report.created.append(_("category %(code)s", code=category.code))
    else:
        changed = settings.update_category(category, values, actor)
        report.changed.extend(f"{category.code}.{name}: {a} → {b}" for name, (a, b) in changed.items())
    for domain_item in item.get("domains") or []:
        domain_values = {
            "name_zh": domain_item.get("zh", domain_item.get("name_zh")),
            "name_en": domain_item.get("en", domain_item.get("name_en")),
            "description": domain_item.get("description", ""),
        }
        domain = next((d for d in category.domains if d.name_zh == domain_values["name_zh"]), None)
        if domain is None:
            settings.add_domain(category, domain_values, actor)
            report.created.append(
                _("domain %(category)s / %(name)s", category=category.code, name=domain_values["name_zh"])
            )
        else:
            changed = settings.update_domain(domain, domain_values, actor)
            report.changed.extend(
                f"{category.code}/{domain.name_zh}.{name}: {a} → {b}" for name, (a, b) in changed.items()
            )
    _import_rubric(campaign, category, item.get("rubric"), actor, report)


def _import_rubric(
    campaign: Campaign, category: Category | None, items: list | None, actor: User, report: ImportReport
) -> None:
    if items is None or (category is None and not items):
        return  # no rubric in the file (a campaign without one gets the default when scoring starts)
    before = [settings.criterion_values(c) for c in settings.own_rubric(campaign, category)]
    try:
        after = [settings.criterion_values(c) for c in settings.set_rubric(campaign, items, actor, category)]
    except DomainError as error:
        raise _prefixed(error, "rubric") from error
    if before != after:
        where = category.code if category is not None else _("campaign")
        line = _("rubric of %(where)s: %(count)d criteria", where=where, count=len(after))
        (report.changed if before else report.created).append(line)


def _import_dossier_form(campaign: Campaign, declared: Any, actor: User, report: ImportReport) -> None:
    if declared is None:
        return  # no form in the file: the campaign keeps its own (a new one asks the 2017 form)
    before = settings.dossier_form_data(campaign)
    try:
        after = settings.dossier_form_to_data(settings.set_dossier_form(campaign, declared, actor))
    except DomainError as error:
        raise _prefixed(error, "dossier_form") from error
    if before != after:
        fields = sum(len(section["fields"]) for section in after["sections"])
        report.changed.append(ngettext("dossier form: %(num)d field", "dossier form: %(num)d fields", fields))


# Clone ---------------------------------------------------------------------------------------------------------


def _shift(day: date | None, years: int) -> date | None:
    if day is None:
        return None
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def clone_campaign(
    campaign: Campaign,
    actor: User,
    year: int | None = None,
    dates: dict[str, Any] | None = None,
    make_current: bool = False,
) -> Campaign:
    """Next year's edition: settings with dates moved by the years between (unless given), taxonomy, rubric,
    organizations and the expert pool's expertise; no cases, no ballots, nothing decided."""
    require_staff(actor)
    year = year if year is not None else campaign.year + 1
    data = export_config(campaign)
    head = data["campaign"]
    delta = year - campaign.year
    for name, kind in settings.CAMPAIGN_FIELDS.items():
        if kind in (settings.DAY, settings.OPTIONAL_DAY):
            head[name] = _shift(head[name], delta)
    head["notice_holidays"] = []  # this year's days off are not next year's
    for name in ("title_zh", "title_en"):
        head[name] = head[name].replace(str(campaign.year), str(year))
    for item in data["categories"]:  # "2017智慧城市运行十佳典型案例" is next year's "2018…"
        for name in ("award_zh", "award_en"):
            item[name] = (item.get(name) or "").replace(str(campaign.year), str(year))
    head["year"] = year
    unknown = set(dates or {}) - {
        n for n, k in settings.CAMPAIGN_FIELDS.items() if k in (settings.DAY, settings.OPTIONAL_DAY)
    }
    if unknown:
        raise Invalid(_("Please correct the marked fields."), {f"dates.{n}": _("Unknown field.") for n in unknown})
    head.update(dates or {})
    if db.session.scalar(select(Campaign).where(Campaign.year == year)) is not None:
        raise Invalid(
            _("A campaign for %(year)d exists already.", year=year),
            {"year": _("A campaign for %(year)d exists already.", year=year)},
        )
    clone = import_config(data, actor, make_current=make_current).campaign
    assert clone is not None
    _copy_expert_pool(campaign, clone)
    settings.audit(clone, actor, "campaign", clone.id, "cloned_from", None, campaign.year)
    db.session.flush()
    return clone


def _copy_expert_pool(source: Campaign, clone: Campaign) -> None:
    """Each expert of the source's pool keeps their expertise, now in the clone's categories and domains."""
    categories = {c.code: c for c in clone.categories}
    domains = {(c.code, d.name_zh): d for c in clone.categories for d in c.domains}
    source_ids = {c.id for c in source.categories}
    for expert in db.session.scalars(select(Expert)):
        mine = [c for c in expert.categories if c.id in source_ids]
        for category in mine:
            if categories.get(category.code) and categories[category.code] not in expert.categories:
                expert.categories.append(categories[category.code])
        for domain in [d for d in expert.domains if d.category_id in source_ids]:
            twin = domains.get((domain.category.code, domain.name_zh))
            if twin is not None and twin not in expert.domains:
                expert.domains.append(twin)
