"""Logging in through the real login form, shared by the browser tests so each does not copy the four steps."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD


def log_in(page: Any, base: str, email: str, lang: str = "") -> None:
    """Fill and send the login form as `email` (the factories' PASSWORD); `lang` ("en") opens the form in that
    language, which then stays for the session."""
    page.goto(f"{base}/login" + (f"?lang={lang}" if lang else ""))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
