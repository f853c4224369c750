"""The dossier form a campaign declares: sections and fields as data, like the workflow's declaration.

A campaign keeps its form as JSON (``Campaign.dossier_form``; empty means the 2017 form, ``DEFAULT_FORM``). This
module reads a declaration (``parse``), cleans and checks a dossier against it (``clean``, ``missing``), and
describes it as JSON Schema for the API. Nothing else lists the dossier's fields: pages, API, versions, books and
exports iterate ``form_of(campaign).fields``.

The fields the rules use (title, category, domain, recommending organization, the in-operation date the
eligibility guard reads) are ``CORE``: a form labels and orders them but cannot remove them or change their type.
They are stored in their own columns of ``cases``; every other declared field (the 2017 form's included) is stored
in the JSON column ``cases.dossier`` under its key. A file slot's attachments carry its key as their kind. Read a
value with ``value(case, field)``, never by an attribute name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlparse

from flask_babel import gettext as _
from flask_babel import ngettext

from campaigns.models import Campaign
from cases.models import Case
from pingxuan.clock import today
from pingxuan.i18n import is_english
from pingxuan.text import hidden_character_error

TEXT, LONG_TEXT, NUMBER, MONEY, DATE = "text", "long_text", "number", "money", "date"
CHOICE, MULTI_CHOICE, YES_NO, URL, PHONE, EMAIL, PERSON, FILE = (
    "choice", "multi_choice", "yes_no", "url", "phone", "email", "person", "file",
)  # fmt: skip
CATEGORY, DOMAIN, ORGANIZATION = "category", "domain", "organization"  # the references the rules use
TYPES = (TEXT, LONG_TEXT, NUMBER, MONEY, DATE, CHOICE, MULTI_CHOICE, YES_NO, URL, PHONE, EMAIL, PERSON, FILE)
STRING_TYPES = frozenset({TEXT, LONG_TEXT, URL, PHONE, EMAIL})
FILE_KINDS = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
DEFAULT_LENGTH = {TEXT: 200, LONG_TEXT: 20000, URL: 500, PHONE: 30, EMAIL: 254}
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{4,28}[0-9]$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MONEY_LIMIT = Decimal("1e14")  # the 2017 column is NUMERIC(16, 2)

# The 2017 form: today's fields, in today's order, with today's labels, limits and rules.
DEFAULT_FORM: dict[str, Any] = {
    "sections": [
        {
            "key": "case",
            "title_zh": "案例",
            "title_en": "The case",
            "fields": [
                {"key": "title", "type": TEXT, "label_zh": "案例名称", "label_en": "Title", "required": True,
                 "max_length": 200, "public": True},
                {"key": "category_id", "type": CATEGORY, "label_zh": "类别", "label_en": "Category",
                 "required": True, "public": True},
                {"key": "domain_id", "type": DOMAIN, "label_zh": "领域", "label_en": "Domain", "required": True,
                 "public": True},
                {"key": "recommending_org_id", "type": ORGANIZATION, "label_zh": "推荐单位",
                 "label_en": "Recommending organization", "required": True, "public": True},
                {"key": "construction_unit", "type": TEXT, "label_zh": "建设单位", "label_en": "Construction unit",
                 "required": True, "max_length": 200, "public": True, "names_applicant": True},
                {"key": "operating_unit", "type": TEXT, "label_zh": "运营单位", "label_en": "Operating unit",
                 "required": True, "max_length": 200, "public": True, "names_applicant": True},
                {"key": "in_operation_since", "type": DATE, "label_zh": "投入运营时间",
                 "label_en": "In operation since", "required": True, "max_date": "today", "public": True,
                 "help_zh": "YYYY-MM-DD", "help_en": "YYYY-MM-DD"},
                {"key": "investment", "type": MONEY, "label_zh": "投资额（元）", "label_en": "Investment (CNY)",
                 "required": True, "min": "0", "public": False,
                 "help_zh": "单位：元，如1250000.00", "help_en": "In CNY, e.g. 1250000.00"},
            ],
        },
        {
            "key": "content",
            "title_zh": "内容",
            "title_en": "Content",
            "fields": [
                {"key": "summary", "type": LONG_TEXT, "label_zh": "摘要", "label_en": "Summary", "required": True,
                 "max_length": 500, "public": True,
                 "help_zh": "一两句话，不超过500字。", "help_en": "One or two sentences, at most 500 characters."},
                {"key": "description", "type": LONG_TEXT, "label_zh": "描述", "label_en": "Description",
                 "required": True, "max_length": 20000, "public": False},
                {"key": "innovation", "type": LONG_TEXT, "label_zh": "创新点", "label_en": "Innovation",
                 "required": True, "max_length": 5000, "public": True},
                {"key": "effects", "type": LONG_TEXT, "label_zh": "应用成效", "label_en": "Effects",
                 "required": True, "max_length": 5000, "public": True},
                {"key": "beneficiaries", "type": LONG_TEXT, "label_zh": "受益对象", "label_en": "Beneficiaries",
                 "required": True, "max_length": 5000, "public": True},
                {"key": "public_url", "type": URL, "label_zh": "公开访问网址", "label_en": "Public URL",
                 "max_length": 500, "public": True,
                 "help_zh": "请填写公开访问网址或应用名称。", "help_en": "A public URL or an app name is needed."},
                {"key": "app_name", "type": TEXT, "label_zh": "应用名称", "label_en": "App name", "max_length": 200,
                 "public": True},
            ],
        },
        {
            "key": "files",
            "title_zh": "附件",
            "title_en": "Attachments",
            "fields": [
                {"key": "document", "type": FILE, "label_zh": "文档（PDF、JPEG、PNG）",
                 "label_en": "Document (PDF, JPEG, PNG)", "required": True, "kinds": ["pdf", "jpeg", "png"],
                 "max_count": 20, "public": False,
                 "help_zh": "申报表PDF等文档，提交前至少上传一份。",
                 "help_en": "The application form as PDF and other documents; at least one is needed to submit."},
                {"key": "photo", "type": FILE, "label_zh": "照片（JPEG、PNG）", "label_en": "Photo (JPEG, PNG)",
                 "kinds": ["jpeg", "png"], "max_count": 30, "public": True},
            ],
        },
    ],
    # One of each group is enough at submission.
    "one_of": [
        {"keys": ["public_url", "app_name"], "message_zh": "请填写公开访问网址或应用名称。",
         "message_en": "Give a public URL or the name of the app."},
    ],
}  # fmt: skip

TITLE = "title"
CORE = {TITLE: TEXT, "category_id": CATEGORY, "domain_id": DOMAIN, "recommending_org_id": ORGANIZATION,
        "in_operation_since": DATE}  # fmt: skip
# Fields stored in their own column of ``cases``: the core; any other column name is not a field key.
COLUMN_FIELDS = frozenset(key for key in CORE if key in Case.__table__.c)
RESERVED = frozenset(Case.__table__.c.keys()) | {"attachments", "version", "unit", "campaign"}


# The declaration ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    label_zh: str
    label_en: str
    help_zh: str = ""
    help_en: str = ""
    section: str = ""
    required: bool = False
    public: bool = False
    names_applicant: bool = False  # blind books leave it out
    max_length: int | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    unit_zh: str = ""
    unit_en: str = ""
    min_date: str | None = None  # ISO date or "today"
    max_date: str | None = None
    choices: tuple[Choice, ...] = ()
    kinds: tuple[str, ...] = ()  # file slots: pdf, jpeg, png
    max_count: int | None = None
    max_mb: int | None = None
    categories: tuple[str, ...] = ()  # category codes; empty: every category

    @property
    def label(self) -> str:
        return (self.label_en or self.label_zh) if is_english() else self.label_zh

    @property
    def help(self) -> str:
        return (self.help_en or self.help_zh) if is_english() else self.help_zh

    @property
    def unit(self) -> str:
        return (self.unit_en or self.unit_zh) if is_english() else self.unit_zh

    @property
    def core(self) -> bool:
        return self.key in CORE

    @property
    def eligibility_date(self) -> bool:
        """The date the eligibility guard compares with the campaign's cut-off."""
        return self.key == "in_operation_since"

    @property
    def is_file(self) -> bool:
        return self.type == FILE

    @property
    def in_column(self) -> bool:
        return self.key in COLUMN_FIELDS

    @property
    def content_types(self) -> frozenset[str]:
        return frozenset(FILE_KINDS[k] for k in self.kinds)

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return (choice.label_en or choice.label_zh) if is_english() else choice.label_zh
        return value

    def applies_to(self, category_code: str | None) -> bool:
        return not self.categories or category_code in self.categories


