"""Pages of applicant units: their cases, the case page with its timeline and buttons, the dossier form."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields import SelectChoice

from awards import objections
from campaigns.operations import organizations
from cases import operations as ops
from cases import versions as dossier_versions
from cases.dossier import form_of as dossier_form
from cases.models import PUBLIC_FILE, Case
from forms import show_errors
from forms.accounts import ConfirmForm
from forms.cases import AttachmentForm, CaseForm, TransitionForm, case_form
from notifications.operations import list_notifications, unread_count
from pingxuan import clock, storage
from pingxuan.clock import today
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError, NotFound
from pingxuan.extensions import db
from workflow.definition import APPLICANT, EDIT, TIMELINE_ENTRIES, VERSIONS
from workflow.engine import options
from workflow.history import asked_of_unit, decision_for_unit, timeline
from workflow.roles import has_permission
from workflow.worklists import own_cases_query

bp = Blueprint("cases", __name__, template_folder="templates")


@bp.app_template_global()
def visibility_label(visibility: str) -> str:
    return str(ops.VISIBILITY_LABELS.get(visibility, visibility))


@bp.app_template_global()
def today_iso() -> str:
    return today().isoformat()


@bp.app_template_global()
def days_left(day: date) -> int:
    """Days from today to ``day`` in the campaign's zone: 0 on the day itself, negative once it has passed."""
    return clock.days_left(day)


def _current_campaign():
    try:
        return ops.current_campaign()
    except NotFound:
        return None


@bp.get("/my-cases")
@login_required
def my_cases():
    cases = db.session.scalars(own_cases_query(current_user)).all()
    campaign = _current_campaign()
    rows = [(case, options(case, current_user)) for case in cases]
    return render_template(
        "cases/my_cases.html",
        rows=[row for row in rows if campaign is not None and row[0].campaign_id == campaign.id],
        earlier=_by_campaign([row for row in rows if campaign is None or row[0].campaign_id != campaign.id]),
        awaiting=objections.awaiting_unit_answer(current_user, list(cases)),
        grounds=objections.GROUNDS,
        campaign=campaign,
        unread=unread_count(current_user),
        notifications=list_notifications(current_user, limit=5),
        button_form=TransitionForm(),
        can_create=current_user.unit_id is not None and current_user.role == APPLICANT,
        has_edit=lambda case: has_permission(current_user, case, EDIT),
    )


def _load(case_id: int, permission: str = "view") -> Case:
    """The case if the person may see it; a logged-out visitor is sent to log in instead of a 404."""
    try:
        return ops.get_case(case_id, current_user, permission)
    except NotFound:
        if not current_user.is_authenticated:
            raise _LoginFirst() from None
        raise


def _by_campaign(rows: list) -> list[tuple]:
    """Rows of earlier campaigns under their own campaign, the latest first: (campaign, rows)."""
    groups: dict[int, tuple] = {}
    for case, opts in rows:
        groups.setdefault(case.campaign_id, (case.campaign, []))[1].append((case, opts))
    return sorted(groups.values(), key=lambda group: group[0].year, reverse=True)


class _LoginFirst(Exception):
    pass


@bp.errorhandler(_LoginFirst)
def _login_first(_error):
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


@bp.get("/cases/<int:case_id>")
def detail(case_id: int):
    case = _load(case_id)
    return render_template(
        "cases/detail.html",
        case=case,
        asked=asked_of_unit(case, current_user),
        decision=decision_for_unit(case, current_user),
        awaiting=objections.awaiting_unit_answer(current_user, [case]),
        grounds=objections.GROUNDS,
        rows=ops.dossier_rows(case),
        attachments=ops.visible_attachments(case, current_user),
        insider=ops.sees_private_files(current_user, case),
        events=timeline(case, current_user),
        options=options(case, current_user),
        can_edit=has_permission(current_user, case, EDIT),
        form=TransitionForm(),
        transitions=TIMELINE_ENTRIES,
        versions=dossier_versions.versions(case) if has_permission(current_user, case, VERSIONS) else None,
    )


@bp.get("/cases/<int:case_id>/versions")
def versions(case_id: int):
    """The dossier's versions and the diff of two of them: by default the newest against the one before."""
    case = _load(case_id, VERSIONS)
    found = dossier_versions.versions(case)
    newest = found[-1].number if found else 0
    new = request.args.get("to", type=int, default=newest)
    old = request.args.get("from", type=int, default=new - 1)
    diff = dossier_versions.compare(case, old, new) if old >= 1 else None
    return render_template(
        "cases/versions.html",
        case=case,
        versions=found,
        diff=diff,
        old=old,
        new=new,
        transitions=TIMELINE_ENTRIES,
        attachment_labels=dossier_versions.ATTACHMENT_CHANGES,
    )


def _upload_form(case: Case | None, **kwargs) -> AttachmentForm:
    """The upload form with the file slots the case's form declares. A new case's page carries it inside the
    dossier's form (prefixed, under that form's CSRF token): its first file saves the draft."""
    if case is None:
        kwargs |= {"prefix": "upload", "meta": {"csrf": False}}
    upload = AttachmentForm(**kwargs)
    declaration = ops.form_of(case) if case is not None else dossier_form(ops.current_campaign())
    upload.kind.choices = [SelectChoice(slot.key, slot.label) for slot in declaration.file_slots]
    return upload


