"""The eligibility and expert review pages through HTTP: organizers decide and assign, experts score blind."""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select

from accounts.models import User
from cases.models import Case
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers import assignment as assigning
from reviewers import scoring
from reviewers.models import LIVE, Assignment, Conflict, Expert, Proposal
from tests.cases.browsing import english_client
from tests.factories import login, value
from workflow.models import WorkflowEvent


@pytest.fixture
def client(app):
    return english_client(app)


def _fresh(model, key):
    db.session.expire_all()
    return db.session.get(model, key)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _score(client, case: Case, criteria, fraction: float, submit: bool = True, **extra):
    """Post the scoring form with every criterion at ``fraction`` of its maximum."""
    form = {f"score_{c.id}": f"{c.max_score * fraction:g}" for c in criteria}
    form.update({"submit_review" if submit else "save_draft": "1", "confirmed": "1", **extra})
    return client.post(f"/review/cases/{case.id}/score", data=form)


def _review_setup(make, cases: int = 3, experts: int = 2, accept: bool = True):
    """Cases under review in one category, each assigned to the same experts, with the default rubric."""
    campaign = make.campaign()
    criteria = scoring.ensure_default_rubric(campaign)
    organizer = make.organizer()
    case_list = [make.case("expert_review") for _ in range(cases)]
    pool = [make.pool_expert() for _ in range(experts)]
    assignments = {(c.id, e.id): assigning.assign(c, e, organizer) for c in case_list for e in pool}
    for assignment in assignments.values() if accept else ():
        assigning.respond(assignment, assignment.expert, accept=True)  # scoring starts once accepted
    commit()
    return campaign, criteria, organizer, case_list, pool, assignments


# Access ----------------------------------------------------------------------------------------------------


def test_only_organizers_open_the_organizer_pages(client, make):
    campaign = make.campaign()
    case = make.case("submitted")
    reviewed = make.case("expert_review")
    expert = make.pool_expert()
    organizer = make.organizer()
    assignment = assigning.assign(reviewed, expert, organizer)
    proposal = assigning.propose(campaign, organizer)
    commit()
    category = campaign.categories[0].id
    gets = [
        "/review/eligibility", f"/review/eligibility/{case.id}", "/review/experts", "/review/experts/sample.csv",
        f"/review/experts/{expert.id}", "/review/assignment", f"/review/assignment/{proposal.id}",
        "/review/progress", f"/review/ranking?category={category}", f"/review/shortlist?category={category}",
    ]  # fmt: skip
    posts = [
        "/review/eligibility/bulk-approve", f"/review/eligibility/{case.id}/decide/start_check",
        f"/review/eligibility/{case.id}/return", "/review/experts/import", f"/review/experts/{expert.id}",
        "/review/assignment/propose", f"/review/assignment/{proposal.id}/adjust",
        f"/review/assignment/{proposal.id}/apply", "/review/progress/reminders",
        f"/review/reviews/{assignment.id}/reopen", f"/review/reviews/{assignment.id}/waive", "/review/shortlist",
    ]  # fmt: skip
    for person in (make.applicant(), expert):
        login(client, person)
        for url in gets:
            assert client.get(url).status_code == 403, (person.role, url)
        for url in posts:
            assert client.post(url, data={"reason": "x", "comment": "x"}).status_code == 403, (person.role, url)
    assert _fresh(Case, case.id).state == "submitted"
    assert _fresh(Proposal, proposal.id).applied_at is None

    login(client, organizer)
    for url in gets:
        assert client.get(url).status_code == 200, url
    # The expert's pages are for experts.
    assert client.get("/review/mine").status_code == 403
    assert client.get(f"/review/cases/{reviewed.id}/score").status_code == 403

    anonymous = english_client(client.application)
    assert anonymous.get("/review/eligibility").status_code == 302


# Eligibility -----------------------------------------------------------------------------------------------


