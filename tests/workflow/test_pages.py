"""The worklists page and the page route that fires transitions."""

from __future__ import annotations

import pytest

from cases.models import Case
from pingxuan.extensions import db
from tests.cases.browsing import english_client
from tests.factories import login
from workflow.definition import WORKLISTS


@pytest.fixture
def client(app):
    return english_client(app)


def _version(case: Case) -> str:
    db.session.expire_all()
    return str(db.session.get(Case, case.id).version)


def test_dashboard_sends_each_role_to_its_page(client, make):
    login(client, make.applicant())
    assert client.get("/dashboard").headers["Location"] == "/my-cases"
    client.post("/logout")
    login(client, make.expert())
    assert client.get("/dashboard").headers["Location"] == "/review/mine"


def test_applicant_worklist_shows_only_own_drafts(client, make):
    me = make.applicant()
    mine = make.case(owner=me, title="我的草稿")
    make.case(title="别人的草稿")
    make.case("submitted", owner=me, title="已交的")
    login(client, me)
    page = client.get("/worklists").get_data(as_text=True)
    assert 'id="worklist-my_drafts"' in page and 'id="worklist-to_check"' not in page
    assert "我的草稿" in page and "别人的草稿" not in page and "已交的" not in page
    assert f"/cases/{mine.id}/transitions/submit" in page


def test_organizer_sees_every_staff_worklist_and_can_act_from_it(client, make):
    case = make.case("submitted", title="待审查")
    organizer = make.organizer()
    login(client, organizer)
    page = client.get("/worklists").get_data(as_text=True)
    for worklist in WORKLISTS:
        if worklist.roles & {"organizer"}:
            assert f'id="worklist-{worklist.name}"' in page
    assert "待审查" in page
    response = client.post(
        f"/cases/{case.id}/transitions/start_check",
        data={"expected_version": _version(case)},
        headers={"Referer": "http://localhost/worklists"},
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{case.id}"
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "eligibility_check"


def test_expert_sees_empty_review_list(client, make):
    login(client, make.expert())
    page = client.get("/worklists").get_data(as_text=True)
    assert 'id="worklist-my_reviews"' in page and "Nothing to do here." in page


def test_refused_transition_goes_back_with_the_message(client, make):
    me = make.applicant()
    case = make.case("submitted", owner=me)
    login(client, me)
    response = client.post(
        f"/cases/{case.id}/transitions/start_check",
        data={"expected_version": _version(case)},
        headers={"Referer": "http://localhost/my-cases"},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/my-cases"
    page = client.get("/my-cases").get_data(as_text=True)
    assert "You may not" in page
    unknown = client.post(f"/cases/{case.id}/transitions/explode", data={}, follow_redirects=True)
    assert "There is no action named explode." in unknown.get_data(as_text=True)


def test_worklists_need_login(client):
    response = client.get("/worklists")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_notifications_page_lists_and_marks_read(client, make):
    me = make.applicant()
    make.case("submitted", owner=me, title="通知测试")
    login(client, me)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Mark all as read" in page and 'class="unread"' in page
    page = client.post("/notifications/read", follow_redirects=True).get_data(as_text=True)
    assert "All notifications are marked as read." in page
    assert 'class="unread"' not in page and "Mark all as read" not in page
