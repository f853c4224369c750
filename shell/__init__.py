"""The application shell: the factory that wires every domain into one Flask app.

It sits above every domain package; the kernel (`pingxuan.config`, `.db`, `.extensions`, …) sits below them.
The layout templates, static files and translations stay beside the kernel in `pingxuan/` (Flask is named after
it and every domain renders `layout.html` and uses the one catalogue); no Python module there imports the shell.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from pingxuan.paths import PROJECT_ROOT


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    from pingxuan import config, logs
    from pingxuan.celery_app import init_celery
    from pingxuan.extensions import babel, csrf, db, limiter, login_manager, migrate
    from pingxuan.i18n import select_locale

    instance_path = os.environ.get(config.PREFIX + "INSTANCE_PATH") or str(PROJECT_ROOT / "instance")
    app = Flask("pingxuan", instance_path=instance_path)  # templates, static, translations: pingxuan/
    app.config.update(config.load(app.instance_path))
    app.config.update(overrides or {})
    from shell import inputs

    inputs.init_app(app)  # first: the bounded ``int`` converter must exist before any rule is added
    if "SQLALCHEMY_ENGINE_OPTIONS" not in (overrides or {}):  # options follow the database actually used
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = config.engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("STORAGE_URL"):  # the local folder backend
        Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)
    logs.configure(app.config["LOG_FORMAT"], debug=app.debug)
    logs.connect_celery(app.config["LOG_FORMAT"])
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # a line per rendering step otherwise

    import shell.models  # noqa: F401  (every table on the metadata, for migrations and relationships)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PROJECT_ROOT / "pingxuan" / "translations"),
    )
    limiter.init_app(app)
    from pingxuan import cache, httpcache

    cache.init_app(app)
    httpcache.init_app(app)
    init_celery(app)
    import accounts.tasks  # noqa: F401
    import archives.tasks  # noqa: F401
    import awards.tasks  # noqa: F401
    import books.tasks  # noqa: F401
    import notifications.tasks  # noqa: F401  (register tasks by name)
    import reviewers.tasks  # noqa: F401
    import voting.tasks  # noqa: F401
    from shell import headers, web

    web.init_app(app)
    headers.init_app(app)
    from pingxuan import health
    from voting import captcha, sms

    health.register(app, "sms", sms.check_ready)
    health.register(app, "captcha", captcha.check_ready)
    if app.config.get("WECHAT_APPID"):  # pages opened in WeChat load its JS-SDK from WeChat (voting/wechat.py)
        from voting.wechat import JSSDK_ORIGIN

        app.config["CSP_SCRIPT_SOURCES"] = (JSSDK_ORIGIN,)
    from voting.fast_views import VoteFastPath

    app.wsgi_app = VoteFastPath(app, app.wsgi_app, headers.answer_headers(app))  # the page script's votes
    with app.app_context():
        for problem in sms.configuration_problems():  # said at start, not first to a voter
            logging.getLogger("pingxuan.sms").error("SMS gateway not ready: %s", problem)
        for problem in captcha.configuration_problems():
            logging.getLogger("pingxuan.captcha").error("Captcha not ready: %s", problem)
    from shell import cli

    cli.register(app)
    app.extensions["pingxuan.factory"] = create_app  # a scratch app of the same wiring (archive checks)
    return app
