"""Turning models into the plain dicts the API schemas dump, in the request's language.

Only presentation lives here: what a caller may see is decided by the operations and workflow.roles.
"""

from __future__ import annotations

import math
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select, func, select

from accounts.models import User
from cases import dossier
from cases.eligibility import open_duplicates
from cases.models import Attachment, Case, DossierVersion
from cases.operations import dossier_errors, visible_attachments
from cases.versions import Diff, fields_of, shown
from pingxuan.errors import Invalid
from pingxuan.extensions import db
from pingxuan.i18n import pick
from workflow.definition import EDIT, OWNER, STAFF, STATE_BY_NAME, TIMELINE_ENTRIES
from workflow.engine import options
from workflow.models import WorkflowEvent
from workflow.roles import has_permission, roles_on


def state(name: str) -> dict[str, Any]:
    declared = STATE_BY_NAME[name]
    return {"name": name, "title": pick(declared, "title"), "final": declared.final}


def _ref(obj: Any, label: str = "name") -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"id": obj.id, "name": pick(obj, label)}


def case_summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "title": case.title,
        "state": state(case.state),
        "version": case.version,
        "campaign_id": case.campaign_id,
        "category": _ref(case.category),
        "unit": {"id": case.unit.id, "name": case.unit.name},
        "submitted_at": case.submitted_at,
        "updated_at": case.updated_at,
    }


def attachment(item: Attachment) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "filename": item.filename,
        "content_type": item.content_type,
        "size": item.size,
        "sha256": item.sha256,
        "created_at": item.created_at,
        "url": url_for("api_cases.download_attachment", case_id=item.case_id, attachment_id=item.id),
        "visibility": item.visibility,
    }


def actions(case: Case, actor: User | None) -> list[dict[str, Any]]:
    """The buttons of the case for this caller, straight from workflow.engine.options()."""
    result = []
    for option in options(case, actor):
        errors: dict[str, str] = {}
        for refusal in option.refusals:
            errors.update(refusal.field_errors)
        result.append(
            {
                "name": option.transition.name,
                "title": pick(option.transition, "title"),
                "allowed": option.allowed,
                "reasons": [r.reason for r in option.refusals],
                "errors": errors,
                "comment_required": option.transition.comment_required,
                "style": option.transition.style,
                "url": url_for("api_workflow.fire_transition", case_id=case.id, name=option.transition.name),
            }
        )
    return result


def case_detail(case: Case, actor: User | None) -> dict[str, Any]:
    can_edit = has_permission(actor, case, EDIT)
    form = dossier.form_of(case.campaign)
    references = (dossier.CATEGORY, dossier.DOMAIN, dossier.ORGANIZATION)
    values = {item.key: dossier.value(case, item) for item in form.value_fields if item.type not in references}
    return {
        **case_summary(case),
        "domain": _ref(case.domain),
        "recommending_org": _ref(case.recommending_org),
        **values,
        "dossier": {key: dossier.as_json(found) for key, found in values.items()},
        "created_at": case.created_at,
        "attachments": [attachment(item) for item in visible_attachments(case, actor)],
        "can_edit": can_edit,
        "missing": dossier_errors(case) if can_edit else {},
        "actions": actions(case, actor),
        # Staff only: likely duplicates nobody has decided on (the unit never learns of the suspicion).
        "open_duplicates": [{"id": o.id, "number": o.number, "title": o.title} for o in open_duplicates(case)]
        if roles_on(actor, case) & STAFF
        else [],
    }


def event(item: WorkflowEvent, actor: User | None, insider: bool | None = None) -> dict[str, Any]:
    """One timeline entry; who acted and their comment are shown to the office and the case's unit only."""
    if insider is None:
        insider = bool(roles_on(actor, item.case) & (STAFF | {OWNER}))
    return {
        "id": item.id,
        "transition": item.transition,
        "title": pick(TIMELINE_ENTRIES[item.transition], "title") if item.transition in TIMELINE_ENTRIES else "",
        "from_state": state(item.from_state),
        "to_state": state(item.to_state),
        "actor": (item.actor.name if item.actor else None) if insider else None,
        "comment": item.comment if insider else None,
        "created_at": item.created_at,
    }


def dossier_version(version: DossierVersion) -> dict[str, Any]:
    """A frozen version with its values as the pages show them (the caller may see versions)."""
    declared = TIMELINE_ENTRIES.get(version.event.transition) if version.event else None
    return {
        "number": version.number,
        "transition": version.event.transition if version.event else None,
        "title": pick(declared, "title") if declared else "",
        "actor": version.event.actor.name if version.event and version.event.actor else None,
        "created_at": version.created_at,
        "dossier": [
            {"field": name, "label": label, "value": shown(version.case, name, version.fields.get(name))}
            for name, label in fields_of(version.case, version)
        ],
        "attachments": list(version.attachments),
    }


def version_diff(case: Case, diff: Diff) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "from_version": diff.old.number,
        "to_version": diff.new.number,
        "dossier": [
            {
                "field": f.field,
                "label": f.label,
                "changed": f.changed,
                "old": f.old,
                "new": f.new,
                "segments": [{"op": s.op, "text": s.text} for s in f.segments],
            }
            for f in diff.fields
        ],
        "attachments": [{"status": c.status, "old": c.old, "new": c.new} for c in diff.attachments],
    }


def paginate(query: Select, page: int, per_page: int) -> tuple[list[Any], dict[str, int]]:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return items, {"page": page, "per_page": per_page, "total": total, "pages": math.ceil(total / per_page)}


def refused_rows(errors: dict[int, list[str]]) -> Invalid:
    """The 422 of a sheet import (all or nothing): ``errors`` per row number (the header is row 1), and reasons."""
    return Invalid(
        ngettext(
            "Nothing was imported: %(num)d row needs correcting.",
            "Nothing was imported: %(num)d rows need correcting.",
            len(errors),
        ),
        {str(row): " ".join(problems) for row, problems in errors.items()},
        [_("Row %(row)d: %(problems)s", row=row, problems=" ".join(problems)) for row, problems in errors.items()],
    )
