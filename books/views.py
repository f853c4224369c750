"""The experts' own meeting books: a list and the download, for the expert they were bound for."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, render_template, send_file
from flask_login import current_user, login_required

from accounts.permissions import require_expert
from books import operations as books

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
    return send_file(BytesIO(books.pdf_of(book)), mimetype="application/pdf", as_attachment=True,
                     download_name=books.file_name(book))  # fmt: skip