def test_check_page_prechecks_catch_a_case_in_operation_after_the_cutoff(client, make):
    late = make.case("submitted", in_operation_since=date(2017, 4, 15))
    fine = make.case("submitted")
    organizer = make.organizer()
    login(client, organizer)

    listing = _text(client.get("/review/eligibility"))
    assert f'data-case="{late.id}"' in listing and f'data-case="{fine.id}"' in listing
    assert "1 of 4 failed" in listing

    page = _text(client.get(f"/review/eligibility/{late.id}"))
    assert 'data-check="in_operation" data-passed="false"' in page
    assert "after the cut-off" in page and "2017" in page
    assert 'data-check="complete" data-passed="true"' in page
    assert f'href="/cases/{late.id}"' in page  # the dossier links to the case page
    assert "/decide/start_check" in page

    response = client.post(f"/review/eligibility/{late.id}/decide/start_check", data={"expected_version": late.version})
    assert response.status_code == 303
    page = _text(client.get(f"/review/eligibility/{late.id}"))
    assert _fresh(Case, late.id).state == "eligibility_check"
    assert re.search(r'value="approve"\s+disabled', page), "approve is offered but disabled with the reason"
    assert "In operation after the cut-off date." in page

    refused = client.post(f"/review/eligibility/{late.id}/decide/approve", follow_redirects=True)
    assert "must have been in operation" in _text(refused)
    assert _fresh(Case, late.id).state == "eligibility_check"

    # Bulk approve: the good one goes through, the late one is skipped with the reason.
    response = client.post("/review/eligibility/bulk-approve", data={"confirmed": "1", "case_ids": [late.id, fine.id]})
    page = _text(client.get(response.headers["Location"]))
    assert "Approved 1 case." in page
    assert "Skipped" in page and "after the cut-off" in page
    assert (_fresh(Case, late.id).state, _fresh(Case, fine.id).state) == ("eligibility_check", "expert_review")


def test_return_with_due_date_resubmit_and_approve_through_the_pages(client, make):
    case = make.case("eligibility_check")
    organizer, owner = make.organizer(), case.created_by
    before = db.session.scalar(select(func.max(WorkflowEvent.id)).where(WorkflowEvent.case_id == case.id))
    login(client, organizer)

    missing = client.post(f"/review/eligibility/{case.id}/return", data={"comment": "", "due_date": ""})
    assert missing.status_code == 422
    assert "A due date is required." in _text(missing)
    assert _fresh(Case, case.id).state == "eligibility_check"

    due = date.today() + timedelta(days=10)
    response = client.post(
        f"/review/eligibility/{case.id}/return",
        data={"comment": "请补充运营数据", "due_date": due.isoformat(), "expected_version": case.version},
    )
    assert response.status_code == 303
    returned = _fresh(Case, case.id)
    assert returned.state == "returned" and returned.revision_due == due

    login(client, owner)
    response = client.post(f"/cases/{case.id}/transitions/resubmit", data={"expected_version": returned.version})
    assert response.status_code == 303 and _fresh(Case, case.id).state == "eligibility_check"

    login(client, organizer)
    version = _fresh(Case, case.id).version
    response = client.post(f"/review/eligibility/{case.id}/decide/approve", data={"expected_version": version})
    assert response.status_code == 303
    assert _fresh(Case, case.id).state == "expert_review"
    events = db.session.scalars(
        select(WorkflowEvent)
        .where(WorkflowEvent.case_id == case.id, WorkflowEvent.id > before)
        .order_by(WorkflowEvent.id)
    ).all()
    assert [e.transition for e in events] == ["return_for_revision", "resubmit", "approve"]
    assert events[0].comment == "请补充运营数据" and events[0].actor_id == organizer.id
    assert events[1].actor_id == owner.id

    # Rejecting needs a reason; the page says so and nothing moves.
    other = make.case("eligibility_check")
    refused = client.post(f"/review/eligibility/{other.id}/decide/reject", data={"comment": ""}, follow_redirects=True)
    assert "needs a comment" in _text(refused) and _fresh(Case, other.id).state == "eligibility_check"
    assert client.post(f"/review/eligibility/{other.id}/decide/return_for_revision").status_code == 404


# Assignment ------------------------------------------------------------------------------------------------


