"""Vote integrity through the API (staff only): the rules, the report ranked by evidence, a case's ballots with
their evidence and flags, the preview of a selection by rule and its invalidation (voting.integrity)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from api.auth import api_blueprint, current_actor, require_actor, secured
from api.fields import UtcDateTime
from api.schemas import PageQuerySchema
from pingxuan.db import commit
from voting import integrity
from voting import operations as ops
from voting.voters import number_check

blp = api_blueprint("api_integrity", __name__, "Vote integrity: evidence, detection rules, invalidation by rule")


class RuleSchema(Schema):
    name = fields.String()
    title = fields.String()
    description = fields.String()
    parameters = fields.Dict(keys=fields.String(), values=fields.Float())


class CaseIntegritySchema(Schema):
    case_id = fields.Integer()
    number = fields.String(allow_none=True)
    title = fields.String()
    valid = fields.Integer(metadata={"description": "Valid ballots"})
    flagged = fields.Integer(metadata={"description": "Ballots flagged by at least one rule"})
    evidence = fields.Float(metadata={"description": "flagged / valid: the ranking key"})
    per_rule = fields.Dict(keys=fields.String(), values=fields.Integer())


class NumberCheckSchema(Schema):
    voters = fields.Integer(metadata={"description": "Voters with ballots in the campaign"})
    written_otherwise = fields.Integer(
        metadata={"description": "Numbers seen (outbox, objections) written with other than ASCII digits"}
    )
    collapsed = fields.Integer(metadata={"description": "Voters that are one number with at least one other voter"})
    numbers = fields.Integer(metadata={"description": "The numbers the collapsed voters are"})
    unchecked = fields.Integer(
        metadata={"description": "Voters that may share a number with another but whose number cannot be found"}
    )


class IntegrityReportSchema(Schema):
    rules = fields.List(fields.Nested(RuleSchema))
    cases = fields.List(fields.Nested(CaseIntegritySchema))
    numbers = fields.Nested(NumberCheckSchema, metadata={"description": "One number written several ways"})


class BallotQuerySchema(PageQuerySchema):
    rule = fields.String(metadata={"description": "Only the ballots this rule flags"})


class BallotEvidenceSchema(Schema):
    id = fields.Integer()
    voter_id = fields.Integer()
    created_at = UtcDateTime()
    subnet_hash = fields.String(metadata={"description": "Keyed hash of the /24 (IPv6 /64)"})
    network_hash = fields.String(metadata={"description": "Keyed hash of the /16 (IPv6 /48)"})
    ip_hash = fields.String(metadata={"description": "Keyed hash of the address"})
    user_agent = fields.String(metadata={"description": "Empty once the retention period has passed"})
    ua_family = fields.String()
    automated = fields.Boolean()
    seconds_since_verified = fields.Integer(allow_none=True)
    voter_age_seconds = fields.Integer(allow_none=True)
    voter_ballots_before = fields.Integer(allow_none=True)
    phone_class = fields.String(
        metadata={"description": "mobile, virtual or iot (the number is not kept), or wechat (a WeChat user)"}
    )
    referrer_host = fields.String()
    invalidated_at = UtcDateTime(allow_none=True)
    invalid_reason = fields.String(allow_none=True)
    flags = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "rule -> reason"})


class BallotPageSchema(Schema):
    items = fields.List(fields.Nested(BallotEvidenceSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class SelectionSchema(Schema):
    selection = fields.String(
        required=True,
        metadata={"description": "Rules: a comma is OR, a plus is AND, e.g. network_24,burst+fresh_voter"},
    )
    case_ids = fields.List(fields.Integer(), load_default=None, metadata={"description": "Only these cases"})


class InvalidateSelectionSchema(SelectionSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1))
    expected = fields.Integer(
        load_default=None, metadata={"description": "The previewed total; another total is refused with 409"}
    )


class CasePreviewSchema(Schema):
    case_id = fields.Integer()
    selected = fields.Integer()
    before = fields.Integer()
    after = fields.Integer()
    rank_before = fields.Integer()
    rank_after = fields.Integer()
    look_honest = fields.Integer(metadata={"description": "Selected ballots no other rule flags, of non-fresh voters"})


class PreviewSchema(Schema):
    total = fields.Integer()
    cases = fields.List(fields.Nested(CasePreviewSchema))
    ballot_ids = fields.List(fields.Integer(), metadata={"description": "The ballots it would strike"})
    estimated_honest = fields.Float(
        allow_none=True,
        metadata={"description": "Honest ballots expected among them (coordinated groups: the category's baseline)"},
    )
    spared_voters = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Voters of the coordinated groups' windows left out: their kind (a shared /24, how soon "
            "they voted after verifying) is no more common among the group than the category's honest voters make it"
        },
    )


class RecommendationSchema(Schema):
    case_id = fields.Integer()
    selection = fields.String(metadata={"description": "Preview or invalidate it with case_ids=[case_id]"})
    preview = fields.Nested(PreviewSchema)


class RecommendationListSchema(Schema):
    recommendations = fields.List(fields.Nested(RecommendationSchema))


class SelectionInvalidatedSchema(Schema):
    invalidated = fields.Integer()


def _rules(campaign) -> list[dict]:
    return [
        {"name": r.name, "title": str(r.title), "description": str(r.description),
         "parameters": integrity.parameters(campaign, r.name)}
        for r in integrity.RULES.values()
    ]  # fmt: skip


@blp.route("/campaigns/<int:campaign_id>/vote/integrity", methods=["GET"])
@blp.response(200, IntegrityReportSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def integrity_report(campaign_id: int):
    """The cases ranked by evidence, with each rule's count of flagged ballots (staff only)."""
    actor = require_actor()
    campaign = ops.staff_campaign(campaign_id, actor)
    cases = [
        {"case_id": r.case.id, "number": r.case.number, "title": r.case.title, "valid": r.total,
         "flagged": r.flagged, "evidence": r.evidence, "per_rule": r.per_rule}
        for r in integrity.report(campaign, actor)
    ]  # fmt: skip
    return {"rules": _rules(campaign), "cases": cases, "numbers": number_check(campaign.id)}


