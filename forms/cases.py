"""Forms of the case pages: the dossier, uploads and workflow buttons.

The dossier form is built from the campaign's declared form (cases.dossier): one field per declared field, in its
order, with its label, help and limits. It only collects text; cases.operations parses and validates every value
(dates, amounts, choices, the domain belonging to the category) against the declaration, so the rules exist once.
"""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Form, FormField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import SelectChoice

from campaigns.models import Campaign, Organization
from cases import dossier
from cases.models import Case
from forms import int_or_none
from pingxuan.i18n import pick
from workflow.definition import Transition

_REFERENCES = (dossier.CATEGORY, dossier.DOMAIN, dossier.ORGANIZATION)
_TEXTS = (*dossier.STRING_TYPES, dossier.NUMBER, dossier.MONEY, dossier.DATE)


class PersonForm(Form):
    name = StringField(_l("Name"))
    phone = StringField(_l("Phone"))
    email = StringField(_l("E-mail"))


class CaseForm(FlaskForm):
    """The dossier as the campaign declares it; ``case_form`` builds the class of a declaration once."""

    declaration: dossier.DossierForm
    version = HiddenField()

    def set_choices(self, campaign: Campaign, organizations: list[Organization]) -> None:
        """Fill the selects from the campaign's taxonomy; each domain remembers its category for the filter."""
        none = SelectChoice("", _l("Choose…"))
        for item in self.declaration.value_fields:
            target = self[item.key]
            if item.type == dossier.CATEGORY:
                target.choices = [none] + [SelectChoice(str(c.id), pick(c, "name")) for c in campaign.categories]
            elif item.type == dossier.DOMAIN:
                target.choices = [none] + [
                    SelectChoice(str(d.id), pick(d, "name"), {"data-category": str(c.id)})
                    for c in campaign.categories
                    for d in c.domains
                ]
            elif item.type == dossier.ORGANIZATION:
                target.choices = [none] + [SelectChoice(str(o.id), pick(o, "name")) for o in organizations]
            elif item.type == dossier.CHOICE:
                target.choices = [none] + [SelectChoice(c.value, item.choice_label(c.value)) for c in item.choices]
            elif item.type == dossier.MULTI_CHOICE:
                target.choices = [SelectChoice(c.value, item.choice_label(c.value)) for c in item.choices]
            elif item.type == dossier.YES_NO:
                target.choices = [none, SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]

    def fill_from(self, case: Case) -> None:
        """Show the stored dossier (on GET)."""
        for item in self.declaration.value_fields:
            found = dossier.value(case, item)
            target = self[item.key]
            if item.type in _REFERENCES:
                target.data = str(found) if found else ""
            elif item.type == dossier.MONEY:
                target.data = f"{found:f}" if found is not None else ""
            elif item.type in _TEXTS:
                target.data = dossier.as_json(found) if found is not None else ""
                target.data = target.data if isinstance(target.data, str) else str(target.data)
            elif item.type == dossier.YES_NO:
                target.data = "" if found is None else ("yes" if found else "no")
            elif item.type == dossier.PERSON:
                for part in ("name", "phone", "email"):
                    target[part].data = (found or {}).get(part, "")
            else:
                target.data = found if found is not None else ([] if item.type == dossier.MULTI_CHOICE else "")
        self.version.data = str(case.version)

    def dossier(self) -> dict[str, Any]:
        """The submitted values in the shape cases.operations expects."""
        data: dict[str, Any] = {}
        for item in self.declaration.value_fields:
            raw = self[item.key].data
            if item.type in _REFERENCES:
                data[item.key] = int_or_none(raw)
            elif item.type == dossier.MULTI_CHOICE:
                data[item.key] = list(raw or [])
            elif item.type == dossier.PERSON:
                data[item.key] = {part: (raw or {}).get(part) or "" for part in ("name", "phone", "email")}
            else:
                data[item.key] = raw or ""
        return data

    def expected_version(self) -> int | None:
        return int_or_none(self.version.data)


_CLASSES: dict[int, tuple[dossier.DossierForm, type[CaseForm]]] = {}


def case_form(declaration: dossier.DossierForm, **kwargs: Any) -> CaseForm:
    """The page's form of a declared dossier form (the class is built once per declaration)."""
    found = _CLASSES.get(id(declaration))
    if found is None or found[0] is not declaration:
        attributes: dict[str, Any] = {"declaration": declaration}
        for item in declaration.value_fields:
            attributes[item.key] = _wtf_field(item)
        found = (declaration, type("DeclaredCaseForm", (CaseForm,), attributes))
        if len(_CLASSES) > 256:
            _CLASSES.clear()
        _CLASSES[id(declaration)] = found
    return found[1](**kwargs)


def _wtf_field(item: dossier.Field) -> Any:
    label = LazyString(lambda: item.label)
    help_text = LazyString(lambda: item.help)
    if item.type in (*_REFERENCES, dossier.CHOICE, dossier.YES_NO):
        return SelectField(label, description=help_text, validate_choice=False)
    if item.type == dossier.MULTI_CHOICE:
        return SelectMultipleField(label, description=help_text, validate_choice=False)
    if item.type == dossier.PERSON:
        return FormField(PersonForm, label, description=help_text)
    if item.type == dossier.LONG_TEXT:
        return TextAreaField(label, description=help_text)
    return StringField(label, description=help_text)


class AttachmentForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("document", _l("Document (PDF, JPEG, PNG)")),
            SelectChoice("photo", _l("Photo (JPEG, PNG)")),
        ],
        validate_choice=False,
    )
    file = FileField(_l("File"))
    visibility = SelectField(
        _l("Who may see it"),
        choices=[
            SelectChoice("", _l("As usual: photos public, documents private")),
            SelectChoice("public", _l("Public")),
            SelectChoice("private", _l("Private: my unit, its reviewers and the office")),
        ],
        validate_choice=False,
    )


class TransitionForm(FlaskForm):
    """One workflow button: the version the page showed, a comment and the required fields where the transition
    needs them (as text: workflow.engine reads and checks them, for every route alike)."""

    expected_version = HiddenField()
    comment = TextAreaField(_l("Comment"))
    due_date = StringField(_l("Revision due by"))

    def required_fields(self, transition: Transition) -> dict[str, Any]:
        return {name: self[name].data for name in transition.required_fields}