def test_assignment_through_the_pages_avoids_conflicts_and_respects_load_limits(client, make):
    campaign = make.campaign()
    campaign.reviewers_per_case = 2
    domain = campaign.categories[0].domains[0]
    cases = [make.case("expert_review") for _ in range(3)]
    cases[0].unit.name = "青岛市大数据局"
    commit()
    conflicted = make.pool_expert(organization="青岛市大数据局", domains=[domain], max_load=20)
    limited = [make.pool_expert(domains=[domain], max_load=1) for _ in range(2)]
    generalist = make.pool_expert(organization="海尔集团", max_load=2)
    organizer = make.organizer()
    login(client, organizer)

    response = client.post("/review/assignment/propose", data={"mode": "topup"})
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]))
    proposal = db.session.scalars(select(Proposal).order_by(Proposal.id.desc())).first()
    assert f'data-pair="{cases[0].id}-{conflicted.id}"' not in page
    assert page.count("data-pair=") == 6 and "could not be covered" not in page
    assert 'data-match="domain"' in page and 'data-match="none"' in page
    assert re.search(rf'data-conflict="{cases[0].id}-{conflicted.id}".*?automatic.*?青岛市大数据局', page, re.S)
    assert "/ 1</td>" in page  # loads with their maximum

    # Adding the conflicted pair by hand is refused with the reason; removing and re-adding a pair works.
    url = f"/review/assignment/{proposal.id}/adjust"
    refused = client.post(url, data={"case_id": cases[0].id, "expert_id": conflicted.id}, follow_redirects=True)
    assert "conflict of interest" in _text(refused)
    pair = next(p for p in _fresh(Proposal, proposal.id).pairs if p[1] == generalist.id)
    client.post(url, data={"remove": f"{pair[0]}-{pair[1]}"})
    assert [pair[0], pair[1]] not in [p[:2] for p in _fresh(Proposal, proposal.id).pairs]
    client.post(url, data={"case_id": pair[0], "expert_id": pair[1]})
    assert [pair[0], pair[1]] in [p[:2] for p in _fresh(Proposal, proposal.id).pairs]

    response = client.post(f"/review/assignment/{proposal.id}/apply", data={"confirmed": "1"})
    assert response.status_code == 303
    assert "6 new assignments" in _text(client.get(response.headers["Location"]))
    live = db.session.scalars(select(Assignment).where(Assignment.status.in_(LIVE))).all()
    assert len(live) == 6
    assert (cases[0].id, conflicted.id) not in {(a.case_id, a.expert_id) for a in live}
    for expert in (conflicted, *limited, generalist):
        limit = db.session.get(Expert, expert.id).max_load
        assert sum(a.expert_id == expert.id for a in live) <= limit
    again = client.post(f"/review/assignment/{proposal.id}/apply", data={"confirmed": "1"}, follow_redirects=True)
    assert "applied already" in _text(again)


def test_a_case_that_cannot_be_covered_is_shown_with_the_reason(client, make):
    campaign = make.campaign()
    campaign.reviewers_per_case = 1
    case = make.case("expert_review")
    case.unit.name = "青岛市大数据局"
    commit()
    only = make.pool_expert(organization="青岛市大数据局")
    login(client, make.organizer())
    response = client.post("/review/assignment/propose", data={"mode": "full"})
    page = _text(client.get(response.headers["Location"]))
    assert "could not be covered" in page and "No expert without a conflict is left for this case." in page
    assert "data-pair=" not in page and f'data-expert="{only.id}"' in page
    assert "(full, 0 pairs)" in page


# The expert's side -----------------------------------------------------------------------------------------


