"""The public showcase and vote through the API, and the organizers' vote controls.

Public endpoints need no API token. A voter verifies a number (``/voters/code``, ``/voters/verify``) and gets
a signed voter token to send as ``X-Voter-Token`` when voting: it carries the voter id, so a vote needs no
lookup of the voter. The same rate limits as the pages apply (voting.abuse): a breach of the per-address vote
limit answers 429 with a ``captcha`` link: ``GET /api/v1/captcha`` gives an ALTCHA proof-of-work challenge, the
client solves it (the ``altcha`` widget, or any ALTCHA client library) and sends the payload to ``POST
/api/v1/captcha``; a valid, unexpired, unused one lets one vote from the same address past that limit (keep the
session cookie between that answer and the vote: it carries the pass's id).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from functools import wraps
from typing import Any

from flask import make_response, request, url_for
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from api.auth import Unauthorized, api_blueprint, require_actor, secured
from cases import dossier
from cases.models import Case
from pingxuan.clock import today
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError, Invalid, NotFound
from pingxuan.httpcache import private
from pingxuan.i18n import pick
from pingxuan.net import client_address
from voting import abuse, captcha, sms
from voting import operations as ops
from voting.anomalies import CaseReport, campaign_report, case_report
from voting.ballots import invalidate, recount, votable_states, voting_open
from voting.showcase import public_case
from voting.voters import PURPOSES, VOTE, request_code, verify_code
from voting.window import close_vote, open_vote, reopen_vote

blp = api_blueprint("api_voting", __name__, "Public showcase and vote; organizers' vote controls")
blp.register_error_handler(429, abuse.too_many)


# Schemas -------------------------------------------------------------------------------------------------


class RefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class PhotoSchema(Schema):
    id = fields.Integer()
    url = fields.String(metadata={"description": "A JPEG at most 1200 px wide"})


class FinalistSchema(Schema):
    id = fields.Integer()
    number = fields.String(allow_none=True)
    title = fields.String()
    unit = fields.String()
    category = fields.Nested(RefSchema, allow_none=True)
    domain = fields.Nested(RefSchema, allow_none=True)
    votes = fields.Integer(allow_none=True, metadata={"description": "Null while the campaign hides counts"})
    photo = fields.String(allow_none=True, metadata={"description": "URL of the first photo"})
    url = fields.String(metadata={"description": "The public page (share link)"})


class PublicFieldSchema(Schema):
    key = fields.String(metadata={"description": "The field's key in the campaign's dossier form"})
    label = fields.String()
    type = fields.String(metadata={"description": "The field's type in the form (text, long_text, money, ...)"})
    value = fields.Raw(metadata={"description": "The value as JSON (decimal strings, ISO dates)"})
    text = fields.String(metadata={"description": "The value as the showcase prints it"})


class FinalistDetailSchema(FinalistSchema):
    teaser = fields.String(
        metadata={"description": "The text that sums the case up (the form's first public long text)"}
    )
    fields_ = fields.List(
        fields.Nested(PublicFieldSchema),
        data_key="fields",
        metadata={"description": "The public fields of the dossier the case fills, in the form's order"},
    )
    photos = fields.List(fields.Nested(PhotoSchema))
    vote_open = fields.Boolean()


class ShowcaseQuerySchema(Schema):
    category = fields.Integer()
    domain = fields.Integer()
    q = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "Title, unit, number or a public text of the dossier"},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=24, validate=validate.Range(min=1, max=100))


class ShowcasePageSchema(Schema):
    items = fields.List(fields.Nested(FinalistSchema))
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    counts_visible = fields.Boolean()


class CountsSchema(Schema):
    visible = fields.Boolean()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "Case id → votes"})


class PhoneSchema(Schema):
    phone = fields.String(required=True, metadata={"description": "A mainland mobile number, 11 digits"})


class CodeRequestSchema(PhoneSchema):
    purpose = fields.String(
        load_default=VOTE, validate=validate.OneOf(PURPOSES),
        metadata={"description": "What the number is verified for: the text says so (vote, objection)"},
    )  # fmt: skip


class DeliverySchema(Schema):
    message = fields.String()
    status = fields.String(metadata={"description": "queued, retrying, sent or failed"})
    delivery = fields.String(metadata={"description": "Ask GET /voters/deliveries/{delivery} for the outcome"})


class VerifySchema(PhoneSchema):
    code = fields.String(required=True)


class MessageSchema(Schema):
    message = fields.String()


class VoterTokenSchema(Schema):
    voter_token = fields.String(metadata={"description": "Send as X-Voter-Token when voting"})


class VoteSchema(Schema):
    count = fields.Integer(allow_none=True, metadata={"description": "The case's new count; null when hidden"})
    remaining_today = fields.Integer(metadata={"description": "Votes left today in this category"})
    message = fields.String()


class CaptchaParametersSchema(Schema):
    algorithm = fields.String(metadata={"description": "Key derivation: PBKDF2/SHA-256 (default) or another"})
    nonce = fields.String(metadata={"description": "Hex; the password is the nonce then the counter (uint32 BE)"})
    salt = fields.String(metadata={"description": "Hex; the key derivation's salt"})
    cost = fields.Integer(metadata={"description": "Iterations of the key derivation"})
    keyLength = fields.Integer(metadata={"description": "Bytes of the derived key"})  # noqa: N815 (ALTCHA's names)
    keyPrefix = fields.String(metadata={"description": "Hex the derived key must start with"})  # noqa: N815
    keySignature = fields.String()  # noqa: N815
    expiresAt = fields.Integer(metadata={"description": "Unix time after which a solution is refused"})  # noqa: N815


class CaptchaSchema(Schema):
    provider = fields.String(
        metadata={"description": "altcha (the default: solve the challenge below), tencent or aliyun (a cloud "
                  "captcha: show it with the ids below, then send its ticket as the payload)"}
    )  # fmt: skip
    parameters = fields.Nested(CaptchaParametersSchema, metadata={"description": "altcha only"})
    signature = fields.String(metadata={"description": "altcha only: our signature of the parameters"})
    app_id = fields.String(metadata={"description": "tencent: the CaptchaAppId for TencentCaptcha"})
    scene_id = fields.String(metadata={"description": "aliyun: the SceneId for initAliyunCaptcha"})
    prefix = fields.String(metadata={"description": "aliyun: the identity prefix for AliyunCaptchaConfig"})


class CaptchaAnswerSchema(Schema):
    payload = fields.String(
        required=True,
        validate=validate.Length(min=1, max=captcha.MAX_PAYLOAD),
        metadata={
            "description": 'altcha: the payload, base64 of the JSON {"challenge": <the challenge as received>, '
            '"solution": {"counter": n, "derivedKey": "<hex>"}}, as the widget puts in its '
            '``altcha`` field. tencent: the JSON {"ticket": ..., "randstr": ...} of the TencentCaptcha '
            "callback. aliyun: the captchaVerifyParam of the success callback. Each is accepted once, before it "
            "expires."
        },
    )


class CampaignQuerySchema(Schema):
    campaign = fields.Integer(metadata={"description": "Campaign id (default: the current campaign)"})


class VoteStatusSchema(Schema):
    campaign_id = fields.Integer()
    vote_status = fields.String()


class ReopenSchema(Schema):
    reason = fields.String(required=True, metadata={"description": "Why the vote is reopened; kept in the audit."})


class CaseReportSchema(Schema):
    case_id = fields.Integer()
    total = fields.Integer()
    usual_per_minute = fields.Float()
    bursts = fields.List(fields.List(fields.Raw()), metadata={"description": "[minute (RFC 3339), votes] pairs"})
    top_subnet_share = fields.Float()
    top_subnet_votes = fields.Integer()
    fast_voters = fields.Integer()
    suspicious_ballot_ids = fields.List(fields.Integer())
    flagged = fields.Boolean()


class InvalidateSchema(Schema):
    ballot_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1))
    reason = fields.String(required=True)


class InvalidatedSchema(Schema):
    invalidated = fields.Integer()


class DifferenceSchema(Schema):
    case_id = fields.Integer()
    live = fields.Integer()
    recounted = fields.Integer()


# Presentation --------------------------------------------------------------------------------------------


def _ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.id, "name": pick(obj, "name")}


def _photo_url(case_id: int, attachment_id: int) -> str:
    return url_for("showcase.photo", case_id=case_id, attachment_id=attachment_id, _external=True)


def _finalist(case: Case, votes: int | None, photos: list) -> dict[str, Any]:
    return {
        "id": case.id, "number": case.number, "title": case.title, "unit": case.unit.name,
        "category": _ref(case.category), "domain": _ref(case.domain), "votes": votes,
        "photo": _photo_url(case.id, photos[0].id) if photos else None,
        "url": url_for("showcase.case_page", case_id=case.id, _external=True),
    }  # fmt: skip


def _report(report: CaseReport) -> dict[str, Any]:
    return {
        "case_id": report.case.id, "total": report.total, "usual_per_minute": report.usual_per_minute,
        "bursts": [[m.replace(tzinfo=UTC).isoformat(), n] for m, n in report.bursts],
        "top_subnet_share": report.top_subnet_share,
        "top_subnet_votes": report.top_subnet_votes, "fast_voters": report.fast_voters,
        "suspicious_ballot_ids": report.suspicious_ballot_ids, "flagged": report.flagged,
    }  # fmt: skip


# Public showcase -----------------------------------------------------------------------------------------


@blp.route("/showcase", methods=["GET"])
@blp.arguments(ShowcaseQuerySchema, location="query")
@blp.response(200, ShowcasePageSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def list_finalists(args: dict[str, Any]):
    """Public cases of the current campaign, by category and domain, with search; counts when visible."""
    campaign = ops.showcase_campaign()
    page = ops.gallery(
        campaign, args.get("category"), args.get("domain"), args.get("q", ""), args["page"], args["per_page"]
    )
    ids = [c.id for c in page.cases]
    counts, photos = ops.visible_counts(campaign, ids), ops.photos(ids)
    items = [_finalist(c, counts[c.id] if counts is not None else None, photos[c.id]) for c in page.cases]
    return {"items": items, "total": page.total, "page": page.page, "pages": page.pages,
            "counts_visible": counts is not None}  # fmt: skip


@blp.route("/showcase/cases/<int:case_id>", methods=["GET"])
@blp.response(200, FinalistDetailSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def get_finalist(case_id: int):
    """One public case; any case the declaration does not make public is 404."""
    case = public_case(case_id)
    counts = ops.visible_counts(case.campaign, [case.id])
    photos = ops.photos([case.id])[case.id]
    campaign = case.campaign
    vote_open = case.state in votable_states() and not voting_open(
        (campaign.vote_status, campaign.vote_opens, campaign.vote_closes), today()
    )
    return {
        **_finalist(case, counts[case.id] if counts is not None else None, photos),
        "teaser": dossier.teaser(case),
        "fields_": [{"key": item.key, "label": item.label, "type": item.type, "text": text,
                     "value": dossier.as_json(dossier.value(case, item))}
                    for item, text in dossier.public_values(case)],
        "photos": [{"id": p.id, "url": _photo_url(case.id, p.id)} for p in photos], "vote_open": vote_open,
    }  # fmt: skip


@blp.route("/showcase/counts", methods=["GET"])
@blp.arguments(CampaignQuerySchema, location="query")
@blp.response(200, CountsSchema)
@secured(blp, public=True)
def get_counts(args: dict[str, Any]):
    """Live counts of every public case of the current campaign (empty and not visible while hidden)."""
    campaign = ops.showcase_campaign()
    ids = [c.id for c in ops.gallery(campaign, per_page=10_000).cases]
    counts = ops.visible_counts(campaign, ids)
    return {"visible": counts is not None, "counts": {str(k): v for k, v in (counts or {}).items()}}


# Voters and votes ----------------------------------------------------------------------------------------


@blp.route("/voters/code", methods=["POST"])
@blp.arguments(CodeRequestSchema)
@blp.response(202, DeliverySchema)
@blp.alt_response(409, "CONFLICT")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@blp.alt_response(429, "TOO_MANY_REQUESTS")
@blp.alt_response(503, "SERVICE_UNAVAILABLE")
@secured(blp, public=True)
@abuse.code_limits
def send_code(data: dict[str, Any]):
    """Text a one-time code to the number (at most once a minute per number). The text goes out after the
    answer; when the provider refuses it at once the answer says why (422 about the number, 503 ours)."""
    text = request_code(data["phone"], client_address(), data["purpose"])
    commit()
    refused = sms.refusal_error(text)
    if refused is not None:
        raise refused
    return {"message": "sent", "status": text.status, "delivery": sms.ticket(text)}


@blp.route("/voters/deliveries/<ticket>", methods=["GET"])
@blp.response(200, DeliverySchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def get_delivery(ticket: str):
    """Whether the text with the code went out, and what to tell the person when the provider refused it."""
    text = sms.by_ticket(ticket)
    if text is None:
        raise NotFound("No such text.")
    outcome = sms.delivery(text)
    return {"message": outcome.message, "status": outcome.status, "delivery": ticket}


@blp.route("/voters/verify", methods=["POST"])
@blp.arguments(VerifySchema)
@blp.response(200, VoterTokenSchema)
@blp.alt_response(429, "TOO_MANY_REQUESTS")
@secured(blp, public=True)
@abuse.check_limits
def verify(data: dict[str, Any]):
    """Check the code; on success returns a voter token (valid 30 days) to send as X-Voter-Token."""
    result = verify_code(data["phone"], data["code"])
    commit()  # a wrong code uses up an attempt
    if result.voter is None:
        raise Invalid(result.message, {"code": result.message})
    return {"voter_token": ops.voter_token(result.voter.id)}


@blp.route("/showcase/cases/<int:case_id>/vote", methods=["POST"])
@blp.response(200, VoteSchema)
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT")
@blp.alt_response(429, "TOO_MANY_REQUESTS")
@blp.doc(parameters=[{"in": "header", "name": abuse.VOTER_HEADER, "required": True, "schema": {"type": "string"}}])
@secured(blp, public=True)
@abuse.vote_limits
def vote(case_id: int):
    """Vote for a case: 409 with the reason when the voter already voted for it today, used the category's
    daily votes, or the vote is closed."""
    voter_id = ops.voter_from_token(request.headers.get(abuse.VOTER_HEADER))
    if voter_id is None:
        raise Unauthorized(_("Verify a mobile number first and send its voter token as X-Voter-Token."))
    try:
        result, visible = ops.cast_public_vote(
            voter_id, case_id, client_address(), request.user_agent.string, request.referrer
        )
        commit()
    except DomainError:
        rollback()
        raise
    message = _("Thank you for your vote. Votes left today in this category: %(n)d.", n=result.remaining_today)
    return {"count": result.count if visible else None, "remaining_today": result.remaining_today, "message": message}


def _uncached(view: Callable) -> Callable:
    """Each caller's own answer (a fresh challenge): never stored by a cache."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        return private(make_response(view(*args, **kwargs)))

    return wrapper


