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
import math
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, wraps
from secrets import token_hex
from typing import NoReturn

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape
from sqlalchemy import select

from accounts.models import User
from accounts.permissions import require_staff
from notifications.models import MessageTemplate, MessageTemplateChange
from pingxuan.db import utcnow
from pingxuan.errors import Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.i18n import EN, ZH, pick
from workflow.definition import ADMIN, TRANSITIONS

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
    secrets: frozenset[str] = frozenset()  # placeholders that carry a secret: placed only, never seen (below)
    security: bool = False  # about an account's safety (an attempt on it): staff could make it mislead its owner

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in self.placeholders if n not in self.secrets)

    @property
    def administrators_only(self) -> bool:
        """A wording that carries a secret, or that tells of an attempt on an account, is edited by administrators
        only."""
        return bool(self.secrets) or self.security


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
            lambda: _("Open this link within two hours to choose a new password:") + "\n{{ link }}",
            secrets=frozenset({"link"})),
        Kind("account.welcome_expert", lambda: _("Expert invited"), {
            "name": (_l("the expert's name"), "张立新"), "link": (_l("the link to choose a password"),
                                                             "https://pingxuan.example/reset/…"),
        }, lambda: _("[pingxuan] You are invited as an expert"),
            lambda: _("An account has been created for you. Open this link to choose your password:") + "\n{{ link }}",
            secrets=frozenset({"link"})),
        Kind("account.invitation", lambda: _("Invitation"), {
            "inviter": (_l("who invites"), "王芳"), "where": (_l("the unit, or pingxuan"), "青岛云帆信息技术有限公司"),
            "days": (_l("days the link stays valid"), "7"), "link": (_l("the invitation link"),
                                                                   "https://pingxuan.example/invitations/…"),
        }, lambda: _("[pingxuan] {{ inviter }} invites you to {{ where }}"),
            lambda: _("Open this link within {{ days }} days to create your account:") + "\n{{ link }}",
            secrets=frozenset({"link"})),
        Kind("account.registration_confirm", lambda: _("Registration to confirm"), {
            "hours": (_l("hours the link stays valid"), "48"),
            "link": (_l("the link to confirm the registration"), "https://pingxuan.example/register/confirm/…"),
        }, lambda: _("[pingxuan] Confirm the registration of your unit"),
            lambda: _("Someone, probably you, registered an applicant unit at pingxuan with this e-mail address. Open "
                      "this link within {{ hours }} hours to confirm it; your unit and your account are created "
                      "then:") + "\n{{ link }}\n\n"
            + _("If it was not you, ignore this mail: nothing is created without the link."),
            secrets=frozenset({"link"})),
        Kind("account.registration_taken", lambda: _("Registration with an address that has an account"), {
            "name": (_l("the account holder's name"), "王芳"),
            "login": (_l("the link to the login page"), "https://pingxuan.example/login"),
            "forgot": (_l("the link to choose a new password"), "https://pingxuan.example/forgot"),
        }, lambda: _("[pingxuan] Someone tried to register with your address"),
            lambda: _("{{ name }}, someone tried to register an applicant unit at pingxuan with this e-mail address, "
                      "which has an account already. Nothing has changed in your account.") + "\n\n"
            + _("If it was you, log in:") + " {{ login }}\n"
            + _("If you have forgotten your password, choose a new one:") + " {{ forgot }}\n\n"
            + _("If it was not you, ignore this mail."),
            security=True),
        Kind("review.reminder", lambda: _("Review reminder"), {
            "name": (_l("the expert's name"), "张立新"), "count": (_l("how many reviews are due"), "2"),
            "reviews": (_l("the list of due reviews, one per line"), "- 2017-IM-0001 食品安全追溯监管平台"),
        }, lambda: _("[pingxuan] {{ count }} reviews due"),
            lambda: _("These reviews are waiting for you:") + "\n{{ reviews }}"),
        Kind("vote.code", lambda: _("Voting code (SMS)"), {
            "code": (_l("the one-time code"), "483920"), "minutes": (_l("minutes it stays valid"), "5"),
        }, None, lambda: _("Your pingxuan voting code is {{ code }}. It is valid for {{ minutes }} minutes."),
            group="sms", secrets=frozenset({"code"})),
        Kind("objection.code", lambda: _("Objection code (SMS)"), {
            "code": (_l("the one-time code"), "483920"), "minutes": (_l("minutes it stays valid"), "5"),
        }, None, lambda: _("Your pingxuan code to lodge an objection is {{ code }}. It is valid for {{ minutes }} "
                           "minutes."), group="sms", secrets=frozenset({"code"})),
        Kind("objection.forwarded", lambda: _("Objection forwarded to the unit"), {
            "case_title": (_l("the case's title"), "食品安全追溯监管平台"),
            "case_number": (_l("the case's number"), "2017-IM-0001"),
            "unit_name": (_l("the applicant unit"), "青岛市电子政务和信息资源管理办公室"),
            "objection": (_l("the objection's number"), "12"),
            "note": (_l("what the office asks the unit to answer, if anything"), "请说明上线时间并提供证明材料。"),
            "due_date": (_l("the date by which the unit must answer"), "2017-06-10"),
            "link": (_l("the link to the objection's page, where the unit answers"),
                     "https://pingxuan.example/objections/12"),
        }, lambda: _("[pingxuan] An objection to your case needs your answer"),
            lambda: (_("An objection (no. {{ objection }}) to your case “{{ case_title }}” ({{ case_number }}) was "
                       "forwarded to your unit. Answer it by {{ due_date }}.")
                     + "{% if note %}\n" + _("The office asks: {{ note }}") + "{% endif %}"
                     + "{% if link %}\n\n" + _("Read the objection and answer it here:") + "\n{{ link }}{% endif %}"),
            group="case"),
        Kind("objection.outcome", lambda: _("Objection outcome (SMS)"), {
            "case_title": (_l("the case's title"), "食品安全追溯监管平台"), "outcome": (_l("upheld or dismissed"),
                                                                           "不成立"),
            "reason": (_l("the office's reason"), "该案例上线时间早于截止日期，证明材料齐全。"),
            "reference": (_l("the objection's reference number"), "26-0012"),
        }, None, lambda: _("Your objection {{ reference }} to “{{ case_title }}” was decided: {{ outcome }}. "
                           "Reason: {{ reason }}"), group="sms"),
    ]  # fmt: skip
    return {k.key: k for k in declared}


