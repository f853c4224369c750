"""Schemas of the eligibility, expert pool, assignment, scoring and results endpoints (see api/schemas.py)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from api.fields import FileUpload, UtcDateTime
from api.schemas import NamedRefSchema, StateSchema, TransitionResultSchema

# Common pieces ------------------------------------------------------------------------------------------


class CaseRefSchema(Schema):
    id = fields.Integer()
    number = fields.String(allow_none=True)
    title = fields.String()
    state = fields.Nested(StateSchema)


class NameOrId(fields.String):
    """A category or domain given by code, name (zh or en) or id; the operations look it up."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError(_l("Give a code, a name or an id."))
        return str(value)


# Eligibility --------------------------------------------------------------------------------------------


class CheckSchema(Schema):
    name = fields.String(metadata={"description": "in_operation, complete, taxonomy or duplicates"})
    passed = fields.Boolean()
    reason = fields.String()


class PrechecksSchema(Schema):
    case = fields.Nested(CaseRefSchema)
    passed = fields.Boolean(metadata={"description": "Whether every pre-check passes (bulk approval takes it)"})
    checks = fields.List(fields.Nested(CheckSchema))


class ReturnInputSchema(Schema):
    comment = fields.String(allow_none=True, metadata={"description": "What the unit should change"})
    due_date = fields.Date(allow_none=True, metadata={"description": "By when the revision is due"})
    version = fields.Integer(
        allow_none=True,
        metadata={"description": "The version the action is based on; a stale version is refused with 409"},
    )


class ReturnResultSchema(TransitionResultSchema):
    revision_due = fields.Date(allow_none=True)


class BulkApproveInputSchema(Schema):
    case_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=1000))
    include_possible_duplicates = fields.Boolean(
        load_default=False,
        metadata={"description": "Also approve cases whose only failed pre-check is an open likely-duplicate flag"},
    )


class BulkDecisionInputSchema(Schema):
    case_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=1000))
    comment = fields.String(required=True, metadata={"description": "One comment for every case"})
    due_date = fields.Date(allow_none=True, metadata={"description": "Returns only: by when the revision is due"})


class BulkDecisionResultSchema(Schema):
    done = fields.List(fields.Integer(), metadata={"description": "Cases decided"})
    skipped = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "Case id → why not"})


class DuplicateDecisionInputSchema(Schema):
    decision = fields.String(required=True, metadata={"description": "different (projects) or duplicate"})
    reason = fields.String(required=True)


class BulkApproveResultSchema(Schema):
    approved = fields.List(fields.Integer(), metadata={"description": "Cases now under expert review"})
    skipped = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Case id → why it was not approved (the first failing pre-check, ...)"},
    )


# Expert pool and conflicts ------------------------------------------------------------------------------


class ExpertSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    email = fields.String()
    organization = fields.String(allow_none=True)
    parent_org = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    max_load = fields.Integer(allow_none=True)
    active = fields.Boolean(allow_none=True)
    has_profile = fields.Boolean(metadata={"description": "False for an expert account without a profile yet"})
    load = fields.Integer(metadata={"description": "Live assignments (pending, accepted, submitted)"})
    categories = fields.List(fields.Nested(NamedRefSchema))
    domains = fields.List(fields.Nested(NamedRefSchema))


class ExpertInputSchema(Schema):
    """Profile fields; all optional. Categories and domains refer to the current campaign's taxonomy."""

    organization = fields.String(allow_none=True)
    parent_org = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    max_load = fields.Integer(allow_none=True)
    active = fields.Boolean()
    categories = fields.List(NameOrId(), metadata={"description": "Codes, names or ids"})
    domains = fields.List(NameOrId(), metadata={"description": "Names or ids"})


class ExpertImportSchema(Schema):
    file = FileUpload(
        required=True,
        metadata={"description": "CSV (UTF-8) or .xlsx; columns email, name, organization, parent_org, title, "
                  "max_load, categories, domains"},
    )  # fmt: skip


class ExpertImportResultSchema(Schema):
    rows = fields.Integer(metadata={"description": "Rows read and imported"})
    created = fields.List(fields.String(), metadata={"description": "E-mail addresses of the new, invited experts"})


class ConflictInputSchema(Schema):
    reason = fields.String(allow_none=True)


class ConflictSchema(Schema):
    id = fields.Integer()
    case = fields.Nested(CaseRefSchema)
    expert = fields.Nested(NamedRefSchema)
    source = fields.String(
        metadata={
            "description": "auto (by affiliation), declared (by the expert, or upheld by an organizer), reported "
            "(after the expert's review was submitted: waiting for an organizer's decision) or dismissed"
        }
    )
    reason = fields.String()
    created_at = UtcDateTime()


class ConflictDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["uphold", "dismiss"]))
    reason = fields.String(required=True, metadata={"description": "Why: kept in the review audit"})


# Assignment ---------------------------------------------------------------------------------------------


class ProposalInputSchema(Schema):
    mode = fields.String(
        load_default="topup",
        validate=validate.OneOf(("topup", "full")),
        metadata={"description": "topup assigns only what is missing; full may move assignments nobody started"},
    )


_PAIR = fields.List(fields.Integer(), validate=validate.Length(equal=2), metadata={"description": "[case, expert]"})


class ProposalAdjustSchema(Schema):
    add = fields.List(_PAIR, load_default=list)
    remove = fields.List(_PAIR, load_default=list)


class ProposalPairSchema(Schema):
    case = fields.Nested(CaseRefSchema)
    expert = fields.Nested(NamedRefSchema)
    match = fields.String(metadata={"description": "domain, category or none"})
    cost = fields.Integer()


