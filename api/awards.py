"""Awards: final ranking and award confirmation, organization awards, certificate batches, downloads,
public verification and results."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from api.auth import api_blueprint, require_actor, secured
from api.cases import _Parser
from api.endpoints import found, refusals, staff
from api.fields import FileUpload, UtcDateTime
from awards import certificates, publication
from awards.decisions import award_refusals, confirm_awards
from awards.models import Certificate, CertificateBatch
from awards.organizations import confer, conferred, participation
from awards.ranking import CONFIRM, PROPOSE, Ranked, category_ranking, decided_ranking
from campaigns.models import Campaign, Category
from campaigns.operations import campaign_of_year
from pingxuan import storage
from pingxuan.db import commit
from pingxuan.httpcache import public
from pingxuan.i18n import pick

blp = api_blueprint("api_awards", __name__, "Awards: final ranking, organization awards, certificates, results")
blp.ARGUMENTS_PARSER = _Parser()
blp.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**blp.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "form_and_files": "multipart/form-data"}  # fmt: skip
BINARY = {"type": "string", "format": "binary"}


# Schemas ------------------------------------------------------------------------------------------------


class RankedSchema(Schema):
    rank = fields.Integer()
    case_id = fields.Integer()
    number = fields.String(allow_none=True)
    title = fields.String()
    unit = fields.String()
    expert_score = fields.Float(metadata={"description": "Mean normalized expert score, 0..100"})
    votes = fields.Integer(metadata={"description": "Valid public votes"})
    vote_score = fields.Float(metadata={"description": "Votes relative to the category's leader (leader = 100)"})
    final = fields.Float(metadata={"description": "expert weight × expert score + public weight × vote score"})
    state = fields.String()
    within_cut = fields.Boolean(metadata={"description": "Awarded at the previewed cut (or awarded, once decided)"})


class FinalRankingSchema(Schema):
    category_id = fields.Integer()
    category = fields.String()
    expert_weight = fields.Integer()
    public_weight = fields.Integer()
    size = fields.Integer(metadata={"description": "The cut previewed (default: the campaign's awards per category)"})
    decided = fields.Boolean(metadata={"description": "True once the award decision has been confirmed"})
    refusals = fields.List(fields.String(), metadata={"description": "Why confirming is refused now, if it is"})
    entries = fields.List(fields.Nested(RankedSchema))


class RankingQuerySchema(Schema):
    n = fields.Integer(validate=validate.Range(min=1), metadata={"description": "Preview the cut at n"})


class ConfirmSchema(Schema):
    size = fields.Integer(metadata={"description": "How many to award (default: the campaign's awards per category)"})


class ParticipationSchema(Schema):
    organization_id = fields.Integer()
    organization = fields.String()
    submitted = fields.Integer()
    eligible = fields.Integer()
    shortlisted = fields.Integer()
    awarded = fields.Integer()
    conferred = fields.Boolean()


class ConferSchema(Schema):
    organization_ids = fields.List(fields.Integer(), required=True)


class OrganizationAwardSchema(Schema):
    id = fields.Integer()
    organization_id = fields.Integer()
    organization = fields.String()


class CertificateSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    status = fields.String(metadata={"description": "pending, issued, failed or superseded"})
    error = fields.String(allow_none=True)
    content = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "What is printed"})
    issued_on = fields.Date()
    case_id = fields.Integer(allow_none=True)
    batch_id = fields.Integer(allow_none=True)
    supersedes_id = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True, metadata={"description": "SHA-256 of the issued PDF"})
    verify_url = fields.String()


class BatchProgressSchema(Schema):
    total = fields.Integer()
    issued = fields.Integer()
    failed = fields.Integer()
    pending = fields.Integer()
    percent = fields.Integer()
    finished = fields.Boolean()


class BatchSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    created_at = UtcDateTime()
    progress = fields.Nested(BatchProgressSchema)
    certificates = fields.List(fields.Nested(CertificateSchema))


class ReissueSchema(Schema):
    title = fields.String()
    recipient = fields.String()
    award_name = fields.String()


class VerifyQuerySchema(Schema):
    s = fields.String(metadata={"description": "The verification code printed in the QR code's link"})


class VerifyUploadSchema(Schema):
    file = FileUpload(required=True, metadata={"description": "The certificate's PDF"})


class PrintedSchema(Schema):
    number = fields.String()
    issued_on = fields.Date()
    content = fields.Dict(keys=fields.String(), values=fields.String())


class VerificationSchema(Schema):
    valid = fields.Boolean()
    message = fields.String()
    certificate = fields.Nested(PrintedSchema, allow_none=True, metadata={"description": "Only when genuine"})


class ResultCaseSchema(Schema):
    rank = fields.Integer()
    case_id = fields.Integer()
    number = fields.String(allow_none=True)
    title = fields.String()
    unit = fields.String()


class ResultCategorySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    award = fields.String()
    cases = fields.List(fields.Nested(ResultCaseSchema))


class ResultObjectionsSchema(Schema):
    lodged = fields.Integer(metadata={"description": "Objections lodged during the notice"})
    upheld = fields.Integer()
    dismissed = fields.Integer()
    open = fields.Integer(metadata={"description": "Not decided yet when the results were published"})


class ResultChangeSchema(Schema):
    category_id = fields.Integer()
    revoked_number = fields.String(allow_none=True, metadata={"description": "The case an upheld objection revoked"})
    revoked_title = fields.String()
    moved_up_number = fields.String(allow_none=True, metadata={"description": "The case proposed in its place"})
    moved_up_title = fields.String(allow_none=True)


class ResultNoticeSchema(Schema):
    starts_on = fields.Date(allow_none=True, metadata={"description": "The public notice's first day"})
    ends_on = fields.Date(allow_none=True, metadata={"description": "Its last day"})
    objections = fields.Nested(ResultObjectionsSchema)
    changes = fields.List(fields.Nested(ResultChangeSchema), metadata={"description": "Awards an objection changed"})


class ResultsSchema(Schema):
    campaign_id = fields.Integer()
    campaign = fields.String()
    version = fields.Integer(allow_none=True, metadata={"description": "the published version (None: unpublished)"})
    sha256 = fields.String(allow_none=True, metadata={"description": "SHA-256 of the published content"})
    published_at = UtcDateTime(allow_none=True)
    categories = fields.List(fields.Nested(ResultCategorySchema))
    organizations = fields.List(fields.Nested(OrganizationAwardSchema))
    notice = fields.Nested(
        ResultNoticeSchema,
        allow_none=True,
        metadata={"description": "The public notice as /results shows it (null: none published)"},
    )


class PublicationSchema(Schema):
    version = fields.Integer()
    sha256 = fields.String(metadata={"description": "SHA-256 of the canonical JSON of the published content"})
    reason = fields.String()
    published_by = fields.String(metadata={"description": "Who published it (empty: made by the system)"})
    published_at = UtcDateTime()
    current = fields.Boolean(metadata={"description": "The version the public pages show"})


class PublishSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=500),
                           metadata={"description": "Why (shown to organizers beside the version)"})  # fmt: skip


class ResultsQuerySchema(Schema):
    year = fields.Integer(metadata={"description": "The campaign's year (default: the current campaign)"})


# Presentation -------------------------------------------------------------------------------------------


def _ranked(entry: Ranked, within: bool) -> dict[str, Any]:
    case = entry.case
    return {
        "rank": entry.rank, "case_id": case.id, "number": case.number, "title": case.title, "unit": case.unit.name,
        "expert_score": entry.expert_score, "votes": entry.votes, "vote_score": entry.vote_score,
        "final": entry.final, "state": case.state, "within_cut": within,
    }  # fmt: skip


def _ranking(category: Category, size: int | None) -> dict[str, Any]:
    campaign = category.campaign
    waiting = category_ranking(campaign, category)
    size = size or campaign.awards_per_category
    if waiting:
        entries = [_ranked(r, r.rank <= size) for r in waiting]
    else:
        chosen = (PROPOSE.dest, CONFIRM.dest)
        entries = [_ranked(r, r.case.state in chosen) for r in decided_ranking(campaign, category)]
    return {
        "category_id": category.id, "category": pick(category, "name"), "expert_weight": campaign.expert_weight,
        "public_weight": campaign.public_weight, "size": size, "decided": not waiting and bool(entries),
        "refusals": award_refusals(waiting, require_actor()), "entries": entries,
    }  # fmt: skip


def _certificate(c: Certificate) -> dict[str, Any]:
    return {
        "id": c.id, "number": c.number, "kind": c.kind, "status": c.status, "error": c.error, "content": c.content,
        "issued_on": c.issued_on, "case_id": c.case_id, "batch_id": c.batch_id, "supersedes_id": c.supersedes_id,
        "sha256": c.sha256, "verify_url": certificates.verify_url(c),
    }  # fmt: skip


def _batch(batch: CertificateBatch) -> dict[str, Any]:
    p = certificates.progress(batch)
    return {
        "id": batch.id, "campaign_id": batch.campaign_id, "created_at": batch.created_at,
        "progress": {"total": p.total, "issued": p.issued, "failed": p.failed, "pending": p.pending,
                     "percent": p.percent, "finished": p.finished},
        "certificates": [_certificate(c) for c in batch.certificates],
    }  # fmt: skip


def _verification(result: certificates.Verification) -> dict[str, Any]:
    printed = None
    if result.valid and result.certificate is not None:
        c = result.certificate
        printed = {"number": c.number, "issued_on": c.issued_on, "content": c.content}
    return {"valid": result.valid, "message": result.message, "certificate": printed}


def _publication(snapshot: Any, published_by: str, current: bool) -> dict[str, Any]:
    return {"version": snapshot.version, "sha256": snapshot.content_hash, "reason": snapshot.reason,
            "published_by": published_by, "published_at": snapshot.published_at, "current": current}  # fmt: skip


# Ranking and awards -------------------------------------------------------------------------------------


@blp.route("/categories/<int:category_id>/final-ranking", methods=["GET"])
@blp.arguments(RankingQuerySchema, location="query")
@blp.response(200, FinalRankingSchema)
@refusals(blp, 403, 404)
@secured(blp)
def final_ranking(args: dict[str, Any], category_id: int):
    """The finalists of a category ranked with every component, the cut previewed at n (organizers)."""
    staff()
    return _ranking(found(Category, category_id, _("No such category.")), args.get("n"))


@blp.route("/categories/<int:category_id>/awards", methods=["POST"])
@blp.arguments(ConfirmSchema)
@blp.response(200, FinalRankingSchema)
@refusals(blp, 403, 404, 422)
@blp.alt_response(409, "CONFLICT", description="Already confirmed: a repeated request changes nothing")
@secured(blp)
def confirm(data: dict[str, Any], category_id: int):
    """Award the top N (the others are not awarded); refused while the public vote is open."""
    category = found(Category, category_id, _("No such category."))
    confirm_awards(category.campaign, category, require_actor(), data.get("size"))
    commit()
    return _ranking(category, data.get("size"))


@blp.route("/campaigns/<int:campaign_id>/organization-participation", methods=["GET"])
@blp.response(200, ParticipationSchema(many=True))
@refusals(blp, 403, 404)
@secured(blp)
def organization_participation(campaign_id: int):
    """Submitted, eligible, shortlisted and awarded cases per recommending organization (organizers)."""
    staff()
    campaign = found(Campaign, campaign_id, _("No such campaign."))
    return [
        {"organization_id": p.organization.id, "organization": pick(p.organization, "name"), "submitted": p.submitted,
         "eligible": p.eligible, "shortlisted": p.shortlisted, "awarded": p.awarded, "conferred": p.conferred}
        for p in participation(campaign)
    ]  # fmt: skip


@blp.route("/campaigns/<int:campaign_id>/organization-awards", methods=["POST"])
@blp.arguments(ConferSchema)
@blp.response(200, OrganizationAwardSchema(many=True))
@refusals(blp, 403, 404, 422)
@blp.alt_response(409, "CONFLICT", description="Already confirmed: a repeated request changes nothing")
@secured(blp)
def confer_awards(data: dict[str, Any], campaign_id: int):
    """Confer organization awards, at most the campaign's number in all; returns every conferred award."""
    campaign = found(Campaign, campaign_id, _("No such campaign."))
    confer(campaign, require_actor(), data["organization_ids"])
    commit()
    return [{"id": a.id, "organization_id": a.organization_id, "organization": pick(a.organization, "name")}
            for a in conferred(campaign)]  # fmt: skip