def kind(key: str) -> Kind:
    found = kinds().get(key)
    if found is None:
        raise NotFound(_("No such message."))
    return found


# Rendering -----------------------------------------------------------------------------------------------
#
# Secrets (a reset or invitation link, a one-time code) never enter a template. In their place the template
# gets a ``Slot``: an object with no value that every operation refuses (no filter, test, slicing, comparison,
# concatenation, iteration or conversion to text works on it), which ``{{ link }}`` alone can place: the
# environment's ``finalize`` turns it into a marker unique to this rendering. After rendering, the text staff can
# read (the outbox, a preview) gets the placeholder's name at the marker, and only the text handed to the mail
# server or the SMS gateway gets the secret. Whatever the wording does, it never sees the secret, so no wording
# can show it to the staff who wrote it; a wording must place each secret exactly once in the text (a
# transformed marker places nothing and is refused).
#
# Rendering is bounded: loops and calls spend steps from a budget, every value written and the whole text have
# a size limit, multiplication and powers are checked before they run, only plain filters are offered, string
# methods that grow text are refused, and macros, includes, recursive loops and deep nesting do not parse. A
# wording that exceeds a bound is refused when saved, and a stored one (changed by hand) falls back to the
# shipped wording, so no wording can hold a worker or slow the public vote's code requests.

MAX_STEPS = 5_000  # loop iterations and calls in one rendering
MAX_VALUE = 10_000  # characters of one value (a filter's result, one {{ … }})
MAX_OUTPUT = 20_000  # characters of the whole rendered text
MAX_LOOP_NESTING = 2
MAX_SOURCE = 10_000  # characters of a wording
MAX_INT_BITS = 256
_BUDGET: ContextVar[list[int]] = ContextVar("wording_budget")
ALLOWED_FILTERS = (
    "abs", "capitalize", "center", "count", "d", "default", "e", "escape", "first", "float", "indent", "int", "join",
    "last", "length", "list", "lower", "replace", "reverse", "round", "string", "striptags", "title", "trim",
    "truncate", "upper", "wordcount", "wordwrap",
)  # fmt: skip
_SAFE_STR_METHODS = frozenset({
    "lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize", "casefold", "startswith", "endswith",
    "count", "find", "rfind", "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper", "split", "splitlines",
    "removeprefix", "removesuffix",
})  # fmt: skip
_FORBIDDEN_NODES = (nodes.Macro, nodes.CallBlock, nodes.Import, nodes.FromImport, nodes.Include, nodes.Extends,
                    nodes.ScopedEvalContextModifier, nodes.EvalContextModifier)  # fmt: skip