def test_expert_sees_only_assigned_cases_and_never_other_experts(client, make):
    campaign, criteria, organizer, cases, (me, other), assignments = _review_setup(make, cases=2)
    mine, theirs = cases
    # ``theirs`` is only the other expert's: my assignment on it is released by a declared conflict.
    login(client, me)
    response = client.post(f"/review/mine/{assignments[(theirs.id, me.id)].id}/conflict", data={"reason": ""})
    assert "A reason is required." in _text(client.get(response.headers["Location"]))
    client.post(
        f"/review/mine/{assignments[(theirs.id, me.id)].id}/conflict",
        data={"reason": "我参与过该项目", "confirmed": "1"},
    )
    page = _text(client.get("/review/mine"))
    assert f'data-case="{mine.id}"' in page and f'data-case="{theirs.id}"' not in page
    assert db.session.scalar(select(Conflict).where(Conflict.expert_id == me.id)).source == "declared"

    assert client.get(f"/review/cases/{theirs.id}/score").status_code == 403
    assert client.get(f"/cases/{theirs.id}").status_code == 404  # the case page hides it, as before
    assert client.post(f"/review/cases/{theirs.id}/score", data={"save_draft": "1"}).status_code == 403
    assert client.get("/review/ranking").status_code == 403

    # The other expert scores the shared case, with a comment.
    login(client, other)
    assert _score(client, mine, criteria, 0.9, comment="极具推广价值 secret").status_code == 303

    login(client, me)
    page = _text(client.get(f"/review/cases/{mine.id}/score"))
    assert mine.title in page and value(mine, "summary") in page
    for c in criteria:
        assert c.name_en in page and c.guidance_en in page and f"weight {c.weight}%" in page
    assert other.name not in page and "secret" not in page and "90.00" not in page
    assert 'name="save_draft"' in page and 'name="submit_review"' in page

    # Out-of-range and missing scores are each shown at their criterion; nothing is saved.
    form = {f"score_{criteria[0].id}": "99", f"score_{criteria[1].id}": "-1", "submit_review": "1"}
    bad = client.post(f"/review/cases/{mine.id}/score", data=form)
    assert bad.status_code == 422
    text = _text(bad)
    assert f"Enter a score from 0 to {criteria[0].max_score}." in text
    assert f"Enter a score from 0 to {criteria[1].max_score}." in text
    assert f"Score {criteria[2].name_en}." in text and f"Score {criteria[3].name_en}." in text
    assert 'value="99"' in text  # what was typed stays
    assert _fresh(Assignment, assignments[(mine.id, me.id)].id).review is None

    # A draft, then a submission; after that the page is read-only.
    assert _score(client, mine, criteria[:1], 0.5, submit=False).status_code == 303
    page = _text(client.get("/review/mine"))
    assert "1 of 4 criteria scored" in page
    assert _score(client, mine, criteria, 0.6).status_code == 303
    page = _text(client.get(f"/review/cases/{mine.id}/score"))
    assert "Your review is submitted." in page and 'name="submit_review"' not in page and "60.00" in page
    _score(client, mine, criteria, 1.0)
    assert float(_fresh(Assignment, assignments[(mine.id, me.id)].id).review.total) == 60.0

    # The applicant's case page never names the reviewers nor shows scores.
    login(client, mine.created_by)
    page = _text(client.get(f"/cases/{mine.id}"))
    assert mine.title in page
    assert me.name not in page and other.name not in page and "60.00" not in page and "90.00" not in page


def test_expert_accepts_and_declines_with_a_reason(client, make):
    _campaign, _criteria, _organizer, cases, (me, _other), assignments = _review_setup(make, cases=2, accept=False)
    login(client, me)
    first, second = (assignments[(c.id, me.id)] for c in cases)
    page = _text(client.get("/review/mine"))
    assert page.count("data-assignment=") == 2 and "Accept" in page
    client.post(f"/review/mine/{first.id}/respond", data={"answer": "accept"})
    assert _fresh(Assignment, first.id).status == "accepted"
    refused = client.post(f"/review/mine/{second.id}/respond", data={"answer": "decline"}, follow_redirects=True)
    assert "A reason is required." in _text(refused) and _fresh(Assignment, second.id).status == "pending"
    client.post(f"/review/mine/{second.id}/respond", data={"answer": "decline", "reason": "出差"})
    assert _fresh(Assignment, second.id).status == "declined"
    page = _text(client.get("/review/mine"))
    assert page.count("data-assignment=") == 1
    # Another expert's assignment is not theirs to answer.
    assert client.post(f"/review/mine/{assignments[(cases[0].id, _other.id)].id}/respond").status_code == 404


# Ranking, progress, shortlisting --------------------------------------------------------------------------