@blp.route("/campaigns/<int:campaign_id>/result-publications", methods=["GET"])
@blp.response(200, PublicationSchema(many=True))
@refusals(blp, 403, 404)
@secured(blp)
def result_publications(campaign_id: int):
    """Every published version of the campaign's results, newest first (organizers); none is ever changed."""
    staff()
    history = publication.history(found(Campaign, campaign_id, _("No such campaign.")))
    return [_publication(snapshot, name, i == 0) for i, (snapshot, name) in enumerate(history)]


@blp.route("/campaigns/<int:campaign_id>/result-publications", methods=["POST"])
@blp.arguments(PublishSchema)
@blp.response(201, PublicationSchema)
@refusals(blp, 403, 404)
@blp.alt_response(409, "CONFLICT", description="Nothing public has changed since the newest version")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY", description="No category's awards are decided yet")
@secured(blp)
def publish_results(data: dict[str, Any], campaign_id: int):
    """Publish the results now: the next version, which /results, its files and verification then show."""
    actor = require_actor()
    snapshot = publication.publish_by_hand(found(Campaign, campaign_id, _("No such campaign.")), actor, data["reason"])
    commit()
    return _publication(snapshot, actor.name, True)


# Certificates -------------------------------------------------------------------------------------------


@blp.route("/campaigns/<int:campaign_id>/certificate-batches", methods=["POST"])
@blp.response(201, BatchSchema)
@refusals(blp, 403, 404, 422)
@secured(blp)
def start_batch(campaign_id: int):
    """Issue the campaign's missing certificates: one rendering task each; poll the batch for progress."""
    campaign = found(Campaign, campaign_id, _("No such campaign."))
    batch = certificates.issue_batch(campaign, require_actor())
    commit()
    return _batch(batch)