class Slot:
    """Where a secret goes in a wording: ``{{ link }}`` places it; nothing else can be done with it."""

    __slots__ = ("name", "marker")

    def __init__(self, name: str, marker: str) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "marker", marker)

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise SecurityError(_("“%(name)s” can only be placed as it is, as {{ %(name)s }}.", name=self.name))

    __str__ = __repr__ = __format__ = __bool__ = __len__ = __iter__ = __getitem__ = __contains__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __add__ = __radd__ = __mul__ = __rmul__ = _refuse
    __mod__ = __rmod__ = __int__ = __float__ = __index__ = __reversed__ = __html__ = __setattr__ = _refuse
    __hash__ = None  # type: ignore[assignment]


def _spend(steps: int = 1) -> None:
    budget = _BUDGET.get(None)
    if budget is None:
        return
    budget[0] -= steps
    if budget[0] < 0:
        raise SecurityError(_("This template does too much work (more than %(steps)s loop steps and calls).",
                              steps=MAX_STEPS))  # fmt: skip


def _too_long() -> SecurityError:
    return SecurityError(_("This template makes a text longer than %(limit)s characters.", limit=MAX_VALUE))


def _check_size(value: object) -> object:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_VALUE:
        raise _too_long()
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise SecurityError(_("This template computes a number too large."))
    return value


def _bounded_filter(name: str, function: Callable) -> Callable:
    """A builtin filter that refuses secrets, oversized arguments and oversized results."""
    passes = getattr(function, "jinja_pass_arg", None)

    @wraps(function)
    def bounded(*args: object, **kwargs: object) -> object:
        _spend()
        plain = args[1:] if passes is not None else args
        for argument in (*plain, *kwargs.values()):
            if isinstance(argument, Slot):
                argument._refuse()
            if isinstance(argument, int) and not isinstance(argument, bool) and abs(argument) > MAX_VALUE:
                raise _too_long()
            _check_size(argument)
        if name == "replace" and len(plain) >= 3:
            text, old, new = (str(part) for part in plain[:3])
            hits = text.count(old) if old else len(text) + 1
            if len(text) + hits * max(len(new) - len(old), 0) > MAX_VALUE:
                raise _too_long()
        return _check_size(function(*args, **kwargs))

    return bounded


def _steps(iterable: object) -> Iterator[object]:
    """What every ``{% for %}`` iterates through: one step of the budget per item."""
    if isinstance(iterable, Slot):
        iterable._refuse()
    for item in iterable:  # type: ignore[attr-defined]
        _spend()
        yield item


def _concat(parts: tuple[object, ...], autoescape: bool) -> str:
    """``a ~ b``: joined like Jinja does, with the size checked."""
    for part in parts:
        if isinstance(part, Slot):
            part._refuse()
    joined = markup_join(parts) if autoescape else str_join(parts)
    return _check_size(joined)  # type: ignore[return-value]


class _Bounds(NodeTransformer):
    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_steps", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        parts = nodes.Tuple(node.nodes, "load", lineno=node.lineno)
        return nodes.Filter(parts, "_concat", [], [], None, None, lineno=node.lineno)


def _nesting(node: nodes.Node, depth: int = 0) -> int:
    deepest = depth
    for child in node.iter_child_nodes():
        deepest = max(deepest, _nesting(child, depth + isinstance(child, nodes.For)))
    return deepest


