"""The organizers' integrity pages (on the ``vote_admin`` blueprint): the anomaly report ranked by evidence,
the rules with their parameters, the preview of a selection by rule, and its invalidation."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required

from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError
from voting import integrity
from voting import operations as ops
from voting.ballots import counts
from voting.views import admin_bp
from voting.voters import number_check


@admin_bp.app_context_processor
def _rule_words() -> dict:
    """Rules, their parameters and selections by their titles in the reader's language, never by their keys."""
    return {"rule_title": integrity.rule_title, "parameter_title": integrity.parameter_title,
            "selection_title": integrity.selection_title, "parameters_text": integrity.parameters_text}  # fmt: skip


def _selection() -> str:
    """The selection from the form: the chosen rules, all at once ("all") or any of them, or a typed selection."""
    typed = request.values.get("selection", "").strip()
    if typed:
        return typed
    rules = [r for r in request.values.getlist("rule") if r]
    return "+".join(rules) if request.values.get("combine", "all") == "all" else ",".join(rules)


def _case_ids() -> list[int] | None:
    ids = [int(v) for v in request.values.getlist("case") if v.isdigit()]
    return ids or None


@admin_bp.get("/<int:campaign_id>/integrity")
@login_required
def integrity_report(campaign_id: int):
    campaign = ops.staff_campaign(campaign_id, current_user)
    evaluation = integrity.evaluate(campaign, current_user)  # read once for the report and the recommendations
    rows = integrity.report(campaign, current_user, evaluation)
    return render_template(
        "voting/integrity.html", campaign=campaign, rows=rows, rules=integrity.RULES,
        parameters={name: integrity.parameters(campaign, name) for name in integrity.RULES},
        live=counts([r.case.id for r in rows]), numbers=number_check(campaign.id),
        recommendations=integrity.recommend(campaign, current_user, evaluation),
    )  # fmt: skip


@admin_bp.get("/<int:campaign_id>/integrity/preview")
@login_required
def integrity_preview(campaign_id: int):
    campaign = ops.staff_campaign(campaign_id, current_user)
    selection = _selection()
    try:
        result = integrity.preview(campaign, current_user, selection, _case_ids())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("vote_admin.integrity_report", campaign_id=campaign.id))
    return render_template(
        "voting/integrity_preview.html", campaign=campaign, result=result, selection=selection,
        case_ids=_case_ids() or [], rules=integrity.RULES, shown=integrity.preview_ballots(result),
    )  # fmt: skip


@admin_bp.post("/<int:campaign_id>/integrity/invalidate")
@login_required
def integrity_invalidate(campaign_id: int):
    campaign = ops.staff_campaign(campaign_id, current_user)
    expected = request.form.get("expected", "")
    try:
        n = integrity.invalidate_selection(
            campaign, current_user, _selection(), request.form.get("reason", ""), _case_ids(),
            int(expected) if expected.isdigit() else None,
        )  # fmt: skip
        commit()
    except DomainError as error:
        rollback()
        flash(" ".join([error.message, *error.field_errors.values()]), "error")
        return redirect(url_for("vote_admin.integrity_report", campaign_id=campaign.id))
    flash(
        ngettext(
            "%(num)d ballot invalidated. The count follows.", "%(num)d ballots invalidated. The count follows.", n
        ),
        "success",
    )
    return redirect(url_for("vote_admin.integrity_report", campaign_id=campaign.id))
