"""Benchmark: a meeting book of 40 dossiers (the demo's cases, with their photos) rendered by books.operations.

Prints the wall time of the 40-dossier book (goal: under 20 s on the development machine), its pages, and two
ratios measured in the same run: the 40-dossier book against four 10-dossier books (how the layout scales: 1.0
means linear), and seconds per dossier against one certificate (what a dossier costs next to the simplest
document rendered by the same pipeline). Its own SQLite database and storage in a temporary folder.
Run: ./dev.sh bench (or .venv/bin/python bench/meeting_book.py).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOSSIERS = 40


def photo(seed: int) -> bytes:
    """A 1280×960 JPEG with texture (so it does not compress to nothing), different per case."""
    import io
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.effect_noise((1280, 960), 40).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y = rng.randrange(1280), rng.randrange(960)
        draw.rectangle((x, y, x + rng.randrange(50, 400), y + rng.randrange(50, 300)),
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def main() -> None:
    from sqlalchemy import select

    from accounts.models import User
    from awards import certificates
    from awards.models import Certificate
    from books import operations as books
    from books.models import PER_CATEGORY, BookRun, MeetingBook
    from campaigns.models import Campaign
    from cases.models import Attachment, Case
    from pingxuan import storage
    from pingxuan.clock import today
    from pingxuan.db import commit
    from pingxuan.extensions import db
    from shell import create_app, demo
    from workflow.definition import ORGANIZER

    with tempfile.TemporaryDirectory(prefix="pingxuan-bench-book-") as folder:
        app = create_app({
            "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
            "SQLALCHEMY_ENGINE_OPTIONS": {}, "STORAGE_DIR": f"{folder}/storage", "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        })  # fmt: skip
        with app.app_context():
            db.create_all()
            demo.build(demo.DEMO_PASSWORD)
            campaign = db.session.scalar(select(Campaign))
            organizer = db.session.scalar(select(User).where(User.role == ORGANIZER))
            ids = list(db.session.scalars(select(Case.id).where(Case.title != "").order_by(Case.id)))
            ids = (ids * (DOSSIERS // len(ids) + 1))[:DOSSIERS]
            for case_id in set(ids):  # a site photo per case, as units upload them (display copy 1280×960)
                jpeg = photo(case_id)
                db.session.add(Attachment(case_id=case_id, kind="photo", filename=f"现场照片{case_id}.jpg",
                                          content_type="image/jpeg", size=len(jpeg), sha256=storage.store(jpeg),
                                          display_sha256=storage.store(jpeg), uploaded_by_id=organizer.id))  # fmt: skip
            db.session.flush()
            photos = sum(len([a for a in db.session.get(Case, i).attachments if a.kind == "photo"]) for i in ids)
            run = BookRun(campaign_id=campaign.id, scope=PER_CATEGORY, created_by_id=organizer.id)
            db.session.add(run)

            def book(case_ids: list[int]) -> MeetingBook:
                made = MeetingBook(run=run, campaign_id=campaign.id, category_id=campaign.categories[0].id,
                                   case_ids=case_ids)  # fmt: skip
                db.session.add(made)
                db.session.flush()
                return made

            warm = book(ids[:2])
            books.render_book(warm.id)  # fonts, first layout
            started = time.perf_counter()
            whole = books.render_book(book(ids).id)
            whole_seconds = time.perf_counter() - started
            started = time.perf_counter()
            for part in range(4):
                books.render_book(book(ids[part * 10 : part * 10 + 10]).id)
            parts_seconds = time.perf_counter() - started
            content = certificates.case_content(db.session.get(Case, ids[0]), today())
            certificate = Certificate(number="B-1", kind=certificates.CASE_AWARD, campaign_id=campaign.id,
                                      content=content, issued_on=today(), signature="x")  # fmt: skip
            folder_of = certificates.template_folder(certificate.kind)
            certificates.render_pdf_html(certificates.render_html(certificate), folder_of)
            started = time.perf_counter()
            for _ in range(5):
                certificates.render_pdf_html(certificates.render_html(certificate), folder_of)
            certificate_seconds = (time.perf_counter() - started) / 5
            commit()
            print(
                f"meeting book: {DOSSIERS} dossiers ({photos} photos embedded), {whole.pages} pages, "
                f"{whole_seconds:.1f} s (goal < 20 s: {'met' if whole_seconds < 20 else 'MISSED'})"
            )
            print(f"  40-dossier book / four 10-dossier books: {whole_seconds / parts_seconds:.2f} (1.0 = linear)")
            print(
                f"  seconds per dossier / seconds per certificate: "
                f"{whole_seconds / DOSSIERS / certificate_seconds:.2f} ({certificate_seconds:.2f} s per certificate)"
            )


if __name__ == "__main__":
    main()
