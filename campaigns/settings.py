"""Editing a campaign's set-up: settings, categories, domains and rubric, validated, audited and locked by phase.

Every change goes through here, whether it comes from the back office, the API, a YAML import or a clone: each
changed field is kept as a :class:`SettingChange` with its value before and after. A setting whose change
would alter decisions already taken is refused once its phase has started, with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, func, select

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import VOTE_IDENTITIES, Campaign, Category, Domain, Organization, SettingChange
from cases import dossier
from cases.models import Case
from pingxuan.cache import SHOWCASE, bump
from pingxuan.db import unique_or
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from pingxuan.text import hidden_character_error
from reviewers.models import Assignment, Criterion, Review, Score
from workflow.definition import STEP_BY_NAME, TRANSITION_BY_NAME
from workflow.models import WorkflowEvent

TEXT, DAY, OPTIONAL_DAY, NUMBER, OPTIONAL_NUMBER, FLAG = "text", "date", "date?", "int", "int?", "bool"
DAYS = "dates"  # a list of days, kept as sorted ISO strings; from a list or from text (commas, spaces, lines)
MAX_NOTICE_WORKING_DAYS = 60

# Every setting of a campaign staff may edit, with its kind. vote_status (the vote module opens and closes the
# vote) and is_current (set_current_campaign) are not settings.
CAMPAIGN_FIELDS: dict[str, str] = {
    "year": NUMBER,
    "title_zh": TEXT,
    "title_en": TEXT,
    "organizer_zh": TEXT,
    "organizer_en": TEXT,
    "in_operation_before": DAY,
    "submission_opens": OPTIONAL_DAY,
    "submission_closes": OPTIONAL_DAY,
    "review_opens": OPTIONAL_DAY,
    "review_closes": OPTIONAL_DAY,
    "vote_opens": OPTIONAL_DAY,
    "vote_closes": OPTIONAL_DAY,
    "awards_per_category": NUMBER,
    "shortlist_per_category": OPTIONAL_NUMBER,
    "reviewers_per_case": NUMBER,
    "expert_weight": NUMBER,
    "public_weight": NUMBER,
    "votes_per_category_per_day": NUMBER,
    "vote_identity": TEXT,
    "show_live_counts": FLAG,
    "organization_awards": NUMBER,
    "blind_review": FLAG,
    "notice_working_days": NUMBER,
    "notice_holidays": DAYS,
    "notice_contact": TEXT,
}
WINDOWS = ("submission", "review", "vote")
CATEGORY_FIELDS = {"code": TEXT, "abbr": TEXT, "name_zh": TEXT, "name_en": TEXT, "award_zh": TEXT, "award_en": TEXT}
DOMAIN_FIELDS = {"name_zh": TEXT, "name_en": TEXT, "description": TEXT}
ORGANIZATION_FIELDS = {"name_zh": TEXT, "name_en": TEXT, "kind": TEXT, "active": FLAG}
ORGANIZATION_KINDS = ("district", "department")
CRITERION_FIELDS = ("name_zh", "name_en", "weight", "max_score", "guidance_zh", "guidance_en")

_SUBMITTED_LOCK = ("year", "in_operation_before")  # case numbers and eligibility were decided with them
_AWARDS_LOCK = ("expert_weight", "public_weight", "awards_per_category", "shortlist_per_category")
_CATEGORY_STRUCTURE = ("code", "abbr", "position")  # case numbers and the categories cases are in


# Phases ----------------------------------------------------------------------------------------------------


def submissions_started(campaign: Campaign) -> bool:
    if campaign.id is None:
        return False
    return bool(
        db.session.scalar(select(exists().where(Case.campaign_id == campaign.id, Case.submitted_at.is_not(None))))
    )


def scoring_started(campaign: Campaign) -> bool:
    if campaign.id is None:
        return False
    scored = (
        select(Score.id)
        .join(Review, Score.review_id == Review.id)
        .join(Assignment, Review.assignment_id == Assignment.id)
        .join(Case, Assignment.case_id == Case.id)
        .where(Case.campaign_id == campaign.id)
    )
    return bool(db.session.scalar(select(exists(scored))))


def awards_confirmed(campaign: Campaign) -> bool:
    if campaign.id is None:
        return False
    # proposing (then the public notice) is the award decision; "award" is the one-step decision of older runs
    decided = [TRANSITION_BY_NAME["propose"].name, TRANSITION_BY_NAME["not_award"].name, STEP_BY_NAME["award"].name]
    events = (
        select(WorkflowEvent.id)
        .join(Case, WorkflowEvent.case_id == Case.id)
        .where(Case.campaign_id == campaign.id, WorkflowEvent.transition.in_(decided))
    )
    return bool(db.session.scalar(select(exists(events))))


def locked_settings(campaign: Campaign) -> dict[str, str]:
    """Settings that may not change any more, each with the reason (shown beside the field)."""
    locks: dict[str, str] = {}
    if submissions_started(campaign):
        for name in _SUBMITTED_LOCK:
            locks[name] = _("Locked: cases have been submitted under this setting.")
    if awards_confirmed(campaign):
        for name in _AWARDS_LOCK:
            locks[name] = _("Locked: awards have been confirmed with this setting.")
    return locks


# Values ------------------------------------------------------------------------------------------------------


def _coerce(kind: str, value: Any) -> tuple[Any, str | None]:
    """A submitted value as the column wants it, or an error message."""
    if value in ("", None) and kind in (OPTIONAL_DAY, OPTIONAL_NUMBER):
        return None, None
    try:
        if kind == TEXT:
            text = str(value if value is not None else "").strip()
            return text, None
        if kind in (DAY, OPTIONAL_DAY):
            if value in ("", None):
                return None, _("This field is required.")
            return (value if isinstance(value, date) else date.fromisoformat(str(value))), None
        if kind in (NUMBER, OPTIONAL_NUMBER):
            if value in ("", None) or isinstance(value, bool):
                return None, _("Enter a whole number.")
            return int(value), None
        if kind == DAYS:
            return _days(value)
        if kind == FLAG:
            if isinstance(value, bool):
                return value, None
            text = str(value).strip().lower()
            if text in ("true", "1", "yes", "y", "on"):
                return True, None
            if text in ("false", "0", "no", "n", "off", ""):
                return False, None
            return None, _("Enter true or false.")
    except (TypeError, ValueError):
        pass
    return None, _("Enter a date as YYYY-MM-DD.") if kind in (DAY, OPTIONAL_DAY) else _("Enter a whole number.")


def _days(value: Any) -> tuple[list[str] | None, str | None]:
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value or [])
    days = set()
    for item in items:
        try:
            days.add(item if isinstance(item, date) else date.fromisoformat(str(item).strip()))
        except (TypeError, ValueError):
            return None, _("Enter dates as YYYY-MM-DD: %(value)s is not one.", value=item)
    return [day.isoformat() for day in sorted(days)], None


def campaign_errors(values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with a campaign's settings taken together (field → message)."""
    errors: dict[str, str] = {}
    for name in ("title_zh", "title_en"):
        if not values.get(name):
            errors[name] = _("This field is required.")
    year = values.get("year")
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = _("Enter a year between 2000 and 2100.")
    for window in WINDOWS:
        opens, closes = values.get(f"{window}_opens"), values.get(f"{window}_closes")
        if opens and closes and closes < opens:
            errors[f"{window}_closes"] = _("The window closes before it opens.")
    for earlier, later in zip(WINDOWS, WINDOWS[1:], strict=False):
        for end in ("opens", "closes"):
            first, then = values.get(f"{earlier}_{end}"), values.get(f"{later}_{end}")
            if first and then and then < first and f"{later}_{end}" not in errors:
                errors[f"{later}_{end}"] = _("The windows follow each other: submission, review, then the vote.")
    cutoff, opens = values.get("in_operation_before"), values.get("submission_opens")
    if cutoff and opens and cutoff > opens:
        errors["in_operation_before"] = _("The cut-off date comes before submission opens.")
    for name in ("awards_per_category", "reviewers_per_case", "votes_per_category_per_day"):
        if (values.get(name) or 0) < 1:
            errors[name] = _("At least 1.")
    if "vote_identity" in values and values["vote_identity"] not in VOTE_IDENTITIES:
        errors["vote_identity"] = _("Choose sms, wechat or either.")
    days = values.get("notice_working_days")
    if "notice_working_days" in values and (days is None or not 1 <= days <= MAX_NOTICE_WORKING_DAYS):
        errors["notice_working_days"] = _("Between 1 and %(n)d working days.", n=MAX_NOTICE_WORKING_DAYS)
    if "notice_holidays" in values and _days(values["notice_holidays"])[1]:
        errors["notice_holidays"] = _days(values["notice_holidays"])[1]
    if (values.get("organization_awards") or 0) < 0:
        errors["organization_awards"] = _("Zero or more.")
    shortlist, awards = values.get("shortlist_per_category"), values.get("awards_per_category") or 0
    if shortlist is not None and shortlist < awards:
        errors["shortlist_per_category"] = _("The shortlist holds at least as many cases as are awarded.")
    expert, public = values.get("expert_weight"), values.get("public_weight")
    if expert is None or public is None or not (0 <= expert <= 100 and 0 <= public <= 100) or expert + public != 100:
        errors["public_weight"] = _("The expert and public weights add up to 100.")
    return errors


