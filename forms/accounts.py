"""Forms of the account pages. Validation beyond "the two passwords match" is done by accounts.operations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.fields import SelectChoice
from wtforms.validators import EqualTo

from accounts.models import UNIT_KINDS

PASSWORD_RULE = _l("At least 8 characters; not a common password, your e-mail address or your name.")
UNIT_KIND_LABELS = {
    "government": _l("Government body"),
    "enterprise": _l("Enterprise"),
    "institution": _l("Public institution"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"))
    password = PasswordField(_l("Password"))


class RegisterForm(FlaskForm):
    unit_name = StringField(_l("Unit name (full legal name)"))
    kind = SelectField(
        _l("Kind of unit"),
        choices=[SelectChoice("", _l("Choose…"))] + [SelectChoice(k, UNIT_KIND_LABELS[k]) for k in UNIT_KINDS],
        validate_choice=False,
    )
    district = StringField(_l("District"))
    credit_code = StringField(_l("Unified social credit code"), description=_l("18 characters, e.g. 91370200…"))
    parent_org = StringField(_l("Parent organization (optional)"))
    contact_name = StringField(_l("Contact person"))
    contact_phone = TelField(_l("Contact phone"))
    name = StringField(_l("Your name"))
    email = EmailField(_l("Your e-mail"))
    password = PasswordField(_l("Password"), description=PASSWORD_RULE)
    confirm = PasswordField(_l("Repeat the password"), validators=[EqualTo("password", _l("The passwords differ."))])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"))
    new_password = PasswordField(_l("New password"), description=PASSWORD_RULE)
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[EqualTo("new_password", _l("The passwords differ."))]
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), description=PASSWORD_RULE)
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[EqualTo("password", _l("The passwords differ."))]
    )


class InviteForm(FlaskForm):
    email = EmailField(_l("Colleague's e-mail"))


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Your name"))
    password = PasswordField(_l("Password"), description=PASSWORD_RULE)
    confirm = PasswordField(_l("Repeat the password"), validators=[EqualTo("password", _l("The passwords differ."))])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), description=_l("What the token is for, e.g. “import script”."))


class ConfirmForm(FlaskForm):
    """A button-only form (revoke, log out, mark read): CSRF and nothing else."""
