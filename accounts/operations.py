"""Accounts: applicant units registering themselves, members, passwords, invitations and API tokens."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import zlib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from stdnum.cn import uscc
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import UNIT_KINDS, ApiToken, Invitation, Unit, User
from notifications.operations import mail
from pingxuan.db import unique_or, utcnow
from pingxuan.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.queue import enqueue
from pingxuan.signing import sealer
from pingxuan.text import hidden_character_error
from workflow.definition import ADMIN, APPLICANT, GLOBAL_ROLES, ORGANIZER

MIN_PASSWORD = 8
MAX_PASSWORD = 128
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SESSION_PART = re.compile(r"[0-9]{1,18}")
INVITATION_DAYS = 14
RESET_SECONDS = 2 * 3600


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def _link(path: str) -> str:
    return current_app.config["SERVER_NAME_FOR_MAIL"].rstrip("/") + path


# Validation shared by registration and the admin --------------------------------------------------------


def credit_code_error(code: str) -> str | None:
    """The unified social credit code (统一社会信用代码), GB 32100-2015, checked by its check digit."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        return _("A unified social credit code has 18 characters.")
    if not uscc.is_valid(code):
        return _("This unified social credit code is not valid (its check digit does not match).")
    return None


def phone_error(phone: str) -> str | None:
    phone = (phone or "").replace(" ", "")
    if MOBILE.match(phone) or LANDLINE.match(phone):
        return None
    return _("Enter a mainland mobile number (11 digits) or a landline such as 0532-12345678.")


@cache
def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "data" / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _predictable(folded: str) -> bool:
    """A run anyone tries first: one short block repeated (``aaaaaaaa``, ``12121212``, ``abcabcab``) or a
    sequence going up or down by one (``12345678``, ``abcdefgh``, ``87654321``)."""
    if any(folded == (folded[:size] * len(folded))[: len(folded)] for size in range(1, 5)):
        return True
    steps = {ord(b) - ord(a) for a, b in zip(folded, folded[1:], strict=False)}
    return steps in ({1}, {-1})