class RuleSettingsSchema(Schema):
    settings = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Raw()), required=True,
        metadata={"description": "{rule: {parameter: number}}; the parameters not named keep their values"},
    )  # fmt: skip


class RuleListSchema(Schema):
    rules = fields.List(fields.Nested(RuleSchema))


@blp.route("/campaigns/<int:campaign_id>/vote/integrity/rules", methods=["PUT"])
@blp.arguments(RuleSettingsSchema)
@blp.response(200, RuleListSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def set_rule_parameters(data: dict[str, Any], campaign_id: int):
    """Change the detection rules' parameters of a campaign (staff only); unknown names are refused with 422."""
    actor = require_actor()
    campaign = ops.staff_campaign(campaign_id, actor)
    integrity.set_parameters(campaign, actor, data["settings"])
    commit()
    return {"rules": _rules(campaign)}


@blp.route("/cases/<int:case_id>/ballots", methods=["GET"])
@blp.arguments(BallotQuerySchema, location="query")
@blp.response(200, BallotPageSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def case_ballots(args: dict[str, Any], case_id: int):
    """A case's ballots with their evidence and the rules that flag them, newest first (staff only: 404 for
    anyone else)."""
    found = integrity.case_ballots(case_id, current_actor(), args.get("rule"), args["page"], args["per_page"])
    fields_ = BallotEvidenceSchema().fields
    items = [
        {**{name: getattr(b, name) for name in fields_ if name != "flags"}, "flags": flags}
        for b, flags in found.ballots
    ]
    return {"items": items, "page": found.page, "per_page": found.per_page, "total": found.total}


@blp.route("/campaigns/<int:campaign_id>/vote/integrity/preview", methods=["POST"])
@blp.arguments(SelectionSchema)
@blp.response(200, PreviewSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def preview(data: dict[str, Any], campaign_id: int):
    """What invalidating a selection by rule would do, per case; nothing is written (staff only)."""
    actor = require_actor()
    result = integrity.preview(ops.staff_campaign(campaign_id, actor), actor, data["selection"], data["case_ids"])
    return _preview(result)


def _preview(result: integrity.Preview) -> dict:
    cases = [
        {"case_id": c.case.id, "selected": c.selected, "before": c.before, "after": c.after,
         "rank_before": c.rank_before, "rank_after": c.rank_after, "look_honest": c.look_honest}
        for c in result.cases
    ]  # fmt: skip
    return {
        "total": result.total, "cases": cases, "ballot_ids": sorted(result.ballots),
        "estimated_honest": result.estimated_honest, "spared_voters": result.spared_voters,
    }  # fmt: skip


@blp.route("/campaigns/<int:campaign_id>/vote/integrity/recommendations", methods=["GET"])
@blp.response(200, RecommendationListSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def recommendations(campaign_id: int):
    """For each case where the evidence concentrates, a selection scoped to it with the preview of what it would
    strike; nothing is written (staff only)."""
    actor = require_actor()
    found = integrity.recommend(ops.staff_campaign(campaign_id, actor), actor)
    return {
        "recommendations": [
            {"case_id": r.case.id, "selection": r.selection, "preview": _preview(r.preview)} for r in found
        ]
    }


@blp.route("/campaigns/<int:campaign_id>/vote/integrity/invalidate", methods=["POST"])
@blp.arguments(InvalidateSelectionSchema)
@blp.response(200, SelectionInvalidatedSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(409, "CONFLICT")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def invalidate(data: dict[str, Any], campaign_id: int):
    """Invalidate a selection by rule with a reason: audited, never deleted, the counts follow (staff only)."""
    actor = require_actor()
    n = integrity.invalidate_selection(
        ops.staff_campaign(campaign_id, actor), actor, data["selection"], data["reason"], data["case_ids"],
        data["expected"],
    )  # fmt: skip
    commit()
    return {"invalidated": n}
