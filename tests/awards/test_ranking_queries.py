"""The organizers' live ranking is computed set-based: the same number of SQL statements for a category of 20
finalists as for one of 300 (the N+1 lazy loads of per-case rows are gone)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from accounts.models import Unit, User
from awards.export import result_rows
from awards.ranking import category_ranking
from campaigns.models import VOTE_CLOSED
from cases.models import Case
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import SUBMITTED, Assignment, Review
from voting.models import VoteCount
from workflow.definition import EXPERT
from workflow.engine import fire

VOTING = "public_vote"  # a single state name is fine outside the declaration (the test lists fewer than three)


def finalists(make, count: int, category_index: int) -> None:
    """``count`` finalists of one category, each with three submitted reviews and some votes (bulk inserts)."""
    campaign = make.campaign()
    category = campaign.categories[category_index]
    owner = make.applicant()
    experts = [make.expert() for _ in range(3)]
    units = [Unit(name=f"单位{category_index}-{i}", kind="enterprise", credit_code=f"X{category_index:02d}{i:05d}",
                  district="市南区", contact_name="联系人", contact_phone="0532-0000")
             for i in range(count)]  # fmt: skip
    db.session.add_all(units)
    db.session.flush()
    cases = [Case(campaign_id=campaign.id, unit_id=u.id, created_by_id=owner.id, category_id=category.id,
                  domain_id=category.domains[0].id, number=f"R{category_index}-{i:04d}", title=f"案例{i}",
                  state=VOTING) for i, u in enumerate(units)]  # fmt: skip
    db.session.add_all(cases)
    db.session.flush()
    for i, case in enumerate(cases):
        db.session.add(VoteCount(case_id=case.id, valid=(i * 37) % 500))
        for j, expert in enumerate(experts):
            assignment = Assignment(case_id=case.id, expert_id=expert.id, status=SUBMITTED)
            db.session.add(assignment)
            db.session.flush()
            db.session.add(Review(assignment_id=assignment.id, status="submitted",
                                  total=Decimal(50 + (i * 7 + j * 11) % 50)))  # fmt: skip
    commit()


def statements(work) -> int:
    seen: list[str] = []
    engine = db.engine

    def count(conn, cursor, statement, *args):  # noqa: ARG001
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        db.session.expunge_all()
        work()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_same_number_of_queries_for_20_and_for_300_finalists(app, make):
    finalists(make, 20, 0)
    finalists(make, 300, 1)
    campaign = make.campaign()
    small, large = campaign.categories[0], campaign.categories[1]

    def ranking(category):
        def run():
            ranked = category_ranking(db.session.merge(campaign), db.session.merge(category))
            [(r.case.unit.name, r.case.number) for r in ranked]  # what the ranking page shows

        return run

    assert len(category_ranking(campaign, large)) == 300
    assert statements(ranking(small)) == statements(ranking(large)) <= 8
    campaign = make.campaign()  # attached again (the counting started from an empty session)
    small, large = campaign.categories[0], campaign.categories[1]
    campaign.vote_status = VOTE_CLOSED
    commit()
    organizer = make.organizer()
    for category in (small, large):  # decide both: the exports read the decided ranking
        for entry in category_ranking(campaign, category):
            fire(entry.case, "propose" if entry.rank <= 10 else "not_award", organizer)
    commit()
    categories = len(campaign.categories)
    exported = statements(lambda: result_rows(db.session.merge(campaign), full=True))
    assert exported <= 8 * categories, exported
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == EXPERT)) >= 6
