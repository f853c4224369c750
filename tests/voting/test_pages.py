"""The public showcase and vote pages, abuse controls and the organizers' vote controls, as a visitor sees them."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import BytesIO

import pytest
from PIL import Image

from campaigns.models import VOTE_CLOSED, VOTE_OPEN
from cases.models import Attachment
from cases.operations import attach_file
from pingxuan import storage
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests import altcha_client
from tests.cases.browsing import english_client
from tests.factories import login, path_to, value
from tests.phone import last_code
from voting.ballots import counts
from voting.models import Ballot, BallotAudit, OtpChallenge, SmsMessage, Voter
from voting.privacy import ip_hash
from workflow.definition import OWNER
from workflow.engine import fire

FINALIST, IN_REVIEW = "public_vote", "expert_review"


def open_campaign(make, **settings):
    campaign = make.campaign()
    campaign.vote_status = VOTE_OPEN
    for name, setting in settings.items():
        setattr(campaign, name, setting)
    commit()
    return campaign


def new_voter(n: int = 0) -> int:
    voter = Voter(phone_hash=f"{n:064d}")
    db.session.add(voter)
    commit()
    return voter.id


def as_voter(client, voter_id: int) -> None:
    with client.session_transaction() as session:
        session["voter_id"] = voter_id


def jpeg(width: int, height: int) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), (11, 92, 173)).save(out, "JPEG")
    return out.getvalue()


def finalist_with_photo(make, data: bytes, state: str = FINALIST):
    """A case with a photo, driven to ``state`` through fire() like the factory does."""
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    attachment = attach_file(case, owner, "photo", "现场.jpg", data)
    commit()
    organizer = make.organizer()
    for transition in path_to(state):
        make.prepare(case, transition)
        fire(case, transition.name, owner if OWNER in transition.roles else organizer, comment="test")
        commit()
    return case, attachment


def code_from_phone() -> str:
    return last_code()


def vote(client, case_id: int):
    return client.post(f"/showcase/cases/{case_id}/vote", headers={"Accept": "application/json"})


# Showcase ------------------------------------------------------------------------------------------------


def test_gallery_lists_finalists_by_category_and_search(app, make):
    campaign = open_campaign(make)
    first = make.case(FINALIST, title="城市大脑交通信号优化")
    other = make.case(FINALIST, category_index=1, title="智慧养老服务平台")
    hidden = make.case(IN_REVIEW, title="尚在评审的案例")
    client = english_client(app)

    page = client.get("/showcase").get_data(as_text=True)
    assert first.title in page and other.title in page and hidden.title not in page
    by_category = client.get(f"/showcase?category={campaign.categories[1].id}").get_data(as_text=True)
    assert other.title in by_category and first.title not in by_category
    assert first.title in client.get("/showcase?q=交通").get_data(as_text=True)
    assert other.title not in client.get("/showcase?q=交通").get_data(as_text=True)
    assert first.title in client.get(f"/showcase?q={first.number}").get_data(as_text=True)
    assert first.title in client.get(f"/showcase?q={first.unit.name}").get_data(as_text=True)
    domain = campaign.categories[0].domains[0]
    assert first.title in client.get(f"/showcase?category={first.category_id}&domain={domain.id}").get_data(
        as_text=True
    )


def test_case_page_shows_dossier_count_share_link_and_photo_copy(app, make):
    open_campaign(make)
    case, attachment = finalist_with_photo(make, jpeg(2400, 1600))
    client = english_client(app)
    page = client.get(f"/showcase/cases/{case.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in (
        case.title,
        value(case, "summary"),
        value(case, "effects"),
        value(case, "beneficiaries"),
        case.unit.name,
        case.number,
    ):
        assert text in html
    assert f"http://localhost/showcase/cases/{case.id}" in html and "<svg" in html  # share link and QR code
    assert 'id="vote-count">0 ' in html  # "0 票", "0 votes"
    photo = client.get(f"/showcase/cases/{case.id}/photos/{attachment.id}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert Image.open(BytesIO(photo.data)).size == (1200, 800)  # the display copy, not the 2400 px original
    assert db.session.get(Attachment, attachment.id).display_sha256 == storage.store(photo.data)


def test_a_case_in_expert_review_is_404_on_every_public_route_and_the_api(app, make):
    open_campaign(make)
    case, attachment = finalist_with_photo(make, jpeg(300, 200), state=IN_REVIEW)
    client = english_client(app)
    as_voter(client, new_voter())
    for url in (f"/showcase/cases/{case.id}", f"/showcase/cases/{case.id}/photos/{attachment.id}"):
        assert client.get(url).status_code == 404, url
    assert vote(client, case.id).status_code == 404
    assert client.post(f"/showcase/cases/{case.id}/vote").status_code == 404
    assert "No finalists match." in client.get(f"/showcase?q={case.title}&lang=en").get_data(as_text=True)
    assert client.get(f"/api/v1/showcase/cases/{case.id}").status_code == 404
    token = client.post("/api/v1/voters/code", json={"phone": "13900139000"})
    assert token.status_code == 202
    voter_token = client.post(
        "/api/v1/voters/verify", json={"phone": "13900139000", "code": code_from_phone()}
    ).get_json()["voter_token"]
    api_vote = client.post(f"/api/v1/showcase/cases/{case.id}/vote", headers={"X-Voter-Token": voter_token})
    assert api_vote.status_code == 404 and api_vote.get_json()["message"]
    ids = [item["id"] for item in client.get("/api/v1/showcase?per_page=100").get_json()["items"]]
    assert case.id not in ids
    assert Ballot.query.count() == 0


# Voters and votes ----------------------------------------------------------------------------------------


def test_verify_by_code_then_vote_and_be_refused_a_second_vote(app, make):
    open_campaign(make)
    case = make.case(FINALIST)
    client = english_client(app)
    page = client.get(f"/showcase/cases/{case.id}?lang=en").get_data(as_text=True)
    assert f'id="vote-button" href="/showcase/cases/{case.id}/vote?lang=en"' in page
    assert client.get(f"/showcase/voter?case={case.id}").get_json()["verified"] is False
    assert client.get(f"/showcase/cases/{case.id}/vote").headers["Location"].startswith("/showcase/verify")

    sent = client.post("/showcase/verify/code", data={"phone": "138 0013 8000", "next": f"/showcase/cases/{case.id}"})
    assert sent.status_code == 200 and 'name="code"' in sent.get_data(as_text=True)
    wrong = client.post("/showcase/verify/check", data={"phone": "13800138000", "code": "000000x"})
    assert wrong.status_code == 422 and "attempts left" in wrong.get_data(as_text=True)
    done = client.post(
        "/showcase/verify/check",
        data={"phone": "13800138000", "code": code_from_phone(), "next": f"/showcase/cases/{case.id}"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/showcase/cases/{case.id}")
    with client.session_transaction() as session:
        assert isinstance(session["voter_id"], int)
    back = client.get(f"/showcase/voter?case={case.id}&lang=en").get_json()  # the cached case page asks
    assert back["message"] == "Your number is verified. Votes left today in this category: 1."
    assert "verified" not in client.get(f"/showcase/voter?case={case.id}&lang=en").get_json()["message"], "once"

    first = vote(client, case.id)
    assert first.status_code == 200 and first.get_json()["count"] == 1
    assert first.get_json()["remaining_today"] == 0  # the category's only finalist: no vote left to promise
    assert first.get_json()["count_text"] == "1 vote"  # the case page's count after the vote, in the page's words
    again = vote(client, case.id)
    assert again.status_code == 409
    assert again.get_json()["message"] == "You have already voted for this case today. Come back tomorrow."
    html = client.get(f"/showcase/cases/{case.id}").get_data(as_text=True)
    assert 'id="vote-count">1 票<' in html
    state = client.get(f"/showcase/voter?case={case.id}&lang=en").get_json()
    assert state["verified"] and state["voted_for_case"] and state["csrf_token"]
    assert state["message"] == "You have already voted for this case today. Come back tomorrow."
    assert "Voted today" in client.get(f"/showcase/cases/{case.id}/vote").get_data(as_text=True)
    # Without JavaScript: the form posts and the page shows the refusal.
    refused = client.post(f"/showcase/cases/{case.id}/vote", follow_redirects=True).get_data(as_text=True)
    assert "You have already voted for this case today." in refused
    assert Ballot.query.count() == 1


def test_a_fourth_vote_in_a_category_on_one_day_is_refused_with_the_message(app, make):
    open_campaign(make)
    finalists = [make.case(FINALIST) for _ in range(4)]
    client = english_client(app)
    as_voter(client, new_voter())
    for n, case in enumerate(finalists[:3]):
        answer = vote(client, case.id)
        assert answer.status_code == 200 and answer.get_json()["remaining_today"] == 2 - n
    fourth = vote(client, finalists[3].id)
    assert fourth.status_code == 409
    assert fourth.get_json()["message"] == "You have used today's 3 votes in this category."
    state = client.get(f"/showcase/voter?case={finalists[3].id}&lang=en").get_json()
    assert state["message"] == "You have used today's 3 votes in this category."
    assert state["remaining_in_category"] == 0
    assert counts([finalists[3].id])[finalists[3].id] == 0


def test_vote_without_a_verified_number_asks_for_one(app, make):
    open_campaign(make)
    case = make.case(FINALIST)
    client = english_client(app)
    answer = vote(client, case.id)
    assert answer.status_code == 401 and "/showcase/verify" in answer.get_json()["verify"]
    assert client.post(f"/showcase/cases/{case.id}/vote").headers["Location"].startswith("/showcase/verify")


def test_the_vote_endpoint_refuses_after_the_vote_is_closed(app, make):
    campaign = open_campaign(make)
    case = make.case(FINALIST)
    client = english_client(app)
    as_voter(client, new_voter())
    campaign.vote_status = VOTE_CLOSED
    commit()
    answer = vote(client, case.id)
    assert answer.status_code == 409 and answer.get_json()["message"] == "The public vote is closed."
    assert "The public vote is closed." in client.get(f"/showcase/cases/{case.id}?lang=en").get_data(as_text=True)
    assert Ballot.query.count() == 0


def test_counts_are_hidden_until_close_when_live_counts_are_off(app, make):
    campaign = open_campaign(make, show_live_counts=False)
    case = make.case(FINALIST)
    client = english_client(app)
    as_voter(client, new_voter())
    answer = vote(client, case.id)
    assert answer.status_code == 200 and answer.get_json()["count"] is None
    assert 'id="vote-count"' not in client.get(f"/showcase/cases/{case.id}").get_data(as_text=True)
    assert "1 votes" not in client.get("/showcase").get_data(as_text=True)
    assert client.get(f"/api/v1/showcase/cases/{case.id}").get_json()["votes"] is None
    assert client.get("/api/v1/showcase/counts").get_json() == {"visible": False, "counts": {}}
    campaign.vote_status = VOTE_CLOSED
    commit()
    assert 'id="vote-count">1 票<' in client.get(f"/showcase/cases/{case.id}").get_data(as_text=True)
    assert client.get(f"/api/v1/showcase/cases/{case.id}").get_json()["votes"] == 1
    assert client.get("/api/v1/showcase/counts").get_json()["counts"] == {str(case.id): 1}


# Abuse ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_spoofed_forwarded_for_does_not_change_the_rate_limited_address(app, make, proxies):
    open_campaign(make)
    app.config.update(PROXY_COUNT=proxies, CODE_LIMIT_IP="3 per minute")
    client = english_client(app)
    real = "203.0.113.7" if proxies else "127.0.0.1"

    def request_code(n: int, spoofed: str, real_client: str = real):
        # The client writes anything it likes; our one proxy (when there is one) appends the real address.
        forwarded = f"{spoofed}, {real_client}" if proxies else spoofed
        return client.post(
            "/showcase/verify/code",
            data={"phone": f"1390000{n:04d}"},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )

    statuses = [request_code(n, f"10.9.{n}.{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 200]
    assert request_code(3, "10.9.99.99").status_code == 429  # a new spoofed address does not reset the limit
    assert SmsMessage.query.count() == 3
    assert {c.ip_hash for c in OtpChallenge.query.all()} == {ip_hash(real)}  # the address the operations saw
    if proxies:  # another real client behind the same proxy has its own allowance
        assert request_code(4, "10.9.1.1", real_client="198.51.100.20").status_code == 200


def _solved(client, **kwargs) -> str:
    """An ALTCHA payload for a fresh challenge, the work done as a client does it (tests/altcha_client.py)."""
    return altcha_client.payload(client.get("/showcase/captcha/challenge", **kwargs).get_json())


def test_the_per_address_vote_limit_asks_for_a_captcha_and_a_solved_one_lets_the_office_vote(app, make):
    open_campaign(make)
    app.config.update(VOTE_LIMIT_IP="2 per minute", CAPTCHA_COST=50, CAPTCHA_MAX_NUMBER=200)
    finalists = [make.case(FINALIST) for _ in range(3)]
    client = english_client(app)
    as_voter(client, new_voter())
    assert [vote(client, c.id).status_code for c in finalists[:2]] == [200, 200]
    stopped = vote(client, finalists[2].id)
    assert stopped.status_code == 429 and "/showcase/captcha" in stopped.get_json()["captcha"]
    page = client.post(f"/showcase/cases/{finalists[2].id}/vote")
    assert page.status_code == 429 and "<altcha-widget" in page.get_data(as_text=True)

    assert client.post("/showcase/captcha", data={"altcha": "12"}).status_code == 422
    solved = client.post(
        "/showcase/captcha", data={"altcha": _solved(client), "next": f"/showcase/cases/{finalists[2].id}"}
    )
    assert solved.status_code == 302 and solved.headers["Location"] == f"/showcase/cases/{finalists[2].id}"
    assert vote(client, finalists[2].id).status_code == 200
    assert Ballot.query.count() == 3


def test_a_captcha_pass_admits_one_vote_from_the_address_that_earned_it(app, make):
    """Issue 14: a pass is single use and kept server-side, bound to the address; a copied cookie is refused."""
    open_campaign(make)
    app.config.update(VOTE_LIMIT_IP="1 per minute", CAPTCHA_COST=50, CAPTCHA_MAX_NUMBER=200)
    finalists = [make.case(FINALIST) for _ in range(5)]
    office, elsewhere = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.9"}
    client = english_client(app)
    as_voter(client, new_voter())

    def vote_from(where: dict, case) -> int:
        return client.post(f"/showcase/cases/{case.id}/vote", headers={"Accept": "application/json"},
                           environ_base=where).status_code  # fmt: skip

    assert [vote_from(office, finalists[0]), vote_from(elsewhere, finalists[0])] == [200, 409]  # each address's one
    answer = {"altcha": _solved(client, environ_base=office)}
    assert client.post("/showcase/captcha", data=answer, environ_base=office).status_code == 302
    with_pass = client.get_cookie("session").value
    assert vote_from(office, finalists[1]) == 200  # the pass let one vote through
    assert vote_from(office, finalists[2]) == 429  # and only one
    client.set_cookie("session", with_pass)  # the cookie from before the pass was spent: replayed
    assert vote_from(office, finalists[2]) == 429

    answer = {"altcha": _solved(client, environ_base=office)}
    assert client.post("/showcase/captcha", data=answer, environ_base=office).status_code == 302
    assert vote_from(elsewhere, finalists[3]) == 429  # a pass earned at the office does nothing elsewhere
    assert Ballot.query.count() == 2


def test_the_per_voter_limit_holds_whatever_the_address(app, make):
    open_campaign(make)
    app.config.update(VOTE_LIMIT_VOTER="2 per minute")
    finalists = [make.case(FINALIST) for _ in range(3)]
    client = english_client(app)
    as_voter(client, new_voter())
    statuses = [
        client.post(
            f"/showcase/cases/{c.id}/vote", headers={"Accept": "application/json"},
            environ_base={"REMOTE_ADDR": f"10.1.{n}.1"},
        ).status_code
        for n, c in enumerate(finalists)
    ]  # fmt: skip
    assert statuses == [200, 200, 429]


@pytest.mark.postgresql_only
def test_fifty_concurrent_http_votes_of_one_voter_for_one_case_make_one_ballot(app, make):
    open_campaign(make)
    app.config.update(VOTE_LIMIT_IP="1000 per minute", VOTE_LIMIT_VOTER="1000 per minute")
    case_id = make.case(FINALIST).id
    voter_id = new_voter()
    barrier = threading.Barrier(50)
    statuses: list[int] = []

    def attempt() -> None:
        with app.app_context():
            client = app.test_client()
            as_voter(client, voter_id)
            barrier.wait()
            statuses.append(vote(client, case_id).status_code)
            db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.remove()
    assert sorted(statuses) == [200] + [409] * 49
    assert Ballot.query.filter_by(case_id=case_id).count() == 1
    assert counts([case_id])[case_id] == 1


# Organizers ----------------------------------------------------------------------------------------------


def test_organizer_invalidates_ballots_the_count_follows_and_the_audit_keeps_them(app, make):
    open_campaign(make)
    case = make.case(FINALIST)
    for n in range(3):
        voter_client = app.test_client()
        as_voter(voter_client, new_voter(n))
        assert vote(voter_client, case.id).status_code == 200
    ballot_ids = [b.id for b in Ballot.query.order_by(Ballot.id)]
    organizer = make.organizer()
    client = english_client(app)
    login(client, organizer)
    listing = client.get(f"/vote-admin/cases/{case.id}?all=1").get_data(as_text=True)
    assert all(f'value="{i}"' in listing for i in ballot_ids)

    refused = client.post(f"/vote-admin/cases/{case.id}/invalidate", data={"ballot": ballot_ids[:2], "reason": ""})
    assert "A reason is required." in client.get(refused.headers["Location"]).get_data(as_text=True)
    done = client.post(
        f"/vote-admin/cases/{case.id}/invalidate",
        data={"ballot": ballot_ids[:2], "reason": "批量注册的号码", "confirmed": "1"},
        follow_redirects=True,
    )  # fmt: skip
    html = done.get_data(as_text=True)
    assert "2 ballots invalidated" in html and 'id="valid-count">1<' in html and "批量注册的号码" in html
    assert counts([case.id])[case.id] == 1
    assert Ballot.query.count() == 3 and BallotAudit.query.count() == 2
    assert {b.invalid_reason for b in Ballot.query.filter(Ballot.id.in_(ballot_ids[:2]))} == {"批量注册的号码"}
    assert client.get(f"/showcase/cases/{case.id}").get_data(as_text=True).count('id="vote-count">1 票<') == 1

    recount = client.post(f"/vote-admin/{case.campaign_id}/recount").get_data(as_text=True)
    assert "every live count equals the count of valid ballots" in recount


def test_organizer_opens_and_closes_the_vote_others_may_not(app, make):
    campaign = make.campaign()
    client = english_client(app)
    login(client, make.applicant())
    assert client.get("/vote-admin/").status_code == 403
    assert client.post(f"/vote-admin/{campaign.id}/open").status_code == 403
    login(client, make.organizer())
    assert "open-vote" in client.get("/vote-admin/").get_data(as_text=True)
    client.post(f"/vote-admin/{campaign.id}/open")
    db.session.refresh(campaign)
    assert campaign.vote_status == VOTE_OPEN
    client.post(f"/vote-admin/{campaign.id}/close", data={"confirmed": "1"})
    db.session.refresh(campaign)
    assert campaign.vote_status == VOTE_CLOSED
    again = client.post(f"/vote-admin/{campaign.id}/open", follow_redirects=True).get_data(as_text=True)
    assert "A closed vote cannot be opened again" in again


def test_scheduled_close_task_and_cli_commands(app, make):
    campaign = open_campaign(make, vote_closes=today() - timedelta(days=1))
    case = make.case(FINALIST)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pingxuan", "recount"])
    assert result.exit_code == 0 and "no differences" in result.output
    app.extensions["celery"].tasks["voting.close_due_votes"].delay()
    db.session.expire_all()
    assert campaign.vote_status == VOTE_CLOSED
    assert "close-due-votes" in app.config["CELERY"]["beat_schedule"]
    assert "No open vote" in runner.invoke(args=["pingxuan", "close-due-votes"]).output
    campaign.vote_status = VOTE_OPEN
    commit()
    output = runner.invoke(args=["pingxuan", "close-due-votes"]).output
    assert f"Closed the public vote of {campaign.year}" in output
    assert case.id  # the case stays; only the vote closed
