"""The wording of every notification: shipped defaults in both languages, organizers' own versions, rendering.

Each kind of message (a workflow transition's notice, an invitation, a password reset, a review reminder, the
vote's one-time code, …) is declared once here with the placeholders it may use and a sample of each for
previews. Its subject and body are Jinja templates rendered in a sandbox with those placeholders and nothing
else (no globals, no filters that reach outside, no attributes of Python objects: every value is a string), so
an organizer's template can say anything about the case but read nothing of the application. A template that
names an unknown placeholder or does not parse is refused with the reason; the shipped wording stays the
default (it comes from the translation catalogue) until an organizer saves their own, and "reset" goes back
to it. Mail goes out as text and as HTML: the same template rendered again with autoescaping.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from sqlalchemy import select

from accounts.models import User
from accounts.permissions import require_staff
from notifications.models import MessageTemplate, MessageTemplateChange
from pingxuan.db import utcnow
from pingxuan.errors import Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.i18n import EN, ZH, pick
from workflow.definition import TRANSITIONS

LOCALES = (ZH, EN)
log = logging.getLogger(__name__)
EDIT, RESET = "edit", "reset"


@dataclass(frozen=True)
class Kind:
    """One kind of message: its key, title, placeholders (name → description, sample) and default wording."""

    key: str
    title: Callable[[], str]
    placeholders: dict[str, tuple[object, str]]  # name → (lazy description, sample value for previews)
    subject: Callable[[], str] | None  # None: no subject (an SMS)
    body: Callable[[], str]
    group: str = "mail"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.placeholders)


CASE_PLACEHOLDERS = {
    "case_title": (_l("the case's title"), "食品安全追溯监管平台"),
    "case_number": (_l("the case's number"), "2017-IM-0001"),
    "unit_name": (_l("the applicant unit"), "青岛市电子政务和信息资源管理办公室"),
    "campaign_title": (_l("the campaign's title"), "2017智慧青岛典型案例评选活动"),
    "action": (_l("what was done (the transition's title)"), "受理"),
    "state": (_l("the case's new state"), "资格审查"),
    "comment": (_l("the organizer's comment, if any"), "请补充运营数据。"),
    "due_date": (_l("the date by which a revision is due, if any"), "2017-05-20"),
    "link": (_l("the link to the case's page"), "https://pingxuan.example/cases/1"),
}


def _transition_kinds() -> list[Kind]:
    """One notice per transition that tells the unit (declared with the notify_owner effect)."""
    kinds = []
    for transition in TRANSITIONS:
        if "notify_owner" not in transition.effects:
            continue
        kinds.append(Kind(
            key=f"transition.{transition.name}",
            title=lambda t=transition: _("Case notice: %(action)s", action=pick(t, "title")),
            placeholders=CASE_PLACEHOLDERS,
            subject=lambda: _("[pingxuan] Case status changed"),
            body=lambda: (_("Case “{{ case_title }}” ({{ case_number }}): {{ action }}. New state: {{ state }}.")
                          + "{% if comment %}\n" + _("Comment: {{ comment }}") + "{% endif %}"
                          + "{% if due_date %}\n" + _("Revision due by {{ due_date }}.") + "{% endif %}"
                          + "\n\n{{ link }}"),
            group="case",
        ))  # fmt: skip
    return kinds


@cache
def kinds() -> dict[str, Kind]:
    declared = [
        *_transition_kinds(),
        Kind("account.password_reset", lambda: _("Password reset"), {
            "name": (_l("the person's name"), "王芳"), "link": (_l("the link to choose a new password"),
                                                              "https://pingxuan.example/reset/…"),
        }, lambda: _("[pingxuan] Reset your password"),
            lambda: _("Open this link within two hours to choose a new password:") + "\n{{ link }}"),
        Kind("account.welcome_expert", lambda: _("Expert invited"), {
            "name": (_l("the expert's name"), "张立新"), "link": (_l("the link to choose a password"),
                                                             "https://pingxuan.example/reset/…"),
        }, lambda: _("[pingxuan] You are invited as an expert"),
            lambda: _("An account has been created for you. Open this link to choose your password:") + "\n{{ link }}"),
        Kind("account.invitation", lambda: _("Invitation"), {
            "inviter": (_l("who invites"), "王芳"), "where": (_l("the unit, or pingxuan"), "青岛云帆信息技术有限公司"),
            "days": (_l("days the link stays valid"), "7"), "link": (_l("the invitation link"),
                                                                   "https://pingxuan.example/invitations/…"),
        }, lambda: _("[pingxuan] {{ inviter }} invites you to {{ where }}"),
            lambda: _("Open this link within {{ days }} days to create your account:") + "\n{{ link }}"),
        Kind("review.reminder", lambda: _("Review reminder"), {
            "name": (_l("the expert's name"), "张立新"), "count": (_l("how many reviews are due"), "2"),
            "reviews": (_l("the list of due reviews, one per line"), "- 2017-IM-0001 食品安全追溯监管平台"),
        }, lambda: _("[pingxuan] {{ count }} reviews due"),
            lambda: _("These reviews are waiting for you:") + "\n{{ reviews }}"),
        Kind("vote.code", lambda: _("Voting code (SMS)"), {
            "code": (_l("the one-time code"), "483920"), "minutes": (_l("minutes it stays valid"), "5"),
        }, None, lambda: _("Your pingxuan voting code is {{ code }}. It is valid for {{ minutes }} minutes."),
            group="sms"),
        Kind("objection.code", lambda: _("Objection code (SMS)"), {
            "code": (_l("the one-time code"), "483920"), "minutes": (_l("minutes it stays valid"), "5"),
        }, None, lambda: _("Your pingxuan code to lodge an objection is {{ code }}. It is valid for {{ minutes }} "
                           "minutes."), group="sms"),
        Kind("objection.outcome", lambda: _("Objection outcome (SMS)"), {
            "case_title": (_l("the case's title"), "食品安全追溯监管平台"), "outcome": (_l("upheld or dismissed"),
                                                                           "不成立"),
            "reason": (_l("the office's reason"), "该案例上线时间早于截止日期，证明材料齐全。"),
        }, None, lambda: _("Your objection to “{{ case_title }}” was decided: {{ outcome }}. Reason: {{ reason }}"),
            group="sms"),
    ]  # fmt: skip
    return {k.key: k for k in declared}


def kind(key: str) -> Kind:
    found = kinds().get(key)
    if found is None:
        raise NotFound(_("No such message."))
    return found


# Rendering -----------------------------------------------------------------------------------------------


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=False)
    env.globals.clear()  # no range, lipsum, cycler, namespace…: the placeholders are all a template sees
    return env


TEXT, HTML = _environment(False), _environment(True)


def default(key: str, locale: str) -> tuple[str, str]:
    """The shipped wording in one language: (subject, body)."""
    found = kind(key)
    with force_locale(locale):
        return (found.subject() if found.subject else ""), found.body()


def current(key: str, locale: str) -> tuple[str, str, MessageTemplate | None]:
    row = db.session.scalar(select(MessageTemplate).where(MessageTemplate.key == key, MessageTemplate.locale == locale))
    if row is not None:
        return row.subject, row.body, row
    subject, body = default(key, locale)
    return subject, body, None


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


_URL = re.compile(r"(https?://[^\s<]+)")


def _as_html(body: Markup) -> str:
    """Paragraphs and line breaks, links clickable; everything the placeholders brought in is escaped already."""
    paragraphs = [p for p in str(body).split("\n\n") if p.strip()]
    linked = [_URL.sub(r'<a href="\1">\1</a>', p).replace("\n", "<br>\n") for p in paragraphs]
    return "<!doctype html><html><body>" + "".join(f"<p>{p}</p>\n" for p in linked) + "</body></html>"


def render(key: str, locale: str, values: dict[str, object]) -> Rendered:
    """The message in ``locale`` with ``values`` (every placeholder of its kind, as strings).

    A stored wording that no longer renders (changed in the database by hand, say) never stops a message: it is
    logged and the shipped wording goes out instead.
    """
    locale = locale if locale in LOCALES else ZH
    subject, body, row = current(key, locale)
    if row is None:
        return _render(key, locale, subject, body, values)
    try:
        return _render(key, locale, subject, body, values)
    except TemplateError:
        log.exception("the wording of %s (%s) does not render; the shipped one is used", key, locale)
        return _render(key, locale, *default(key, locale), values)


def preview(key: str, locale: str, subject: str, body: str, values: dict[str, object]) -> Rendered:
    """An unsaved wording rendered as it would be sent; refused with the same reasons as saving."""
    errors = problems(key, subject, body)
    if errors:
        raise Invalid(_("The template cannot be used."), errors)
    return _render(key, locale, subject, body, values)


def _render(key: str, locale: str, subject: str, body: str, values: dict[str, object]) -> Rendered:
    found = kind(key)
    context = {name: "" if values.get(name) is None else str(values[name]) for name in found.names}
    with force_locale(locale):
        return Rendered(
            subject=TEXT.from_string(subject).render(context).strip() if subject else "",
            text=TEXT.from_string(body).render(context).strip(),
            html=_as_html(Markup(HTML.from_string(body).render(context)).strip()),
        )


def samples(key: str) -> dict[str, str]:
    return {name: sample for name, (_description, sample) in kind(key).placeholders.items()}


# Editing -------------------------------------------------------------------------------------------------


def problems(key: str, subject: str, body: str) -> dict[str, str]:
    """Why a wording cannot be saved, per field: a syntax error, an unknown placeholder, a forbidden access."""
    found = kind(key)
    errors: dict[str, str] = {}
    for name, source in (("subject", subject), ("body", body)):
        if name == "subject" and found.subject is None:
            continue
        if not source.strip():
            errors[name] = _("This cannot be empty.")
            continue
        try:
            parsed = TEXT.parse(source)
        except TemplateError as error:
            line = getattr(error, "lineno", None)
            errors[name] = _("Not a valid template (line %(line)s): %(error)s", line=line or "?", error=error.message)
            continue
        unknown = sorted(meta.find_undeclared_variables(parsed) - set(found.names))
        if unknown:
            errors[name] = _("Unknown placeholder: %(names)s. Use only: %(allowed)s.",
                             names=", ".join(unknown), allowed=", ".join(found.names))  # fmt: skip
            continue
        try:  # with the sample values: catches what parsing cannot (a filter missing, an attribute refused)
            TEXT.from_string(source).render(samples(key))
            HTML.from_string(source).render(samples(key))
        except (TemplateError, TypeError, ValueError) as error:
            errors[name] = _("This template cannot be rendered: %(error)s", error=str(error))
    return errors


def save(key: str, locale: str, subject: str, body: str, actor: User) -> MessageTemplate:
    require_staff(actor)
    found = kind(key)
    if locale not in LOCALES:
        raise Invalid(_("Please correct the marked fields."), {"locale": _("Not a known choice.")})
    subject = (subject or "").strip() if found.subject else ""
    body = (body or "").replace("\r\n", "\n").strip()
    errors = problems(key, subject, body)
    if errors:
        raise Invalid(_("The template was not saved."), errors)
    _subject, _body, row = current(key, locale)
    if row is None:
        row = MessageTemplate(key=key, locale=locale, body=body)
        db.session.add(row)
    row.subject, row.body, row.updated_by_id, row.updated_at = subject, body, actor.id, utcnow()
    db.session.add(MessageTemplateChange(key=key, locale=locale, action=EDIT, subject=subject, body=body,
                                         actor_id=actor.id))  # fmt: skip
    db.session.flush()
    return row


def reset(key: str, locale: str, actor: User) -> None:
    """Back to the shipped wording (the change is kept in the history)."""
    require_staff(actor)
    kind(key)
    _subject, _body, row = current(key, locale)
    if row is not None:
        db.session.delete(row)
    subject, body = default(key, locale)
    db.session.add(MessageTemplateChange(key=key, locale=locale, action=RESET, subject=subject, body=body,
                                         actor_id=actor.id))  # fmt: skip
    db.session.flush()


def history(key: str) -> list[MessageTemplateChange]:
    return list(db.session.scalars(select(MessageTemplateChange).where(MessageTemplateChange.key == key)
                                   .order_by(MessageTemplateChange.id.desc())))  # fmt: skip


def customized() -> set[tuple[str, str]]:
    return {(key, locale) for key, locale in db.session.execute(select(MessageTemplate.key, MessageTemplate.locale))}
