"""Meeting books through the API: bind a run per category or per expert, follow it, download a book."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from accounts.permissions import require_expert
from api.auth import api_blueprint, require_actor, secured
from api.fields import UtcDateTime
from books import operations as books
from books.models import PER_CATEGORY, PER_EXPERT, BookRun, MeetingBook
from campaigns.models import Campaign
from pingxuan import storage
from pingxuan.db import commit
from pingxuan.errors import NotFound
from pingxuan.extensions import db

blp = api_blueprint("api_books", __name__, "Meeting books: the dossiers bound per category or per expert")
BINARY = {"type": "string", "format": "binary"}


class BookRunStartSchema(Schema):
    scope = fields.String(required=True, validate=validate.OneOf([PER_CATEGORY, PER_EXPERT]),
                          metadata={"description": "one book per category, or one per expert"})  # fmt: skip
    category_id = fields.Integer(
        load_default=None, allow_none=True,
        metadata={"description": "With scope category: bind only this category's book"},
    )  # fmt: skip


class MeetingBookSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    category_id = fields.Integer(allow_none=True)
    expert_id = fields.Integer(allow_none=True)
    blind = fields.Boolean()
    case_ids = fields.List(fields.Integer())
    status = fields.String()
    error = fields.String(allow_none=True)
    pages = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True)


class BookRunProgressSchema(Schema):
    total = fields.Integer()
    issued = fields.Integer()
    failed = fields.Integer()
    pending = fields.Integer()
    percent = fields.Integer()


class BookRunSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    scope = fields.String()
    created_at = UtcDateTime()
    progress = fields.Nested(BookRunProgressSchema)
    books = fields.List(fields.Nested(MeetingBookSchema))


def _book(book: MeetingBook) -> dict[str, Any]:
    return {
        "id": book.id, "title": books.book_title(book), "category_id": book.category_id,
        "expert_id": book.expert_id, "blind": book.blind, "case_ids": book.case_ids, "status": book.status,
        "error": book.error, "pages": book.pages, "sha256": book.sha256,
    }  # fmt: skip


def _run(run: BookRun) -> dict[str, Any]:
    p = books.progress(run)
    return {
        "id": run.id, "campaign_id": run.campaign_id, "scope": run.scope, "created_at": run.created_at,
        "progress": {"total": p.total, "issued": p.issued, "failed": p.failed, "pending": p.pending,
                     "percent": p.percent},
        "books": [_book(b) for b in run.books],
    }  # fmt: skip


@blp.route("/campaigns/<int:campaign_id>/meeting-books", methods=["POST"])
@blp.arguments(BookRunStartSchema)
@blp.response(201, BookRunSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def start(data: dict[str, Any], campaign_id: int):
    """Bind the campaign's meeting books (staff): one rendering task per book; poll the run for progress. A book
    binds the cases under review and the finalists (in the vote, proposed, awarded or not), also after the
    awards; ``category_id`` binds one category's book only."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("No such campaign."))
    run = books.request_books(campaign, require_actor(), data["scope"], data["category_id"])
    commit()
    return _run(run)


@blp.route("/meeting-book-runs/<int:run_id>", methods=["GET"])
@blp.response(200, BookRunSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def run_progress(run_id: int):
    """A run's progress and its books, failures with their error (staff)."""
    return _run(books.get_run(run_id, require_actor()))


@blp.route("/meeting-books/mine", methods=["GET"])
@blp.response(200, MeetingBookSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def mine():
    """An expert's own rendered books, newest first."""
    return [_book(b) for b in books.books_of_expert(require_expert(require_actor()))]


@blp.route("/meeting-books/<int:book_id>/retry", methods=["POST"])
@blp.response(200, MeetingBookSchema)
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def retry(book_id: int):
    """Render a failed book again (staff)."""
    actor = require_actor()
    book = books.retry(books.get_book(book_id, actor), actor)
    commit()
    return _book(book)


@blp.route("/meeting-books/<int:book_id>/pdf", methods=["GET"])
@blp.alt_response(200, schema=BINARY, content_type="application/pdf", description="The book", success=True)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def pdf(book_id: int):
    """The book's PDF: staff any, an expert their own."""
    book = books.get_book(book_id, require_actor())
    return storage.send(books.stored_pdf(book), "application/pdf", books.file_name(book))