class WordingEnvironment(SandboxedEnvironment):
    """The sandbox of the wordings, with the bounds above."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "//", "/", "-"})
    intercepted_unops = frozenset({"-", "+"})

    def __init__(self, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=False,
                         finalize=self._finalize)  # fmt: skip
        self.globals.clear()  # no range, lipsum, cycler, namespace…: the placeholders are all a template sees
        builtin = self.filters
        self.filters = {name: _bounded_filter(name, builtin[name]) for name in ALLOWED_FILTERS}
        self.filters["_steps"] = _steps
        self.filters["_concat"] = lambda parts: _concat(parts, autoescape)

    @staticmethod
    def _finalize(value: object) -> object:
        if isinstance(value, Slot):
            return value.marker
        return _check_size(value)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        if len(source) > MAX_SOURCE:
            raise TemplateSyntaxError(_("At most %(limit)s characters.", limit=MAX_SOURCE), 1, name, filename)
        tree = super()._parse(source, name, filename)
        for node in tree.find_all(_FORBIDDEN_NODES):
            raise TemplateSyntaxError(_("Macros, imports and autoescape blocks cannot be used."), node.lineno or 1,
                                      name, filename)  # fmt: skip
        for node in tree.find_all(nodes.For):
            if node.recursive:
                raise TemplateSyntaxError(_("Recursive loops cannot be used."), node.lineno or 1, name, filename)
        if _nesting(tree) > MAX_LOOP_NESTING:
            raise TemplateSyntaxError(_("Loops can be nested %(depth)s deep at most.", depth=MAX_LOOP_NESTING), 1,
                                      name, filename)  # fmt: skip
        return _Bounds().visit(tree)

    def call(__self, __context: Context, __obj: object, *args: object, **kwargs: object) -> object:  # noqa: N805
        _spend()
        owner = getattr(__obj, "__self__", None)
        allowed = (isinstance(owner, str) and getattr(__obj, "__name__", "") in _SAFE_STR_METHODS) or isinstance(
            owner, LoopContext
        )
        if not allowed:
            raise SecurityError(_("Only a few text methods (lower, upper, strip…) can be called in a template."))
        for argument in (*args, *kwargs.values()):
            if isinstance(argument, Slot):
                argument._refuse()
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: object, right: object) -> object:
        _spend()
        for operand in (left, right):
            if isinstance(operand, Slot):
                operand._refuse()
            _check_size(operand)
        if operator == "%" and isinstance(left, str):
            raise SecurityError(_("Formatting text with the percent operator cannot be used in a template."))
        if operator == "*":
            counts = [o for o in (left, right) if isinstance(o, int) and not isinstance(o, bool)]
            sized = [o for o in (left, right) if isinstance(o, (str, list, tuple))]
            if sized and counts and len(sized[0]) * max(counts[0], 0) > MAX_VALUE:
                raise _too_long()
            if len(counts) == 2 and left.bit_length() + right.bit_length() > MAX_INT_BITS:  # type: ignore[union-attr]
                raise SecurityError(_("This template computes a number too large."))
        numbers = isinstance(right, (int, float)) and isinstance(left, (int, float))
        if (
            operator == "**"
            and numbers
            and (abs(right) > MAX_INT_BITS or (abs(left) > 1 and abs(right) * math.log2(abs(left)) > MAX_INT_BITS))
        ):  # type: ignore[arg-type]
            raise SecurityError(_("This template computes a number too large."))
        return _check_size(super().call_binop(context, operator, left, right))

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        return not isinstance(obj, Slot) and super().is_safe_attribute(obj, attr, value)

    def call_unop(self, context: Context, operator: str, arg: object) -> object:
        if isinstance(arg, Slot):
            arg._refuse()
        return super().call_unop(context, operator, arg)


def _run(template: Template, context: dict[str, object]) -> str:
    """Render within the budget of steps and the size of the whole text."""
    token = _BUDGET.set([MAX_STEPS])
    try:
        size, pieces = 0, []
        for piece in template.generate(context):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise SecurityError(_("This template makes a text longer than %(limit)s characters.",
                                      limit=MAX_OUTPUT))  # fmt: skip
            pieces.append(piece)
        return "".join(pieces)
    finally:
        _BUDGET.reset(token)


TEXT, HTML = WordingEnvironment(False), WordingEnvironment(True)
RENDER_ERRORS = (TemplateError, TypeError, ValueError, AttributeError, LookupError, ArithmeticError, RecursionError,
                 MemoryError)  # fmt: skip


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
    """A message as staff may read it (``subject``, ``text``, ``html``: each secret shown as its placeholder's name)
    and as it goes to its recipient (``outgoing_text``, ``outgoing_html``: the secrets in place)."""

    subject: str
    text: str
    html: str
    outgoing_text: str = ""
    outgoing_html: str = ""


_URL = re.compile(r"(https?://[^\s<]+)")


def _as_html(body: Markup) -> str:
    """Paragraphs and line breaks, links clickable; everything the placeholders brought in is escaped already."""
    paragraphs = [p for p in str(body).split("\n\n") if p.strip()]
    linked = [_URL.sub(r'<a href="\1">\1</a>', p).replace("\n", "<br>\n") for p in paragraphs]
    return "<!doctype html><html><body>" + "".join(f"<p>{p}</p>\n" for p in linked) + "</body></html>"


def render(key: str, locale: str, values: dict[str, object], secrets: dict[str, str] | None = None) -> Rendered:
    """The message in ``locale`` with ``values`` (the kind's placeholders, as strings) and ``secrets`` (its
    secret placeholders' values: they appear in the outgoing text only, see above).

    A stored wording that no longer renders (changed in the database by hand, say) never stops a message: it is
    logged and the shipped wording goes out instead.
    """
    locale = locale if locale in LOCALES else ZH
    subject, body, row = current(key, locale)
    if row is None:
        return _render(key, locale, subject, body, values, secrets)
    try:
        return _render(key, locale, subject, body, values, secrets)
    except RENDER_ERRORS:
        log.exception("the wording of %s (%s) does not render; the shipped one is used", key, locale)
        return _render(key, locale, *default(key, locale), values, secrets)


def preview(key: str, locale: str, subject: str, body: str, values: dict[str, object]) -> Rendered:
    """An unsaved wording rendered as it would be sent (with sample values only: a preview never holds a live
    secret); refused with the same reasons as saving."""
    errors = problems(key, subject, body)
    if errors:
        raise Invalid(_("The template cannot be used."), errors)
    found = kind(key)
    rendered = _render(key, locale, subject, body, values, {name: str(values.get(name, "")) for name in found.secrets})
    return Rendered(rendered.subject, rendered.outgoing_text, rendered.outgoing_html)


class Misplaced(TemplateError):
    """A wording that does not place a secret exactly once in its text (or places one in its subject)."""


def _render(key: str, locale: str, subject: str, body: str, values: dict[str, object],
            secrets: dict[str, str] | None = None) -> Rendered:  # fmt: skip
    found = kind(key)
    secrets = secrets or {}
    markers = {name: f"PX{token_hex(12)}" for name in found.secrets}
    context: dict[str, object] = {name: "" if values.get(name) is None else str(values[name]) for name in found.names}
    context |= {name: Slot(name, marker) for name, marker in markers.items()}
    with force_locale(locale):
        subject_text = _run(TEXT.from_string(subject), context).strip() if subject else ""
        text = _run(TEXT.from_string(body), context).strip()
        html = Markup(_run(HTML.from_string(body), context)).strip()
    for name, marker in markers.items():
        if marker in subject_text or text.count(marker) != 1 or html.count(marker) != 1:
            raise Misplaced(_("Place {{ %(name)s }} exactly once in the text (and not in the subject).", name=name))
    staff_text, staff_html, outgoing_text, outgoing_html = text, str(html), text, str(html)
    for name, marker in markers.items():
        label = f"[{name}]"
        staff_text, staff_html = staff_text.replace(marker, label), staff_html.replace(marker, label)
        secret = secrets.get(name, "")
        outgoing_text = outgoing_text.replace(marker, secret)
        outgoing_html = outgoing_html.replace(marker, str(escape(secret)))
    return Rendered(subject=subject_text, text=staff_text, html=_as_html(Markup(staff_html)),
                    outgoing_text=outgoing_text, outgoing_html=_as_html(Markup(outgoing_html)))  # fmt: skip


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
            undeclared = meta.find_undeclared_variables(parsed)
        except TemplateError as error:
            line = getattr(error, "lineno", None)
            errors[name] = _("Not a valid template (line %(line)s): %(error)s", line=line or "?", error=error.message)
            continue
        unknown = sorted(undeclared - set(found.placeholders))
        if unknown:
            errors[name] = _("Unknown placeholder: %(names)s. Use only: %(allowed)s.",
                             names=", ".join(unknown), allowed=", ".join(found.placeholders))  # fmt: skip
            continue
        try:  # with the sample values: catches what parsing cannot (a filter missing, an attribute refused, a bound)
            samples_, here = samples(key), str(get_locale() or ZH)  # the reasons in the reader's language
            if name == "subject":
                _render(key, here, source, "".join("{{ " + secret + " }}" for secret in found.secrets) or "x", samples_)
            else:
                _render(key, here, "", source, samples_)
        except RENDER_ERRORS as error:
            message = getattr(error, "message", None) or str(error)
            errors[name] = _("This template cannot be rendered: %(error)s", error=message)
    return errors


def may_edit(found: Kind, actor: User) -> bool:
    """Organizers edit the wording of notices; a wording that carries a secret only an administrator edits."""
    return actor.role == ADMIN or not found.administrators_only


def _require_edit(found: Kind, actor: User) -> None:
    require_staff(actor)
    if not may_edit(found, actor):
        raise Forbidden(_("Only an administrator can change the wording of a message that carries a secret link "
                          "or code, or that warns of an attempt on an account."))  # fmt: skip


def save(key: str, locale: str, subject: str, body: str, actor: User) -> MessageTemplate:
    found = kind(key)
    _require_edit(found, actor)
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
    _require_edit(kind(key), actor)
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