class ProposalLoadSchema(Schema):
    expert = fields.Nested(NamedRefSchema)
    current = fields.Integer(metadata={"description": "Live assignments now"})
    proposed = fields.Integer(metadata={"description": "New assignments in this proposal"})
    max_load = fields.Integer()


class UncoveredSchema(Schema):
    case = fields.Nested(CaseRefSchema)
    missing = fields.Integer(metadata={"description": "Reviewers the case could not get"})
    reason = fields.String()


class ProposalSchema(Schema):
    id = fields.Integer()
    mode = fields.String()
    total_cost = fields.Integer()
    created_at = UtcDateTime()
    applied_at = UtcDateTime(allow_none=True)
    pairs = fields.List(fields.Nested(ProposalPairSchema))
    loads = fields.List(fields.Nested(ProposalLoadSchema))
    uncovered = fields.List(fields.Nested(UncoveredSchema))


class AssignmentInputSchema(Schema):
    case_id = fields.Integer(required=True)
    expert_id = fields.Integer(required=True)


class AssignmentSchema(Schema):
    id = fields.Integer()
    case = fields.Nested(CaseRefSchema)
    expert = fields.Nested(NamedRefSchema, metadata={"description": "Shown to organizers and to the expert"})
    status = fields.String(metadata={"description": "pending, accepted, declined, submitted, waived or released"})
    reason = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)
    review_status = fields.String(allow_none=True, metadata={"description": "draft, submitted, or null"})


class DeclineInputSchema(Schema):
    reason = fields.String(allow_none=True)


# Scoring ------------------------------------------------------------------------------------------------


class CriterionSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    weight = fields.Integer(metadata={"description": "Percent; the weights add up to 100"})
    max_score = fields.Integer()
    guidance = fields.String()


class ReviewEventSchema(Schema):
    action = fields.String(metadata={"description": "entered_for_expert, reopened, waived, declined, reassigned, …"})
    text = fields.String(metadata={"description": "What happened, in the request's language"})
    by = fields.String(allow_none=True, metadata={"description": "Who did it"})
    expert = fields.String(metadata={"description": "Whose review it is"})
    note = fields.String(metadata={"description": "The reason or source given (and the scores changed)"})
    created_at = UtcDateTime()


class ReviewSchema(Schema):
    assignment = fields.Nested(AssignmentSchema)
    status = fields.String(allow_none=True, metadata={"description": "draft, submitted, or null before saving"})
    scores = fields.Dict(keys=fields.String(), values=fields.Float(), metadata={"description": "Criterion id → score"})
    comment = fields.String()
    total = fields.Float(allow_none=True, metadata={"description": "Weighted total on 0..100, once submitted"})
    submitted_at = UtcDateTime(allow_none=True)
    updated_at = UtcDateTime(allow_none=True)
    history = fields.List(fields.Nested(ReviewEventSchema), metadata={"description": "Organizers' interventions"})


class ReviewInputSchema(Schema):
    scores = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        load_default=dict,
        metadata={"description": "Criterion id → score; errors come back keyed by criterion id"},
    )
    comment = fields.String(load_default="", allow_none=True)
    submit = fields.Boolean(load_default=False, metadata={"description": "Submit (every criterion) or save a draft"})
    note = fields.String(
        load_default="",
        allow_none=True,
        metadata={"description": "Organizers entering scores for an expert: where they come from (required then)"},
    )


class ReopenInputSchema(Schema):
    comment = fields.String(allow_none=True)


class WaiveInputSchema(Schema):
    reason = fields.String(allow_none=True)


# Results ------------------------------------------------------------------------------------------------


class ExpertTotalSchema(Schema):
    expert = fields.Nested(NamedRefSchema)
    raw = fields.Float()
    normalized = fields.Float()


class RankingRowSchema(Schema):
    rank = fields.Integer()
    case = fields.Nested(CaseRefSchema)
    raw_mean = fields.Float(allow_none=True)
    normalized_mean = fields.Float(allow_none=True, metadata={"description": "Per-expert z-scores, on 0..100"})
    spread = fields.Float(allow_none=True, metadata={"description": "Standard deviation of the raw totals"})
    disagreement = fields.Boolean()
    submitted = fields.Integer(metadata={"description": "Reviews submitted (n of m)"})
    assigned = fields.Integer(metadata={"description": "Live assignments (m)"})
    complete = fields.Boolean()
    experts = fields.List(fields.Nested(ExpertTotalSchema))


class RankingSchema(Schema):
    category = fields.Nested(NamedRefSchema)
    items = fields.List(fields.Nested(RankingRowSchema))


class ProgressRowSchema(Schema):
    id = fields.Integer(metadata={"description": "Category or expert id"})
    label = fields.String()
    assigned = fields.Integer()
    submitted = fields.Integer()
    waived = fields.Integer()
    outstanding = fields.Integer()
    percent = fields.Integer()


class ProgressSchema(Schema):
    categories = fields.List(fields.Nested(ProgressRowSchema))
    experts = fields.List(fields.Nested(ProgressRowSchema))


class RemindersResultSchema(Schema):
    sent = fields.Integer(metadata={"description": "Experts mailed"})


class ShortlistQuerySchema(Schema):
    size = fields.Integer(validate=validate.Range(min=1), metadata={"description": "Finalists; campaign default"})


class ShortlistInputSchema(Schema):
    size = fields.Integer(allow_none=True, metadata={"description": "Finalists; the campaign's default when left out"})


class ShortlistSchema(Schema):
    category = fields.Nested(NamedRefSchema)
    size = fields.Integer()
    ready = fields.Boolean(metadata={"description": "False while a case still misses reviews; see blockers"})
    finalists = fields.List(fields.Nested(RankingRowSchema))
    others = fields.List(fields.Nested(RankingRowSchema))
    blockers = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