def _ranking_rows(page: str) -> dict[int, dict[int, tuple[str, str]]]:
    """Case id → {expert id: (raw total, normalized)} as the ranking page shows them."""
    rows: dict[int, dict[int, tuple[str, str]]] = {}
    for block in page.split('id="case-')[1:]:
        case_id = int(block.split('"', 1)[0])
        pattern = r'data-expert="(\d+)">.*?<td class="total">([^<]*)</td>\s*<td class="normalized">([^<]*)</td>'
        rows[case_id] = {int(e): (raw, norm) for e, raw, norm in re.findall(pattern, block, re.S)}
    return rows


def test_harsh_and_lenient_experts_get_the_same_normalized_scores_on_the_ranking_page(client, make):
    campaign, criteria, organizer, cases, (harsh, lenient), _assignments = _review_setup(make)
    for expert, fractions in ((harsh, (0.5, 0.6, 0.7)), (lenient, (0.7, 0.8, 0.9))):
        login(client, expert)
        for case, fraction in zip(cases, fractions, strict=True):
            assert _score(client, case, criteria, fraction).status_code == 303

    login(client, organizer)
    page = _text(client.get(f"/review/ranking?category={cases[0].category_id}"))
    assert harsh.name in page and lenient.name in page  # organizers see who scored what
    rows = _ranking_rows(page)
    for case, low, high in zip(cases, ("50.00", "60.00", "70.00"), ("70.00", "80.00", "90.00"), strict=True):
        assert rows[case.id][harsh.id][0] == low and rows[case.id][lenient.id][0] == high
        assert rows[case.id][harsh.id][1] == rows[case.id][lenient.id][1]
    normalized = [float(rows[c.id][harsh.id][1]) for c in cases]
    assert normalized[0] < normalized[1] < normalized[2]
    assert page.index(f'data-case="{cases[2].id}"') < page.index(f'data-case="{cases[0].id}"'), "best first"
    assert page.count("2/2") == 3

    # Reopening needs a comment; then the expert may score again.
    submitted = db.session.scalar(select(Assignment).where(Assignment.expert_id == harsh.id))
    refused = client.post(f"/review/reviews/{submitted.id}/reopen", data={"comment": ""}, follow_redirects=True)
    assert "A comment is required." in _text(refused) and _fresh(Assignment, submitted.id).status == "submitted"
    client.post(f"/review/reviews/{submitted.id}/reopen", data={"comment": "请复核应用成效"})
    assert _fresh(Assignment, submitted.id).status == "accepted"
    progress = _text(client.get("/review/progress"))
    assert harsh.name in progress and "83%" in progress  # 5 of 6 submitted


def test_progress_page_counts_and_sends_reminders(client, make, app):
    campaign, criteria, organizer, cases, (first, second), assignments = _review_setup(make, cases=2)
    for a in assignments.values():
        a.due_date = date.today() + timedelta(days=1)
    commit()
    login(client, first)
    _score(client, cases[0], criteria, 0.8)
    login(client, organizer)
    page = _text(client.get("/review/progress"))
    assert re.search(
        rf'data-expert="{first.id}"><td>{re.escape(first.name)}</td><td>2</td><td class="submitted">1', page
    )
    assert "25%" in page  # 1 of 4 in the category
    response = client.post("/review/progress/reminders")
    assert "Reminders sent to 2 experts." in _text(client.get(response.headers["Location"]))


