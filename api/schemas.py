"""Marshmallow schemas of the JSON API: what requests accept and responses contain, and the OpenAPI document.

Request schemas check only the shape of the input (types, unknown fields); every business rule stays in the
operations, which report all field errors at once. Response schemas dump plain dicts built by the API views.
"""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from api.fields import FileUpload, UtcDateTime
from cases import dossier
from cases.versions import ATTACHMENT_CHANGES, DELETE, EQUAL, INSERT
from workflow.definition import STATE_NAMES

# Errors -------------------------------------------------------------------------------------------------


class ErrorSchema(Schema):
    """Every error of the API: a message for people, field errors and refusal reasons where there are any."""

    message = fields.String(required=True, metadata={"description": "What went wrong, in the request's language"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Per input field, what is wrong with it"},
    )
    reasons = fields.List(fields.String(), metadata={"description": "Why a workflow action was refused"})


# Common pieces ------------------------------------------------------------------------------------------


class NamedRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class StateSchema(Schema):
    name = fields.String(metadata={"description": "Machine name of the state"})
    title = fields.String(metadata={"description": "Localized title"})
    final = fields.Boolean()


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PageInfoSchema(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


# Accounts -----------------------------------------------------------------------------------------------


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String(metadata={"description": "Global role: applicant, expert, organizer or admin"})
    locale = fields.String(allow_none=True)
    unit = fields.Nested(NamedRefSchema, allow_none=True)


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True)
    new_password = fields.String(required=True)


class TokenCreateSchema(Schema):
    name = fields.String(required=True, metadata={"description": "What the token is for"})


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = UtcDateTime()
    last_used_at = UtcDateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "The token itself; shown only in this response"})


class MemberSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    active = fields.Boolean()


class UnitSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    district = fields.String()
    credit_code = fields.String()
    parent_org = fields.String()
    contact_name = fields.String()
    contact_phone = fields.String()
    members = fields.List(fields.Nested(MemberSchema))


class InvitationCreateSchema(Schema):
    email = fields.String(required=True)


class InvitationSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    expires_at = UtcDateTime()


# Campaigns ----------------------------------------------------------------------------------------------


class DomainSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class CategorySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    abbr = fields.String()
    name = fields.String()
    award = fields.String()
    domains = fields.List(fields.Nested(DomainSchema))


class CampaignSchema(Schema):
    id = fields.Integer()
    year = fields.Integer()
    title = fields.String()
    organizer = fields.String()
    in_operation_before = fields.Date(metadata={"description": "Cases must be in operation on or before this day"})
    submission_opens = fields.Date(allow_none=True)
    submission_closes = fields.Date(allow_none=True)
    review_opens = fields.Date(allow_none=True)
    review_closes = fields.Date(allow_none=True)
    vote_opens = fields.Date(allow_none=True)
    vote_closes = fields.Date(allow_none=True)
    vote_status = fields.String()
    awards_per_category = fields.Integer()
    categories = fields.List(fields.Nested(CategorySchema))


class OrganizationSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()


# Cases --------------------------------------------------------------------------------------------------


def _default_form_fields(output: bool) -> dict[str, fields.Field]:
    """The 2017 form's value fields as schema fields, read from the declaration (``cases.dossier``), documented for
    clients written for it; any other campaign's form is described by ``GET /campaigns/{id}/dossier-form``."""
    found: dict[str, fields.Field] = {}
    for item in dossier.default_form().value_fields:
        if item.type in (dossier.CATEGORY, dossier.DOMAIN, dossier.ORGANIZATION):
            if not output:
                found[item.key] = fields.Integer(allow_none=True)
            continue
        if item.type in (dossier.MONEY, dossier.NUMBER):
            meta = {"description": "CNY"} if item.type == dossier.MONEY else {}
            if output:  # documented as what it is: a decimal string, exact to the fen
                found[item.key] = fields.Decimal(
                    allow_none=True, as_string=True, metadata={"type": "string", "format": "decimal", **meta}
                )
            else:
                found[item.key] = fields.Decimal(allow_none=True, metadata=meta)
        elif item.type == dossier.DATE:
            found[item.key] = fields.Date(allow_none=True)
        elif item.type in dossier.STRING_TYPES:
            found[item.key] = fields.String() if output else fields.String(allow_none=True)
        else:
            found[item.key] = fields.Raw(allow_none=True)
    return found


