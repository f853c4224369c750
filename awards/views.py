"""Public award pages (results, certificate verification) and the applicant's certificate download."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.models import User
from accounts.permissions import require_staff
from awards import certificates, export, notice, objections, publication
from awards.models import OBJECTION_FORWARDED, OBJECTION_OPEN, OBJECTION_PENDING, Objection
from campaigns.models import Campaign
from campaigns.operations import campaign_of_year
from cases.models import Case
from pingxuan import storage
from pingxuan.cache import RESULTS, cached
from pingxuan.clock import day, today
from pingxuan.confirm import ask, confirmed
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError, Invalid, NotFound
from pingxuan.extensions import csrf, db, limiter
from pingxuan.httpcache import public
from pingxuan.i18n import is_english
from voting.abuse import current_voter_id, objection_limits
from voting.privacy import mask_phone
from voting.showcase import public_states
from voting.voters import OBJECTION, VERIFIED_NUMBER_KEY
from workflow.definition import STAFF
from workflow.roles import is_authenticated

bp = Blueprint("awards", __name__, template_folder="templates")


def _actor() -> User | None:
    user = current_user._get_current_object() if current_user else None
    return user if is_authenticated(user) else None


def _campaign() -> Campaign:
    return campaign_of_year(request.args.get("year", type=int))


@bp.app_context_processor
def _helpers() -> dict:
    def my_certificates() -> list:
        user = _actor()
        if user is None or user.unit is None:
            return []
        return certificates.certificates_of_unit(user.unit)

    return {"my_certificates": my_certificates, "objection_reference": objections.reference}


RESULTS_MAX_AGE = 300  # published results change only with a new publication, which refreshes the app's cache


def _published(campaign: Campaign) -> dict | None:
    return publication.published_view(publication.latest(campaign.id))


def _key() -> str:
    return f"{request.path}?{sorted(request.args.items(multi=True))}|{'en' if is_english() else 'zh'}"


def _stored(kind: str) -> publication.Served | None:
    """The newest publication's file as rendered when it was published (none for older publications)."""
    return publication.served(kind, "en" if is_english() else "zh", request.args.get("year", type=int))


def _send(stored: publication.Served, mimetype: str, download: str | None = None):
    response = current_app.response_class(stored.body, mimetype=mimetype)
    response.set_etag(stored.sha256)
    if download:
        response.headers["Content-Disposition"] = f"attachment; filename={download}"
    return response


@bp.get("/results")
@public(max_age=RESULTS_MAX_AGE)
def results():
    stored = _stored("page")
    if stored is not None:
        return _send(stored, "text/html; charset=utf-8")

    def build() -> str:
        campaign = _campaign()
        return publication.render_page(campaign, _published(campaign))

    return cached(RESULTS, _key(), build)


@bp.get("/results.csv")
@public(max_age=RESULTS_MAX_AGE)
def results_csv():
    stored = _stored("csv")
    if stored is not None:
        return _send(stored, "text/csv; charset=utf-8", f"results-{stored.year}.csv")
    campaign = _campaign()
    data = cached(RESULTS, _key(), lambda: publication.public_files(_published(campaign), is_english())[0])
    return send_file(BytesIO(data), mimetype="text/csv; charset=utf-8", as_attachment=True,
                     download_name=f"results-{campaign.year}.csv")  # fmt: skip


@bp.get("/results.xlsx")
@public(max_age=RESULTS_MAX_AGE)
def results_xlsx():
    stored = _stored("xlsx")
    if stored is not None:
        return _send(stored, export.XLSX, f"results-{stored.year}.xlsx")
    campaign = _campaign()
    data = cached(RESULTS, _key(), lambda: publication.public_files(_published(campaign), is_english())[1])
    return send_file(BytesIO(data), mimetype=export.XLSX, as_attachment=True,
                     download_name=f"results-{campaign.year}.xlsx")  # fmt: skip


@bp.get("/verify")
@public(max_age=RESULTS_MAX_AGE)
def verify_form():
    number = (request.args.get("number") or "").strip()
    if number:
        return _verify_page(number)
    return render_template("awards/verify.html", result=None, number="", file_result=None)


@bp.get("/verify/<number>")
@public(max_age=RESULTS_MAX_AGE)
def verify(number: str):
    return _verify_page(number)


def _verify_page(number: str) -> str:
    def build() -> str:
        result = certificates.verify(number, request.args.get("s"))
        return render_template("awards/verify.html", result=result, number=number, file_result=None)

    return cached(RESULTS, _key(), build)