def settings_of(campaign: Campaign) -> dict[str, Any]:
    return {name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def audit(
    campaign: Campaign, actor: User | None, subject: str, subject_id: int | None, field: str, before, after
) -> None:
    db.session.add(SettingChange(
        campaign=campaign, actor_id=actor.id if actor is not None else None, subject=subject,
        subject_id=subject_id, field=field, before=_shown(before), after=_shown(after),
    ))  # fmt: skip


def _apply(target: Any, fields: dict[str, str], changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The new values (coerced) of the fields that change, and the field errors of the input."""
    wanted, errors = {}, {}
    for name, raw in changes.items():
        if name not in fields:
            errors[name] = _("Unknown field.")
            continue
        value, error = _coerce(fields[name], raw)
        if error:
            errors[name] = error
        elif value != getattr(target, name, None):
            wanted[name] = value
    return wanted, errors


def _refuse(errors: dict[str, str]) -> None:
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)


# Campaign ----------------------------------------------------------------------------------------------------


def update_campaign(campaign: Campaign, changes: dict[str, Any], actor: User) -> dict[str, tuple[Any, Any]]:
    """Change some settings of a campaign; all or nothing. Returns field → (before, after) of what changed."""
    require_staff(actor)
    wanted, errors = _apply(campaign, CAMPAIGN_FIELDS, changes)
    locks = locked_settings(campaign)
    errors.update({name: locks[name] for name in wanted if name in locks})
    _refuse(errors)
    _refuse({k: v for k, v in campaign_errors({**settings_of(campaign), **wanted}).items()})
    if "year" in wanted and db.session.scalar(
        select(exists().where(Campaign.year == wanted["year"], Campaign.id != campaign.id))
    ):
        _refuse({"year": _("A campaign for %(year)d exists already.", year=wanted["year"])})
    changed = {}
    for name, value in wanted.items():
        changed[name] = (getattr(campaign, name), value)
        audit(campaign, actor, "campaign", campaign.id, name, getattr(campaign, name), value)
        setattr(campaign, name, value)
    if changed:
        bump(SHOWCASE)  # the public pages show the vote rules and titles: rebuild them once this commits
    db.session.flush()
    return changed


def setting_changes(campaign: Campaign, limit: int = 500) -> list[SettingChange]:
    query = (
        select(SettingChange)
        .where(SettingChange.campaign_id == campaign.id)
        .order_by(SettingChange.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


# Categories and domains ----------------------------------------------------------------------------------------


def _category_errors(campaign: Campaign, values: dict[str, Any], category: Category | None) -> dict[str, str]:
    errors = {}
    for name in ("code", "abbr", "name_zh", "name_en"):
        if not values.get(name):
            errors[name] = _("This field is required.")
    abbr = values.get("abbr") or ""
    if abbr and not (abbr.isascii() and abbr.isalpha() and abbr.isupper() and len(abbr) <= 4):
        errors["abbr"] = _("One to four capital letters (they go into case numbers).")
    for name in ("code", "abbr"):
        clash = [c for c in campaign.categories if c is not category and getattr(c, name) == values.get(name)]
        if values.get(name) and clash:
            errors[name] = _("Another category of this campaign uses it.")
    return errors


def _structure_lock(campaign: Campaign) -> str | None:
    if submissions_started(campaign):
        return _("Locked: cases have been submitted in these categories.")
    return None


def add_category(campaign: Campaign, values: dict[str, Any], actor: User) -> Category:
    require_staff(actor)
    lock = _structure_lock(campaign)
    if lock:
        raise Conflict(lock)
    category = Category(position=len(campaign.categories), **{name: "" for name in CATEGORY_FIELDS})
    wanted, errors = _apply(category, CATEGORY_FIELDS, values)
    _refuse(errors)
    for name, value in wanted.items():
        setattr(category, name, value)
    _refuse(_category_errors(campaign, wanted, category))
    campaign.categories.append(category)
    db.session.flush()
    audit(campaign, actor, "category", category.id, "created", None, {n: getattr(category, n) for n in CATEGORY_FIELDS})
    db.session.flush()
    return category


def update_category(category: Category, values: dict[str, Any], actor: User) -> dict[str, tuple[Any, Any]]:
    """Rename a category or change its award titles; its code, abbreviation and place lock with the first case."""
    require_staff(actor)
    campaign = category.campaign
    wanted, errors = _apply(category, {**CATEGORY_FIELDS, "position": NUMBER}, values)
    lock = _structure_lock(campaign)
    if lock:
        errors.update({name: lock for name in wanted if name in _CATEGORY_STRUCTURE})
    _refuse(errors)
    merged = {**{n: getattr(category, n) for n in CATEGORY_FIELDS}, **wanted}
    _refuse(_category_errors(campaign, merged, category))
    changed = {}
    for name, value in wanted.items():
        changed[name] = (getattr(category, name), value)
        audit(campaign, actor, "category", category.id, name, getattr(category, name), value)
        setattr(category, name, value)
    if "position" in wanted:
        _reorder(campaign.categories, category, wanted["position"])
    db.session.flush()
    return changed


def _reorder(items: list, moved: Any, position: int) -> None:
    """Put ``moved`` at ``position`` and number every item 0..n-1 again."""
    rest = [item for item in sorted(items, key=lambda i: (i.position, i.id or 0)) if item is not moved]
    rest.insert(max(0, min(position, len(rest))), moved)
    for index, item in enumerate(rest):
        item.position = index


def add_domain(category: Category, values: dict[str, Any], actor: User) -> Domain:
    require_staff(actor)
    domain = Domain(position=len(category.domains), name_zh="", name_en="", description="")
    wanted, errors = _apply(domain, DOMAIN_FIELDS, values)
    _refuse(errors)
    for name, value in wanted.items():
        setattr(domain, name, value)
    _refuse(_domain_errors(category, domain))
    category.domains.append(domain)
    db.session.flush()
    audit(
        category.campaign, actor, "domain", domain.id, "created", None, {n: getattr(domain, n) for n in DOMAIN_FIELDS}
    )
    db.session.flush()
    return domain


def _domain_errors(category: Category, domain: Domain) -> dict[str, str]:
    errors = {name: _("This field is required.") for name in ("name_zh", "name_en") if not getattr(domain, name)}
    if any(d is not domain and d.name_zh == domain.name_zh for d in category.domains):
        errors["name_zh"] = _("Another domain of this category has this name.")
    return errors


def update_domain(domain: Domain, values: dict[str, Any], actor: User) -> dict[str, tuple[Any, Any]]:
    require_staff(actor)
    wanted, errors = _apply(domain, {**DOMAIN_FIELDS, "position": NUMBER}, values)
    _refuse(errors)
    before = {name: getattr(domain, name) for name in wanted}
    for name, value in wanted.items():
        setattr(domain, name, value)
    try:
        _refuse(_domain_errors(domain.category, domain))
    except Invalid:
        for name, value in before.items():
            setattr(domain, name, value)
        raise
    for name, value in wanted.items():
        audit(domain.category.campaign, actor, "domain", domain.id, name, before[name], value)
    if "position" in wanted:
        _reorder(domain.category.domains, domain, wanted["position"])
    db.session.flush()
    return {name: (before[name], wanted[name]) for name in wanted}


# Recommending organizations -------------------------------------------------------------------------------------


def _audited_campaign() -> Campaign | None:
    """Organizations serve every campaign; their changes are kept in the set-up audit of the current campaign
    (the newest when none is current), where organizers read the other set-up changes."""
    return db.session.scalar(select(Campaign).order_by(Campaign.is_current.desc(), Campaign.year.desc()).limit(1))


def _audit_organization(
    actor: User, organization: Organization, field: str, before, after, campaign: Campaign | None = None
) -> None:
    campaign = campaign or _audited_campaign()
    if campaign is not None:
        audit(campaign, actor, "organization", organization.id, field, before, after)


def _organization_errors(organization: Organization) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("name_zh", "name_en"):
        value = getattr(organization, name) or ""
        if message := hidden_character_error(value):
            errors[name] = message
        elif len(value) > 200:
            errors[name] = _("At most %(n)d characters.", n=200)
    if not organization.name_zh:
        errors["name_zh"] = _("This field is required.")
    if organization.kind not in ORGANIZATION_KINDS:
        errors["kind"] = _("Choose district or department.")
    for name in ("name_zh", "name_en"):
        value = getattr(organization, name)
        if name not in errors and value and _organization_named(name, value, organization.id) is not None:
            errors[name] = _("Another recommending organization has this name.")
    return errors


def _organization_named(field: str, value: str, other_than: int | None) -> Organization | None:
    column = getattr(Organization, field)
    query = select(Organization).where(func.lower(column) == value.lower())
    if other_than is not None:
        query = query.where(Organization.id != other_than)
    return db.session.scalar(query.limit(1))


def _name_taken() -> Invalid:
    return Invalid(_("Please correct the marked fields."),
                   {"name_zh": _("Another recommending organization has this name.")})  # fmt: skip


def organization_values(organization: Organization) -> dict[str, Any]:
    return {name: getattr(organization, name) for name in ORGANIZATION_FIELDS}


def add_organization(values: dict[str, Any], actor: User, campaign: Campaign | None = None) -> Organization:
    """A new recommending organization (推荐单位): names unique (the Chinese one is required), kind district or
    department; audited (with ``campaign``'s set-up when given: a campaign file's import). A name used already is
    refused at its field, whichever way it comes."""
    require_staff(actor)
    organization = Organization(name_zh="", name_en="", kind="district", active=True)
    wanted, errors = _apply(organization, ORGANIZATION_FIELDS, values)
    _refuse(errors)
    for name, value in wanted.items():
        setattr(organization, name, value)
    _refuse(_organization_errors(organization))
    with unique_or(_name_taken):  # a parallel request took the name after the check: the same field error
        db.session.add(organization)
    _audit_organization(actor, organization, "created", None, organization_values(organization), campaign)
    db.session.flush()
    return organization


def update_organization(organization: Organization, values: dict[str, Any], actor: User) -> dict[str, tuple]:
    """Rename an organization, change its kind or retire it (``active`` false: cases can no longer name it; the
    cases and awards that do keep it). All or nothing, audited field by field."""
    require_staff(actor)
    wanted, errors = _apply(organization, ORGANIZATION_FIELDS, values)
    _refuse(errors)
    before = {name: getattr(organization, name) for name in wanted}
    for name, value in wanted.items():
        setattr(organization, name, value)
    try:
        with db.session.no_autoflush:  # the check reads the others before the new names are written
            _refuse(_organization_errors(organization))
        with unique_or(_name_taken):
            db.session.flush()
    except Invalid:
        for name, value in before.items():
            setattr(organization, name, value)
        raise
    for name, value in wanted.items():
        _audit_organization(actor, organization, name, before[name], value)
    db.session.flush()
    return {name: (before[name], wanted[name]) for name in wanted}


# Rubric ----------------------------------------------------------------------------------------------------------


@dataclass
class CriterionInput:
    name_zh: str
    name_en: str
    weight: int
    max_score: int
    guidance_zh: str = ""
    guidance_en: str = ""


def own_rubric(campaign: Campaign, category: Category | None = None) -> list[Criterion]:
    """The criteria defined at exactly this level (the campaign's, or one category's own), in order."""
    query = select(Criterion).where(Criterion.campaign_id == campaign.id).order_by(Criterion.position)
    if category is None:
        query = query.where(Criterion.category_id.is_(None))
    else:
        query = query.where(Criterion.category_id == category.id)
    return list(db.session.scalars(query))


def criterion_values(criterion: Criterion) -> dict[str, Any]:
    return {name: getattr(criterion, name) for name in CRITERION_FIELDS}


def _clean_rubric(items: list[dict[str, Any]]) -> tuple[list[CriterionInput], dict[str, str]]:
    cleaned, errors = [], {}
    kinds = {"name_zh": TEXT, "name_en": TEXT, "weight": NUMBER, "max_score": NUMBER, "guidance_zh": TEXT,
             "guidance_en": TEXT}  # fmt: skip
    for index, item in enumerate(items):
        values = {}
        for name, kind in kinds.items():
            raw = item.get(name, "" if kind == TEXT else None)
            value, error = _coerce(kind, raw)
            if error or (name in ("name_zh", "name_en") and not value):
                errors[f"criteria.{index}.{name}"] = error or _("This field is required.")
            values[name] = value
        if values["weight"] is not None and not 0 < values["weight"] <= 100:
            errors[f"criteria.{index}.weight"] = _("A weight between 1 and 100.")
        if values["max_score"] is not None and values["max_score"] <= 0:
            errors[f"criteria.{index}.max_score"] = _("A maximum score above zero.")
        cleaned.append(CriterionInput(**values))
    if cleaned and not errors and sum(c.weight for c in cleaned) != 100:
        errors["criteria"] = _("The weights of the rubric must add up to 100.")
    return cleaned, errors


def set_rubric(
    campaign: Campaign, items: list[dict[str, Any]], actor: User, category: Category | None = None
) -> list[Criterion]:
    """Replace the campaign's rubric (or a category's own; an empty list for a category drops its own rubric).

    Locked once the first score is entered: a new rubric would change the meaning of the scores given.
    """
    require_staff(actor)
    if category is not None and category.campaign_id != campaign.id:
        raise Invalid(_("This category is not in this campaign."), {"category_id": _("Choose a category of it.")})
    if category is None and not items:
        raise Invalid(_("Please correct the marked fields."), {"criteria": _("A rubric needs at least one criterion.")})
    cleaned, errors = _clean_rubric(items)
    _refuse(errors)
    existing = own_rubric(campaign, category)
    before = [criterion_values(c) for c in existing]
    after = [vars(c) for c in cleaned]
    if before == after:
        return existing
    if scoring_started(campaign):
        raise Conflict(
            _("The rubric is locked: experts have started scoring with it."),
            reasons=[_("The rubric is locked: experts have started scoring with it.")],
        )
    for criterion in existing:
        db.session.delete(criterion)
    db.session.flush()
    for position, item in enumerate(cleaned):
        db.session.add(Criterion(
            campaign_id=campaign.id, category_id=category.id if category else None, position=position, **vars(item)
        ))  # fmt: skip
    audit(campaign, actor, "rubric", category.id if category else None, "criteria", before or None, after or None)
    db.session.flush()
    return own_rubric(campaign, category)


# Dossier form ---------------------------------------------------------------------------------------------------


def dossier_form_data(campaign: Campaign) -> dict[str, Any]:
    """The campaign's declared dossier form as data (the 2017 form when it declares none)."""
    return dossier.to_data(dossier.form_of(campaign))


def dossier_submitted(campaign: Campaign) -> bool:
    """Whether a case of the campaign has been submitted: its dossier form then only takes safe changes."""
    return bool(
        db.session.scalar(select(exists().where(Case.campaign_id == campaign.id, Case.submitted_at.is_not(None))))
    )


def dossier_form_to_data(form: dossier.DossierForm) -> dict[str, Any]:
    return dossier.to_data(form)


ROW_TEXTS = ("label_zh", "label_en", "help_zh", "help_en")
ROW_LIMITS = ("max_length", "min", "max")


def dossier_form_from_rows(
    campaign: Campaign, rows: dict[str, dict[str, Any]], added: dict[str, Any] | None = None, move: str = ""
) -> dict[str, Any]:
    """The declaration the per-field editor asks for: each field's row (``rows[key]``: labels and help zh/en,
    required, public, type, limits, remove) applied to the campaign's form, ``move`` ("key:up" or "key:down")
    moving one field within its section, ``added`` (key, type, labels, section) appended to its section; a removed
    field leaves the "one of" rules that name it. Checked
    by ``set_dossier_form`` like any declaration (the rules' fields cannot be removed; the lock after a
    submission)."""
    data = dossier_form_data(campaign)
    for section in data["sections"]:
        kept = []
        for item in section["fields"]:
            row = rows.get(item["key"])
            if row is None:
                kept.append(item)
                continue
            if row.get("remove") and item["key"] not in dossier.CORE:
                continue
            for name in (*ROW_TEXTS, *ROW_LIMITS):  # a text or limit left empty falls back to the default
                if name in row:
                    text = str(row[name] or "").strip()
                    if text:
                        item[name] = text
                    else:
                        item.pop(name, None)
            for name in ("required", "public"):
                if name in row:
                    item[name] = bool(row[name])
            if row.get("type"):
                item["type"] = str(row["type"])
            kept.append(item)
        section["fields"] = kept
    # A removed field leaves its "one of" groups; a group of fewer than two fields is no rule any more.
    left = {item["key"] for section in data["sections"] for item in section["fields"]}
    groups = [{**g, "keys": [k for k in g["keys"] if k in left]} for g in data.get("one_of", [])]
    data["one_of"] = [g for g in groups if len(g["keys"]) >= 2]
    key, _sep, way = move.partition(":")
    for section in data["sections"]:
        keys = [item["key"] for item in section["fields"]]
        if key in keys:
            at = keys.index(key)
            to = at - 1 if way == "up" else at + 1
            if 0 <= to < len(keys):
                section["fields"][at], section["fields"][to] = section["fields"][to], section["fields"][at]
    if added and str(added.get("key") or "").strip():
        fresh = {"key": str(added["key"]).strip(), "type": str(added.get("type") or dossier.TEXT)}
        for name in ("label_zh", "label_en"):
            if str(added.get(name) or "").strip():
                fresh[name] = str(added[name]).strip()
        sections = {s["key"]: s for s in data["sections"]}
        target = sections.get(str(added.get("section") or "")) or data["sections"][-1]
        target["fields"].append(fresh)
    return data


def set_dossier_form(campaign: Campaign, data: Any, actor: User, dry_run: bool = False) -> dossier.DossierForm:
    """Replace the campaign's dossier form, checked whole (every fault named by its place).

    Once the first case is submitted, a change that could invalidate a submitted dossier (a field removed, made
    required, of another type, with a narrower limit) is refused with the reasons; wording, help, order and new
    optional fields stay allowed. Audited with the form before and after."""
    require_staff(actor)
    try:
        form = dossier.parse(data)
    except dossier.DeclarationError as error:
        raise Invalid(_("The dossier form cannot be used as it is."), dict(error.errors),
                      [f"{place}: {message}" for place, message in error.errors.items()]) from error  # fmt: skip
    current = dossier.form_of(campaign)
    before, after = dossier.to_data(current), dossier.to_data(form)
    if before == after:
        return current
    if dossier_submitted(campaign):
        reasons = dossier.invalidating_changes(current, form)
        if reasons:
            message = _("Cases have been submitted with this form: changes that could invalidate them are refused.")
            raise Conflict(message, reasons=[message, *reasons])
    if not dry_run:
        campaign.dossier_form = after
        audit(campaign, actor, "dossier_form", None, "form", before, after)
        db.session.flush()
    return form