@blp.route("/certificate-batches/<int:batch_id>", methods=["GET"])
@blp.response(200, BatchSchema)
@refusals(blp, 403, 404)
@secured(blp)
def batch_progress(batch_id: int):
    """A batch's progress and its certificates, failures with their error."""
    staff()
    return _batch(found(CertificateBatch, batch_id, _("No such batch.")))


@blp.route("/certificate-batches/<int:batch_id>/zip", methods=["GET"])
@refusals(blp, 403, 404)
@blp.alt_response(200, schema=BINARY, content_type="application/zip", description="The PDFs", success=True)
@secured(blp)
def batch_zip(batch_id: int):
    """Every issued certificate of the batch as one ZIP."""
    staff()
    batch = found(CertificateBatch, batch_id, _("No such batch."))
    return storage.send(certificates.batch_zip(batch), "application/zip", f"certificates-batch-{batch.id}.zip")


@blp.route("/certificates/<int:certificate_id>/retry", methods=["POST"])
@blp.response(200, CertificateSchema)
@refusals(blp, 403, 404, 409)
@secured(blp)
def retry(certificate_id: int):
    """Queue a failed certificate again."""
    actor = staff()
    certificate = certificates.retry(certificates.get_certificate(certificate_id, actor), actor)
    commit()
    return _certificate(certificate)