@dataclass(frozen=True)
class Section:
    key: str
    title_zh: str
    title_en: str
    fields: tuple[Field, ...]

    @property
    def title(self) -> str:
        return (self.title_en or self.title_zh) if is_english() else self.title_zh


@dataclass(frozen=True)
class OneOf:
    keys: tuple[str, ...]
    message_zh: str
    message_en: str

    @property
    def message(self) -> str:
        return (self.message_en or self.message_zh) if is_english() else self.message_zh


@dataclass(frozen=True)
class DossierForm:
    sections: tuple[Section, ...]
    one_of: tuple[OneOf, ...] = ()
    by_key: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        """Every field, files included, in the form's order."""
        return tuple(f for s in self.sections for f in s.fields)

    @cached_property
    def value_fields(self) -> tuple[Field, ...]:
        """The fields that hold a value (not file slots)."""
        return tuple(f for f in self.fields if not f.is_file)

    @cached_property
    def file_slots(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_file)

    @cached_property
    def public_fields(self) -> tuple[Field, ...]:
        """What the showcase prints below a case's title: the public fields that hold a value, in the form's order
        (the title, and the category, domain and organization it names by themselves, left out)."""
        return tuple(
            f
            for f in self.value_fields
            if f.public and f.key != TITLE and f.type not in (CATEGORY, DOMAIN, ORGANIZATION)
        )

    @cached_property
    def teaser(self) -> Field | None:
        """The field whose text sums a case up on a tile and in a shared link's preview: the first public long
        text (the 2017 form's summary)."""
        return next((f for f in self.public_fields if f.type == LONG_TEXT), None)

    @cached_property
    def searched(self) -> tuple[Field, ...]:
        """The public text fields the showcase's search looks into, besides the title, the unit and the number."""
        return tuple(f for f in self.public_fields if f.type in STRING_TYPES and not f.in_column)

    @cached_property
    def totalled(self) -> Field | None:
        """The amount the organizers' dashboard totals per category: the form's first money field."""
        return next((f for f in self.value_fields if f.type == MONEY), None)

    def get(self, key: str) -> Field | None:
        return self.by_key.get(key)


