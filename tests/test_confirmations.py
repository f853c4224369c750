"""Nothing irreversible by accident (issue 20): every action that cannot be undone or that acts on many things
asks first and says what will happen to how many; sent without the confirmation, nothing changes. Closing the
vote can be undone (reopened with a reason, audited) until awards are proposed on its result."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from awards.decisions import confirm_awards
from awards.models import OBJECTION_OPEN, CertificateBatch, Notice
from awards.objections import lodge_objection
from campaigns.models import VOTE_CLOSED, VOTE_OPEN, SettingChange
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers import assignment as assigning
from reviewers import scoring
from reviewers.models import Assignment
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.awards.test_notice import PHONE, proposed, verified
from tests.awards.test_pages import awarded, close_vote, finalists
from tests.factories import login


def _asked(response, *words: str) -> str:
    """The confirmation page: it says what will happen and has done nothing yet."""
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="confirm-yes"' in text, text[:400]
    assert 'name="confirmed" value="1"' in text
    for word in words:
        assert word in text, word
    return text


def _fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def test_closing_the_vote_asks_with_the_ballots_cast_and_can_be_undone_until_awards_are_proposed(client, make):
    cases = finalists(make)
    campaign = cases["A"].campaign
    campaign.vote_status = VOTE_OPEN
    commit()
    login(client, make.organizer())
    client.get("/language/en")
    page = client.get("/vote-admin/").get_data(as_text=True)
    assert re.search(r'id="close-vote" data-confirm="Close the vote: from now on no vote is accepted; \d+ valid', page)

    _asked(client.post(f"/vote-admin/{campaign.id}/close"), "from now on no vote is accepted")
    assert _fresh(campaign).vote_status == VOTE_OPEN  # not confirmed: still open
    client.post(f"/vote-admin/{campaign.id}/close", data={"confirmed": "1"})
    assert _fresh(campaign).vote_status == VOTE_CLOSED

    # reopened: a reason is required, the change is audited with it
    page = client.get("/vote-admin/").get_data(as_text=True)
    assert 'id="reopen-vote"' in page
    _asked(client.post(f"/vote-admin/{campaign.id}/reopen", data={"reason": "误操作"}), "Reopen the vote")
    assert _fresh(campaign).vote_status == VOTE_CLOSED
    refused = client.post(f"/vote-admin/{campaign.id}/reopen", data={"reason": " ", "confirmed": "1"})
    assert "Say why the vote is reopened." in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert _fresh(campaign).vote_status == VOTE_CLOSED
    client.post(f"/vote-admin/{campaign.id}/reopen", data={"reason": "误操作，提前结束了投票", "confirmed": "1"})
    assert _fresh(campaign).vote_status == VOTE_OPEN
    audit = db.session.scalars(select(SettingChange).where(SettingChange.campaign_id == campaign.id)).all()
    assert [(a.field, a.after) for a in audit if a.field.startswith("vote")][-3:] == [
        ("vote_status", VOTE_CLOSED), ("vote_status", VOTE_OPEN), ("vote_reopen_reason", "误操作，提前结束了投票"),
    ]  # fmt: skip

    # once awards are proposed on the vote's result, it stays closed (page and API)
    client.post(f"/vote-admin/{campaign.id}/close", data={"confirmed": "1"})
    confirm_awards(campaign, cases["A"].category, make.organizer(), size=2)
    commit()
    assert "cannot be reopened" in client.get("/vote-admin/").get_data(as_text=True)
    client.post(f"/vote-admin/{campaign.id}/reopen", data={"reason": "再开", "confirmed": "1"})
    assert _fresh(campaign).vote_status == VOTE_CLOSED


def test_reopening_through_the_api(client, make, bearer):  # noqa: F811
    campaign = make.campaign()
    campaign.vote_status = VOTE_CLOSED
    commit()
    staff = bearer(make.organizer())
    url = f"/api/v1/campaigns/{campaign.id}/vote/reopen"
    assert client.post(url, json={}, headers=staff).status_code == 422
    assert client.post(url, json={"reason": "提前结束"}, headers=bearer(make.expert())).status_code == 403
    done = client.post(url, json={"reason": "提前结束"}, headers=staff)
    assert done.status_code == 200 and done.get_json()["vote_status"] == VOTE_OPEN
    assert client.post(url, json={"reason": "again"}, headers=staff).status_code == 409


def test_bulk_eligibility_starts_with_nothing_ticked_and_asks_with_the_count(client, make):
    cases = [make.case("eligibility_check") for _ in range(3)]
    login(client, make.organizer())
    page = client.get("/review/eligibility").get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox" name="case_ids"[^>]*>', page)
    assert len(boxes) == 3 and not any("checked" in box for box in boxes)
    assert 'data-count="case_ids"' in page
    client.get("/language/en")
    _asked(client.post("/review/eligibility/bulk-approve", data={"case_ids": [c.id for c in cases]}),
           "Approve 3 cases as eligible")  # fmt: skip
    assert {_fresh(c).state for c in cases} == {"eligibility_check"}


def test_applying_an_assignment_proposal_asks_with_the_count(client, make):
    campaign = make.campaign()
    scoring.ensure_default_rubric(campaign)
    make.case("expert_review")
    category = campaign.categories[0]
    for _ in range(campaign.reviewers_per_case):
        make.pool_expert(categories=[category])
    organizer = make.organizer()
    login(client, organizer)
    client.get("/language/en")
    before = db.session.scalar(select(func.count()).select_from(Assignment))
    proposal = assigning.propose(campaign, organizer)
    commit()
    assert proposal.pairs
    page = client.get(f"/review/assignment/{proposal.id}").get_data(as_text=True)
    assert f"Apply the proposal: {len(proposal.pairs)} assignments are made" in page
    _asked(client.post(f"/review/assignment/{proposal.id}/apply"), f"{len(proposal.pairs)} assignments are made")
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == before
    assert _fresh(proposal).applied_at is None


def test_publishing_the_notice_shows_its_dates_first(client, make):
    cases = finalists(make)
    campaign = cases["A"].campaign
    close_vote(campaign)
    confirm_awards(campaign, cases["A"].category, make.organizer(), size=2)
    commit()
    login(client, make.organizer())
    client.get("/language/en")
    page = client.get("/notice/objections").get_data(as_text=True)
    assert 'id="notice-dates"' in page and "working days" in page
    _asked(client.post("/notice/publish", data={"category": ""}), "Publish the public notice of 2 proposed awards")
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_an_objection_has_no_default_outcome_and_asks_before_it_is_decided(client, make):
    cases, organizer, _notice = proposed(make)
    objection = lodge_objection(cases["A"], verified(), PHONE, "cutoff", "该系统晚于截止日期上线。")
    commit()
    login(client, organizer)
    client.get("/language/en")
    page = client.get(f"/objections/{objection.id}").get_data(as_text=True)
    radios = re.findall(r'<input type="radio" name="outcome"[^>]*>', page)
    assert len(radios) == 2 and not any("checked" in r for r in radios)
    url = f"/objections/{objection.id}/decide"
    refused = client.post(url, data={"reason": "材料证明合规。", "confirmed": "1"}, follow_redirects=True)
    assert "Choose uphold or dismiss." in refused.get_data(as_text=True)
    _asked(client.post(url, data={"outcome": "upheld", "reason": "属实。"}), "proposed award of", "is revoked")
    assert _fresh(objection).status == OBJECTION_OPEN and _fresh(cases["A"]).state == "proposed"


def test_proposing_awards_and_issuing_certificates_ask_first(client, make):
    cases = finalists(make)
    close_vote(cases["A"].campaign)
    login(client, make.organizer())
    client.get("/language/en")
    category = cases["A"].category
    page = client.get(f"/admin/awards/ranking/{category.id}").get_data(as_text=True)
    assert "Propose the top 3 for award" in page and "award the top" not in page  # proposing is not awarding
    asked = client.post(f"/admin/awards/ranking/{category.id}/confirm", data={"size": 2})
    _asked(asked, "Propose the top 2 of the 3 finalists")
    assert {_fresh(c).state for c in cases.values()} == {"public_vote"}

    awarded(make)
    _asked(client.post("/admin/awards/certificates/start"), "Issue the missing certificates")
    assert db.session.scalar(select(func.count()).select_from(CertificateBatch)) == 0


def test_an_expert_accepts_before_scoring_and_confirms_submission_and_conflicts(client, make):
    campaign = make.campaign()
    criteria = scoring.ensure_default_rubric(campaign)
    first, second = make.case("expert_review"), make.case("expert_review")
    expert = make.pool_expert()
    organizer = make.organizer()
    a = assigning.assign(first, expert, organizer)
    b = assigning.assign(second, expert, organizer)
    commit()
    login(client, expert)
    client.get("/language/en")
    home = client.get("/review/mine").get_data(as_text=True)
    assert home.index('id="to-accept"') < home.index(f'data-assignment="{a.id}"') < home.index('id="to-score"')
    score_page = client.get(f"/review/cases/{first.id}/score").get_data(as_text=True)
    assert 'id="accept-first"' in score_page and "score-form" not in score_page
    form = {f"score_{c.id}": str(c.max_score) for c in criteria} | {"submit_review": "1", "confirmed": "1"}
    client.post(f"/review/cases/{first.id}/score", data=form)
    assert _fresh(a).review is None and _fresh(a).status == "pending"  # refused by the operation

    client.post(f"/review/mine/{a.id}/respond", data={"answer": "accept"})
    home = client.get("/review/mine").get_data(as_text=True)
    assert home.index('id="to-score"') < home.index(f'data-assignment="{a.id}"') < home.index('id="done"')
    unconfirmed = {k: v for k, v in form.items() if k != "confirmed"}
    _asked(client.post(f"/review/cases/{first.id}/score", data=unconfirmed), "Submit your review")
    assert _fresh(a).status == "accepted"
    client.post(f"/review/cases/{first.id}/score", data=form)
    assert _fresh(a).status == "submitted"
    home = client.get("/review/mine").get_data(as_text=True)
    assert home.index('id="done"') < home.index(f'data-assignment="{a.id}"')

    _asked(client.post(f"/review/mine/{b.id}/conflict", data={"reason": "我参与过该项目"}), "conflict of interest")
    assert _fresh(b).status == "pending"


def test_shortlisting_asks_first(client, make):
    campaign = make.campaign()
    case = make.case("expert_review")
    login(client, make.organizer())
    client.get("/language/en")
    _asked(client.post("/review/shortlist", data={"category": campaign.categories[0].id, "size": 1}),
           "for the public vote")  # fmt: skip
    assert _fresh(case).state == "expert_review"