@blp.route("/certificates/<int:certificate_id>/reissue", methods=["POST"])
@blp.arguments(ReissueSchema)
@blp.response(201, CertificateSchema)
@refusals(blp, 403, 404, 409, 422)
@secured(blp)
def reissue(data: dict[str, Any], certificate_id: int):
    """Correct an issued certificate: a new number and file; the old one is kept, superseded."""
    actor = staff()
    replacement = certificates.reissue(certificates.get_certificate(certificate_id, actor), actor, data)
    commit()
    return _certificate(replacement)


@blp.route("/certificates/<int:certificate_id>/pdf", methods=["GET"])
@blp.alt_response(200, schema=BINARY, content_type="application/pdf", description="The PDF", success=True)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def download(certificate_id: int):
    """A certificate's PDF: organizers any, an applicant unit its own (anything else is not found)."""
    certificate = certificates.get_certificate(certificate_id, require_actor())
    return storage.send(certificates.stored_pdf(certificate), "application/pdf", f"{certificate.number}.pdf")


# Public -------------------------------------------------------------------------------------------------


@blp.route("/verify/<number>", methods=["GET"])
@public(max_age=300)
@blp.arguments(VerifyQuerySchema, location="query")
@blp.response(200, VerificationSchema)
@secured(blp, public=True)
def verify_number(args: dict[str, Any], number: str):
    """Is this a genuine certificate? The printed content comes back only when it is."""
    return _verification(certificates.verify(number, args.get("s")))


