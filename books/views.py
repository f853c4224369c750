"""The experts' own meeting books: a list and the download, for the expert they were bound for."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from accounts.permissions import require_expert
from books import operations as books
from pingxuan import storage

bp = Blueprint("books", __name__, template_folder="templates")


@bp.get("/review/books")
@login_required
def mine():
    require_expert(current_user)
    return render_template("books/mine.html", books=books.books_of_expert(current_user), title_of=books.book_title)


@bp.get("/review/books/<int:book_id>.pdf")
@login_required
def download(book_id: int):
    book = books.get_book(book_id, current_user)
    return storage.send(books.stored_pdf(book), "application/pdf", books.file_name(book))