class DeclarationError(ValueError):
    """A declaration that cannot be a form; ``errors`` names each fault by its place (``sections.0.fields.2``)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        found = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(str(value)) from None
    if not found.is_finite():
        raise ValueError(str(value))
    return found


def _date_bound(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if value == "today":
        return "today"
    return date.fromisoformat(str(value)).isoformat()


_BY_OBJECT: dict[int, tuple[Any, DossierForm]] = {}


def parse(data: dict[str, Any] | None) -> DossierForm:
    """A declaration (JSON data) as a form, checked whole: every fault is reported at once.

    Read once per declaration: a campaign's loaded JSON is the same object on every call (a change assigns a new
    one), so the form is found by the object first, then by its text."""
    data = data if data is not None else DEFAULT_FORM
    known = _BY_OBJECT.get(id(data))
    if known is not None and known[0] is data:
        return known[1]
    form = _parse_cached(json.dumps(data, sort_keys=True, ensure_ascii=False))
    if len(_BY_OBJECT) > 256:
        _BY_OBJECT.clear()
    _BY_OBJECT[id(data)] = (data, form)  # holds the object, so its id is not reused while it is here
    return form


@lru_cache(maxsize=64)
def _parse_cached(text: str) -> DossierForm:
    return _parse(json.loads(text))


def _parse(data: Any) -> DossierForm:
    errors: dict[str, str] = {}
    sections: list[Section] = []
    seen: dict[str, Field] = {}
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list) or not data["sections"]:
        raise DeclarationError({"sections": "A form needs a list of sections."})
    for s_index, raw_section in enumerate(data["sections"]):
        where = f"sections.{s_index}"
        if not isinstance(raw_section, dict) or not isinstance(raw_section.get("fields"), list):
            errors[where] = "A section needs a key, a title and a list of fields."
            continue
        section_key = str(raw_section.get("key") or f"section{s_index + 1}")
        built: list[Field] = []
        for f_index, raw in enumerate(raw_section["fields"]):
            place = f"{where}.fields.{f_index}"
            try:
                item = _field(raw, section_key)
            except (KeyError, TypeError, ValueError) as error:
                errors[place] = f"Not a field: {error}"
                continue
            if item.key in seen:
                errors[place] = f"The key {item.key} is used twice."
                continue
            seen[item.key] = item
            built.append(item)
        sections.append(
            Section(
                section_key, str(raw_section.get("title_zh", "")), str(raw_section.get("title_en", "")), tuple(built)
            )
        )
    for key, kind in CORE.items():
        if key not in seen:
            errors[key] = f"The field {key} is used by the rules and cannot be removed."
        elif seen[key].type != kind:
            errors[key] = f"The field {key} is used by the rules and stays of type {kind}."
    groups: list[OneOf] = []
    for g_index, raw in enumerate(data.get("one_of") or []):
        keys = tuple(str(k) for k in (raw or {}).get("keys", []))
        if len(keys) < 2 or any(k not in seen or seen[k].is_file for k in keys):
            errors[f"one_of.{g_index}"] = "A group names at least two declared fields that hold a value."
            continue
        groups.append(OneOf(keys, str(raw.get("message_zh", "")), str(raw.get("message_en", ""))))
    if errors:
        raise DeclarationError(errors)
    return DossierForm(tuple(sections), tuple(groups), dict(seen))


def _field(raw: dict[str, Any], section: str) -> Field:
    key, kind = str(raw["key"]), str(raw["type"])
    if not KEY.match(key):
        raise ValueError(f"the key {key!r} must be lower-case letters, digits and _, starting with a letter")
    if key in CORE:
        if kind != CORE[key]:
            raise ValueError(f"{key} stays of type {CORE[key]}")
    elif key in RESERVED:
        raise ValueError(f"the key {key} is reserved")
    elif kind not in TYPES:
        raise ValueError(f"unknown type {kind!r}")
    if kind == FILE and len(key) > 20:
        raise ValueError("a file slot's key has at most 20 characters")
    if not str(raw.get("label_zh") or raw.get("label_en") or ""):
        raise ValueError("a label is needed")
    max_length = raw.get("max_length")
    if kind in STRING_TYPES:
        max_length = int(max_length) if max_length not in (None, "") else DEFAULT_LENGTH[kind]
        if key in COLUMN_FIELDS:  # the title's column holds 200 characters
            max_length = min(max_length, 200)
        if max_length < 1:
            raise ValueError("max_length must be positive")
    else:
        max_length = None
    choices = tuple(
        Choice(str(c["value"]), str(c.get("label_zh", c["value"])), str(c.get("label_en", "")))
        for c in raw.get("choices") or []
    )
    if kind in (CHOICE, MULTI_CHOICE) and not choices:
        raise ValueError("a choice needs its choices")
    if len({c.value for c in choices}) != len(choices):
        raise ValueError("a choice is listed twice")
    kinds = tuple(str(k) for k in raw.get("kinds") or ())
    if kind == FILE:
        kinds = kinds or ("pdf",)
        if any(k not in FILE_KINDS for k in kinds):
            raise ValueError(f"file kinds are among {', '.join(FILE_KINDS)}")
    low, high = _decimal(raw.get("min")), _decimal(raw.get("max"))
    if low is not None and high is not None and low > high:
        raise ValueError("min is above max")
    return Field(
        key=key, type=kind, label_zh=str(raw.get("label_zh", "")), label_en=str(raw.get("label_en", "")),
        help_zh=str(raw.get("help_zh", "")), help_en=str(raw.get("help_en", "")), section=section,
        required=bool(raw.get("required", False)), public=bool(raw.get("public", False)),
        names_applicant=bool(raw.get("names_applicant", False)), max_length=max_length, min=low, max=high,
        unit_zh=str(raw.get("unit_zh", "")), unit_en=str(raw.get("unit_en", "")),
        min_date=_date_bound(raw.get("min_date")), max_date=_date_bound(raw.get("max_date")), choices=choices,
        kinds=kinds, max_count=int(raw["max_count"]) if raw.get("max_count") not in (None, "") else None,
        max_mb=int(raw["max_mb"]) if raw.get("max_mb") not in (None, "") else None,
        categories=tuple(str(c) for c in raw.get("categories") or ()),
    )  # fmt: skip


def form_of(campaign: Campaign | None) -> DossierForm:
    """The campaign's declared form (the 2017 form when it declares none)."""
    return parse(campaign.dossier_form if campaign is not None else None)


