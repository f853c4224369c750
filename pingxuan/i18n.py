"""Locale selection and picking the right language of bilingual data (``title_zh`` / ``title_en``)."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

ZH, EN = "zh_Hans_CN", "en"
PUBLIC_FLAG = "pingxuan.public_page"  # set by pingxuan.httpcache.public on pages that are the same for everyone
LANGUAGE_COOKIE = "pingxuan_lang"  # the visitor's choice on this browser, kept for a year (shell.web)
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


def asked_language() -> str | None:
    """The language the URL asks for (``?lang=en|zh``), as a locale, or None."""
    asked = request.args.get("lang") if has_request_context() else None
    return {"en": EN, "zh": ZH}.get(asked or "")


def select_locale() -> str:
    """The URL's ``?lang``, then the choice made in this session, the account's preference, this browser's
    cookie (``LANGUAGE_COOKIE``), then Chinese: the users' language.

    A choice (``?lang`` on a page with a session, or the language link) is remembered in all three, so the
    language stays from page to page and from one login to the next. A public page (``pingxuan.httpcache``)
    depends on its URL only (the API's public answers also on Accept-Language, which they name in ``Vary``):
    its links carry ``lang=en`` instead (``shell.web``).
    """
    if has_request_context():
        asked = asked_language()
        if asked is not None:
            return asked
        if request.environ.get(PUBLIC_FLAG):  # never the session: the page is the same for everyone
            if request.path.startswith("/api/"):
                return EN if request.accept_languages.best_match(["zh", "en"]) == "en" else ZH
            return ZH
        languages = current_app.config["LANGUAGES"]
        chosen = session.get("locale")
        if chosen in languages:
            return chosen
        if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
            return current_user.locale
        if request.cookies.get(LANGUAGE_COOKIE) in languages:
            return request.cookies[LANGUAGE_COOKIE]
        if request.path.startswith("/api/"):
            best = request.accept_languages.best_match(["zh", "en"])
            return EN if best == "en" else ZH
    return ZH


def is_english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def pick(obj: object, field: str) -> str:
    """``obj.<field>_en`` when the page is in English (falling back to Chinese), else ``obj.<field>_zh``."""
    if is_english():
        return getattr(obj, f"{field}_en", None) or getattr(obj, f"{field}_zh", "")
    return getattr(obj, f"{field}_zh", "")
