"""Every blueprint of the application, registered in one place."""

from __future__ import annotations

from flask import Flask, redirect, render_template, url_for
from flask_login import current_user


def register(app: Flask) -> None:
    @app.get("/")
    def index():
        if current_user.is_authenticated:
            return redirect(url_for("dashboard"))
        return render_template("index.html")

    @app.get("/dashboard")
    def dashboard():
        from workflow.definition import APPLICANT, EXPERT

        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login"))
        if current_user.role == APPLICANT:
            return redirect(url_for("cases.my_cases"))
        if current_user.role == EXPERT:
            return redirect(url_for("workflow_pages.worklists"))
        return redirect(url_for("admin.index"))
