"""Benchmark: the dossier page and the check of a submission, from the declared 2017 form against the fixed form
it replaced (issue 23), measured in one run.

The fixed form (its WTForms class, its page template and its checks, as they were before the declaration) is
kept here only, as the baseline. Both render the whole edit page of the same case in the same request, and both
check the same submitted dossier: the form's data, every value cleaned, then what submission needs. Goal: the
declared form costs at most 1.1× the fixed one. Its own SQLite database in a temporary folder.
Run: ./dev.sh bench (or .venv/bin/python bench/dossier_form.py).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROUNDS = 40
OLD_TEMPLATE = (ROOT / "bench" / "dossier_form_fixed.html").read_text()  # cases/edit.html before issue 23


def old_form_class():
    """The fixed dossier form as it was (forms/cases.py before issue 23)."""
    from flask_babel import lazy_gettext as _l
    from flask_wtf import FlaskForm
    from wtforms import HiddenField, SelectField, StringField, TextAreaField
    from wtforms.fields import SelectChoice

    from forms import int_or_none
    from pingxuan.i18n import pick

    labels = OLD_LABELS

    class OldCaseForm(FlaskForm):
        version = HiddenField()
        title = StringField(labels["title"])
        category_id = SelectField(labels["category_id"], validate_choice=False)
        domain_id = SelectField(labels["domain_id"], validate_choice=False)
        recommending_org_id = SelectField(labels["recommending_org_id"], validate_choice=False)
        construction_unit = StringField(labels["construction_unit"])
        operating_unit = StringField(labels["operating_unit"])
        in_operation_since = StringField(labels["in_operation_since"], description=_l("YYYY-MM-DD"))
        investment = StringField(labels["investment"], description=_l("In CNY, e.g. 1250000.00"))
        summary = TextAreaField(labels["summary"], description=_l("One or two sentences, at most 500 characters."))
        description = TextAreaField(labels["description"])
        innovation = TextAreaField(labels["innovation"])
        effects = TextAreaField(labels["effects"])
        beneficiaries = TextAreaField(labels["beneficiaries"])
        public_url = StringField(labels["public_url"], description=_l("A public URL or an app name is needed."))
        app_name = StringField(labels["app_name"])

        def set_choices(self, campaign, organizations) -> None:
            none = SelectChoice("", _l("Choose…"))
            self.category_id.choices = [none] + [SelectChoice(str(c.id), pick(c, "name")) for c in campaign.categories]
            self.domain_id.choices = [none] + [
                SelectChoice(str(d.id), pick(d, "name"), {"data-category": str(c.id)})
                for c in campaign.categories
                for d in c.domains
            ]
            self.recommending_org_id.choices = [none] + [
                SelectChoice(str(o.id), pick(o, "name")) for o in organizations
            ]

        def fill_from(self, case) -> None:
            for name in OLD_TEXT_FIELDS:
                getattr(self, name).data = getattr(case, name) or ""
            for name in ("category_id", "domain_id", "recommending_org_id"):
                value = getattr(case, name)
                getattr(self, name).data = str(value) if value else ""
            self.in_operation_since.data = case.in_operation_since.isoformat() if case.in_operation_since else ""
            self.investment.data = f"{case.investment:f}" if case.investment is not None else ""
            self.version.data = str(case.version)

        def dossier(self) -> dict[str, Any]:
            data: dict[str, Any] = {name: getattr(self, name).data or "" for name in OLD_TEXT_FIELDS}
            for name in ("category_id", "domain_id", "recommending_org_id"):
                data[name] = int_or_none(getattr(self, name).data)
            data["in_operation_since"] = (self.in_operation_since.data or "").strip()
            data["investment"] = (self.investment.data or "").strip().replace(",", "")
            return data

    return OldCaseForm


OLD_TEXT_FIELDS = {
    "title": 200, "construction_unit": 200, "operating_unit": 200, "summary": 500, "description": 20000,
    "innovation": 5000, "effects": 5000, "beneficiaries": 5000, "public_url": 500, "app_name": 200,
}  # fmt: skip
OLD_SINGLE_LINE = frozenset({"title", "construction_unit", "operating_unit", "public_url", "app_name"})
OLD_EDITABLE = (*OLD_TEXT_FIELDS, "category_id", "domain_id", "recommending_org_id", "in_operation_since", "investment")
OLD_REQUIRED = (
    "title", "category_id", "domain_id", "recommending_org_id", "construction_unit", "operating_unit",
    "in_operation_since", "investment", "summary", "description", "innovation", "effects", "beneficiaries",
)  # fmt: skip


def _old_labels():
    from flask_babel import lazy_gettext as _l

    return {
        "title": _l("Title"), "category_id": _l("Category"), "domain_id": _l("Domain"),
        "recommending_org_id": _l("Recommending organization"), "construction_unit": _l("Construction unit"),
        "operating_unit": _l("Operating unit"), "in_operation_since": _l("In operation since"),
        "investment": _l("Investment (CNY)"), "summary": _l("Summary"), "description": _l("Description"),
        "innovation": _l("Innovation"), "effects": _l("Effects"), "beneficiaries": _l("Beneficiaries"),
        "public_url": _l("Public URL"), "app_name": _l("App name"), "attachments": _l("Attachments"),
    }  # fmt: skip


OLD_LABELS: dict[str, Any] = {}


def old_clean(case, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """cases.operations._clean as it was."""
    from flask_babel import gettext as _

    from campaigns.models import Category, Domain, Organization
    from pingxuan.clock import today
    from pingxuan.extensions import db
    from pingxuan.text import hidden_character_error

    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, limit in OLD_TEXT_FIELDS.items():
        if name not in data:
            continue
        text = (data[name] or "").strip()
        if message := hidden_character_error(text, multiline=name not in OLD_SINGLE_LINE):
            errors[name] = message
        elif len(text) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
        elif name == "public_url" and text and urlparse(text).scheme not in ("http", "https"):
            errors[name] = _("Enter a web address starting with http:// or https://.")
        elif name == "public_url" and text and not urlparse(text).netloc:
            errors[name] = _("Enter a complete web address.")
        values[name] = text
    if "in_operation_since" in data:
        value = data["in_operation_since"]
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value) if value.strip() else None
            except ValueError:
                errors["in_operation_since"] = _("Enter a date as YYYY-MM-DD.")
        if isinstance(value, date) and value > today():
            errors["in_operation_since"] = _("The date lies in the future.")
        values["in_operation_since"] = value
    if "investment" in data:
        value = data["investment"]
        try:
            value = None if value in (None, "") else Decimal(str(value))
            if value is not None and (not value.is_finite() or value < 0 or value >= Decimal("1e14")):
                errors["investment"] = _("Enter an amount in CNY of zero or more.")
        except InvalidOperation:
            errors["investment"] = _("Enter an amount in CNY of zero or more.")
        values["investment"] = value
    campaign_id = case.campaign_id
    category_id = data.get("category_id", case.category_id)
    if "category_id" in data:
        category = db.session.get(Category, category_id) if category_id else None
        if category_id and (category is None or category.campaign_id != campaign_id):
            errors["category_id"] = _("Choose a category of this campaign.")
        values["category_id"] = category_id or None
    if "domain_id" in data or ("category_id" in data and case.domain_id):
        domain_id = data.get("domain_id", case.domain_id)
        domain = db.session.get(Domain, domain_id) if domain_id else None
        if domain_id and (domain is None or domain.category_id != category_id):
            errors["domain_id"] = _("Choose a domain of the chosen category.")
        values["domain_id"] = domain_id or None
    if "recommending_org_id" in data:
        org_id = data["recommending_org_id"]
        if org_id and db.session.get(Organization, org_id) is None:
            errors["recommending_org_id"] = _("Choose a recommending organization from the list.")
        values["recommending_org_id"] = org_id or None
    return values, errors


def old_dossier_errors(case) -> dict[str, str]:
    """cases.operations.dossier_errors as it was."""
    from flask_babel import gettext as _

    errors: dict[str, str] = {}
    for name in OLD_REQUIRED:
        value = getattr(case, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = _("%(field)s is required.", field=OLD_LABELS[name])
    if not case.public_url and not case.app_name:
        errors["public_url"] = _("Give a public URL or the name of the app.")
    _values, invalid = old_clean(case, {name: getattr(case, name) for name in OLD_EDITABLE if name != "category_id"})
    for name, message in invalid.items():
        errors.setdefault(name, message)
    if not any(a.kind == "document" for a in case.attachments):
        errors["attachments"] = _("Attach at least one document (PDF).")
    return errors


def fixed_case_row(db, case, values: dict[str, Any]):
    """The case as the fixed form's columns held it: a row of a bench-only table ``bench_fixed_cases`` (the 2017
    columns of ``cases``), mapped by the ORM as ``Case`` was, loaded in the session like the case is."""
    from sqlalchemy import Column, Date, Integer, MetaData, Numeric, String, Table, Text
    from sqlalchemy.orm import registry

    texts = [Column(name, String(limit) if name in OLD_SINGLE_LINE else Text, default="")
             for name, limit in OLD_TEXT_FIELDS.items()]  # fmt: skip
    table = Table(
        "bench_fixed_cases", MetaData(), Column("id", Integer, primary_key=True), Column("state", String(30)),
        Column("version", Integer), Column("campaign_id", Integer), Column("category_id", Integer),
        Column("domain_id", Integer), Column("recommending_org_id", Integer), Column("in_operation_since", Date),
        Column("investment", Numeric(16, 2)), *texts,
    )  # fmt: skip

    class FixedCase:
        pass

    registry().map_imperatively(FixedCase, table)
    table.create(db.session.connection())
    row = FixedCase()
    for name in ("id", "state", "version", "campaign_id", "category_id", "domain_id", "recommending_org_id",
                 "in_operation_since"):  # fmt: skip
        setattr(row, name, getattr(case, name))
    for name in (*OLD_TEXT_FIELDS, "investment"):
        setattr(row, name, values[name])
    db.session.add(row)
    db.session.flush()
    row.attachments = list(case.attachments)  # the relationship's list, as the fixed form read it
    return row


def per_call(fn, repeat: int) -> float:
    """The time per call over ``repeat`` calls; the caller keeps the best of many such runs (noise only adds)."""
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    from flask import render_template
    from flask_login import login_user
    from jinja2 import ChoiceLoader, DictLoader
    from sqlalchemy import select
    from werkzeug.datastructures import MultiDict

    from campaigns.operations import organizations
    from cases import dossier
    from cases import operations as ops
    from cases.models import Case
    from forms.accounts import ConfirmForm
    from forms.cases import AttachmentForm, case_form
    from pingxuan.extensions import db
    from shell import create_app, demo

    with tempfile.TemporaryDirectory(prefix="pingxuan-bench-dossier-") as folder:
        app = create_app({
            "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
            "SQLALCHEMY_ENGINE_OPTIONS": {}, "STORAGE_DIR": f"{folder}/storage", "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "WTF_CSRF_ENABLED": False,
        })  # fmt: skip
        with app.app_context():
            db.create_all()
            demo.build(demo.DEMO_PASSWORD)
            OLD_LABELS.update(_old_labels())
            app.jinja_env.loader = ChoiceLoader(
                [DictLoader({"bench/fixed_edit.html": OLD_TEMPLATE}), app.jinja_env.loader]
            )
            case = db.session.scalar(select(Case).where(Case.number.is_not(None)).order_by(Case.id))
            campaign, owner, orgs = case.campaign, case.created_by, organizations()
            OldCaseForm = old_form_class()
            # The fixed form read the case's own columns; they are gone (the values live in cases.dossier), so the
            # baseline reads a row of a bench-only table with those columns, mapped like the case was.
            values = {item.key: dossier.value(case, item) for item in ops.form_of(case).value_fields}
            old_case = fixed_case_row(db, case, values)
            with app.test_request_context("/cases/1/edit"):
                login_user(owner)
                filled = OldCaseForm(formdata=None)
                filled.fill_from(old_case)
                posted = MultiDict({k: v for k, v in filled.data.items() if isinstance(v, str)})

                def old_page() -> str:
                    form = OldCaseForm(formdata=None)
                    form.fill_from(old_case)
                    form.set_choices(campaign, orgs)
                    return render_template("bench/fixed_edit.html", form=form, case=old_case, campaign=campaign,
                                                  long_text=("summary", "description", "innovation", "effects",
                                                             "beneficiaries"),
                                                  upload=AttachmentForm(formdata=None),
                                                  remove_form=ConfirmForm(formdata=None))  # fmt: skip

                def new_page() -> str:
                    form = case_form(ops.form_of(case), formdata=None)
                    form.fill_from(case)
                    form.set_choices(campaign, orgs)
                    upload = AttachmentForm(formdata=None)
                    return render_template("cases/edit.html", form=form, declaration=form.declaration, case=case,
                                           campaign=campaign, upload=upload,
                                           remove_form=ConfirmForm(formdata=None))  # fmt: skip

                def old_check() -> None:
                    data = OldCaseForm(formdata=posted).dossier()
                    _values, errors = old_clean(old_case, data)
                    assert not errors, errors
                    assert not old_dossier_errors(old_case)

                def new_check() -> None:
                    data = case_form(ops.form_of(case), formdata=posted).dossier()
                    _values, errors = ops._clean(case, ops.form_of(case), data)
                    assert not errors, errors
                    assert not ops.dossier_errors(case)

                assert 'data-field="summary"' in new_page() and "summary" in old_page()
                old_check(), new_check()
                for _warm in range(20):
                    old_page(), new_page(), old_check(), new_check()
                got = {
                    "old page": 1e9, "new page": 1e9, "old check": 1e9, "new check": 1e9,
                }  # fmt: skip
                for _round in range(ROUNDS):  # old and new alternate, so load on the shared machine hits both alike
                    for name, fn in (("old page", old_page), ("new page", new_page), ("old check", old_check),
                                     ("new check", new_check)):  # fmt: skip
                        got[name] = min(got[name], per_call(fn, 5 if "page" in name else 50))
            page_ratio = got["new page"] / got["old page"]
            check_ratio = got["new check"] / got["old check"]
            print(f"dossier page: fixed form {got['old page'] * 1e3:.2f} ms, declared 2017 form "
                  f"{got['new page'] * 1e3:.2f} ms: ratio {page_ratio:.2f} (goal ≤ 1.10)")  # fmt: skip
            print(f"submission check: fixed form {got['old check'] * 1e3:.3f} ms, declared 2017 form "
                  f"{got['new check'] * 1e3:.3f} ms: ratio {check_ratio:.2f} (goal ≤ 1.10)")  # fmt: skip
            if page_ratio > 1.10 or check_ratio > 1.10:
                sys.exit(1)


if __name__ == "__main__":
    main()
