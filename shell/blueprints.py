"""Every blueprint of the application, registered in one place."""

from __future__ import annotations

from flask import Flask, redirect, render_template, url_for
from flask_login import current_user


def register(app: Flask) -> None:
    @app.get("/")
    def index():
        if current_user.is_authenticated:
            return redirect(url_for("dashboard"))
        from campaigns.operations import current_campaign
        from pingxuan.errors import NotFound

        try:
            campaign = current_campaign()
        except NotFound:
            campaign = None
        return render_template("index.html", campaign=campaign)

    import voting.integrity_views  # noqa: F401  (its pages on vote_admin, before registration)
    from accounts.views import bp as account_pages
    from cases.views import bp as cases_pages
    from notifications.views import bp as notification_pages
    from reviewers.views import bp as review_pages
    from voting.views import admin_bp as vote_admin_pages
    from voting.views import bp as showcase_pages
    from workflow.views import bp as workflow_pages

    for blueprint in (account_pages, cases_pages, workflow_pages, notification_pages, review_pages):
        app.register_blueprint(blueprint)
    for blueprint in (showcase_pages, vote_admin_pages):
        app.register_blueprint(blueprint)

    from awards.views import bp as award_pages

    app.register_blueprint(award_pages)
    from books.views import bp as book_pages

    app.register_blueprint(book_pages)
    from campaigns.views import bp as staff_pages

    app.register_blueprint(staff_pages)

    from backoffice import init_admin

    init_admin(app)

    @app.get("/dashboard")
    def dashboard():
        from workflow.definition import APPLICANT, EXPERT

        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login"))
        if current_user.role == APPLICANT:
            return redirect(url_for("cases.my_cases"))
        if current_user.role == EXPERT:
            return redirect(url_for("review_pages.my_reviews"))  # the expert's home
        return redirect(url_for("staff.home"))

    from api import init_api

    init_api(app)
