"""The back office's meeting-book page: bind the books per category or per expert, watch them render, retry a
failed one, download them."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, jsonify, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_babel import lazy_gettext as _l

from awards.admin import chosen_campaign
from backoffice.security import StaffOnly, actor
from books import operations as books
from books.models import PER_CATEGORY, PER_EXPERT
from pingxuan import storage
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError


class BooksView(StaffOnly, BaseView):
    @expose("/")
    def index(self):
        campaigns, campaign = chosen_campaign()
        runs = [(run, books.progress(run)) for run in books.runs_of(campaign)]
        return self.render("books/admin/books.html", campaigns=campaigns, campaign=campaign, runs=runs,
                           per_category=PER_CATEGORY, per_expert=PER_EXPERT, title_of=books.book_title)  # fmt: skip

    @expose("/start", methods=("POST",))
    def start(self):
        _campaigns, campaign = chosen_campaign()
        try:
            category = request.form.get("category", type=int) if request.form.get("scope") == PER_CATEGORY else None
            books.request_books(campaign, actor(), request.form.get("scope", ""), category)
        except DomainError as error:
            rollback()
            flash(str(error.message), "error")
            return redirect(url_for(".index", campaign=campaign.id))
        commit()  # queues one task per book (eager: renders them now)
        return redirect(url_for(".index", campaign=campaign.id))

    @expose("/runs/<int:run_id>/progress")
    def run_progress(self, run_id: int):
        p = books.progress(books.get_run(run_id, actor()))
        return jsonify(percent=p.percent, issued=p.issued, failed=p.failed, pending=p.pending)

    @expose("/<int:book_id>/retry", methods=("POST",))
    def retry(self, book_id: int):
        book = books.get_book(book_id, actor())
        try:
            books.retry(book, actor())
        except DomainError as error:
            rollback()
            flash(str(error.message), "error")
            return redirect(url_for(".index", campaign=book.campaign_id))
        commit()
        return redirect(url_for(".index", campaign=book.campaign_id))

    @expose("/<int:book_id>/pdf")
    def pdf(self, book_id: int):
        book = books.get_book(book_id, actor())
        return storage.send(books.stored_pdf(book), "application/pdf", books.file_name(book))


def register(app: Flask, admin: Admin) -> None:
    app.register_blueprint(Blueprint("books_admin", __name__, template_folder="templates"))
    admin.add_view(BooksView(name=_l("Meeting books"), category=_l("Selection"), endpoint="admin_books",
                             url="/admin/books"))  # fmt: skip