def default_form() -> DossierForm:
    return parse(None)


# Values ---------------------------------------------------------------------------------------------------------


def value(case: Case, item: Field) -> Any:
    """The stored value of a field: a str ("" when empty), Decimal, date, bool, list of str, a person's dict, or
    None."""
    if item.in_column:
        return getattr(case, item.key)
    raw = (case.dossier or {}).get(item.key)
    if raw is None:
        return "" if item.type in STRING_TYPES else None
    if item.type in (NUMBER, MONEY):
        return Decimal(str(raw))
    if item.type == DATE:
        return date.fromisoformat(raw)
    return raw


def store(case: Case, item: Field, cleaned: Any) -> None:
    if item.in_column:
        setattr(case, item.key, cleaned)
        return
    dossier = dict(case.dossier or {})
    if cleaned is None or cleaned == "" or cleaned == [] or cleaned == {}:
        dossier.pop(item.key, None)
    else:
        dossier[item.key] = as_json(cleaned)
    case.dossier = dossier  # a new dict, so the JSON column is seen as changed


def values(case: Case, fields: tuple[Field, ...] | None = None) -> dict[str, Any]:
    """A case's values by field key (all of its form's value fields, or these)."""
    return {item.key: value(case, item) for item in (form_of(case.campaign).value_fields if fields is None else fields)}


