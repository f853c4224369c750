"""A real HTTP server (CSRF on, SQLite migrated by the migrations) and Debian's chromium driven by Playwright."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
def browser_page() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: ./dev.sh install puts it there (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