@blp.route("/captcha", methods=["GET"])
@_uncached
@blp.response(200, CaptchaSchema)
@secured(blp, public=True)
def get_captcha():
    """A new ALTCHA challenge: find the counter whose derived key starts with ``keyPrefix`` (signed, expires; the
    widget's ``challenge`` attribute can point here). With a cloud captcha configured: which one, and its ids."""
    settings = captcha.page_settings()
    if settings["provider"] != "altcha":
        return settings
    return {"provider": "altcha", **captcha.new_challenge()}


@blp.route("/captcha", methods=["POST"])
@blp.arguments(CaptchaAnswerSchema)
@blp.response(204)
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp, public=True)
def answer_captcha(data: dict[str, Any]):
    """Send a solved ALTCHA challenge: a valid one lets one vote from this address past the per-address limit
    (a single-use pass kept server-side; the session cookie carries only its id). A payload is accepted once."""
    if not captcha.solve(data["payload"]):
        message = _("The check did not succeed, has expired or was already used. Ask for a new challenge.")
        raise Invalid(message, {"payload": message})


# Organizers ----------------------------------------------------------------------------------------------


@blp.route("/campaigns/<int:campaign_id>/vote/open", methods=["POST"])
@blp.response(200, VoteStatusSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def open_campaign_vote(campaign_id: int):
    """Open the public vote of a campaign (staff only)."""
    actor = require_actor()
    campaign = open_vote(ops.staff_campaign(campaign_id, actor), actor)
    commit()
    return {"campaign_id": campaign.id, "vote_status": campaign.vote_status}


@blp.route("/campaigns/<int:campaign_id>/vote/close", methods=["POST"])
@blp.response(200, VoteStatusSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def close_campaign_vote(campaign_id: int):
    """Close the public vote of a campaign; its ballots are frozen (staff only)."""
    actor = require_actor()
    campaign = close_vote(ops.staff_campaign(campaign_id, actor), actor)
    commit()
    return {"campaign_id": campaign.id, "vote_status": campaign.vote_status}


@blp.route("/campaigns/<int:campaign_id>/vote/reopen", methods=["POST"])
@blp.arguments(ReopenSchema)
@blp.response(200, VoteStatusSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(409, "CONFLICT")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def reopen_campaign_vote(data: dict, campaign_id: int):
    """Reopen a closed vote (closed by mistake or too early), with a reason kept in the audit; refused once awards
    are proposed on its result or after its window has ended (staff only)."""
    actor = require_actor()
    campaign = reopen_vote(ops.staff_campaign(campaign_id, actor), actor, data["reason"])
    commit()
    return {"campaign_id": campaign.id, "vote_status": campaign.vote_status}


@blp.route("/campaigns/<int:campaign_id>/vote/anomalies", methods=["GET"])
@blp.response(200, CaseReportSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def campaign_anomalies(campaign_id: int):
    """The anomaly report of every case with ballots, flagged cases first (staff only)."""
    campaign = ops.staff_campaign(campaign_id, require_actor())
    return [_report(r) for r in campaign_report(campaign.id)]


@blp.route("/cases/<int:case_id>/vote/anomalies", methods=["GET"])
@blp.response(200, CaseReportSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def case_anomalies(case_id: int):
    """One case's anomaly report: bursts, crowded subnet, too-fast voters, suspicious ballots (staff only)."""
    return _report(case_report(ops.staff_case(case_id, require_actor())))


@blp.route("/ballots/invalidate", methods=["POST"])
@blp.arguments(InvalidateSchema)
@blp.response(200, InvalidatedSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def invalidate_ballots(data: dict[str, Any]):
    """Invalidate ballots with a reason: kept and audited, never deleted; the counts follow (staff only)."""
    n = invalidate(data["ballot_ids"], require_actor(), data["reason"])
    commit()
    return {"invalidated": n}


@blp.route("/campaigns/<int:campaign_id>/vote/recount", methods=["POST"])
@blp.response(200, DifferenceSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def recount_campaign(campaign_id: int):
    """Recount the campaign's valid ballots and list differences with the live counts (there must be none)."""
    campaign = ops.staff_campaign(campaign_id, require_actor())
    differences = recount(campaign)
    rollback()
    return [{"case_id": d.case_id, "live": d.live, "recounted": d.recounted} for d in differences]