def password_error(password: str, email: str = "", name: str = "") -> str | None:
    """The one rule for a password someone chooses (registration, invitation, reset, change, staff, API, CLI):
    at least ``MIN_PASSWORD`` characters, at most ``MAX_PASSWORD``, not among the most common passwords nor a
    run like ``12345678``, and not the person's e-mail address (or the part before the @) or name."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        return _("A password needs at least %(n)d characters.", n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return _("A password has at most %(n)d characters.", n=MAX_PASSWORD)
    folded = password.strip().casefold()
    if folded in _common_passwords() or _predictable(folded):
        return _("This password is one of the first that anyone would try. Choose another.")
    email = (email or "").strip().casefold()
    own = {email, email.partition("@")[0], (name or "").strip().casefold(), "".join((name or "").split()).casefold()}
    if folded in own - {""}:
        return _("Do not use your e-mail address or your name as your password.")
    return None


def length_error(value: str | None, column: Any) -> str | None:
    """Why ``value`` does not fit ``column`` (a String column of a model), or None: said per field before the
    database refuses it (PostgreSQL) or keeps more than the pages are made for (SQLite)."""
    limit = column.type.length
    if len(value or "") > limit:
        return _("At most %(n)d characters.", n=limit)
    return None


UNIT_TEXT_FIELDS = ("name", "district", "parent_org", "contact_name", "contact_phone")


def unit_text_errors(data: dict[str, Any], field_names: dict[str, str] | None = None) -> dict[str, str]:
    """A field error for each of a unit's one-line text fields that holds a hidden character (a control character,
    a direction mark, a line or paragraph separator: a mail's subject with one cannot be sent) or is longer than
    its column (``field_names``: a form's names). The one check of a unit's text, whether it comes from the
    registration form, the back office, the API or a sheet."""
    names = field_names or {}
    errors = {}
    for column in UNIT_TEXT_FIELDS:
        value = str(data.get(column) or "").strip()
        if message := hidden_character_error(value) or length_error(value, Unit.__table__.c[column]):
            errors[names.get(column, column)] = message
    return errors


def email_error(email: str) -> str | None:
    """An address mail can go to, without hidden characters (a direction mark can make it read as another)."""
    if message := length_error(email, User.__table__.c.email):
        return message
    if hidden_character_error(email) or not EMAIL.match(email or ""):
        return _("Enter a valid e-mail address.")
    return None


def name_error(name: str) -> str | None:
    """A person's name as accounts keep it: given, without hidden characters, within its column."""
    if not (name or "").strip():
        return _("Enter your name.")
    return hidden_character_error(name) or length_error(name.strip(), User.__table__.c.name)


def _user_errors(email: str, name: str, password: str, taken: bool = True) -> dict[str, str]:
    """The account's field errors; ``taken=False`` leaves out whether the address has an account (registration
    never says it: the address's owner is mailed instead)."""
    errors: dict[str, str] = {}
    if message := email_error(email):
        errors["email"] = message
    elif taken and db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        errors["email"] = _("An account with this e-mail address exists already.")
    if message := name_error(name):
        errors["name"] = message
    if message := password_error(password, email, name):
        errors["password"] = message
    return errors


# Registration and users --------------------------------------------------------------------------------
#
# A visitor registers in two steps. The form is checked, and then the address is mailed either a link to confirm
# (nothing is written yet: the link carries the registration, sealed) or, when the address has an account
# already, a note to its owner. The visitor is answered the same either way, with the same work done (one
# password hash, one mail), so the registration page tells nobody which addresses have accounts. Only the
# confirmed link, which only the address's owner has, creates the unit and the account.

REGISTRATION_SECONDS = 48 * 3600
REGISTRATION_FIELDS = ("name", "kind", "district", "credit_code", "parent_org", "contact_name", "contact_phone")


@dataclass(frozen=True)
class PendingRegistration:
    """A registration as its confirmation link carries it (its password only as a hash)."""

    unit: dict[str, str]
    email: str
    name: str
    password_hash: str


def _clean_unit(unit_data: dict[str, Any]) -> dict[str, str]:
    clean = {field: str(unit_data.get(field) or "").strip() for field in REGISTRATION_FIELDS}
    clean["credit_code"] = clean["credit_code"].upper()
    clean["contact_phone"] = str(unit_data.get("contact_phone") or "").replace(" ", "")
    return clean


def request_registration(unit_data: dict[str, Any], email: str, name: str, password: str, locale: str) -> None:
    """Step one: check the form (every field error at once, but never whether the address has an account), then
    mail the address a link to confirm in ``locale``, or tell its owner that someone tried to register with it."""
    email = _normalize_email(email)
    check_registration(unit_data, email, name, password)
    password_hash = _hash(password)  # for a taken address too: the answer takes as long
    owner = db.session.scalar(select(User).where(User.email == email))
    if owner is not None:
        mail(owner.email, "account.registration_taken", owner.locale or locale,
             {"name": owner.name, "login": _link("/login"), "forgot": _link("/forgot")})  # fmt: skip
        return
    pending = {"u": _clean_unit(unit_data), "e": email, "n": name.strip(), "h": password_hash}
    token = _registration_sealer().encrypt(zlib.compress(json.dumps(pending, ensure_ascii=False).encode())).decode()
    mail(email, "account.registration_confirm", locale, {"hours": REGISTRATION_SECONDS // 3600},
         secrets={"link": _link(f"/register/confirm/{token}")})  # fmt: skip


def check_registration(unit_data: dict[str, Any], email: str, name: str, password: str) -> None:
    """Every field error of the registration form at once (and none about whether the address has an account)."""
    errors = _registration_errors(unit_data, _normalize_email(email), name, password, taken=False)
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)


def _registration_sealer() -> Fernet:
    return sealer("registration")


def pending_registration(token: str) -> PendingRegistration:
    """The registration a confirmation link carries; refused when the link was not made here or has expired."""
    sealed = (token or "").encode("ascii", "ignore")
    try:
        data = json.loads(zlib.decompress(_registration_sealer().decrypt(sealed, ttl=REGISTRATION_SECONDS)))
    except InvalidToken as error:
        try:
            _registration_sealer().decrypt(sealed)
        except InvalidToken:
            raise Invalid(_("This link is not valid.")) from error
        raise Invalid(_("This link has expired. Register again.")) from error
    return PendingRegistration(unit=data["u"], email=data["e"], name=data["n"], password_hash=data["h"])


def registration_done(pending: PendingRegistration) -> bool:
    """Whether this very registration has been confirmed already (its account exists, with its password)."""
    user = db.session.scalar(select(User).where(User.email == pending.email))
    return user is not None and user.password_hash == pending.password_hash


def confirm_registration(token: str) -> User:
    """Step two, from the mailed link: the unit and its first member are created now, if nobody took the unit's
    name, its credit code or the address in the meantime (the database's unique constraints decide a race)."""
    pending = pending_registration(token)
    if registration_done(pending):
        raise Conflict(_("This registration is confirmed already. Log in."))

    def refusal() -> DomainError:
        reasons = list(_confirmation_errors(pending).values())
        if not reasons:
            return _taken({})
        return Invalid(_("The registration cannot be completed: %(reasons)s", reasons=" ".join(reasons)))

    if _confirmation_errors(pending):
        raise refusal()
    with unique_or(refusal):
        user = _create_unit_and_member(pending.unit, pending.email, pending.name, pending.password_hash)
    return user


def _confirmation_errors(pending: PendingRegistration) -> dict[str, str]:
    """What was taken since the form was checked: the address, the unit's name, its credit code."""
    errors: dict[str, str] = {}
    if db.session.scalar(select(User.id).where(func.lower(User.email) == pending.email)) is not None:
        errors["email"] = _("An account with this e-mail address exists already: log in, or choose a new password "
                            "if you have forgotten it.")  # fmt: skip
    if db.session.scalar(select(Unit.id).where(Unit.name == pending.unit["name"])) is not None:
        errors["unit_name"] = _("A unit with this name is registered already; ask its members for an invitation.")
    if db.session.scalar(select(Unit.id).where(Unit.credit_code == pending.unit["credit_code"])) is not None:
        errors["credit_code"] = _("A unit with this credit code is registered already.")
    return errors


def _create_unit_and_member(unit: dict[str, str], email: str, name: str, password_hash: str) -> User:
    made = Unit(**unit)
    user = User(email=email, name=name, password_hash=password_hash, role=APPLICANT, unit=made)
    db.session.add_all([made, user])
    db.session.flush()
    return user


def register_unit(unit_data: dict[str, Any], email: str, name: str, password: str) -> User:
    """A unit and its first member made at once, without the mailed confirmation (the demo data): visitors go
    through ``request_registration`` and ``confirm_registration``.

    Two registrations of the same unit (or address) at once: the database's unique constraints decide, and the
    one who comes second gets the same field errors as if they had registered after."""
    email = _normalize_email(email)
    errors = _registration_errors(unit_data, email, name, password)
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    with unique_or(lambda: _taken(_registration_errors(unit_data, email, name, password))):
        user = _create_unit_and_member(_clean_unit(unit_data), email, name.strip(), _hash(password))
    return user


def _taken(errors: dict[str, str]) -> DomainError:
    """What a request that lost a race for a unique name or address is told: the field now taken."""
    if errors:
        return Invalid(_("Please correct the marked fields."), errors)
    return Conflict(_("Someone else made the same change at the same moment. Reload the page and try again."))


def _registration_errors(
    unit_data: dict[str, Any], email: str, name: str, password: str, taken: bool = True
) -> dict[str, str]:
    errors = _user_errors(email, name, password, taken)
    unit_name = (unit_data.get("name") or "").strip()
    code = (unit_data.get("credit_code") or "").strip().upper()
    if not unit_name:
        errors["unit_name"] = _("Enter the unit's full name.")
    elif db.session.scalar(select(Unit.id).where(Unit.name == unit_name)) is not None:
        errors["unit_name"] = _("A unit with this name is registered already; ask its members for an invitation.")
    if unit_data.get("kind") not in UNIT_KINDS:
        errors["kind"] = _("Choose the kind of unit.")
    if not (unit_data.get("district") or "").strip():
        errors["district"] = _("Enter the district.")
    if message := credit_code_error(code):
        errors["credit_code"] = message
    elif db.session.scalar(select(Unit.id).where(Unit.credit_code == code)) is not None:
        errors["credit_code"] = _("A unit with this credit code is registered already.")
    if not (unit_data.get("contact_name") or "").strip():
        errors["contact_name"] = _("Enter the contact person.")
    if message := phone_error(unit_data.get("contact_phone", "")):
        errors["contact_phone"] = message
    errors |= unit_text_errors(unit_data, {"name": "unit_name"})
    return errors


def create_user(email: str, name: str, password: str, role: str, unit: Unit | None = None) -> User:
    """Create an account directly (administrators, demo data, expert import)."""
    email = _normalize_email(email)
    errors = _user_errors(email, name, password)
    if role not in GLOBAL_ROLES:
        errors["role"] = _("Unknown role.")
    if role == APPLICANT and unit is None:
        errors["unit"] = _("An applicant belongs to a unit.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    with unique_or(lambda: _taken(_user_errors(email, name, password))):
        # Made inside the savepoint: its opening flushes the session, and a new user already in the unit's
        # ``members`` but not yet in the session would be skipped with a warning.
        user = User(email=email, name=name.strip(), password_hash=_hash(password), role=role, unit=unit)
        db.session.add(user)
    return user


# Sessions: a cookie is good until its person logs out or changes their password ---------------------------


def end_sessions(user: User) -> None:
    """End every session of ``user`` made until now, on every device, copies of the cookie included.

    The session is a signed cookie the server does not keep, so a cookie carries the generation it was made in
    (``User.get_id``) and is checked against the counter kept here; raising it (one UPDATE, atomic) ends them.
    Logging out raises it too: a cookie copied before a logout must not stay logged in, and without a server-side
    list of sessions that means logging out ends the person's sessions on their other devices as well.
    """
    user.auth_generation = User.auth_generation + 1
    db.session.flush()


def user_for_session(session_id: str) -> User | None:
    """The person a session cookie names (``"<id>:<generation>"``), if active and the generation is current."""
    user_id, sep, generation = (session_id or "").partition(":")
    if not (SESSION_PART.fullmatch(user_id) and SESSION_PART.fullmatch(generation)):
        return None  # cookies made before generations existed are anonymous
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.auth_generation != int(generation):
        return None
    return user


def revoke_personal_tokens(user: User, keep_token_id: int | None = None) -> int:
    """Revoke ``user``'s personal API tokens but ``keep_token_id``; service tokens belong to service accounts,
    which have no password, and are never touched. Returns how many were revoked."""
    query = update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.scopes.is_(None), ApiToken.revoked_at.is_(None)
    )  # fmt: skip
    if keep_token_id is not None:
        query = query.where(ApiToken.id != keep_token_id)
    return db.session.execute(query.values(revoked_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def _password_changed(user: User, keep_token_id: int | None = None) -> None:
    """What a new password ends: the person's other sessions and their personal API tokens (someone who had the
    old password may have made either)."""
    end_sessions(user)
    revoke_personal_tokens(user, keep_token_id)


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash made like the accounts' ones, to check a password against when no account matches."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = _hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[method]


def authenticate(email: str, password: str) -> User | None:
    """The account of ``email`` if ``password`` is its password. An unknown or inactive address costs the same
    password check (against a dummy hash), so the time of the answer does not tell whether an account exists."""
    user = db.session.scalar(select(User).where(User.email == _normalize_email(email)))
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    return user


def change_password(user: User, current: str, new: str, keep_token_id: int | None = None) -> None:
    """Set a new password; every session made before ends (the caller logs the current one in again) and every
    personal API token but ``keep_token_id`` (the token an API call is made with) is revoked."""
    if not check_password_hash(user.password_hash, current or ""):
        raise Invalid(_("Please correct the marked fields."), {"current_password": _("The current password is wrong.")})
    if message := password_error(new, user.email, user.name):
        raise Invalid(_("Please correct the marked fields."), {"new_password": message})
    user.password_hash = _hash(new)
    _password_changed(user, keep_token_id)


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise Invalid(_("Unknown language."), {"locale": _("Unknown language.")})
    user.locale = locale
    db.session.flush()


# Password reset: a signed token bound to the current password hash, so it works once -----------------


def _reset_serializer(salt: str = "password-reset") -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def queue_password_reset(email: str) -> None:
    """Have a worker mail a reset link if the account exists (``accounts.send_password_reset``). The request does
    the same whatever the address, so neither its answer nor its timing tells whether an account exists."""
    email = _normalize_email(email)
    if 0 < len(email) <= 254:  # no account has a longer address
        enqueue("accounts.send_password_reset", email)


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way (no account probing)."""
    user = db.session.scalar(select(User).where(User.email == _normalize_email(email)))
    if user is None or not user.active:
        return
    token = _reset_serializer().dumps({"uid": user.id, "h": user.password_hash[-16:]})
    mail(user.email, "account.password_reset", user.locale, {"name": user.name},
         secrets={"link": _link(f"/reset/{token}")})  # fmt: skip


def send_welcome(user: User) -> None:
    """Invite someone whose account an organizer created (experts): the link lets them choose a password."""
    token = _reset_serializer("welcome").dumps({"uid": user.id, "h": user.password_hash[-16:]})
    mail(user.email, "account.welcome_expert", user.locale, {"name": user.name},
         secrets={"link": _link(f"/reset/{token}")})  # fmt: skip


def reset_password(token: str, new: str) -> User:
    data = None
    for salt, max_age in (("password-reset", RESET_SECONDS), ("welcome", INVITATION_DAYS * 86400)):
        try:
            data = _reset_serializer(salt).loads(token, max_age=max_age)
            break
        except SignatureExpired as exc:
            raise Invalid(_("This link has expired. Ask for a new one.")) from exc
        except BadSignature:
            continue
    if data is None:
        raise Invalid(_("This link is not valid."))
    user = db.session.get(User, data.get("uid"))
    used = _("This link has been used already. Ask for a new one.")
    if user is None or user.password_hash[-16:] != data.get("h"):
        raise Invalid(used)
    if message := password_error(new, user.email, user.name):
        raise Invalid(_("Please correct the marked fields."), {"password": message})
    # Single use, enforced by the database: the link names the password it replaces, and only the request that
    # still finds that password sets the new one (two parallel requests with one link: one wins).
    still = update(User).where(User.id == user.id, User.password_hash == user.password_hash)
    changed = db.session.execute(still.values(password_hash=_hash(new))).rowcount
    if changed != 1:
        raise Invalid(used)
    _password_changed(user)
    return user


# Invitations -------------------------------------------------------------------------------------------


def invite_member(actor: User, email: str) -> Invitation:
    """A unit member invites a colleague; the colleague sets a name and password through the mailed link."""
    if actor.role != APPLICANT or actor.unit is None:
        raise Forbidden(_("Only members of an applicant unit can invite colleagues."))
    return _invite(actor, _normalize_email(email), APPLICANT, actor.unit)


def invite_user(actor: User, email: str, role: str) -> Invitation:
    """Organizers invite experts and colleagues into the system."""
    if actor.role not in (ORGANIZER, ADMIN):
        raise Forbidden(_("Only organizers can invite experts and staff."))
    if role not in GLOBAL_ROLES or role == APPLICANT or (role == ADMIN and actor.role != ADMIN):
        raise Invalid(_("Please correct the marked fields."), {"role": _("Unknown role.")})
    return _invite(actor, _normalize_email(email), role, None)


def _invite(actor: User, email: str, role: str, unit: Unit | None) -> Invitation:
    if message := email_error(email):
        raise Invalid(_("Please correct the marked fields."), {"email": message})
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Invalid(
            _("Please correct the marked fields."),
            {"email": _("An account with this e-mail address exists already.")},
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email, role=role, unit=unit, token_hash=_digest(token), invited_by_id=actor.id,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )  # fmt: skip
    db.session.add(invitation)
    db.session.flush()
    where = unit.name if unit else _("pingxuan")
    mail(email, "account.invitation", actor.locale, {"inviter": actor.name, "where": where, "days": INVITATION_DAYS},
         secrets={"link": _link(f"/invitations/{token}")})  # fmt: skip
    return invitation


def find_invitation(token: str) -> Invitation:
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _digest(token or "")))
    if invitation is None:
        raise NotFound(_("This invitation is not valid."))
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation has been used already."))
    if invitation.expires_at < utcnow():
        raise Invalid(_("This invitation has expired. Ask for a new one."))
    return invitation


def accept_invitation(token: str, name: str, password: str) -> User:
    """Make the invited account; the invitation is claimed with a conditional UPDATE, so it is used once even
    when the link is submitted twice at the same moment."""
    invitation = find_invitation(token)
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict(_("This invitation has been used already."))
    return create_user(invitation.email, name, password, invitation.role, invitation.unit)


# Personal access tokens for the API ---------------------------------------------------------------------


def create_api_token(user: User, name: str, via_token_id: int | None = None) -> tuple[str, ApiToken]:
    """Return the token once (it is not stored) and its record.

    Only a person with a session makes tokens (the account page): a request authenticated by a token
    (``via_token_id``) may not, or a stolen token would make others that outlive its revocation."""
    if via_token_id is not None:
        raise Forbidden(
            _("An API token cannot create API tokens: log in and create one on the page /tokens."),
            reasons=[_("Creating an API token needs a login session.")],
        )
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Please correct the marked fields."), {"name": _("Give the token a name.")})
    plain = "px_" + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, name=name[:100], token_hash=_digest(plain))
    db.session.add(record)
    db.session.flush()
    return plain, record


def user_for_token(plain: str) -> User | None:
    record = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(plain or ""), ApiToken.revoked_at.is_(None))
    )
    if record is None or not record.user.active:
        return None
    record.last_used_at = utcnow()
    return record.user


def revoke_api_token(user: User, token_id: int) -> None:
    record = db.session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        raise NotFound(_("No such token."))
    record.revoked_at = utcnow()
    db.session.flush()


def list_api_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
        )
    )


# Staff managing accounts (the back office) -------------------------------------------------------------


def role_grant_error(actor: User, role: str) -> str | None:
    """Why ``actor`` may not give someone ``role``: organizers manage everyone but administrators."""
    if role not in GLOBAL_ROLES:
        return _("Unknown role.")
    if actor.role not in (ORGANIZER, ADMIN):
        return _("Only organizers and administrators manage accounts.")
    if role == ADMIN and actor.role != ADMIN:
        return _("Only an administrator can make someone an administrator.")
    return None


def create_user_by_staff(
    actor: User, email: str, name: str, password: str, role: str, unit: Unit | None = None, active: bool = True
) -> User:
    """An organizer or administrator creates an account with a first password (told to the person)."""
    if message := role_grant_error(actor, role):
        raise Invalid(_("Please correct the marked fields."), {"role": message})
    user = create_user(email, name, password, role, unit if role == APPLICANT else None)
    user.active = active
    db.session.flush()
    return user


def update_user(actor: User, user: User, name: str, role: str, unit: Unit | None, active: bool) -> User:
    """Staff change someone's name, role, unit or whether they may log in; nobody locks themselves out."""
    errors: dict[str, str] = {}
    if not (name or "").strip():
        errors["name"] = _("Enter the name.")
    elif message := hidden_character_error(name) or length_error(name.strip(), User.__table__.c.name):
        errors["name"] = message
    if role != user.role and (message := role_grant_error(actor, role)):
        errors["role"] = message
    elif user.role == ADMIN and actor.role != ADMIN:
        errors["role"] = _("Only an administrator can change an administrator's account.")
    if role == APPLICANT and unit is None:
        errors["unit"] = _("An applicant belongs to a unit.")
    if user.id == actor.id and (not active or role not in (ORGANIZER, ADMIN)):
        errors["active" if not active else "role"] = _("You cannot lock yourself out of the back office.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    user.name = name.strip()
    user.role = role
    user.unit = unit if role == APPLICANT else None
    user.active = active
    db.session.flush()
    return user


def check_unit(unit: Unit) -> None:
    """The checks registration makes on a unit's own fields, for units edited by staff."""
    errors: dict[str, str] = {}
    for column in ("name", "district", "parent_org", "contact_name"):
        setattr(unit, column, (getattr(unit, column) or "").strip())
    unit.credit_code = (unit.credit_code or "").strip().upper()
    unit.contact_phone = (unit.contact_phone or "").replace(" ", "")
    if not unit.name:
        errors["name"] = _("Enter the unit's full name.")
    if unit.kind not in UNIT_KINDS:
        errors["kind"] = _("Choose the kind of unit.")
    if message := credit_code_error(unit.credit_code):
        errors["credit_code"] = message
    else:
        with db.session.no_autoflush:
            others = select(Unit.id).where(Unit.credit_code == unit.credit_code)
            if unit.id is not None:
                others = others.where(Unit.id != unit.id)
            if db.session.scalar(others) is not None:
                errors["credit_code"] = _("A unit with this credit code is registered already.")
    if message := phone_error(unit.contact_phone):
        errors["contact_phone"] = message
    errors |= unit_text_errors({column: getattr(unit, column) for column in UNIT_TEXT_FIELDS})
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)


# Accounts made by someone else (imported experts) --------------------------------------------------------

UNUSABLE_PASSWORD = "!"  # not a werkzeug hash: check_password_hash() is always False for it


def new_account_without_password(email: str, name: str, role: str) -> User:
    """An account an organizer makes for someone (an imported expert): no password, so none is hashed (a scrypt
    hash of a throwaway password cost about 0.1 s per account) and none is ever mailed; its owner chooses one
    through the welcome link (send_welcome). The caller checks the address and flushes (imports do it once)."""
    if role not in GLOBAL_ROLES:
        raise Invalid(_("Please correct the marked fields."), {"role": _("Unknown role.")})
    user = User(email=_normalize_email(email), name=name.strip()[:100], password_hash=UNUSABLE_PASSWORD, role=role)
    db.session.add(user)
    return user


def invite_into_unit(actor: User, unit: Unit, email: str) -> Invitation:
    """Staff invite a member into an applicant unit (integrations setting units up); the link sets the password."""
    if actor.role not in (ORGANIZER, ADMIN):
        raise Forbidden(_("Only organizers can invite experts and staff."))
    return _invite(actor, _normalize_email(email), APPLICANT, unit)