class _CaseInput(Schema):
    class Meta:
        unknown = INCLUDE

    # The case's own record, never a dossier field: sent by a client, it is refused by name (not silently dropped).
    READ_ONLY = ("id", "state", "number", "unit_id", "campaign_id", "created_at", "submitted_at")

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _refuse_read_only(self, data, original, **kwargs) -> None:
        wrong = [name for name in self.READ_ONLY if isinstance(original, dict) and name in original]
        if "state" in wrong:
            raise ValidationError({"state": "The state changes only through the workflow's transitions (POST "
                                            "/cases/{id}/transitions/{name}), not by editing the case."})  # fmt: skip
        if wrong:
            raise ValidationError({name: "Read-only." for name in wrong})


CaseInputSchema = type(
    "CaseInputSchema",
    (_CaseInput,),
    {
        "__doc__": """Dossier fields; all optional. The fields of the campaign's declared form (``GET
    /campaigns/{id}/dossier-form``, JSON Schema) are accepted by their key; the operations check each against the
    form: lengths, ranges, dates, choices, references. The fields listed here are the 2017 form's, documented for
    clients written for it.""",
        **_default_form_fields(output=False),
    },
)


class CasePatchSchema(CaseInputSchema):
    version = fields.Integer(
        metadata={"description": "The version the change is based on; a stale version is refused with 409"}
    )


class CaseListQuerySchema(PageQuerySchema):
    state = fields.String(validate=validate.OneOf(STATE_NAMES))
    category = fields.Integer(metadata={"description": "Category id"})
    campaign = fields.Integer(metadata={"description": "Campaign id"})


class AttachmentSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "photo or document"})
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    created_at = UtcDateTime()
    url = fields.String(metadata={"description": "Where to download it"})
    visibility = fields.String(
        metadata={"description": "public (anyone who may view the case) or private (the unit, reviewers, office)"}
    )


class AttachmentUploadSchema(Schema):
    """One multipart/form-data body: the kind (a form field) and the file."""

    kind = fields.String(required=True, metadata={"description": "photo or document"})
    file = FileUpload(required=True)
    visibility = fields.String(
        metadata={"description": "public or private; by default photos are public and documents private"}
    )


class AttachmentPatchSchema(Schema):
    visibility = fields.String(required=True, metadata={"description": "public or private"})


class ActionSchema(Schema):
    name = fields.String()
    title = fields.String()
    allowed = fields.Boolean(metadata={"description": "False when a guard refuses; see reasons and errors"})
    reasons = fields.List(fields.String())
    errors = fields.Dict(keys=fields.String(), values=fields.String())
    comment_required = fields.Boolean()
    style = fields.String()
    url = fields.String()


class CaseSummarySchema(Schema):
    id = fields.Integer()
    number = fields.String(allow_none=True)
    title = fields.String()
    state = fields.Nested(StateSchema)
    version = fields.Integer()
    campaign_id = fields.Integer()
    category = fields.Nested(NamedRefSchema, allow_none=True)
    unit = fields.Nested(NamedRefSchema)
    submitted_at = UtcDateTime(allow_none=True)
    updated_at = UtcDateTime()


class DuplicateRefSchema(Schema):
    id = fields.Integer()
    number = fields.String(allow_none=True)
    title = fields.String()


class _Case(CaseSummarySchema):
    domain = fields.Nested(NamedRefSchema, allow_none=True)
    recommending_org = fields.Nested(NamedRefSchema, allow_none=True)
    dossier = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Every value of the campaign's declared dossier form, by field key (JSON values)"},
    )
    created_at = UtcDateTime()
    attachments = fields.List(fields.Nested(AttachmentSchema))
    can_edit = fields.Boolean(metadata={"description": "Whether the caller may change the dossier now"})
    missing = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "For the caller who may edit: what still stops submission, per field"},
    )
    actions = fields.List(
        fields.Nested(ActionSchema), metadata={"description": "Workflow actions the caller holds a role for now"}
    )
    open_duplicates = fields.List(
        fields.Nested(DuplicateRefSchema),
        metadata={"description": "Organizers only: likely duplicates of this case nobody has decided on yet"},
    )


CaseSchema = type("CaseSchema", (_Case,), _default_form_fields(output=True))


class CasePageSchema(Schema):
    items = fields.List(fields.Nested(CaseSummarySchema))
    pagination = fields.Nested(PageInfoSchema)


