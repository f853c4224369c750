"""fire(): the one function that changes a case's state.

It checks, in order: the transition exists and leaves the case's current state, the actor holds a role the
declaration names, a comment and the declared required fields (a due date) are present and valid, every guard
passes; every route (pages, API, back office, bulk actions) gets the same refusals. Then it moves the state with a
conditional UPDATE on (id, state, version), so of two people acting at once exactly one wins and the other
is told someone else acted first; appends a WorkflowEvent; runs the transition's in-transaction actions and
queues its after-commit effects. It flushes, never commits: the caller's transaction is the unit of rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import User
from cases.models import Case
from cases.operations import assign_number
from cases.versions import freeze_version
from pingxuan import metrics
from pingxuan.cache import SHOWCASE, bump
from pingxuan.clock import today
from pingxuan.db import savepoint, utcnow
from pingxuan.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.i18n import pick
from pingxuan.queue import enqueue
from workflow.definition import DUE_DATE, STEP_BY_NAME, TRANSITION_BY_NAME, Transition, transitions_from
from workflow.guards import GUARDS, Refusal
from workflow.machine import destination
from workflow.models import WorkflowEvent
from workflow.roles import roles_on

Action = Callable[[Case, WorkflowEvent], None]

# In-transaction actions and after-commit effects that the declaration names.
ACTIONS: dict[str, Action] = {
    "assign_number": lambda case, event: assign_number(case),
    "freeze_version": lambda case, event: freeze_version(case, event.id),
}
EFFECTS: dict[str, Action] = {
    "notify_owner": lambda case, event: enqueue("notifications.notify_case_event", event.id),
}


def _due_date(value: object) -> tuple[date | None, str | None]:
    """A date today or later, given as a date or as YYYY-MM-DD (a form's or a JSON body's text)."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()) if value.strip() else None
        except ValueError:
            return None, _("Enter a date as YYYY-MM-DD.")
    if isinstance(value, datetime):
        value = value.date()
    if value is None:
        return None, _("A due date is required.")
    if not isinstance(value, date):
        return None, _("Enter a date as YYYY-MM-DD.")
    if value < today():
        return None, _("The due date cannot be in the past.")
    return value, None


def _set_revision_due(case: Case, value: date) -> None:
    case.revision_due = value


@dataclass(frozen=True)
class Field:
    """An input a transition may require (named in its declaration): how it is read, and what it changes."""

    label: Any
    read: Callable[[object], tuple[Any, str | None]]  # (value, error)
    apply: Callable[[Case, Any], None]  # after the state moved, in the same transaction


FIELDS: dict[str, Field] = {
    DUE_DATE: Field(_l("Due date"), _due_date, _set_revision_due),
}


def check_inputs(
    transition: Transition, comment: str | None, values: Mapping[str, Any] | None = None
) -> tuple[str | None, dict[str, Any]]:
    """The comment and the required fields of ``transition``, cleaned; all that is missing is reported at once.

    Bulk actions call it once before touching any case; ``fire()`` calls it for every case."""
    comment = (comment or "").strip() or None
    errors: dict[str, str] = {}
    if transition.comment_required and not comment:
        errors["comment"] = _("A comment is required.")
    clean: dict[str, Any] = {}
    for name in transition.required_fields:
        clean[name], error = FIELDS[name].read((values or {}).get(name))
        if error:
            errors[name] = error
    if set(errors) == {"comment"}:
        raise Invalid(_("“%(action)s” needs a comment.", action=pick(transition, "title")), errors)
    if errors:
        missing = ", ".join(str(FIELDS[name].label if name in FIELDS else _l("Comment")) for name in errors)
        raise Invalid(
            _("“%(action)s” needs more: %(fields)s.", action=pick(transition, "title"), fields=missing), errors
        )
    return comment, clean


class GuardsFailed(Invalid):
    """One or more guards refused; ``reasons`` lists them all, ``field_errors`` merges their field errors."""


@dataclass(frozen=True)
class Option:
    """A transition the actor holds a role for, from the case's current state, and why it may be refused."""

    transition: Transition
    refusals: tuple[Refusal, ...]

    @property
    def allowed(self) -> bool:
        return not self.refusals


