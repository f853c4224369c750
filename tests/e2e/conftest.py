"""A real HTTP server (CSRF on, SQLite migrated by the migrations) and Debian's chromium driven by Playwright."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from pingxuan.extensions import db
from shell import create_app
from tests.conftest import base_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture
def live_config() -> dict:
    """Override in a test module to give the live server more settings (a gateway's endpoint, say)."""
    return {}


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path, live_config: dict) -> Iterator[LiveServer]:
    """The app on 127.0.0.1 at a free port, in a background thread, with CSRF protection as in production."""
    database = tmp_path / "e2e.sqlite3"
    shutil.copy(sqlite_template, database)
    config = base_config(tmp_path, f"sqlite:///{database}") | {"WTF_CSRF_ENABLED": True} | live_config
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["SERVER_NAME_FOR_MAIL"] = url
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def open_browser() -> Iterator[Callable[..., Any]]:
    """A factory: `open_browser(width=390, locale="zh-CN", phone=True, user_agent=...)` gives a page of Debian's
    chromium; a phone is a touch screen at twice the density. Every browser opened is closed at teardown."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: ./dev.sh install puts it there (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browsers = []

        def open_page(width: int = 1100, height: int = 900, locale: str = "zh-CN", phone: bool = False,
                      **context_options: Any):  # fmt: skip
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            browsers.append(browser)
            if phone:
                context_options |= {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
            context = browser.new_context(viewport={"width": width, "height": height}, locale=locale,
                                          **context_options)  # fmt: skip
            page = context.new_page()
            page.set_default_timeout(15_000)
            return page

        try:
            yield open_page
        finally:
            for browser in browsers:
                browser.close()


@pytest.fixture
def browser_page(open_browser) -> Any:
    """A desktop page in Chinese."""
    return open_browser()


@pytest.fixture
def phone_page(open_browser) -> Any:
    """A 390 × 844 phone (touch, twice the density), in English, as the vote and notice flows were written."""
    return open_browser(390, 844, locale="en-US", phone=True)