class EventSchema(Schema):
    id = fields.Integer()
    transition = fields.String()
    title = fields.String(metadata={"description": "Localized title of the action"})
    from_state = fields.Nested(StateSchema)
    to_state = fields.Nested(StateSchema)
    actor = fields.String(allow_none=True, metadata={"description": "Who acted; shown to the office and the unit"})
    comment = fields.String(allow_none=True)
    created_at = UtcDateTime()


# Dossier versions ---------------------------------------------------------------------------------------


class FrozenAttachmentSchema(Schema):
    """An attachment as a version keeps it: the bytes are the stored file with this SHA-256."""

    filename = fields.String()
    kind = fields.String(validate=validate.OneOf(("photo", "document")))
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class VersionFieldSchema(Schema):
    field = fields.String(metadata={"description": "Machine name of the dossier field"})
    label = fields.String(metadata={"description": "Localized label"})
    value = fields.String(metadata={"description": "The value as shown (names for references)"})


class DossierVersionSchema(Schema):
    number = fields.Integer(metadata={"description": "1 for the first submission, 2 for the next, …"})
    transition = fields.String(allow_none=True, metadata={"description": "The action that froze it"})
    title = fields.String(metadata={"description": "Localized title of that action"})
    actor = fields.String(allow_none=True, metadata={"description": "Who submitted it"})
    created_at = UtcDateTime()
    dossier = fields.List(
        fields.Nested(VersionFieldSchema), metadata={"description": "Every field, in the form's order"}
    )
    attachments = fields.List(fields.Nested(FrozenAttachmentSchema))


class SegmentSchema(Schema):
    op = fields.String(validate=validate.OneOf((EQUAL, INSERT, DELETE)))
    text = fields.String()


class FieldDiffSchema(Schema):
    field = fields.String()
    label = fields.String()
    changed = fields.Boolean()
    old = fields.String(metadata={"description": "The value in the earlier version, as shown"})
    new = fields.String(metadata={"description": "The value in the later version, as shown"})
    segments = fields.List(
        fields.Nested(SegmentSchema),
        metadata={"description": "Text character by character (runs of ASCII letters and digits whole); "
                  "other fields one value for another"},
    )  # fmt: skip


class AttachmentChangeSchema(Schema):
    status = fields.String(validate=validate.OneOf(tuple(ATTACHMENT_CHANGES)))
    old = fields.Nested(FrozenAttachmentSchema, allow_none=True)
    new = fields.Nested(FrozenAttachmentSchema, allow_none=True)


class VersionDiffSchema(Schema):
    case_id = fields.Integer()
    from_version = fields.Integer()
    to_version = fields.Integer()
    dossier = fields.List(fields.Nested(FieldDiffSchema), metadata={"description": "Every field, in the form's order"})
    attachments = fields.List(
        fields.Nested(AttachmentChangeSchema),
        metadata={"description": "Same bytes: unchanged; same name or same kind with other bytes: replaced"},
    )


# Workflow -----------------------------------------------------------------------------------------------


class TransitionInputSchema(Schema):
    comment = fields.String(allow_none=True)
    due_date = fields.Date(
        allow_none=True,
        metadata={"description": "Required by the actions that need a due date (return for revision)"},
    )
    version = fields.Integer(
        allow_none=True,
        metadata={"description": "The version the action is based on; a stale version is refused with 409"},
    )


class TransitionResultSchema(Schema):
    case_id = fields.Integer()
    state = fields.Nested(StateSchema)
    version = fields.Integer()
    number = fields.String(allow_none=True)
    event = fields.Nested(EventSchema)


class WorklistSchema(Schema):
    name = fields.String()
    title = fields.String()
    states = fields.List(fields.Nested(StateSchema))
    count = fields.Integer()


class WorklistPageSchema(CasePageSchema):
    worklist = fields.Nested(WorklistSchema)


class WorklistQuerySchema(PageQuerySchema):
    campaign = fields.Integer(metadata={"description": "Campaign id; the current campaign when left out"})


# Notifications ------------------------------------------------------------------------------------------


class NotificationSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    message = fields.String()
    link = fields.String(allow_none=True, metadata={"description": "The page it leads to (a path of the app)"})
    created_at = UtcDateTime()
    read_at = UtcDateTime(allow_none=True)


class NotificationListSchema(Schema):
    unread = fields.Integer()
    items = fields.List(fields.Nested(NotificationSchema))


class NotificationQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
