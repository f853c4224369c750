"""Account pages: log in and out, unit registration, passwords, unit members and invitations, API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from accounts import limits
from accounts import operations as ops
from forms import show_errors
from forms.accounts import (
    UNIT_KIND_LABELS,
    AcceptInvitationForm,
    ConfirmForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    PasswordChangeForm,
    RegisterForm,
    ResetPasswordForm,
    TokenForm,
)
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError, Invalid
from pingxuan.extensions import limiter
from pingxuan.net import safe_next
from workflow.definition import APPLICANT

bp = Blueprint("accounts", __name__, template_folder="templates")


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _safe_next(target: str | None) -> str:
    """Only follow a ``next`` that stays on this site."""
    return safe_next(target, url_for("dashboard"))


def _refused(form, error: DomainError, names: dict[str, str] | None = None) -> None:
    """Undo what the failed operation flushed and show its message and every field error."""
    rollback()
    leftover = show_errors(form, error.field_errors, names)
    flash(error.message, "error")
    for message in [*leftover, *error.reasons]:
        flash(message, "error")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        wait = limits.login_wait(email)
        if wait:  # consecutive wrong passwords for this address: a growing delay, the same for any address
            flash(_("Too many wrong passwords for this address. Try again in %(seconds)s seconds.", seconds=wait),
                  "error")  # fmt: skip
            return render_template("accounts/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = ops.authenticate(email, form.password.data or "")
        if user is not None:
            limits.login_succeeded(email)
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        limits.login_failed(email)
        flash(_("The e-mail address or the password is wrong."), "error")
        return render_template("accounts/login.html", form=form), 401
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Logging out is a POST with the CSRF token (the global CSRFProtect checks it): a GET, which any other site
    can make a browser send, only shows the button, so no page elsewhere can log a person out of every device."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("index"))
        return render_template("accounts/logout.html")
    if current_user.is_authenticated:  # copies of this cookie, and the account's other sessions, end too
        ops.end_sessions(current_user)
        commit()
    logout_user()
    flash(_("You are logged out."), "success")
    return redirect(url_for("index"))


@bp.route("/register", methods=["GET", "POST"])
@limits.registration_limits
def register():
    """Step one of registering a unit: the form. Whether or not the address has an account, a valid form is
    answered alike (the next page says to look in the mail) and the address is mailed (accounts.operations)."""
    form = RegisterForm()
    if form.is_submitted():
        confirmed = form.validate()
        unit = {name: form[name].data or "" for name in ("kind", "district", "credit_code", "parent_org")}
        unit |= {"name": form.unit_name.data or "", "contact_name": form.contact_name.data or ""}
        unit["contact_phone"] = form.contact_phone.data or ""
        person = (form.email.data or "", form.name.data or "", form.password.data or "")
        try:
            if not confirmed:  # the passwords differ: say so, with every other field error, and mail nothing
                ops.check_registration(unit, *person)
            else:
                ops.request_registration(unit, *person, locale=str(get_locale()))
        except Invalid as error:
            _refused(form, error)
            return render_template("accounts/register.html", form=form), 422
        if not confirmed:
            flash(_("Please correct the marked fields."), "error")
            return render_template("accounts/register.html", form=form), 422
        commit()
        return redirect(url_for("accounts.registration_sent"))
    return render_template("accounts/register.html", form=form)


@bp.route("/register/sent")
def registration_sent():
    return render_template("accounts/register_sent.html", hours=ops.REGISTRATION_SECONDS // 3600)


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def confirm_registration(token: str):
    """Step two, from the mailed link: a page that shows what will be registered and a button (a GET changes
    nothing, so a mail scanner that opens the link creates no account)."""
    form = ConfirmForm()

    def page(pending: ops.PendingRegistration | None, status: int = 200, done: bool = False):
        shown = render_template("accounts/register_confirm.html", form=form, kinds=UNIT_KIND_LABELS, pending=pending,
                                done=done)  # fmt: skip
        return shown, status

    try:
        pending = ops.pending_registration(token)
    except DomainError as error:
        flash(error.message, "error")
        return page(None, error.status)
    if ops.registration_done(pending):
        return page(pending, done=True)
    if form.validate_on_submit():
        try:
            user = ops.confirm_registration(token)
        except DomainError as error:
            _refused(form, error)
            return page(pending, error.status)
        commit()
        logout_user()
        login_user(user)
        flash(_("Your unit is registered. Welcome!"), "success")
        return redirect(url_for("dashboard"))
    return page(pending)


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limits.password_limits
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            ops.change_password(current_user, form.current_password.data or "", form.new_password.data or "")
        except Invalid as error:
            _refused(form, error)
            return render_template("accounts/password.html", form=form), 422
        commit()
        login_user(current_user._get_current_object())  # this session goes on, in the new generation
        flash(_("Your password is changed. You are logged out everywhere else, and your personal API tokens are "
                "revoked: make new ones for your programs."), "success")  # fmt: skip
        return redirect(url_for("dashboard"))
    return render_template("accounts/password.html", form=form), 422 if form.errors else 200


@bp.route("/forgot", methods=["GET", "POST"])
@limits.forgot_limits
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        ops.queue_password_reset(form.email.data or "")
        commit()
        flash(_("If an account exists for this address, we have sent it a link to choose a new password."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = ops.reset_password(token, form.password.data or "")
        except Invalid as error:
            _refused(form, error)
            return render_template("accounts/reset.html", form=form), 422
        commit()
        login_user(user)
        flash(_("Your new password is set."), "success")
        return redirect(url_for("dashboard"))
    return render_template("accounts/reset.html", form=form), 422 if form.errors else 200


def _my_unit():
    if current_user.role != APPLICANT or current_user.unit is None:
        abort(404)
    return current_user.unit


@bp.route("/unit", methods=["GET", "POST"])
@login_required
@limits.invitation_limits
def unit():
    unit = _my_unit()
    form = InviteForm()
    status = 200
    if form.validate_on_submit():
        try:
            ops.invite_member(current_user, form.email.data or "")
        except DomainError as error:
            _refused(form, error)
            status = error.status
        else:
            commit()
            flash(_("We have sent an invitation to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("accounts.unit"))
    return render_template("accounts/unit.html", unit=unit, members=unit.members, form=form), status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = ops.find_invitation(token)  # an unknown, used or expired link shows its error page
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = ops.accept_invitation(token, form.name.data or "", form.password.data or "")
        except DomainError as error:
            _refused(form, error)
            return render_template("accounts/accept.html", form=form, invitation=invitation), error.status
        commit()
        logout_user()
        login_user(user)
        flash(_("Welcome! Your account is ready."), "success")
        return redirect(url_for("dashboard"))
    return render_template("accounts/accept.html", form=form, invitation=invitation), 422 if form.errors else 200


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    created = None
    status = 200
    if form.validate_on_submit():
        try:
            created, _record = ops.create_api_token(current_user, form.name.data or "")
        except Invalid as error:
            _refused(form, error)
            status = 422
        else:
            commit()
            form = TokenForm(formdata=None)
    return render_template(
        "accounts/tokens.html",
        form=form,
        created=created,
        tokens=ops.list_api_tokens(current_user),
        revoke_form=ConfirmForm(),
    ), status


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        ops.revoke_api_token(current_user, token_id)
        commit()
        flash(_("The token is revoked; programs using it can no longer connect."), "success")
    return redirect(url_for("accounts.tokens"))