@bp.post("/verify")
@limiter.limit("30 per minute")
@csrf.exempt  # reads only: checking a file changes nothing, and the form sits on a cached page without a token
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
    return storage.send(certificates.stored_pdf(certificate), "application/pdf", f"{certificate.number}.pdf")


# The public notice (公示) and objections ------------------------------------------------------------------


def _uploads() -> list[objections.Upload]:
    return [objections.Upload(f.filename or "file", f.read()) for f in request.files.getlist("files") if f.filename]


def _notice_page(campaign: Campaign):
    listing = notice.notice_listing(campaign)
    elsewhere = None if any(entries for _category, entries in listing) else notice.campaigns_in_notice(but=campaign)
    return render_template("awards/notice.html", campaign=campaign, listing=listing, elsewhere=elsewhere,
                           dossier_url=_dossier_url)  # fmt: skip


def _dossier_url(case: Case) -> str | None:
    """Where the public reads a case's dossier: its showcase page (every case in notice is public)."""
    return url_for("showcase.case_page", case_id=case.id) if case.state in public_states() else None


@bp.get("/notice")
def notice_page():
    """The public notice: the proposed cases per category with the notice's dates and the office's contact, each
    title opening the case's public dossier and leading to the form to object."""
    return _notice_page(_campaign())


def _carried_number() -> str | None:
    """The number this visitor verified to object, carried over so that the form need not ask for it again."""
    return objections.carried_number(current_voter_id(), session.get(VERIFIED_NUMBER_KEY))


def _objection_form(case: Case, errors: dict | None = None, message: str | None = None, status: int = 200):
    """The form to object to one case: the case and its dossier, the form's limits before any error, then either
    the way to verify a number (coming back here) or the form, with the verified number carried over."""
    number = _carried_number()
    here = url_for("awards.objection_form", case_id=case.id)
    errors = {k: v for k, v in (errors or {}).items() if k != "_"}
    return render_template(
        "awards/object.html", case=case, entry=notice.notice_of(case), closed=objections.objection_window_error(case),
        verified=current_voter_id() is not None, number=number, masked=mask_phone(number) if number else None,
        verify_url=url_for("showcase.verify", next=here, purpose=OBJECTION), dossier_url=_dossier_url(case),
        grounds=objections.GROUNDS, limits=objections.limits(), errors=errors, message=message,
        form=request.form if errors or message else {},
    ), status  # fmt: skip