def _form_page(form: CaseForm, case: Case | None, status: int = 200, upload: AttachmentForm | None = None):
    campaign = case.campaign if case is not None else ops.current_campaign()
    form.set_choices(campaign, organizations())
    return render_template(
        "cases/edit.html",
        form=form,
        declaration=form.declaration,
        case=case,
        campaign=campaign,
        upload=upload or _upload_form(case, formdata=None),
        remove_form=ConfirmForm(formdata=None),
    ), status


def _refused(form, error: DomainError, upload: AttachmentForm | None = None) -> None:
    rollback()
    errors = dict(error.field_errors)
    leftover = []
    if upload is not None:  # the file's errors beside the file, the dossier's beside its fields
        leftover = show_errors(upload, {k: v for k, v in errors.items() if k in upload._fields})
        errors = {k: v for k, v in errors.items() if k not in upload._fields}
    leftover += show_errors(form, errors)
    flash(error.message, "error")
    for message in [*leftover, *error.reasons]:
        flash(message, "error")


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new():
    """A new draft; a file chosen on the page is attached as the draft is saved (it needs the title, as every
    draft does), so a unit may start with its documents."""
    form = case_form(dossier_form(ops.current_campaign()))
    upload = _upload_form(None)
    if form.validate_on_submit():
        uploaded = upload.file.data if getattr(upload.file.data, "filename", "") else None
        try:
            case = ops.create_case(current_user, form.dossier())
            if uploaded is not None:
                ops.attach_file(case, current_user, upload.kind.data or "", uploaded.filename, uploaded.read(),
                                upload.visibility.data or None)  # fmt: skip
        except DomainError as error:
            _refused(form, error, upload)
            return _form_page(form, None, error.status, upload)
        commit()
        flash(_("The draft is saved."), "success")
        if uploaded is not None:
            flash(_("The file “%(name)s” is attached.", name=uploaded.filename), "success")
            return redirect(url_for("cases.edit", case_id=case.id) + "#attachments")
        return redirect(url_for("cases.edit", case_id=case.id))
    return _form_page(form, None, upload=upload)


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int):
    case = _load(case_id, EDIT)
    form = case_form(ops.form_of(case))
    if form.validate_on_submit():
        try:
            ops.update_case(case, current_user, form.dossier(), form.expected_version())
        except DomainError as error:
            _refused(form, error)
            return _form_page(form, case, error.status)
        commit()
        flash(_("The draft is saved."), "success")
        return redirect(url_for("cases.edit", case_id=case.id))
    if not form.is_submitted():
        form.fill_from(case)
    return _form_page(form, case)


@bp.post("/cases/<int:case_id>/attachments")
@login_required
def upload(case_id: int):
    case = _load(case_id, EDIT)
    upload = _upload_form(case)
    if upload.validate_on_submit():
        uploaded = upload.file.data
        data = uploaded.read() if uploaded else b""
        try:
            ops.attach_file(case, current_user, upload.kind.data or "", getattr(uploaded, "filename", "") or "", data,
                            upload.visibility.data or None)  # fmt: skip
        except DomainError as error:
            _refused(upload, error)
            form = case_form(ops.form_of(case), formdata=None)
            form.fill_from(case)
            return _form_page(form, case, error.status, upload)
        commit()
        flash(_("The file “%(name)s” is attached.", name=uploaded.filename), "success")
    return redirect(url_for("cases.edit", case_id=case.id) + "#attachments")


@bp.post("/cases/<int:case_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove_attachment(case_id: int, attachment_id: int):
    case = _load(case_id, EDIT)
    if ConfirmForm().validate_on_submit():
        ops.remove_attachment(case, current_user, attachment_id)
        commit()
        flash(_("The attachment is removed."), "success")
    return redirect(url_for("cases.edit", case_id=case.id) + "#attachments")


@bp.post("/cases/<int:case_id>/attachments/<int:attachment_id>/visibility")
@login_required
def attachment_visibility(case_id: int, attachment_id: int):
    case = _load(case_id, EDIT)
    if ConfirmForm().validate_on_submit():
        try:
            record = ops.set_visibility(case, current_user, attachment_id, request.form.get("visibility", ""))
        except DomainError as error:
            rollback()
            flash(error.message, "error")
        else:
            commit()
            if record.visibility == PUBLIC_FILE:
                flash(_("“%(name)s” is now public.", name=record.filename), "success")
            else:
                flash(_("“%(name)s” is now private: only your unit, its reviewers and the office see it.",
                        name=record.filename), "success")  # fmt: skip
    return redirect(url_for("cases.edit", case_id=case.id) + "#attachments")


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
def attachment(case_id: int, attachment_id: int):
    """Serve a file only to people who may view its case and this file; never from a static folder. The public
    gets a picture as its copy without EXIF, and a private file is "not found" for it."""
    case = _load(case_id)
    served = ops.served_file(case, ops.get_attachment(case, attachment_id, current_user), current_user)
    response = storage.send(
        served.sha256, served.content_type, served.filename, as_attachment=request.args.get("download") is not None
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
