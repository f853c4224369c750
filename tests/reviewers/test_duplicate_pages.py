"""Likely duplicates on the organizers' pages: decided on the check page, approved in bulk only on the explicit
choice, and shown on the shortlist until someone decides."""

from __future__ import annotations

from cases.eligibility import decide_duplicate, open_duplicates
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.awards.test_pages import finalists
from tests.backoffice.helpers import in_english
from tests.factories import login


def test_decide_on_the_check_page_and_the_bulk_choice(app, make):
    owner = make.applicant()
    first = make.case("submitted", owner=owner, title="智慧社区养老服务平台")
    second = make.case("submitted", owner=owner, title="智慧社区养老服务平台（二期）")
    client = app.test_client()
    login(client, make.organizer())
    in_english(client)
    page = client.get(f"/review/eligibility/{second.id}").get_data(as_text=True)
    assert "Possible duplicates" in page and "Not decided yet" in page
    listing = client.get("/review/eligibility").get_data(as_text=True)
    assert "Also those whose only failed pre-check is a possible duplicate" in listing

    client.post("/review/eligibility/bulk-approve", data={"confirmed": "1", "case_ids": [second.id]})
    db.session.expire_all()
    assert second.state == "submitted"  # skipped: its flag is open
    client.post(
        "/review/eligibility/bulk-approve",
        data={"confirmed": "1", "case_ids": [second.id], "include_possible_duplicates": "y"},
    )
    db.session.expire_all()
    assert second.state == "expert_review"

    refused = client.post(f"/review/eligibility/{first.id}/duplicates/{second.id}", data={"decision": "different"})
    assert refused.status_code == 422 and open_duplicates(first) == [second]
    decided = client.post(f"/review/eligibility/{first.id}/duplicates/{second.id}",
                          data={"decision": "different", "reason": "两个不同项目"})  # fmt: skip
    assert decided.status_code == 303 and open_duplicates(first) == []
    assert "两个不同项目" in client.get(f"/review/eligibility/{first.id}").get_data(as_text=True)


def test_an_open_flag_shows_on_the_awards_page_until_decided(app, make):
    owner = make.applicant()
    cases = finalists(
        make, {"智慧社区养老服务平台一期": (80.0, 10), "智慧社区养老服务平台二期": (70.0, 5)}, owner=owner
    )
    first, second = cases.values()
    client = app.test_client()
    login(client, make.organizer())
    in_english(client)
    page = client.get(f"/admin/awards/ranking/{first.category_id}").get_data(as_text=True)
    assert page.count('class="badge badge-warning duplicate-flag"') == 2 and "Possible duplicate of" in page
    decide_duplicate(first, second.id, make.organizer(), "different", "一期与二期是不同项目")
    commit()
    assert "duplicate-flag" not in client.get(f"/admin/awards/ranking/{first.category_id}").get_data(as_text=True)