def _case_in_notice(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or case.state not in public_states() or notice.notice_of(case) is None:
        raise NotFound(_("No such case."))
    return case


@bp.get("/notice/cases/<int:case_id>/objection")
def objection_form(case_id: int):
    return _objection_form(_case_in_notice(case_id))


@bp.post("/notice/cases/<int:case_id>/objections")
@objection_limits
def lodge(case_id: int):
    case = _case_in_notice(case_id)
    phone = request.form.get("phone", "").strip() or _carried_number() or ""
    try:
        lodged = objections.lodge_objection(case, current_voter_id(), phone, request.form.get("ground", ""),
                                            request.form.get("text", ""), anonymous=bool(request.form.get("anonymous")),
                                            uploads=_uploads())  # fmt: skip
        commit()
    except DomainError as error:
        rollback()
        return _objection_form(case, error.field_errors, error.message, error.status)
    session[LODGED_KEY] = lodged.id
    return redirect(url_for("awards.objection_lodged"))


LODGED_KEY = "lodged_objection"


@bp.get("/notice/objection-lodged")
def objection_lodged():
    """The confirmation: the reference number to quote, where the outcome will be sent. Only the visitor who
    lodged the objection sees it (its id is in their own session)."""
    objection_id = session.get(LODGED_KEY)
    objection = db.session.get(Objection, objection_id) if isinstance(objection_id, int) else None
    if objection is None:
        return redirect(url_for("awards.notice_page"))
    campaign = objection.case.campaign
    notice_url = url_for("awards.notice_page", year=None if campaign.is_current else campaign.year)
    return render_template("awards/objection_lodged.html", objection=objection, case=objection.case,
                           reference=objections.reference(objection), dossier_url=_dossier_url(objection.case),
                           notice_url=notice_url)  # fmt: skip


@bp.get("/notice/objections")
@login_required
def objection_list():
    """The office's objections of the current campaign, open ones first."""
    require_staff(_actor())
    campaign = _campaign()
    found = db.session.scalars(select(Objection).join(Case, Case.id == Objection.case_id)
                               .where(Case.campaign_id == campaign.id).order_by(Objection.id.desc())).all()  # fmt: skip
    return render_template("awards/objections.html", campaign=campaign, objections=found, grounds=objections.GROUNDS,
                           statuses=objections.STATUS_LABELS,
                           unnoticed=notice.unnoticed_proposed(campaign), notices=notice.notices(campaign),
                           period=notice.notice_period(campaign, today()))  # fmt: skip


def _publish_message(campaign: Campaign, cases: list, first, last) -> str:
    return ngettext("Publish the public notice of %(num)d proposed award: it runs from %(start)s to %(end)s "
                    "(%(days)d working days); anyone may object until it ends. A published notice cannot be withdrawn.",
                    "Publish the public notice of %(num)d proposed awards: it runs from %(start)s to %(end)s "
                    "(%(days)d working days); anyone may object until it ends. A published notice cannot be withdrawn.",
                    len(cases), start=day(first), end=day(last),
                    days=campaign.notice_working_days)  # fmt: skip


@bp.post("/notice/publish")
@login_required
def publish_notice():
    campaign = _campaign()
    category_id = request.form.get("category", type=int)
    category = next((c for c in campaign.categories if c.id == category_id), None)
    if not confirmed():
        listed = notice.unnoticed_proposed(campaign, category)
        first, last = notice.notice_period(campaign, today())
        return ask(_publish_message(campaign, listed, first, last), [f"{c.number} {c.title}" for c in listed],
                   url_for("awards.objection_list"))  # fmt: skip
    try:
        published = notice.publish_notice(campaign, _actor(), category)
        commit()
        flash(_("Public notice published: %(start)s to %(end)s.", start=day(published.starts_on),
                end=day(published.ends_on)), "success")  # fmt: skip
    except DomainError as error:
        rollback()
        flash(error.message, "error")
    return redirect(url_for("awards.objection_list"))


@bp.get("/objections/<int:objection_id>")
@login_required
def objection_page(objection_id: int):
    actor = _actor()
    objection = objections.visible_objection(objection_id, actor)
    staff = actor.role in STAFF
    return render_template("awards/objection.html", objection=objection, staff=staff, grounds=objections.GROUNDS,
                           objector=objections.objector_shown(objection, actor),
                           statuses=objections.STATUS_LABELS, open_status=OBJECTION_OPEN,
                           forwarded_status=OBJECTION_FORWARDED, pending=OBJECTION_PENDING,
                           next_case=objections.next_in_ranking(objection.case) if staff else None)  # fmt: skip


@bp.post("/objections/<int:objection_id>/<action>")
@login_required
def objection_action(objection_id: int, action: str):
    actor, form = _actor(), request.form
    objection = objections.visible_objection(objection_id, actor)
    try:
        if action == "forward":
            due = form.get("due") or ""
            try:
                due_date = date.fromisoformat(due) if due else None
            except ValueError:
                due_date = None
            objections.forward_objection(objection, actor, form.get("note", ""), due_date)
        elif action == "answer":
            objections.answer_objection(objection, actor, form.get("response", ""), _uploads())
        elif action == "decide":
            outcome = form.get("outcome")
            if outcome not in ("upheld", "dismissed"):  # no decision has a default outcome
                raise Invalid(_("Please correct the marked fields."), {"outcome": _("Choose uphold or dismiss.")})
            if form.get("reason", "").strip() and not confirmed():  # a missing reason is refused below
                message = (
                    _("Uphold the objection: the proposed award of %(case)s is revoked; the objector and the unit "
                      "are told. This cannot be undone.", case=objection.case.title)
                    if outcome == "upheld"
                    else _("Dismiss the objection: the proposed award of %(case)s stands; the objector is told. "
                           "This cannot be undone.", case=objection.case.title)
                )  # fmt: skip
                return ask(message, cancel_url=url_for("awards.objection_page", objection_id=objection.id))
            objections.decide_objection(objection, actor, form.get("outcome") == "upheld", form.get("reason", ""),
                                        move_up=bool(form.get("move_up")))  # fmt: skip
        else:
            raise NotFound(_("No such action."))
        commit()
        flash(_("Saved."), "success")
    except DomainError as error:
        rollback()
        flash(error.message, "error")
        for message in error.field_errors.values():
            flash(message, "error")
    return redirect(url_for("awards.objection_page", objection_id=objection.id))


@bp.get("/objections/<int:objection_id>/files/<int:file_id>")
@login_required
def objection_file(objection_id: int, file_id: int):
    actor = _actor()
    served = objections.served_file(objections.visible_objection(objection_id, actor), file_id, actor)
    return send_file(BytesIO(storage.read(served.sha256)), mimetype=served.content_type, download_name=served.filename)
