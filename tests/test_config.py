"""Configuration from PINGXUAN_* variables: embedded by default, the production shape when URLs are given."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from pingxuan import config
from pingxuan.paths import PROJECT_ROOT
from shell import create_app


@pytest.fixture
def clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(config.PREFIX):
            monkeypatch.delenv(name)
    return monkeypatch


def test_nothing_set_means_sqlite_in_the_instance_folder_and_eager_celery(clean_env, tmp_path):
    settings = config.load(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'pingxuan.sqlite3'}"
    assert settings["STORAGE_DIR"] == str(tmp_path / "storage")
    assert settings["CELERY"]["task_always_eager"] is True
    assert settings["CELERY"]["task_eager_propagates"] is True
    assert settings["CELERY"]["broker_url"].startswith("memory://")  # in-process, no broker to reach
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    assert settings["MAIL_BACKEND"] == "outbox"
    # A secret key is made once and kept in the instance folder, so sessions survive a restart.
    assert len(settings["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == settings["SECRET_KEY"]
    assert config.load(str(tmp_path))["SECRET_KEY"] == settings["SECRET_KEY"]


def test_instance_path_variable_moves_the_default_database(clean_env, tmp_path):
    clean_env.setenv("PINGXUAN_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.instance_path == str(tmp_path)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'pingxuan.sqlite3'}"
    assert app.extensions["celery"].conf.task_always_eager is True
    assert Path(app.config["STORAGE_DIR"]).is_dir()


def test_database_and_broker_urls_give_the_production_shape(clean_env, tmp_path):
    clean_env.setenv("PINGXUAN_DATABASE_URL", "postgresql+psycopg://pingxuan@db.internal/pingxuan")
    clean_env.setenv("PINGXUAN_BROKER_URL", "redis://cache.internal:6379/0")
    clean_env.setenv("PINGXUAN_SECRET_KEY", "from-the-environment")
    clean_env.setenv("PINGXUAN_MAIL_BACKEND", "smtp")
    clean_env.setenv("PINGXUAN_SMTP_HOST", "smtp.internal")
    clean_env.setenv("PINGXUAN_SMTP_PORT", "2525")
    clean_env.setenv("PINGXUAN_STORAGE_DIR", str(tmp_path / "files"))
    clean_env.setenv("PINGXUAN_PUBLIC_URL", "https://pingxuan.example.cn")
    clean_env.setenv("PINGXUAN_PROXY_COUNT", "1")
    settings = config.load(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://pingxuan@db.internal/pingxuan"
    assert settings["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}
    assert settings["CELERY"]["broker_url"] == "redis://cache.internal:6379/0"
    assert settings["CELERY"]["task_always_eager"] is False
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6379/0"  # limits shared by all workers
    assert settings["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
    assert (settings["MAIL_BACKEND"], settings["SMTP_HOST"], settings["SMTP_PORT"]) == ("smtp", "smtp.internal", 2525)
    assert settings["STORAGE_DIR"] == str(tmp_path / "files")
    assert settings["SERVER_NAME_FOR_MAIL"] == "https://pingxuan.example.cn"
    assert settings["PROXY_COUNT"] == 1


def test_flags_accept_the_usual_spellings(clean_env, tmp_path):
    clean_env.setenv("PINGXUAN_RATELIMIT_ENABLED", "off")
    assert config.load(str(tmp_path))["RATELIMIT_ENABLED"] is False
    clean_env.setenv("PINGXUAN_RATELIMIT_ENABLED", "Yes")
    assert config.load(str(tmp_path))["RATELIMIT_ENABLED"] is True


def test_readme_documents_every_variable():
    """The README's configuration table stays complete as config.py grows."""
    source = (PROJECT_ROOT / "pingxuan" / "config.py").read_text()
    names = set(re.findall(r'_(?:env|flag)\(\s*"([A-Z0-9_]+)"', source)) | {"INSTANCE_PATH"}
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = sorted(name for name in names if f"PINGXUAN_{name}" not in readme)
    assert not missing, f"README.md does not describe: {missing}"


def test_the_application_starts_without_a_warning(clean_env, tmp_path):
    """Each start used to warn once per back-office form field left out of a create or edit form (thousands of
    lines in a test run, where a real warning then drowns)."""
    clean_env.setenv(config.PREFIX + "INSTANCE_PATH", str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
