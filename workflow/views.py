"""Workflow pages: everyone's worklists, and the one route through which a page button fires a transition."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cases.operations import field_label, get_case
from forms import int_or_none
from forms.cases import TransitionForm
from pingxuan.db import commit, rollback
from pingxuan.errors import Conflict, DomainError
from pingxuan.extensions import db
from pingxuan.i18n import pick
from workflow.definition import TRANSITION_BY_NAME
from workflow.engine import fire, options
from workflow.worklists import worklist_query, worklists_for

bp = Blueprint("workflow_pages", __name__, template_folder="templates")


@bp.get("/worklists")
@login_required
def worklists():
    lists = []
    for worklist in worklists_for(current_user):
        cases = db.session.scalars(worklist_query(worklist.name, current_user)).all()
        lists.append((worklist, [(case, options(case, current_user)) for case in cases]))
    return render_template("workflow/worklists.html", lists=lists)


def _back(case_id: int) -> str:
    """Where the button was pressed, if it was on this site; else the case page."""
    referrer = request.referrer or ""
    parts = urlparse(referrer)
    if referrer and parts.netloc == request.host and parts.path.startswith("/"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("cases.detail", case_id=case_id)


@bp.post("/cases/<int:case_id>/transitions/<name>", endpoint="fire")
@login_required
def fire_transition(case_id: int, name: str):
    case = get_case(case_id, current_user)  # a case the person may not see is a 404
    form = TransitionForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(_back(case_id))
    try:
        transition = TRANSITION_BY_NAME.get(name)
        fields = form.required_fields(transition) if transition is not None else {}
        fire(case, name, current_user, form.comment.data, int_or_none(form.expected_version.data), fields)
        commit()
    except DomainError as error:
        rollback()
        flash(error.message, "error")
        for reason in error.reasons:
            if reason != error.message:
                flash(reason, "error")
        for field, message in error.field_errors.items():
            label = field_label(case, field)
            flash(f"{label}: {message}" if label and str(label) not in str(message) else str(message), "error")
        # After a conflict the page the person saw is stale: show the case as it is now.
        target = url_for("cases.detail", case_id=case_id) if isinstance(error, Conflict) else _back(case_id)
        return redirect(target, 303)
    transition = TRANSITION_BY_NAME[name]
    flash(_("Done: %(action)s.", action=pick(transition, "title")), "success")
    return redirect(url_for("cases.detail", case_id=case_id), 303)
