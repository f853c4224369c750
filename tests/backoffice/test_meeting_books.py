"""The back office binds one category's meeting book, also after the awards (issue 20)."""

from __future__ import annotations

from books.models import BookRun
from pingxuan.extensions import db
from tests.backoffice.helpers import text
from tests.factories import login


def test_the_page_binds_one_categorys_book_after_the_awards(client, make):
    campaign = make.campaign()
    awarded = make.case("awarded", category_index=1)
    make.case("expert_review", category_index=0)
    login(client, make.organizer())
    page = text(client.get(f"/admin/books/?campaign={campaign.id}"))
    second = campaign.categories[1]
    assert f'<option value="{second.id}">' in page
    started = client.post("/admin/books/start", data={"campaign": campaign.id, "scope": "category",
                                                      "category": second.id})  # fmt: skip
    assert started.status_code == 302
    run = db.session.query(BookRun).one()
    assert [(b.category_id, b.case_ids) for b in run.books] == [(second.id, [awarded.id])]