def public_values(case: Case) -> list[tuple[Field, str]]:
    """The public fields a case fills and their text as people read it, in the form's order: all the public sees
    of the dossier besides the title, category, domain and public files."""
    found = []
    for item in form_of(case.campaign).public_fields:
        text = shown(item, value(case, item))
        if text:
            found.append((item, text))
    return found


def teaser(case: Case) -> str:
    """The text that sums the case up for the public ("" when the form has none or it is empty)."""
    item = form_of(case.campaign).teaser
    return shown(item, value(case, item)) if item is not None else ""


def as_json(found: Any) -> Any:
    """A value as JSON: ISO dates, decimal strings (exact), the rest as is."""
    if isinstance(found, date):
        return found.isoformat()
    if isinstance(found, Decimal):
        return str(found)
    return found


def is_empty(found: Any) -> bool:
    if found is None:
        return True
    if isinstance(found, str):
        return not found.strip()
    if isinstance(found, (list, tuple)):
        return not found
    if isinstance(found, dict):
        return not any(str(v or "").strip() for v in found.values())
    return False


def shown(item: Field, found: Any) -> str:
    """A value as people read it (references are named by the caller, which knows the database)."""
    if is_empty(found):
        return ""
    if item.type == MONEY:
        return f"{Decimal(str(found)):,.2f}"
    if item.type == NUMBER:
        text = f"{Decimal(str(found)):f}"
        return f"{text} {item.unit}".strip()
    if item.type == DATE:
        return found.isoformat() if isinstance(found, date) else str(found)
    if item.type == YES_NO:
        return _("Yes") if found else _("No")
    if item.type == CHOICE:
        return item.choice_label(str(found))
    if item.type == MULTI_CHOICE:
        return "、".join(item.choice_label(str(v)) for v in found)
    if item.type == PERSON:
        return " · ".join(str(found.get(part) or "") for part in ("name", "phone", "email") if found.get(part))
    return str(found)


def _bound(text: str | None) -> date | None:
    if text is None:
        return None
    return today() if text == "today" else date.fromisoformat(text)