def test_shortlisting_is_refused_while_a_review_is_missing_and_works_after_waiving_it(client, make):
    campaign, criteria, organizer, cases, experts, assignments = _review_setup(make)
    campaign.awards_per_category = 1  # two finalists per category
    commit()
    for i, (case, expert) in enumerate((c, e) for c in cases for e in experts):
        if (case, expert) == (cases[2], experts[1]):
            continue  # one review missing
        login(client, expert)
        assert _score(client, case, criteria, 0.4 + 0.1 * i).status_code == 303
    category = cases[0].category_id
    login(client, organizer)

    page = _text(client.get(f"/review/shortlist?category={category}"))
    assert "Not ready" in page and f'data-case="{cases[2].id}"' in page
    assert 'name="size"' in page and 'value="2"' in page
    response = client.post("/review/shortlist", data={"confirmed": "1", "category": category, "size": 2})
    page = _text(client.get(response.headers["Location"]))
    assert "Shortlisting is not possible yet" in page and "1 assigned review is not submitted yet." in page
    assert {_fresh(Case, c.id).state for c in cases} == {"expert_review"}

    missing = assignments[(cases[2].id, experts[1].id)]
    refused = client.post(f"/review/reviews/{missing.id}/waive", data={"reason": ""}, follow_redirects=True)
    assert "A reason is required." in _text(refused)
    client.post(f"/review/reviews/{missing.id}/waive", data={"reason": "专家因病无法完成"})
    assert _fresh(Assignment, missing.id).status == "waived"

    page = _text(client.get(f"/review/shortlist?category={category}&size=2"))
    assert "Not ready" not in page and page.count('class="finalist"') == 2 and page.count('class="other"') == 1
    assert "2 cases go to the public vote. 1 case is not shortlisted. Their units are told." in page
    response = client.post("/review/shortlist", data={"confirmed": "1", "category": category, "size": 2})
    done = _text(client.get(response.headers["Location"]))
    assert "Shortlisted 2 cases" in done and "for the public vote. 1 case is not shortlisted." in done
    states = sorted(_fresh(Case, c.id).state for c in cases)
    assert states == ["not_shortlisted", "public_vote", "public_vote"]
    assert _fresh(Case, cases[2].id).state == "public_vote"  # best scores, even with one review waived


# Expert pool -----------------------------------------------------------------------------------------------


def _csv(*rows: str) -> tuple[BytesIO, str]:
    header = "email,name,organization,parent_org,title,max_load,categories,domains"
    return BytesIO(("\n".join((header, *rows)) + "\n").encode("utf-8")), "experts.csv"


def test_pool_import_with_one_bad_row_imports_nothing_and_reports_the_row(client, make):
    campaign = make.campaign()
    category = campaign.categories[0]
    login(client, make.organizer())
    sample = client.get("/review/experts/sample.csv")
    assert sample.status_code == 200 and sample.mimetype == "text/csv"
    assert (
        sample.get_data().decode("utf-8-sig").splitlines()[0]
        == "email,name,organization,parent_org,title,max_load,categories,domains"
    )

    good = f"li@example.org,李教授,青岛大学,,教授,10,{category.code},"
    response = client.post(
        "/review/experts/import",
        data={"file": _csv(good, "wang@example.org,王研究员,海尔集团,,,abc,,", "not-an-address,赵,,,,,,")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = _text(response)
    assert "Nothing was imported" in page
    assert 'data-row="3"' in page and "Enter a whole number from 1 to 500." in page
    assert 'data-row="4"' in page and "Enter a valid e-mail address." in page
    assert 'data-row="2"' not in page
    assert db.session.scalars(select(User).where(User.email.in_(["li@example.org", "wang@example.org"]))).all() == []

    response = client.post("/review/experts/import", data={"file": _csv(good)}, content_type="multipart/form-data")
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]))
    assert "1 new expert was invited" in page and "李教授" in page and "青岛大学" in page and "0 / 10" in page
    li = db.session.scalar(select(User).where(User.email == "li@example.org"))
    assert [c.id for c in db.session.get(Expert, li.id).categories] == [category.id]


def test_organizer_edits_an_expert_profile(client, make):
    campaign = make.campaign()
    expert = make.pool_expert(organization="青岛大学")
    domain = campaign.categories[1].domains[0]
    login(client, make.organizer())
    page = _text(client.get(f"/review/experts/{expert.id}"))
    assert 'value="青岛大学"' in page
    bad = client.post(f"/review/experts/{expert.id}", data={"organization": "海尔集团", "max_load": "0"})
    assert bad.status_code == 422 and "Enter a whole number from 1 to 500." in _text(bad)
    assert _fresh(Expert, expert.id).organization == "青岛大学"
    response = client.post(
        f"/review/experts/{expert.id}",
        data={"organization": "海尔集团", "max_load": "7", "active": "y", "domains": [str(domain.id)]},
    )
    assert response.status_code == 303
    saved = _fresh(Expert, expert.id)
    assert (saved.organization, saved.max_load, saved.active) == ("海尔集团", 7, True)
    assert [d.id for d in saved.domains] == [domain.id]
