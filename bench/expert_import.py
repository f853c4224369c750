"""Benchmark: importing 1,000 experts from a CSV sheet (reviewers.pool.import_experts), SQLite.

Prints the wall time of the import with the welcome mails left out (goal: under 2 s on the development machine),
then, measured in the same run: the import with its welcome mails queued against without (what the mails cost),
a second import of the same sheet (every expert known: profiles updated) against the first, and the import's
time per expert against one scrypt password hash (what each expert cost before: the import hashed a throwaway
password per account). Its own SQLite database in a temporary folder.
Run: ./dev.sh bench (or .venv/bin/python bench/expert_import.py).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPERTS = 1000


def sheet(prefix: str, campaign) -> bytes:
    categories = [c.name_zh for c in campaign.categories]
    lines = ["email,name,organization,parent_org,title,max_load,categories,domains"]
    for i in range(EXPERTS):
        lines.append(f"{prefix}{i}@experts.example.org,专家{i},青岛大学,,教授,{5 + i % 20},{categories[i % 7]},")
    return "\n".join(lines).encode()


def main() -> None:
    from sqlalchemy import delete, func, select
    from werkzeug.security import generate_password_hash

    from accounts.models import User
    from campaigns.models import Campaign
    from notifications.models import OutboxMail
    from pingxuan.db import commit
    from pingxuan.extensions import db
    from reviewers import pool
    from shell import create_app, demo
    from workflow.definition import ORGANIZER

    with tempfile.TemporaryDirectory(prefix="pingxuan-bench-experts-") as folder:
        app = create_app({
            "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
            "SQLALCHEMY_ENGINE_OPTIONS": {}, "STORAGE_DIR": f"{folder}/storage", "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        })  # fmt: skip
        with app.test_request_context():
            db.create_all()
            demo.build(demo.DEMO_PASSWORD)
            campaign = db.session.scalar(select(Campaign))
            organizer = db.session.scalar(select(User).where(User.role == ORGANIZER))

            def run(prefix: str, with_mail: bool) -> float:
                rows = pool.read_sheet("experts.csv", sheet(prefix, campaign))
                welcome = pool.send_welcome
                if not with_mail:
                    pool.send_welcome = lambda user: None
                try:
                    start = time.perf_counter()
                    report = pool.import_experts(organizer, campaign, rows)
                    commit()
                    elapsed = time.perf_counter() - start
                finally:
                    pool.send_welcome = welcome
                assert report.ok, report.errors
                return elapsed

            without_mail = run("a", with_mail=False)
            again = run("a", with_mail=False)  # the same sheet: every expert exists, profiles updated
            before = db.session.scalar(select(func.count()).select_from(OutboxMail))
            with_mail = run("b", with_mail=True)
            mails = db.session.scalar(select(func.count()).select_from(OutboxMail)) - before
            hashes = [u.password_hash for u in db.session.scalars(select(User).where(User.email.like("a%@experts.%")))]
            assert len(hashes) == EXPERTS and not any(h.startswith(("scrypt", "pbkdf2")) for h in hashes)
            db.session.execute(delete(OutboxMail))
            commit()
            start = time.perf_counter()
            for _ in range(5):
                generate_password_hash("throwaway", method="scrypt")
            scrypt = (time.perf_counter() - start) / 5

        print(f"{EXPERTS} experts imported in {without_mail:.2f} s without the welcome mails (goal < 2 s)")
        print(f"with the {mails} welcome mails queued / without: {with_mail / without_mail:.2f}")
        print(f"same sheet again (profiles updated) / first import: {again / without_mail:.2f}")
        print(f"per expert / one scrypt hash (the old import's cost per expert): "
              f"{without_mail / EXPERTS / scrypt:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
