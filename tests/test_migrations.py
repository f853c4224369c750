"""The models and the one migration chain agree, on SQLite and on PostgreSQL; `flask db upgrade` works."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from pingxuan.extensions import db
from pingxuan.paths import PROJECT_ROOT


def _script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def test_one_migration_chain(app):
    assert len(_script_directory().get_heads()) == 1


def test_models_match_the_migrated_schema(app):
    """An autogenerate on the migrated database finds nothing to do: no model change lacks a migration."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
        assert set(context.get_current_heads()) == set(_script_directory().get_heads())
    assert differences == [], "models and migrations differ; write a migration:\n" + "\n".join(map(str, differences))


def test_flask_db_upgrade_on_an_empty_sqlite_file(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PINGXUAN_")},
        "PINGXUAN_DATABASE_URL": f"sqlite:///{path}",
        "PINGXUAN_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        (version,) = conn.execute("select version_num from alembic_version").fetchone()
    assert {"campaigns", "cases", "users", "workflow_events", "notifications", "outbox_mails"} <= tables
    assert set(db.metadata.tables) <= tables
    heads = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "heads"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert version in heads.stdout
