"""Public award pages (results, certificate verification) and the applicant's certificate download."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.models import User
from awards import certificates, export
from awards.organizations import conferred
from awards.ranking import results as ranked_results
from campaigns.models import Campaign
from cases.models import Case
from cases.operations import current_campaign
from pingxuan.errors import NotFound
from pingxuan.extensions import db, limiter
from workflow.roles import is_authenticated

bp = Blueprint("awards", __name__, template_folder="templates")

# The showcase blueprint (voting engineer) may name its case page one of these; else the case page is public.
SHOWCASE_ENDPOINTS = ("showcase.case_page", "showcase.case")


def _actor() -> User | None:
    user = current_user._get_current_object() if current_user else None
    return user if is_authenticated(user) else None


def case_url(case: Case) -> str:
    """Where the public reads an awarded case: the showcase page when it exists, else the (public) case page."""
    for endpoint in SHOWCASE_ENDPOINTS:
        if endpoint in current_app.view_functions:
            return url_for(endpoint, case_id=case.id)
    return url_for("cases.detail", case_id=case.id)


def _campaign() -> Campaign:
    year = request.args.get("year", type=int)
    if year:
        campaign = db.session.scalar(select(Campaign).where(Campaign.year == year))
        if campaign is None:
            raise NotFound(_("No such campaign."))
        return campaign
    return current_campaign()


@bp.app_context_processor
def _helpers() -> dict:
    def my_certificates() -> list:
        user = _actor()
        if user is None or user.unit is None:
            return []
        return certificates.certificates_of_unit(user.unit)

    return {"my_certificates": my_certificates}


@bp.get("/results")
def results():
    campaign = _campaign()
    return render_template(
        "awards/results.html",
        campaign=campaign,
        categories=ranked_results(campaign),
        organizations=conferred(campaign),
        case_url=case_url,
    )


@bp.get("/results.csv")
def results_csv():
    campaign = _campaign()
    return send_file(
        BytesIO(export.to_csv(campaign, full=False)),
        mimetype="text/csv; charset=utf-8",
        as_attachment=True,
        download_name=f"results-{campaign.year}.csv",
    )


@bp.get("/verify")
def verify_form():
    number = (request.args.get("number") or "").strip()
    if number:
        return verify(number)
    return render_template("awards/verify.html", result=None, number="", file_result=None)


@bp.get("/verify/<number>")
def verify(number: str):
    result = certificates.verify(number, request.args.get("s"))
    return render_template("awards/verify.html", result=result, number=number, file_result=None)


@bp.post("/verify")
@limiter.limit("30 per minute")
def verify_upload():
    upload = request.files.get("file")
    data = upload.read() if upload is not None else b""
    file_result = certificates.verify_file(data) if data else None
    missing = _("Choose the PDF file to check.") if not data else None
    return render_template(
        "awards/verify.html", result=None, number="", file_result=file_result, missing=missing
    ), 200 if data else 422


@bp.get("/my-certificates/<int:certificate_id>.pdf")
@login_required
def download(certificate_id: int):
    """An applicant's own certificate (staff may download any); anything else is not found."""
    certificate = certificates.get_certificate(certificate_id, _actor())
    return send_file(
        BytesIO(certificates.pdf_of(certificate)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{certificate.number}.pdf",
        etag=certificate.sha256,
    )
