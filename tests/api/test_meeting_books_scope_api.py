"""A meeting book for one category, and books after the awards (issue 20): ``category_id`` binds that category's
book only; finalists stay bindable once their awards are confirmed."""

from __future__ import annotations

from books.models import MeetingBook
from pingxuan.extensions import db


def test_one_categorys_book_after_the_awards(app, client, make, bearer):
    campaign = make.campaign()
    awarded = make.case("awarded", category_index=0)
    in_review = make.case("expert_review", category_index=1)
    make.case("draft", category_index=0)  # never bound
    staff = bearer(make.organizer())
    url = f"/api/v1/campaigns/{campaign.id}/meeting-books"
    first = campaign.categories[0]

    one = client.post(url, json={"scope": "category", "category_id": first.id}, headers=staff)
    assert one.status_code == 201, one.get_json()
    [book] = one.get_json()["books"]
    assert (book["category_id"], book["case_ids"]) == (first.id, [awarded.id])

    every = client.post(url, json={"scope": "category"}, headers=staff).get_json()
    assert {b["category_id"]: b["case_ids"] for b in every["books"]} == {
        first.id: [awarded.id],
        campaign.categories[1].id: [in_review.id],
    }

    wrong = client.post(url, json={"scope": "expert", "category_id": first.id}, headers=staff)
    assert wrong.status_code == 422 and "category_id" in wrong.get_json()["errors"]
    unknown = client.post(url, json={"scope": "category", "category_id": 999999}, headers=staff)
    assert unknown.status_code == 422 and "category_id" in unknown.get_json()["errors"]
    assert db.session.query(MeetingBook).count() == 3
