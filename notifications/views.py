"""The in-app notifications page: what happened to my unit's cases."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forms.accounts import ConfirmForm
from notifications.operations import list_notifications, mark_all_read, unread_count
from pingxuan.db import commit

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.get("/notifications")
@login_required
def index():
    return render_template(
        "notifications/index.html",
        notifications=list_notifications(current_user, limit=200),
        unread=unread_count(current_user),
        form=ConfirmForm(),
    )


@bp.post("/notifications/read")
@login_required
def read_all():
    if ConfirmForm().validate_on_submit():
        mark_all_read(current_user)
        commit()
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))
