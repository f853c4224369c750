"""Wiring of the web layer: blueprints, login, error pages, template helpers, CLI."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import Flask, Response, g, has_request_context, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from pingxuan import clock, links, logs, metrics
from pingxuan.db import commit, is_unique_violation, rollback
from pingxuan.errors import Conflict, DomainError
from pingxuan.extensions import login_manager
from pingxuan.httpcache import is_public
from pingxuan.i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE, asked_language, is_english, pick
from pingxuan.net import local_path, safe_next, warn_about_untrusted_forwarding
from pingxuan.signing import same_secret
from workflow.definition import STATE_BY_NAME, event_title

PUBLIC_ENDPOINTS = frozenset({
    "showcase.gallery", "showcase.case_page", "awards.results", "awards.results_csv", "awards.results_xlsx",
    "awards.verify", "awards.verify_form", "showcase.vote_form", "showcase.verify", "showcase.vote",
    "showcase.voter_state", "awards.notice_page", "awards.lodge", "showcase.share_card", "showcase.poster",
    "showcase.campaign_share_image", "awards.objection_form", "awards.objection_lodged",
})  # fmt: skip


def init_app(app: Flask) -> None:
    from accounts.models import User
    from accounts.operations import set_locale, user_for_session

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        return user_for_session(session_id)

    warn_about_untrusted_forwarding(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None

    @app.teardown_request
    def _discard_uncommitted(exc: BaseException | None) -> None:
        # Anything a failed request left uncommitted is rolled back, with its queued side effects.
        rollback()

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        if _wants_json():
            return jsonify(error.to_dict()), error.status
        return render_template("error.html", error=error), error.status

    @app.errorhandler(IntegrityError)
    def _lost_race(error: IntegrityError):
        # The operations turn the races they know into clear refusals; any other unique violation is still a
        # parallel request that wrote the same row first: a 409 to retry, not a 500. Other violations are bugs.
        if not is_unique_violation(error):
            raise error
        rollback()
        return _domain_error(
            Conflict(_("Someone else made the same change at the same moment. Reload the page and try again."))
        )

    for code in (403, 404, 405, 409, 413, 429):
        app.register_error_handler(code, _http_error)

    @app.url_defaults
    def _public_language(endpoint: str, values: dict) -> None:
        # Links from an English page stay English: a public page's language is in its URL (it keeps no cookie),
        # so links to public pages carry lang=en, and so do all links from an English public page (the page
        # they lead to remembers the choice, below).
        if "lang" in values or not has_request_context() or endpoint in ("static", "set_language"):
            return
        if is_english() and (endpoint in PUBLIC_ENDPOINTS or is_public()):
            values["lang"] = "en"

    def _keep_in_account(locale: str) -> None:
        if current_user.is_authenticated and current_user.locale != locale:
            set_locale(current_user, locale)
            commit()

    def _remember(response: Response, locale: str) -> None:
        session["locale"] = locale
        response.set_cookie(LANGUAGE_COOKIE, locale, max_age=LANGUAGE_COOKIE_AGE, samesite="Lax",
                            secure=app.config.get("SESSION_COOKIE_SECURE", False), httponly=True)  # fmt: skip

    @app.before_request
    def _language_in_account() -> None:
        # Before the view: the account's preference is committed alone, never with what a page left unsaved.
        asked = asked_language()
        if asked is not None and request.endpoint != "static" and not request.path.startswith("/api/"):
            _keep_in_account(asked)

    @app.after_request
    def _remember_language(response: Response) -> Response:
        """``?lang=`` on a page with a session is a choice: kept in the session, a cookie and the account."""
        asked = asked_language()
        kept = not is_public() and not request.path.startswith("/api/") and response.status_code < 400
        if asked is not None and kept:
            _remember(response, asked)
        return response

    def this_page(lang: str | None) -> str:
        args = {k: v for k, v in request.args.items() if k != "lang"} | ({"lang": lang} if lang else {})
        return request.path + ("?" + urlencode(args) if args else "")

    # One clock and one way to say sizes (pingxuan.clock): Flask-Babel's and Jinja's own formats are the same
    # functions here, so no template shows a naive UTC time, another date format or "721 Bytes".
    for name, function in (("when", clock.shown), ("datetimeformat", clock.shown), ("day", clock.day),
                           ("dateformat", clock.day), ("left", clock.left), ("size", clock.size),
                           ("filesizeformat", clock.size)):  # fmt: skip
        app.jinja_env.filters[name] = function

    @app.context_processor
    def _helpers() -> dict:
        return {
            "this_page": this_page,
            "public_url": links.public_url,  # absolute links for link previews and QR codes (pingxuan.links)
            "canonical_url": links.canonical_url,
            "pick": pick,
            "is_english": is_english,
            "state_title": lambda name: pick(STATE_BY_NAME[name], "title"),
            "event_title": event_title,
            "is_final_state": lambda name: STATE_BY_NAME[name].final,
            "languages": app.config["LANGUAGES"],
            "back_url": lambda: local_path(request.referrer) or url_for("index"),
        }

    @app.get("/language/<locale>")
    def set_language(locale: str):
        """The language link: remembered (session, cookie, account), then back to the page, in that language."""
        target = safe_next(request.args.get("next"), local_path(request.referrer) or url_for("index"))
        response = redirect(target)
        if locale in app.config["LANGUAGES"]:
            _remember(response, locale)
            _keep_in_account(locale)
        return response

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()
        logs.REQUEST_ID.set(logs.new_request_id(request.headers.get("X-Request-ID")))

    @app.after_request
    def _observe(response):
        started = g.pop("request_started", None)
        if started is not None:
            metrics.REQUEST_SECONDS.labels(request.endpoint or "unmatched", request.method).observe(
                time.perf_counter() - started
            )
        response.headers["X-Request-ID"] = logs.REQUEST_ID.get()
        return response

    @app.get("/metrics")
    def prometheus_metrics():
        """Prometheus scrape endpoint: with ``PINGXUAN_METRICS_TOKEN`` set, only for ``Authorization: Bearer
        <token>``; restrict it to the monitoring network at the reverse proxy in any case."""
        expected = app.config.get("METRICS_TOKEN") or ""
        if expected:
            scheme, _sep, given = (request.headers.get("Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not same_secret(expected, given.strip()):
                return Response("metrics need the scrape token\n", 401, {"WWW-Authenticate": "Bearer",
                                                                          "Cache-Control": "no-store"})  # fmt: skip
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})

    @app.get("/readyz")
    def readyz():
        """200 when the database (at the migrations' head), Redis and storage answer; 503 naming what fails."""
        from pingxuan.health import readiness

        ready, checks = readiness()
        response = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
        response.status_code = 200 if ready else 503
        response.headers["Cache-Control"] = "no-store"
        return response

    from shell import blueprints

    blueprints.register(app)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _http_error(error):
    code = getattr(error, "code", 500)
    messages = {
        403: _("You may not open this page."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        409: _("Someone else acted first. Reload the page."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Wait a moment and try again."),
    }
    message = messages.get(code, str(error))
    if _wants_json():
        return jsonify({"message": message}), code
    return render_template("error.html", error=DomainError(message)), code
