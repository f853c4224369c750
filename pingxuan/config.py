"""Configuration from environment variables prefixed ``PINGXUAN_``.

With nothing set the system runs embedded: SQLite in the instance folder, Celery tasks executed in-process,
mail written to the log and the outbox table. Production sets a PostgreSQL URL and a Redis broker URL.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from celery.schedules import crontab

PREFIX = "PINGXUAN_"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(PREFIX + name, default)


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load(instance_path: str) -> dict:
    """Build the Flask config mapping; ``overrides`` passed to ``create_app`` win over it."""
    instance = Path(instance_path)
    database_url = _env("DATABASE_URL") or f"sqlite:///{instance / 'pingxuan.sqlite3'}"
    broker_url = _env("BROKER_URL")
    secret = _env("SECRET_KEY")
    if not secret:
        secret_file = instance / "secret_key"
        instance.mkdir(parents=True, exist_ok=True)
        if not secret_file.exists():
            secret_file.write_text(secrets.token_hex(32))
        secret = secret_file.read_text().strip()
    settings = {
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "STORAGE_DIR": _env("STORAGE_DIR") or str(instance / "storage"),
        # s3://bucket/prefix: every node and worker shares one bucket (pingxuan.storage); unset: STORAGE_DIR.
        "STORAGE_URL": _env("STORAGE_URL") or "",
        "S3_ENDPOINT": _env("S3_ENDPOINT") or None,
        # the Chinese faces cut down for PDFs, built at the first render (pingxuan.pdf_fonts); a cache
        "FONT_CACHE_DIR": _env("FONT_CACHE_DIR") or str(instance / "cache" / "fonts"),
        "S3_REGION": _env("S3_REGION") or None,
        "MAX_UPLOAD_BYTES": int(_env("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        "MAX_CONTENT_LENGTH": (int(_env("MAX_UPLOAD_MB", "20")) + 1) * 1024 * 1024,
        "CELERY": {
            "broker_url": broker_url or "memory://localhost/",
            "result_backend": _env("RESULT_BACKEND") or None,
            "task_always_eager": broker_url is None,
            "task_eager_propagates": True,
            "task_serializer": "json",
            "accept_content": ["json"],
            "broker_connection_retry_on_startup": True,
            "task_ignore_result": True,
            "task_default_queue": _env("TASK_QUEUE", "celery"),
            "timezone": _env("TIMEZONE", "Asia/Shanghai"),
            # Celery beat: `celery -A shell.worker beat`. Reviews due within two days or overdue, each morning.
            "beat_schedule": {
                "review-reminders": {"task": "reviewers.send_reminders", "schedule": crontab(hour=8, minute=0)},
                # The public vote closes itself once its window has ended (just after midnight, local time).
                "close-due-votes": {"task": "voting.close_due_votes", "schedule": crontab(hour=0, minute=5)},
            },
        },
        "MAIL_BACKEND": _env("MAIL_BACKEND", "outbox"),
        "MAIL_SENDER": _env("MAIL_SENDER", "pingxuan@localhost"),
        "SMTP_HOST": _env("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(_env("SMTP_PORT", "25")),
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI") or broker_url or "memory://",
        "CACHE_REDIS_URL": _env("CACHE_URL") or broker_url or "",  # Redis: shared by every process; else in-process
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "RATELIMIT_LOGIN": _env("RATELIMIT_LOGIN", "10 per minute;50 per hour"),
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEZONE", "Asia/Shanghai"),  # stored times are UTC; pages show local time
        "LANGUAGES": ["zh_Hans_CN", "en"],
        "WTF_CSRF_ENABLED": _flag("CSRF_ENABLED", True),
        "SERVER_NAME_FOR_MAIL": _env("PUBLIC_URL", "http://127.0.0.1:5000"),
        "PROXY_COUNT": int(_env("PROXY_COUNT", "0")),
        "METRICS_TOKEN": _env("METRICS_TOKEN", ""),
        # Raw user agents of a campaign's ballots are emptied this many days after its vote closed (voting.window).
        "VOTE_UA_RETENTION_DAYS": int(_env("VOTE_UA_RETENTION_DAYS", "30")),
        # Behind HTTPS: cookies only over HTTPS and Strict-Transport-Security (shell.headers).
        "SECURE_COOKIES": _flag("SECURE_COOKIES", False),
        "LOG_FORMAT": (_env("LOG_FORMAT") or "plain").strip().lower(),  # json: one object per line (pingxuan.logs)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "TIMEZONE": _env("TIMEZONE", "Asia/Shanghai"),
        "API_TITLE": "pingxuan API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    # Unset: the defaults beside the code that uses them (voting/abuse.py, voting/sms.py, accounts/limits.py).
    optional = {
        "VOTE_LIMIT_IP": _env("VOTE_LIMIT_IP"),
        "VOTE_LIMIT_VOTER": _env("VOTE_LIMIT_VOTER"),
        "CODE_LIMIT_IP": _env("CODE_LIMIT_IP"),
        "CODE_LIMIT_PHONE": _env("CODE_LIMIT_PHONE"),
        "OBJECTION_LIMIT_IP": _env("OBJECTION_LIMIT_IP"),
        # awards/publication.py: how long a process serves published results' bytes before asking the database
        "RESULTS_RECHECK_SECONDS": _env("RESULTS_RECHECK_SECONDS"),
        # voting/captcha.py: the ALTCHA proof of work asked when an address votes past VOTE_LIMIT_IP
        "CAPTCHA_ALGORITHM": _env("CAPTCHA_ALGORITHM"),
        "CAPTCHA_COST": _env("CAPTCHA_COST"),
        "CAPTCHA_MAX_NUMBER": _env("CAPTCHA_MAX_NUMBER"),
        "CAPTCHA_SECONDS": _env("CAPTCHA_SECONDS"),
        # altcha (default), tencent or aliyun: a cloud captcha the office has, with its keys and ids
        "CAPTCHA_PROVIDER": _env("CAPTCHA_PROVIDER"),
        "CAPTCHA_ACCESS_KEY_ID": _env("CAPTCHA_ACCESS_KEY_ID"),
        "CAPTCHA_ACCESS_KEY_SECRET": _env("CAPTCHA_ACCESS_KEY_SECRET"),
        "CAPTCHA_APP_ID": _env("CAPTCHA_APP_ID"),
        "CAPTCHA_APP_SECRET": _env("CAPTCHA_APP_SECRET"),
        "CAPTCHA_SCENE_ID": _env("CAPTCHA_SCENE_ID"),
        "CAPTCHA_PREFIX": _env("CAPTCHA_PREFIX"),
        "CAPTCHA_REGION": _env("CAPTCHA_REGION"),
        "CAPTCHA_ENDPOINT": _env("CAPTCHA_ENDPOINT"),
        # voting/gateways.py: log (default), aliyun, tencent, or "package.module:Class"
        "SMS_BACKEND": _env("SMS_BACKEND"),
        "SMS_ACCESS_KEY_ID": _env("SMS_ACCESS_KEY_ID"),
        "SMS_ACCESS_KEY_SECRET": _env("SMS_ACCESS_KEY_SECRET"),
        "SMS_SIGN_NAME": _env("SMS_SIGN_NAME"),
        "SMS_APP_ID": _env("SMS_APP_ID"),
        "SMS_REGION": _env("SMS_REGION"),
        "SMS_ENDPOINT": _env("SMS_ENDPOINT"),
        "SMS_TEMPLATES": _env("SMS_TEMPLATES"),
        "SMS_PRICE": _env("SMS_PRICE"),
        # voting/wechat.py: the official account (公众号) for the share card and voting with WeChat
        "WECHAT_APPID": _env("WECHAT_APPID"),
        "WECHAT_SECRET": _env("WECHAT_SECRET"),
        "WECHAT_API_BASE": _env("WECHAT_API_BASE"),
        "WECHAT_OPEN_BASE": _env("WECHAT_OPEN_BASE"),
        # accounts/limits.py
        "PASSWORD_LIMIT": _env("PASSWORD_LIMIT"),
        "FORGOT_LIMIT_IP": _env("FORGOT_LIMIT_IP"),
        "FORGOT_LIMIT_EMAIL": _env("FORGOT_LIMIT_EMAIL"),
        "INVITE_LIMIT_IP": _env("INVITE_LIMIT_IP"),
        "INVITE_LIMIT_EMAIL": _env("INVITE_LIMIT_EMAIL"),
        "REGISTER_LIMIT_IP": _env("REGISTER_LIMIT_IP"),
        "REGISTER_LIMIT_EMAIL": _env("REGISTER_LIMIT_EMAIL"),
    }
    settings.update({name: value for name, value in optional.items() if value})
    return settings


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}