def clean(item: Field, raw: Any) -> tuple[Any, str | None]:
    """A submitted value as stored, or the reason it is refused. Empty is allowed here (drafts may be
    incomplete); ``missing`` says what submission needs."""
    kind = item.type
    if kind in STRING_TYPES:
        if raw is not None and not isinstance(raw, str):
            return None, _("Enter text.")
        text = (raw or "").strip()
        if message := hidden_character_error(text, multiline=kind == LONG_TEXT):
            return text, message
        if item.max_length is not None and len(text) > item.max_length:
            return text, _("At most %(n)d characters.", n=item.max_length)
        if text and kind == URL:
            if urlparse(text).scheme not in ("http", "https"):
                return text, _("Enter a web address starting with http:// or https://.")
            if not urlparse(text).netloc:
                return text, _("Enter a complete web address.")
        if text and kind == PHONE and not PHONE_RE.match(text):
            return text, _("Enter a phone number.")
        if text and kind == EMAIL and not EMAIL_RE.match(text):
            return text, _("Enter an e-mail address.")
        return text, None
    if kind == DATE:
        found = raw
        if isinstance(found, str):
            try:
                found = date.fromisoformat(found.strip()) if found.strip() else None
            except ValueError:
                return None, _("Enter a date as YYYY-MM-DD.")
        if found is not None and not isinstance(found, date):
            return None, _("Enter a date as YYYY-MM-DD.")
        if found is not None:
            latest, earliest = _bound(item.max_date), _bound(item.min_date)
            if latest is not None and found > latest:
                if item.max_date == "today":
                    return found, _("The date lies in the future.")
                return found, _("The date is after %(date)s.", date=latest.isoformat())
            if earliest is not None and found < earliest:
                return found, _("The date is before %(date)s.", date=earliest.isoformat())
        return found, None
    if kind in (NUMBER, MONEY):
        if isinstance(raw, str):
            raw = raw.strip().replace(",", "")
        if isinstance(raw, bool):
            return None, _("Enter a number.")
        try:
            found = None if raw in (None, "") else Decimal(str(raw))
        except InvalidOperation:
            found = Decimal("NaN")
        if found is None:
            return None, None
        money = kind == MONEY
        if not found.is_finite() or (money and (found < 0 or found >= MONEY_LIMIT)):
            return None, _("Enter an amount in CNY of zero or more.") if money else _("Enter a number.")
        if money:
            found = found.quantize(Decimal("0.01"))
        if item.min is not None and found < item.min:
            return found, _("At least %(n)s.", n=f"{item.min:f}")
        if item.max is not None and found > item.max:
            return found, _("At most %(n)s.", n=f"{item.max:f}")
        return found, None
    if kind == CHOICE:
        text = "" if raw is None else str(raw).strip()
        if text and text not in {c.value for c in item.choices}:
            return None, _("Choose one of the listed answers.")
        return text or None, None
    if kind == MULTI_CHOICE:
        values = [] if raw in (None, "") else raw
        if isinstance(values, str) or not isinstance(values, list):
            return None, _("Choose among the listed answers.")
        allowed = [c.value for c in item.choices]
        if any(str(v) not in allowed for v in values):
            return None, _("Choose among the listed answers.")
        chosen = {str(v) for v in values}
        return [v for v in allowed if v in chosen], None
    if kind == YES_NO:
        if raw in (None, ""):
            return None, None
        if isinstance(raw, bool):
            return raw, None
        text = str(raw).strip().lower()
        if text in ("yes", "true", "1", "y", "是"):
            return True, None
        if text in ("no", "false", "0", "n", "否"):
            return False, None
        return None, _("Answer yes or no.")
    if kind == PERSON:
        if raw in (None, ""):
            return None, None
        if not isinstance(raw, dict) or set(raw) - {"name", "phone", "email"}:
            return None, _("Give a name, a phone number and an e-mail address.")
        person = {part: str(raw.get(part) or "").strip() for part in ("name", "phone", "email")}
        if len(person["name"]) > 100 or hidden_character_error(person["name"], multiline=False):
            return person, _("Enter a name of at most 100 characters.")
        if person["phone"] and not PHONE_RE.match(person["phone"]):
            return person, _("Enter a phone number.")
        if person["email"] and not EMAIL_RE.match(person["email"]):
            return person, _("Enter an e-mail address.")
        return (person if any(person.values()) else None), None
    return raw, None  # references: cases.operations checks them against the campaign