def check_guards(case: Case, transition: Transition, actor: User | None) -> tuple[Refusal, ...]:
    results = (GUARDS[name](case, actor) for name in transition.guards)
    return tuple(r for r in results if r is not None)


def options(case: Case, actor: User | None) -> list[Option]:
    """The transitions the actor could fire now, each with its guard refusals: the buttons of a page."""
    roles = roles_on(actor, case)
    return [Option(t, check_guards(case, t, actor)) for t in transitions_from(case.state) if t.roles & roles]


def fire(
    case: Case,
    transition_name: str,
    actor: User | None,
    comment: str | None = None,
    expected_version: int | None = None,
    fields: Mapping[str, Any] | None = None,
) -> WorkflowEvent:
    """Move ``case`` by ``transition_name``; ``fields`` holds the transition's required fields (a due date)."""
    transition = TRANSITION_BY_NAME.get(transition_name)
    if transition is None:
        raise NotFound(_("There is no action named %(name)s.", name=transition_name))
    if expected_version is not None and int(expected_version) != case.version:
        raise Conflict(_("Someone else acted on this case first. Reload it to see its current state."))
    source = case.state
    dest = destination(source, transition.name)
    if dest is None:
        raise Conflict(
            _(
                "“%(action)s” is not possible while the case is in this state.",
                action=pick(transition, "title"),
            ),
            reasons=[source],
        )
    if not (transition.roles & roles_on(actor, case)):
        raise Forbidden(_("You may not “%(action)s” this case.", action=pick(transition, "title")))
    comment, values = check_inputs(transition, comment, fields)
    refusals = check_guards(case, transition, actor)
    if refusals:
        field_errors: dict[str, str] = {}
        for refusal in refusals:
            field_errors.update(refusal.field_errors)
        raise GuardsFailed(refusals[0].reason, field_errors, [r.reason for r in refusals])

    now = utcnow()
    moved = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.state == source, Case.version == case.version)
        .values(state=dest, version=Case.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise Conflict(_("Someone else acted on this case first. Reload it to see its current state."))
    set_committed_value(case, "state", dest)
    set_committed_value(case, "version", case.version + 1)
    set_committed_value(case, "updated_at", now)

    event = WorkflowEvent(
        case_id=case.id, transition=transition.name, from_state=source, to_state=dest,
        actor_id=actor.id if actor is not None and getattr(actor, "id", None) else None,
        comment=comment, created_at=now,
    )  # fmt: skip
    db.session.add(event)
    for name, value in values.items():
        FIELDS[name].apply(case, value)
    db.session.flush()
    for name in transition.actions:
        ACTIONS[name](case, event)
    for name in transition.effects:
        EFFECTS[name](case, event)
    bump(SHOWCASE)  # the showcase lists cases by state: rebuild it once this commits
    metrics.transition_fired(transition.name)
    return event


def record_step(case: Case, step: str, actor: User | None, comment: str | None = None) -> WorkflowEvent:
    """A declared step that moves no state (an objection lodged, forwarded, decided) on the case's timeline;
    who sees it and its comment is the ``history`` permission, as for transitions."""
    if step not in STEP_BY_NAME:
        raise ValueError(f"undeclared step {step}")
    event = WorkflowEvent(
        case_id=case.id, transition=step, from_state=case.state, to_state=case.state,
        actor_id=actor.id if actor is not None and getattr(actor, "id", None) else None,
        comment=(comment or "").strip() or None, created_at=utcnow(),
    )  # fmt: skip
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class Outcome:
    """What happened to one case of a bulk action: its event, or the refusal."""

    case: Case
    event: WorkflowEvent | None = None
    error: DomainError | None = None


def fire_many(
    cases: list[Case],
    transition_name: str,
    actor: User | None,
    comment: str | None = None,
    versions: dict[int, int | None] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> list[Outcome]:
    """A bulk action: fire() on each case in its own savepoint, so one refusal undoes (and un-queues) that case
    only. Each case gets its own event; the caller commits once."""
    outcomes = []
    for case in cases:
        try:
            with savepoint():
                event = fire(case, transition_name, actor, comment, (versions or {}).get(case.id), fields)
            outcomes.append(Outcome(case, event=event))
        except DomainError as error:
            db.session.expire(case)
            outcomes.append(Outcome(case, error=error))
    return outcomes
