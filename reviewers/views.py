"""Pages of the eligibility check and the expert review, for organizers and for experts.

Thin handlers: load, check the person's role (operations raise Forbidden for the wrong one), call an operation
of cases.eligibility or reviewers.*, commit once, render. Every rule lives in those operations.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from accounts.permissions import require_expert, require_staff
from campaigns.models import Category
from cases.eligibility import (
    bulk_approve,
    decide_duplicate,
    duplicate_flags,
    open_duplicates,
    prechecks,
    return_for_revision,
)
from cases.models import Case
from cases.operations import current_campaign, dossier_rows, get_case
from cases.versions import current_numbers
from forms import int_or_none, show_errors
from forms.accounts import ConfirmForm
from forms.cases import TransitionForm
from forms.reviewers import (
    AdjustForm,
    BulkApproveForm,
    CommentForm,
    ExpertProfileForm,
    ImportForm,
    ProposeForm,
    ReasonForm,
    RespondForm,
    ReturnForm,
    ShortlistForm,
    review_form,
    score_field_name,
)
from pingxuan.confirm import ask, confirmed
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError, NotFound
from pingxuan.extensions import db
from pingxuan.i18n import pick
from reviewers import assignment as assigning
from reviewers import pool, progress, scoring, shortlist
from reviewers.aggregation import case_results
from reviewers.assignment import declare_conflict
from reviewers.conflicts import list_conflicts
from reviewers.models import (
    ACCEPTED,
    AUTO,
    DECLARED,
    DECLINED,
    DISMISSED,
    OPEN,
    PENDING,
    RELEASED,
    REPORTED,
    SUBMITTED,
    SUBMITTED_REVIEW,
    WAIVED,
    Expert,
)
from workflow.definition import TRANSITION_BY_NAME, WORKLIST_BY_NAME
from workflow.engine import fire, options
from workflow.worklists import worklist_query

bp = Blueprint("review_pages", __name__, template_folder="templates", url_prefix="/review")

RETURN = "return_for_revision"  # needs a due date: cases.eligibility.return_for_revision, not the generic route

STATUS_LABELS = {
    PENDING: _l("Waiting for the expert's answer"),
    ACCEPTED: _l("Accepted"),
    SUBMITTED: _l("Submitted"),
    DECLINED: _l("Declined"),
    WAIVED: _l("Waived"),
    RELEASED: _l("Released"),
}
MATCH_LABELS = {"domain": _l("domain match"), "category": _l("category match"), "none": _l("no match")}
CONFLICT_LABELS = {
    AUTO: _l("automatic"),
    DECLARED: _l("declared by the expert"),
    REPORTED: _l("reported after the review: waiting for your decision"),
    DISMISSED: _l("reported after the review: dismissed"),
}


def _refused(error: DomainError, form=None, names: dict[str, str] | None = None) -> None:
    """Undo the request's changes and show the operation's message, reasons and every field error."""
    rollback()
    flash(error.message, "error")
    leftover = show_errors(form, error.field_errors, names) if form is not None else list(error.field_errors.values())
    for message in [*leftover, *error.reasons]:
        if str(message) != error.message:
            flash(str(message), "error")


def _expired() -> None:
    flash(_("The form has expired. Please try again."), "error")


def _staff_campaign():
    require_staff(current_user)
    return current_campaign()


def _category(campaign, category_id: int | None) -> Category:
    categories = {c.id: c for c in campaign.categories}
    if category_id is None and campaign.categories:
        return campaign.categories[0]
    if category_id not in categories:
        raise NotFound(_("No such category."))
    return categories[category_id]


# Eligibility check ------------------------------------------------------------------------------------------


@bp.get("/eligibility")
@login_required
def eligibility():
    campaign = _staff_campaign()
    cases = db.session.scalars(worklist_query("to_check", current_user, campaign.id)).all()
    rows = [(case, prechecks(case)) for case in cases]
    return render_template(
        "reviewers/eligibility.html", campaign=campaign, rows=rows, form=BulkApproveForm(formdata=None)
    )


@bp.post("/eligibility/bulk-approve")
@login_required
def bulk_approve_cases():
    _staff_campaign()
    form = BulkApproveForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for(".eligibility"), 303)
    cases = [get_case(case_id, current_user) for case_id in form.case_ids.data or []]
    if not cases:
        flash(_("Select the cases to approve."), "error")
        return redirect(url_for(".eligibility"), 303)
    if not confirmed():
        return ask(
            ngettext(
                "Approve %(num)d case as eligible: it goes to expert review and its unit is told. "
                "This cannot be undone.",
                "Approve %(num)d cases as eligible: they go to expert review and their units are told. "
                "This cannot be undone.",
                len(cases),
            ),
            [str(case) for case in cases],
            url_for(".eligibility"),
        )
    approved, skipped = bulk_approve(cases, current_user, request.form.get("include_possible_duplicates") == "y")
    commit()
    flash(ngettext("Approved %(num)d case.", "Approved %(num)d cases.", len(approved)), "success")
    by_id = {case.id: case for case in cases}
    for case_id, reason in skipped.items():
        flash(_("Skipped %(case)s: %(reason)s", case=str(by_id[case_id]), reason=reason), "error")
    return redirect(url_for(".eligibility"), 303)


def _check_page(case: Case, return_form: ReturnForm | None = None, status: int = 200):
    return render_template(
        "reviewers/check.html",
        case=case,
        rows=dossier_rows(case),
        checks=prechecks(case),
        flags=duplicate_flags(case),
        options=options(case, current_user),
        return_name=RETURN,
        return_form=return_form or ReturnForm(formdata=None),
        form=TransitionForm(formdata=None),
    ), status


@bp.post("/eligibility/<int:case_id>/duplicates/<int:other_id>")
@login_required
def decide_flag(case_id: int, other_id: int):
    """Settle a likely-duplicate flag from the check page: different projects or a duplicate, with a reason."""
    require_staff(current_user)
    case = get_case(case_id, current_user)
    try:
        decide_duplicate(case, other_id, current_user, request.form.get("decision", ""), request.form.get("reason", ""))
    except DomainError as error:
        rollback()
        flash(" ".join([error.message, *error.field_errors.values()]), "error")
        return _check_page(case, status=error.status)
    commit()
    flash(_("Decision on the possible duplicate recorded."), "success")
    return redirect(url_for(".check", case_id=case.id), 303)


@bp.get("/eligibility/<int:case_id>")
@login_required
def check(case_id: int):
    require_staff(current_user)
    return _check_page(get_case(case_id, current_user))


def _after_decision(case: Case):
    if case.state in WORKLIST_BY_NAME["to_check"].states:
        return redirect(url_for(".check", case_id=case.id), 303)
    return redirect(url_for(".eligibility"), 303)


@bp.post("/eligibility/<int:case_id>/decide/<name>")
@login_required
def decide(case_id: int, name: str):
    """Start the check, approve or reject: fire() checks roles, guards and the required comment."""
    require_staff(current_user)
    case = get_case(case_id, current_user)
    if name == RETURN or name not in TRANSITION_BY_NAME:
        raise NotFound(_("There is no action named %(name)s.", name=name))
    form = TransitionForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for(".check", case_id=case.id), 303)
    try:
        fire(case, name, current_user, form.comment.data, int_or_none(form.expected_version.data))
        commit()
    except DomainError as error:
        _refused(error)
        return redirect(url_for(".check", case_id=case_id), 303)
    flash(_("Done: %(action)s.", action=pick(TRANSITION_BY_NAME[name], "title")), "success")
    return _after_decision(case)


@bp.post("/eligibility/<int:case_id>/return")
@login_required
def return_case(case_id: int):
    require_staff(current_user)
    case = get_case(case_id, current_user)
    form = ReturnForm()
    if not form.validate_on_submit():
        if not form.errors or "csrf_token" in form.errors:
            _expired()
            return redirect(url_for(".check", case_id=case.id), 303)
        return _check_page(case, form, 422)
    try:
        return_for_revision(
            case, current_user, form.comment.data, form.due_date.data, int_or_none(form.expected_version.data)
        )
    except DomainError as error:
        _refused(error, form)
        return _check_page(get_case(case_id, current_user), form, error.status)
    commit()
    flash(_("The case is returned to its unit for revision."), "success")
    return redirect(url_for(".eligibility"), 303)


# Expert pool ------------------------------------------------------------------------------------------------


def _pool_page(import_form: ImportForm | None = None, report: pool.ImportReport | None = None, status: int = 200):
    return render_template(
        "reviewers/pool.html",
        entries=pool.list_pool(current_user),
        import_form=import_form or ImportForm(formdata=None),
        report=report,
        columns=pool.COLUMNS,
    ), status


@bp.get("/experts")
@login_required
def experts():
    _staff_campaign()
    return _pool_page()


@bp.get("/experts/sample.csv")
@login_required
def sample_sheet():
    """The header import_experts expects, and one example row showing how to list several categories."""
    require_staff(current_user)
    example = ("expert@example.org", "王专家", "青岛大学", "山东省教育厅", "教授", "20", "city_operation", "")
    body = "\ufeff" + ",".join(pool.COLUMNS) + "\r\n" + ",".join(example) + "\r\n"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=experts-sample.csv"},
    )


@bp.post("/experts/import")
@login_required
def import_pool():
    campaign = _staff_campaign()
    form = ImportForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for(".experts"), 303)
    upload = form.file.data
    if not upload or not getattr(upload, "filename", ""):
        flash(_("Choose a CSV or Excel file."), "error")
        return _pool_page(form, status=422)
    try:
        rows = pool.read_sheet(upload.filename, upload.read())
        report = pool.import_experts(current_user, campaign, rows)
    except DomainError as error:
        _refused(error, form)
        return _pool_page(form, status=error.status)
    if not report.ok:
        rollback()  # nothing of the sheet is kept, and no invitation goes out
        flash(
            ngettext(
                "Nothing was imported: %(num)d row has errors.",
                "Nothing was imported: %(num)d rows have errors.",
                len(report.errors),
            ),
            "error",
        )
        return _pool_page(form, report, 422)
    commit()
    flash(
        " ".join(
            (
                ngettext("Imported %(num)d row.", "Imported %(num)d rows.", len(rows)),
                ngettext("%(num)d new expert was invited.", "%(num)d new experts were invited.", len(report.created)),
            )
        ),  # fmt: skip
        "success",
    )
    return redirect(url_for(".experts"), 303)


@bp.route("/experts/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_expert(user_id: int):
    campaign = _staff_campaign()
    user = pool.get_expert_user(user_id)
    form = ExpertProfileForm()
    form.set_choices(campaign)
    status = 200
    if form.validate_on_submit():
        try:
            pool.update_profile(current_user, user, form.profile(), campaign)
        except DomainError as error:
            _refused(error, form)
            status = error.status
        else:
            commit()
            flash(_("The profile of %(name)s is saved.", name=user.name), "success")
            return redirect(url_for(".experts"), 303)
    elif not form.is_submitted():
        form.fill_from(db.session.get(Expert, user.id))
    return render_template("reviewers/expert_edit.html", user=user, form=form), status


# Assignment -------------------------------------------------------------------------------------------------


def _conflicts(campaign):
    return [(c, CONFLICT_LABELS.get(c.source, c.source)) for c in list_conflicts(campaign.id)]


@bp.get("/assignment")
@login_required
def assignment():
    campaign = _staff_campaign()
    return render_template(
        "reviewers/assignment.html",
        campaign=campaign,
        preview=None,
        propose_form=ProposeForm(formdata=None),
        conflicts=_conflicts(campaign),
        replacement=assigning.pending_replacement(campaign),
        decide_form=ReasonForm(formdata=None),
        reported=REPORTED,
    )


@bp.post("/assignment/propose")
@login_required
def propose():
    campaign = _staff_campaign()
    form = ProposeForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for(".assignment"), 303)
    try:
        proposal = assigning.propose(campaign, current_user, form.mode.data or assigning.TOPUP)
    except DomainError as error:
        _refused(error, form)
        return redirect(url_for(".assignment"), 303)
    commit()
    return redirect(url_for(".proposal", proposal_id=proposal.id), 303)


@bp.get("/assignment/<int:proposal_id>")
@login_required
def proposal(proposal_id: int):
    campaign = _staff_campaign()
    preview = assigning.preview_proposal(assigning.get_proposal(proposal_id, current_user), current_user)
    adjust = AdjustForm(formdata=None)
    adjust.case_id.choices = [(str(c.id), str(c)) for c in preview.cases]
    adjust.expert_id.choices = [(str(e.user_id), f"{e.user.name} · {e.organization}") for e in preview.experts]
    return render_template(
        "reviewers/assignment.html",
        campaign=campaign,
        preview=preview,
        propose_form=ProposeForm(formdata=None, mode=preview.proposal.mode),
        adjust_form=adjust,
        confirm_form=ConfirmForm(formdata=None),
        match_labels=MATCH_LABELS,
        conflicts=_conflicts(campaign),
        decide_form=ReasonForm(formdata=None),
        reported=REPORTED,
    )


def _pair(value: str) -> tuple[int, int] | None:
    parts = (value or "").split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


@bp.post("/assignment/<int:proposal_id>/adjust")
@login_required
def adjust(proposal_id: int):
    require_staff(current_user)
    proposal = assigning.get_proposal(proposal_id, current_user)
    form = AdjustForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for(".proposal", proposal_id=proposal_id), 303)
    removed = _pair(form.remove.data)
    add: list[tuple[int, int]] = []
    if removed is None:
        case_id, expert_id = int_or_none(form.case_id.data), int_or_none(form.expert_id.data)
        if case_id is None or expert_id is None:
            flash(_("Choose a case and an expert."), "error")
            return redirect(url_for(".proposal", proposal_id=proposal_id), 303)
        add = [(case_id, expert_id)]
    try:
        assigning.adjust_proposal(proposal, current_user, add, [removed] if removed else [])
    except DomainError as error:
        _refused(error)
        return redirect(url_for(".proposal", proposal_id=proposal_id), 303)
    commit()
    flash(_("The proposal is changed."), "success")
    return redirect(url_for(".proposal", proposal_id=proposal_id), 303)


@bp.post("/assignment/<int:proposal_id>/apply")
@login_required
def apply(proposal_id: int):
    require_staff(current_user)
    proposal = assigning.get_proposal(proposal_id, current_user)
    if not ConfirmForm().validate_on_submit():
        _expired()
        return redirect(url_for(".proposal", proposal_id=proposal_id), 303)
    if not confirmed():
        experts = len({pair[1] for pair in proposal.pairs})
        return ask(
            " ".join(
                (
                    ngettext(
                        "Apply the proposal: %(num)d assignment is made.",
                        "Apply the proposal: %(num)d assignments are made.",
                        len(proposal.pairs),
                    ),
                    ngettext(
                        "%(num)d expert then accepts or declines.", "%(num)d experts then accept or decline.", experts
                    ),
                )
            ),  # fmt: skip
            cancel_url=url_for(".proposal", proposal_id=proposal_id),
        )
    try:
        created = assigning.apply_proposal(proposal, current_user)
    except DomainError as error:
        _refused(error)
        return redirect(url_for(".proposal", proposal_id=proposal_id), 303)
    commit()
    flash(
        ngettext(
            "The proposal is applied: %(num)d new assignment.",
            "The proposal is applied: %(num)d new assignments.",
            len(created),
        ),
        "success",
    )
    return redirect(url_for(".progress_page"), 303)


# Progress, ranking, reopen and waive ------------------------------------------------------------------------


@bp.get("/progress")
@login_required
def progress_page():
    campaign = _staff_campaign()
    return render_template(
        "reviewers/progress.html",
        campaign=campaign,
        categories=progress.by_category(campaign),
        experts=progress.by_expert(campaign),
        form=ConfirmForm(formdata=None),
    )


@bp.post("/progress/reminders")
@login_required
def send_reminders():
    _staff_campaign()
    if not ConfirmForm().validate_on_submit():
        _expired()
        return redirect(url_for(".progress_page"), 303)
    sent = progress.send_reminders()
    commit()
    flash(ngettext("Reminders sent to %(num)d expert.", "Reminders sent to %(num)d experts.", sent), "success")
    return redirect(url_for(".progress_page"), 303)


@bp.get("/ranking")
@login_required
def ranking():
    campaign = _staff_campaign()
    category = _category(campaign, request.args.get("category", type=int))
    results = case_results(campaign, category.id)
    reviews = scoring.reviews_by_case(current_user, [r.case.id for r in results])
    return render_template(
        "reviewers/ranking.html",
        campaign=campaign,
        category=category,
        results=results,
        reviews=reviews,
        criteria=scoring.rubric(campaign, category),
        status_labels=STATUS_LABELS,
        submitted=SUBMITTED,
        open_statuses=OPEN,
        reopen_form=CommentForm(formdata=None),
        waive_form=ReasonForm(formdata=None),
    )


def _back_to_ranking(assignment) -> Response:
    return redirect(url_for(".ranking", category=assignment.case.category_id) + f"#case-{assignment.case_id}", 303)


@bp.post("/reviews/<int:assignment_id>/reopen")
@login_required
def reopen(assignment_id: int):
    require_staff(current_user)
    assignment = assigning.get_assignment(assignment_id, current_user)
    form = CommentForm()
    if not form.validate_on_submit():
        _expired()
        return _back_to_ranking(assignment)
    try:
        scoring.reopen_review(assignment, current_user, form.comment.data)
    except DomainError as error:
        _refused(error)
        return _back_to_ranking(assigning.get_assignment(assignment_id, current_user))
    commit()
    flash(_("The review of %(name)s is reopened.", name=assignment.expert.name), "success")
    return _back_to_ranking(assignment)


@bp.post("/reviews/<int:assignment_id>/waive")
@login_required
def waive(assignment_id: int):
    require_staff(current_user)
    assignment = assigning.get_assignment(assignment_id, current_user)
    form = ReasonForm()
    if not form.validate_on_submit():
        _expired()
        return _back_to_ranking(assignment)
    try:
        scoring.waive_review(assignment, current_user, form.reason.data)
    except DomainError as error:
        _refused(error)
        return _back_to_ranking(assigning.get_assignment(assignment_id, current_user))
    commit()
    flash(_("The review of %(name)s is waived.", name=assignment.expert.name), "success")
    return _back_to_ranking(assignment)


# Shortlisting -----------------------------------------------------------------------------------------------


@bp.get("/shortlist")
@login_required
def shortlist_page():
    campaign = _staff_campaign()
    category = _category(campaign, request.args.get("category", type=int))
    size = request.args.get("size", type=int) or shortlist.shortlist_size(campaign)
    form = ShortlistForm(formdata=None, category=str(category.id), size=size)
    try:
        preview = shortlist.preview(campaign, category, current_user, size)
    except DomainError as error:
        _refused(error, form)
        preview = None
    return render_template("reviewers/shortlist.html", campaign=campaign, category=category, preview=preview, form=form,
                           open_duplicates=open_duplicates)  # fmt: skip


@bp.post("/shortlist")
@login_required
def confirm_shortlist():
    campaign = _staff_campaign()
    form = ShortlistForm()
    category = _category(campaign, int_or_none(form.category.data))
    if not form.validate_on_submit():
        flash(_("Enter a whole number of finalists."), "error")
        return redirect(url_for(".shortlist_page", category=category.id), 303)
    if not confirmed():
        return ask(
            ngettext(
                "Shortlist the top %(num)d case of %(category)s for the public vote; the others are not shortlisted. "
                "Their units are told. This cannot be undone.",
                "Shortlist the top %(num)d cases of %(category)s for the public vote; the others are not shortlisted. "
                "Their units are told. This cannot be undone.",
                form.size.data,
                category=pick(category, "name"),
            ),
            cancel_url=url_for(".shortlist_page", category=category.id, size=form.size.data),
        )
    try:
        result = shortlist.confirm(campaign, category, current_user, form.size.data)
    except DomainError as error:
        _refused(error, form)
        return redirect(url_for(".shortlist_page", category=category.id, size=form.size.data), 303)
    commit()
    flash(
        " ".join(
            (
                ngettext(
                    "Shortlisted %(num)d case of %(category)s for the public vote.",
                    "Shortlisted %(num)d cases of %(category)s for the public vote.",
                    len(result.finalists),
                    category=pick(category, "name"),
                ),
                ngettext("%(num)d case is not shortlisted.", "%(num)d cases are not shortlisted.", len(result.others)),
            )
        ),  # fmt: skip
        "success",
    )
    return redirect(url_for(".shortlist_page", category=category.id), 303)


# The expert's pages -----------------------------------------------------------------------------------------


@bp.get("/mine")
@login_required
def my_reviews():
    require_expert(current_user)
    try:
        campaign = current_campaign()
    except NotFound:
        campaign = None
    # this campaign only: what to accept, then what to score (soonest due first), then what is done
    assignments = [a for a in assigning.assignments_of(current_user) if campaign and a.case.campaign_id == campaign.id]
    rows = []
    for a in assignments:
        criteria = len(scoring.rubric(a.case.campaign, a.case.category))
        scored = len(a.review.scores) if a.review is not None else 0
        rows.append((a, scored, criteria))
    return render_template(
        "reviewers/mine.html",
        campaign=campaign,
        to_accept=[r for r in rows if r[0].status == PENDING],
        to_score=[r for r in rows if r[0].status in OPEN and r[0].status != PENDING],
        done=[r for r in rows if r[0].status not in OPEN],
        rows=rows,
        dossier_versions=current_numbers([a.case_id for a in assignments]),
        status_labels=STATUS_LABELS,
        pending=PENDING,
        open_statuses=OPEN,
        respond_form=RespondForm(formdata=None),
        conflict_form=ReasonForm(formdata=None),
        submitted=SUBMITTED,
    )


@bp.post("/mine/<int:assignment_id>/respond")
@login_required
def respond(assignment_id: int):
    require_expert(current_user)
    assignment = assigning.get_assignment(assignment_id, current_user)
    form = RespondForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for(".my_reviews"), 303)
    accept = form.answer.data == "accept"
    try:
        assigning.respond(assignment, current_user, accept, form.reason.data)
    except DomainError as error:
        _refused(error)
        return redirect(url_for(".my_reviews"), 303)
    commit()
    flash(_("You accepted the review.") if accept else _("You declined the review."), "success")
    return redirect(url_for(".my_reviews"), 303)


@bp.post("/mine/<int:assignment_id>/conflict")
@login_required
def conflict(assignment_id: int):
    require_expert(current_user)
    assignment = assigning.get_assignment(assignment_id, current_user)
    form = ReasonForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for(".my_reviews"), 303)
    if (form.reason.data or "").strip() and not confirmed():  # a missing reason is refused by the operation
        return ask(
            _("Declare a conflict of interest with %(case)s: the organizers are told and the case is given to another "
              "expert (after you submitted, they decide). This cannot be undone by you.", case=assignment.case.title),
            cancel_url=url_for(".my_reviews"),
        )  # fmt: skip
    try:
        conflict = declare_conflict(current_user, assignment.case, form.reason.data)
    except DomainError as error:
        _refused(error)
        return redirect(url_for(".my_reviews"), 303)
    commit()
    if conflict.source == REPORTED:
        flash(_("Your report is recorded. The organizers decide; your submitted review counts until then."), "success")
    else:
        flash(_("Your conflict of interest is recorded; the case is no longer assigned to you."), "success")
    return redirect(url_for(".my_reviews"), 303)


@bp.post("/assignment/conflicts/<int:conflict_id>/decide")
@login_required
def decide_conflict(conflict_id: int):
    _staff_campaign()
    form = ReasonForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for(".assignment") + "#conflicts", 303)
    uphold = request.form.get("decision") == "uphold"
    try:
        assigning.decide_conflict(current_user, assigning.get_conflict(conflict_id, current_user), uphold,
                                  form.reason.data)  # fmt: skip
    except DomainError as error:
        _refused(error)
        return redirect(url_for(".assignment") + "#conflicts", 303)
    commit()
    flash(_("The conflict is upheld: the expert's review is released and no longer counts.") if uphold
          else _("The conflict is dismissed: the expert's review still counts."), "success")  # fmt: skip
    return redirect(url_for(".assignment") + "#conflicts", 303)


@bp.route("/cases/<int:case_id>/score", methods=["GET", "POST"])
@login_required
def score(case_id: int):
    """The scoring page: the dossier and the rubric, nothing of other experts."""
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(_("No such case."))
    mine = assigning.assignment_for(case, current_user)  # 403 for anyone the case is not assigned to
    criteria = scoring.rubric(case.campaign, case.category)
    review = mine.review
    read_only = review is not None and review.status == SUBMITTED_REVIEW
    form = review_form(criteria)
    status = 200
    if not read_only and form.validate_on_submit():
        submit = bool(form.submit_review.data)
        try:
            scoring.save_review(mine, current_user, form.scores(criteria), form.comment.data or "", submit=submit)
        except DomainError as error:
            _refused(error, form, {str(c.id): score_field_name(c) for c in criteria})
            status = error.status
            mine = assigning.assignment_for(db.session.get(Case, case_id), current_user)
            case, review = mine.case, mine.review
        else:
            if submit and not confirmed():  # the scores are valid: ask before they count for good
                rollback()
                return ask(
                    _("Submit your review of %(case)s: your scores count from now on and you can no longer change "
                      "them; only an organizer can reopen the review.", case=case.title),
                    cancel_url=url_for(".score", case_id=case_id),
                )  # fmt: skip
            commit()
            if submit:
                flash(_("Your review is submitted."), "success")
                return redirect(url_for(".my_reviews"), 303)
            flash(_("Your draft is saved."), "success")
            return redirect(url_for(".score", case_id=case_id), 303)
    elif form.is_submitted() and not read_only:
        _expired()
    elif not form.is_submitted() and review is not None:
        values = {s.criterion_id: s.value for s in review.scores}
        for criterion in criteria:
            if criterion.id in values:
                form[score_field_name(criterion)].data = f"{values[criterion.id].normalize():f}"
        form.comment.data = review.comment
    return render_template(
        "reviewers/score.html",
        case=case,
        assignment=mine,
        dossier_version=current_numbers([case.id]).get(case.id),
        rows=dossier_rows(case),
        criteria=[(c, form[score_field_name(c)]) for c in criteria],
        form=form,
        review=review,
        read_only=read_only,
        pending=PENDING,
    ), status