def missing(form: DossierForm, case: Case, category_code: str | None) -> dict[str, str]:
    """What submission needs and the dossier lacks, per field, every one named; and each value checked again."""
    errors: dict[str, str] = {}
    for item in form.fields:
        if not item.applies_to(category_code):
            continue
        if item.is_file:
            count = sum(1 for a in case.attachments if a.kind == item.key)
            if item.required and count == 0:
                errors[item.key] = _("%(field)s: attach at least one file.", field=item.label)
            elif item.max_count is not None and count > item.max_count:
                errors[item.key] = ngettext(
                    "%(field)s: at most %(num)d file.",
                    "%(field)s: at most %(num)d files.",
                    item.max_count,
                    field=item.label,
                )
            continue
        found = value(case, item)
        if item.required and is_empty(found):
            errors[item.key] = _("%(field)s is required.", field=item.label)
            continue
        if item.type not in (CATEGORY, DOMAIN, ORGANIZATION) and not is_empty(found):
            _cleaned, message = clean(item, as_json(found) if item.type not in (DATE,) else found)
            if message:
                errors[item.key] = message
    for group in form.one_of:
        if all(is_empty(value(case, form.by_key[k])) for k in group.keys) and group.keys[0] not in errors:
            errors[group.keys[0]] = group.message
    return errors


# JSON Schema --------------------------------------------------------------------------------------------------


def json_schema(form: DossierForm, title: str = "") -> dict[str, Any]:
    """The form as JSON Schema (2020-12) of a dossier: ``required`` lists what submission needs (a draft may lack
    it); file slots are uploaded to the case's attachments with their key as ``kind``."""
    properties: dict[str, Any] = {}
    for item in form.fields:
        prop: dict[str, Any] = {"title": item.label}
        if item.help:
            prop["description"] = item.help
        prop |= _type_schema(item)
        prop["x-section"] = item.section
        prop["x-type"] = item.type
        prop["x-public"] = item.public
        if item.categories:
            prop["x-categories"] = list(item.categories)
        properties[item.key] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "required": [f.key for f in form.fields if f.required and not f.categories],
        "additionalProperties": False,
        "x-sections": [{"key": s.key, "title": s.title, "fields": [f.key for f in s.fields]} for s in form.sections],
        "x-one-of": [{"keys": list(g.keys), "message": g.message} for g in form.one_of],
    }


def _type_schema(item: Field) -> dict[str, Any]:
    kind = item.type
    if kind in STRING_TYPES:
        schema: dict[str, Any] = {"type": ["string", "null"], "maxLength": item.max_length}
        if kind == URL:
            schema["format"] = "uri"
        elif kind == EMAIL:
            schema["format"] = "email"
        elif kind == PHONE:
            schema["pattern"] = PHONE_RE.pattern
        return schema
    if kind in (NUMBER, MONEY):
        schema = {"type": ["string", "number", "null"], "format": "decimal"}
        low = item.min if item.min is not None else (Decimal(0) if kind == MONEY else None)
        if low is not None:
            schema["minimum"] = float(low)
        if item.max is not None:
            schema["maximum"] = float(item.max)
        if kind == MONEY:
            schema["x-unit"] = "CNY"
        elif item.unit:
            schema["x-unit"] = item.unit
        return schema
    if kind == DATE:
        schema = {"type": ["string", "null"], "format": "date"}
        if item.min_date:
            schema["x-min-date"] = item.min_date
        if item.max_date:
            schema["x-max-date"] = item.max_date
        return schema
    if kind == CHOICE:
        return {"type": ["string", "null"], "enum": [c.value for c in item.choices] + [None],
                "x-labels": {c.value: item.choice_label(c.value) for c in item.choices}}  # fmt: skip
    if kind == MULTI_CHOICE:
        return {"type": "array", "items": {"enum": [c.value for c in item.choices]}, "uniqueItems": True,
                "x-labels": {c.value: item.choice_label(c.value) for c in item.choices}}  # fmt: skip
    if kind == YES_NO:
        return {"type": ["boolean", "null"]}
    if kind == PERSON:
        return {
            "type": ["object", "null"],
            "properties": {"name": {"type": "string", "maxLength": 100}, "phone": {"type": "string"},
                           "email": {"type": "string", "format": "email"}},
            "additionalProperties": False,
        }  # fmt: skip
    if kind == FILE:
        schema = {"type": "array", "readOnly": True, "items": {"type": "object"},
                  "x-kinds": [FILE_KINDS[k] for k in item.kinds]}  # fmt: skip
        if item.max_count is not None:
            schema["maxItems"] = item.max_count
        if item.max_mb is not None:
            schema["x-max-mb"] = item.max_mb
        return schema
    return {"type": ["integer", "null"], "x-reference": kind}  # category, domain, organization: an id