@blp.route("/verify", methods=["POST"])
@blp.arguments(VerifyUploadSchema, location="form_and_files")
@blp.response(200, VerificationSchema)
@secured(blp, public=True)
def verify_upload(form: dict[str, Any]):
    """Is this PDF byte for byte a certificate that was issued?"""
    return _verification(certificates.verify_file(form["file"].read()))


@blp.route("/results", methods=["GET"])
@public(max_age=300)  # the newest publication: the same for every caller
@blp.arguments(ResultsQuerySchema, location="query")
@blp.response(200, ResultsSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def public_results(args: dict[str, Any]):
    """The awarded cases of each category in rank order, and the organization awards."""
    campaign = campaign_of_year(args.get("year"))
    published = publication.latest(campaign.id)
    data = published.data if published is not None else {"categories": [], "organizations": []}
    return {
        "campaign_id": campaign.id, "campaign": pick(campaign, "title"),
        "version": published.version if published else None, "sha256": published.content_hash if published else None,
        "published_at": published.published_at if published else None,
        "categories": [
            {"id": c["id"], "name": pick(SimpleNamespace(**c), "name"), "award": pick(SimpleNamespace(**c), "award"),
             "cases": [{"rank": e["rank"], "case_id": e["case_id"], "number": e["number"], "title": e["title"],
                        "unit": e["unit"]} for e in c["entries"]]}
            for c in data["categories"]
        ],
        "organizations": [{"id": o["id"], "organization_id": o["organization_id"],
                           "organization": pick(SimpleNamespace(**o), "name")} for o in data["organizations"]],
        "notice": _published_notice(data.get("notice")),
    }  # fmt: skip


def _published_notice(figures: dict[str, Any] | None) -> dict[str, Any] | None:
    """The notice's dates and objection counts of a publication, as its results page shows them."""
    if not figures or not figures.get("starts_on"):
        return None
    lodged, upheld, dismissed = figures["objections"], figures["upheld"], figures["dismissed"]
    return {
        "starts_on": date.fromisoformat(figures["starts_on"]),
        "ends_on": date.fromisoformat(figures["ends_on"]) if figures.get("ends_on") else None,
        "changes": figures.get("changes", []),
        "objections": {"lodged": lodged, "upheld": upheld, "dismissed": dismissed,
                       "open": max(0, lodged - upheld - dismissed)},
    }  # fmt: skip
