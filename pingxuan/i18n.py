"""Locale selection and picking the right language of bilingual data (``title_zh`` / ``title_en``)."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

ZH, EN = "zh_Hans_CN", "en"
PUBLIC_FLAG = "pingxuan.public_page"  # set by pingxuan.httpcache.public on pages that are the same for everyone


def select_locale() -> str:
    """An explicit choice (session), then the user's saved choice, then Chinese: the users' language.

    ``?lang=en|zh`` wins everywhere. A public page (``pingxuan.httpcache``) depends on its URL only (the API's
    public answers also on Accept-Language, which they name in ``Vary``).
    """
    if has_request_context():
        if request.args.get("lang") in ("en", "zh"):
            return EN if request.args.get("lang") == "en" else ZH
        if request.environ.get(PUBLIC_FLAG):  # never the session: the page is the same for everyone
            if request.path.startswith("/api/"):
                return EN if request.accept_languages.best_match(["zh", "en"]) == "en" else ZH
            return ZH
        chosen = session.get("locale")
        if chosen in current_app.config["LANGUAGES"]:
            return chosen
        if getattr(current_user, "is_authenticated", False) and current_user.locale in current_app.config["LANGUAGES"]:
            return current_user.locale
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