# Changing a form once dossiers were submitted -----------------------------------------------------------------


def _narrower(old: Field, new: Field) -> str | None:
    """Why ``new`` would refuse a value ``old`` accepted, or None."""
    if new.type != old.type:
        return _("the type of “%(field)s” would change", field=old.label)
    if new.required and not old.required:
        return _("“%(field)s” would become required", field=old.label)
    if old.max_length is not None and (new.max_length or 0) < old.max_length:
        return _("“%(field)s” would accept fewer characters", field=old.label)
    if (new.min is not None and (old.min is None or new.min > old.min)) or (
        new.max is not None and (old.max is None or new.max < old.max)
    ):
        return _("the range of “%(field)s” would narrow", field=old.label)
    if (new.min_date and new.min_date != old.min_date) or (new.max_date and new.max_date != old.max_date):
        return _("the dates “%(field)s” accepts would change", field=old.label)
    if {c.value for c in old.choices} - {c.value for c in new.choices}:
        return _("an answer of “%(field)s” would be removed", field=old.label)
    if set(old.kinds) - set(new.kinds) or (new.max_count or 10**9) < (old.max_count or 10**9):
        return _("“%(field)s” would accept fewer files", field=old.label)
    if (new.max_mb or 10**9) < (old.max_mb or 10**9):
        return _("“%(field)s” would accept smaller files", field=old.label)
    if (
        new.categories
        and set(old.categories or ()) != set(new.categories)
        and not set(new.categories) >= set(old.categories or ())
    ):
        return _("“%(field)s” would apply to fewer categories", field=old.label)
    return None


def invalidating_changes(old: DossierForm, new: DossierForm) -> list[str]:
    """What in ``new`` could invalidate a dossier submitted under ``old``: a field removed, made required, of
    another type or with a narrower limit, a new required field, a new "one of" rule. Wording, help, order and new
    optional fields are not among them."""
    reasons: list[str] = []
    for item in old.fields:
        other = new.get(item.key)
        if other is None:
            reasons.append(_("“%(field)s” would be removed", field=item.label))
        elif (why := _narrower(item, other)) is not None:
            reasons.append(why)
    for item in new.fields:
        if item.key not in old.by_key and item.required:
            reasons.append(_("the new field “%(field)s” would be required", field=item.label))
    known = {frozenset(g.keys) for g in old.one_of}
    for group in new.one_of:
        if frozenset(group.keys) not in known:
            reasons.append(_("a new rule would ask for one of %(fields)s", fields="、".join(group.keys)))
    return reasons


def to_data(form: DossierForm) -> dict[str, Any]:
    """A form as declaration data again (what parse reads), for the campaign file and the editor."""
    sections = []
    for section in form.sections:
        fields = []
        for item in section.fields:
            data: dict[str, Any] = {"key": item.key, "type": item.type, "label_zh": item.label_zh,
                                    "label_en": item.label_en}  # fmt: skip
            for name in ("help_zh", "help_en", "unit_zh", "unit_en", "min_date", "max_date"):
                if getattr(item, name):
                    data[name] = getattr(item, name)
            for name in ("required", "public", "names_applicant"):
                if getattr(item, name):
                    data[name] = True
            for name in ("max_length", "max_count", "max_mb"):
                if getattr(item, name) is not None:
                    data[name] = getattr(item, name)
            for name in ("min", "max"):
                if getattr(item, name) is not None:
                    data[name] = str(getattr(item, name))
            if item.choices:
                data["choices"] = [{"value": c.value, "label_zh": c.label_zh, "label_en": c.label_en}
                                   for c in item.choices]  # fmt: skip
            if item.kinds:
                data["kinds"] = list(item.kinds)
            if item.categories:
                data["categories"] = list(item.categories)
            fields.append(data)
        sections.append({"key": section.key, "title_zh": section.title_zh, "title_en": section.title_en,
                         "fields": fields})  # fmt: skip
    groups = [{"keys": list(g.keys), "message_zh": g.message_zh, "message_en": g.message_en} for g in form.one_of]
    return {"sections": sections, "one_of": groups}
