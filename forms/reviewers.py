"""Forms of the eligibility and review pages. They collect input and carry CSRF; the reviewers and
cases.eligibility operations check every value, and ``forms.show_errors`` puts their errors on the fields."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Optional

from campaigns.models import Campaign
from pingxuan.i18n import pick
from reviewers.models import Criterion, Expert


class BulkApproveForm(FlaskForm):
    case_ids = SelectMultipleField(_l("Cases"), coerce=int, validate_choice=False)


class ReturnForm(FlaskForm):
    """Return for revision: what to change and by when (both required by cases.eligibility)."""

    expected_version = HiddenField()
    comment = TextAreaField(_l("What needs to change (required)"))
    due_date = DateField(_l("Revision due by (required)"), validators=[Optional()])


class ExpertProfileForm(FlaskForm):
    organization = StringField(_l("Organization"))
    parent_org = StringField(_l("Parent organization"))
    title = StringField(_l("Professional title"))
    max_load = StringField(_l("Maximum load"), description=_l("How many cases this expert reviews at most."))
    active = BooleanField(_l("Active (may be assigned)"))
    categories = SelectMultipleField(_l("Categories of expertise"), validate_choice=False)
    domains = SelectMultipleField(_l("Domains of expertise"), validate_choice=False)

    def set_choices(self, campaign: Campaign) -> None:
        self.categories.choices = [SelectChoice(str(c.id), pick(c, "name")) for c in campaign.categories]
        self.domains.choices = [
            SelectChoice(str(d.id), f"{pick(c, 'name')} · {pick(d, 'name')}")
            for c in campaign.categories
            for d in c.domains
        ]

    def fill_from(self, expert: Expert | None) -> None:
        if expert is None:
            self.max_load.data, self.active.data = "20", True
            return
        for name in ("organization", "parent_org", "title"):
            getattr(self, name).data = getattr(expert, name)
        self.max_load.data = str(expert.max_load)
        self.active.data = expert.active
        self.categories.data = [str(c.id) for c in expert.categories]
        self.domains.data = [str(d.id) for d in expert.domains]

    def profile(self) -> dict[str, Any]:
        """The values in the shape reviewers.pool.update_profile expects (expertise by id)."""
        data: dict[str, Any] = {name: self[name].data or "" for name in ("organization", "parent_org", "title")}
        data["max_load"] = (self.max_load.data or "").strip()
        data["active"] = bool(self.active.data)
        data["categories"] = list(self.categories.data or [])
        data["domains"] = list(self.domains.data or [])
        return data


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or Excel (.xlsx) file"))


class ProposeForm(FlaskForm):
    mode = SelectField(
        _l("Mode"),
        choices=[
            SelectChoice("topup", _l("Top-up: assign only what is missing")),
            SelectChoice("full", _l("Full: also move assignments nobody has started")),
        ],
        validate_choice=False,
    )


class AdjustForm(FlaskForm):
    """Remove one proposed pair ("case-expert"), or add one chosen by hand."""

    remove = HiddenField()
    case_id = SelectField(_l("Case"), validate_choice=False)
    expert_id = SelectField(_l("Expert"), validate_choice=False)


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (required)"))


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Comment (required)"))


class RespondForm(FlaskForm):
    """Accept an assignment, or decline it with a reason."""

    answer = HiddenField()
    reason = TextAreaField(_l("Reason for declining (required)"))


class ShortlistForm(FlaskForm):
    category = HiddenField()
    size = IntegerField(_l("Finalists in this category"), validators=[Optional()])


def score_field_name(criterion: Criterion) -> str:
    return f"score_{criterion.id}"


class ReviewForm(FlaskForm):
    """Scores (one field per criterion of the campaign's rubric, added by ``review_form``) and a comment."""

    comment = TextAreaField(_l("Comment for the organizers"))
    save_draft = SubmitField(_l("Save draft"))
    submit_review = SubmitField(_l("Submit the review"))

    def scores(self, criteria: list[Criterion]) -> dict[str, str]:
        """Criterion id → the text typed; reviewers.scoring checks numbers and ranges."""
        return {str(c.id): (self[score_field_name(c)].data or "").strip() for c in criteria}


def review_form(criteria: list[Criterion], **kwargs: Any) -> ReviewForm:
    """A ReviewForm with one text field per criterion (the page renders it as a number input)."""

    class _Form(ReviewForm):
        pass

    for criterion in criteria:
        setattr(_Form, score_field_name(criterion), StringField(pick(criterion, "name")))
    return _Form(**kwargs)
