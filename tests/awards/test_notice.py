"""The public notice of proposed awards and objections to them, through the operations (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from awards import publication
from awards.decisions import confirm_awards, confirm_proposed
from awards.models import OBJECTION_DISMISSED, OBJECTION_UPHELD, Notice
from awards.notice import notice_listing, notice_period, publish_notice
from awards.objections import Upload, answer_objection, decide_objection, forward_objection, lodge_objection
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.errors import Conflict, Forbidden, Invalid
from pingxuan.extensions import db
from tests.awards.test_pages import close_vote, finalists
from tests.factories import PDF, PNG
from tests.phone import last_code
from voting.models import SmsMessage
from voting.privacy import phone_hash
from voting.voters import request_code, verify_code
from workflow.definition import STATE_BY_NAME, TRANSITION_BY_NAME, WORKLISTS, check_declaration
from workflow.engine import GuardsFailed, fire
from workflow.models import WorkflowEvent
from workflow.worklists import CONDITIONS, worklist_query

PHONE = "13800138000"
PROPOSED = TRANSITION_BY_NAME["propose"].dest
AWARDED = TRANSITION_BY_NAME["confirm_award"].dest
NOT_AWARDED = TRANSITION_BY_NAME["revoke"].dest


@pytest.fixture(autouse=True)
def english(app):
    """Messages in English, so the assertions read the msgids."""
    with force_locale("en"):
        yield


def verified(phone: str = PHONE) -> int:
    """A member of the public verified with the voters' one-time code, as the pages do."""
    request_code(phone, "203.0.113.9")
    commit()
    voter = verify_code(phone, last_code(phone)).voter
    commit()
    return voter.id


def proposed(make) -> tuple[dict, object, Notice]:
    """B and A proposed (ranked 1 and 2), C not awarded; the category's notice published today."""
    cases = finalists(make)
    campaign = cases["A"].campaign
    close_vote(campaign)
    organizer = make.organizer()
    confirm_awards(campaign, cases["A"].category, organizer, size=2)
    notice = publish_notice(campaign, organizer, cases["A"].category)
    notice.starts_on, notice.ends_on = today(), today() + timedelta(days=7)  # running today, whatever the weekday
    commit()
    return cases, organizer, notice


def listed(worklist: str, actor) -> set[int]:
    return {case.id for case in db.session.scalars(worklist_query(worklist, actor))}


def end(notice: Notice) -> None:
    notice.starts_on, notice.ends_on = today() - timedelta(days=9), today() - timedelta(days=1)
    commit()


def test_the_declaration_has_the_notice_and_it_is_reachable(app):
    assert check_declaration() == []
    state = STATE_BY_NAME[PROPOSED]
    assert "anonymous" in state.roles_for("view") and "anonymous" not in state.roles_for("see_scores")
    assert "anonymous" in state.roles_for("object")
    assert TRANSITION_BY_NAME["revoke"].comment_required
    assert {"notice_period_over", "no_open_objection"} <= set(TRANSITION_BY_NAME["confirm_award"].guards)
    assert {w.condition for w in WORKLISTS if w.condition} <= set(CONDITIONS)


def test_the_notice_period_is_counted_in_working_days_without_the_holidays(app, make):
    campaign = make.campaign()
    campaign.notice_working_days = 5
    campaign.notice_holidays = ["2027-01-01", "2027-01-05"]
    # Friday 1 January is a holiday, then Mon 4, (Tue 5 off), Wed 6, Thu 7, Fri 8, Mon 11
    assert notice_period(campaign, date(2027, 1, 1)) == (date(2027, 1, 4), date(2027, 1, 11))


def test_publish_object_forward_answer_dismiss_then_confirm(app, make):
    cases, organizer, notice = proposed(make)
    a, b = cases["A"], cases["B"]
    assert {a.state, b.state, cases["C"].state} == {PROPOSED, NOT_AWARDED}
    assert [case for case, _notice in notice_listing(a.campaign)[0][1]] == sorted([a, b], key=lambda c: c.number)
    assert db.session.scalar(select(WorkflowEvent).where(WorkflowEvent.case_id == a.id,
                                                         WorkflowEvent.transition == "notice_published"))  # fmt: skip

    with pytest.raises(GuardsFailed, match="public notice runs until"):
        fire(a, "confirm_award", organizer)
    db.session.rollback()

    voter = verified()
    objection = lodge_objection(a, voter, PHONE, "cutoff", "该系统2017年5月才上线，晚于截止日期。", anonymous=True,
                                uploads=[Upload("photo.png", PNG)])  # fmt: skip
    commit()
    assert objection.files[0].content_type == "image/png" and objection.phone_hash == phone_hash(PHONE)
    assert PHONE not in (objection.contact_sealed or "") and objection.phone_masked == "138****8000"

    assert listed("objections_to_handle", organizer) == {a.id}
    end(notice)
    assert listed("ready_to_confirm", organizer) == {b.id}, "A has an objection open"
    with pytest.raises(GuardsFailed, match="not decided yet"):
        fire(a, "confirm_award", organizer)
    db.session.rollback()

    forward_objection(objection, organizer, "请说明上线时间。", today() + timedelta(days=3))
    commit()
    assert listed("objections_to_answer", a.created_by) == {a.id} and listed("objections_to_handle", organizer) == set()
    with pytest.raises(Forbidden):
        answer_objection(objection, make.applicant(), "not mine")
    answer_objection(objection, a.created_by, "系统于2016年6月上线，附运行报告。", [Upload("report.pdf", PDF)])
    commit()
    decide_objection(objection, organizer, upheld=False, reason="上线时间早于截止日期，证明材料齐全。")
    commit()
    assert objection.status == OBJECTION_DISMISSED and objection.contact_sealed is None
    told = db.session.scalars(select(SmsMessage).where(SmsMessage.phone_hash == phone_hash(PHONE))
                              .order_by(SmsMessage.id.desc())).first()  # fmt: skip
    assert a.title in told.body and "上线时间早于截止日期" in told.body
    steps = db.session.scalars(select(WorkflowEvent.transition).where(WorkflowEvent.case_id == a.id)).all()
    assert {"objection_lodged", "objection_forwarded", "objection_answered", "objection_dismissed"} <= set(steps)

    assert listed("ready_to_confirm", organizer) == {a.id, b.id}
    outcomes = confirm_proposed(a.campaign, organizer)
    commit()
    assert all(o.error is None for o in outcomes) and {a.state, b.state} == {AWARDED}
    figures = publication.latest(a.campaign_id).data["notice"]
    assert figures["objections"] == 1 and figures["dismissed"] == 1 and figures["upheld"] == 0
    assert PHONE not in str(publication.latest(a.campaign_id).data)


def test_upheld_objection_revokes_and_the_next_case_moves_up_with_its_own_notice(app, make):
    cases, organizer, notice = proposed(make)
    a, c = cases["A"], cases["C"]
    objection = lodge_objection(a, verified(), PHONE, "copied", "申报材料抄袭了另一城市的案例。")
    commit()
    decide_objection(objection, organizer, upheld=True, reason="经核查，申报材料与他市案例雷同。", move_up=True)
    commit()
    assert objection.status == OBJECTION_UPHELD and a.state == NOT_AWARDED and c.state == PROPOSED
    assert objection.moved_up_case_id == c.id
    own = db.session.scalars(select(Notice).order_by(Notice.id.desc())).first()
    assert own.id != notice.id and [e.case_id for e in own.entries] == [c.id] and own.ends_on >= today()
    assert db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc())).first().body.count("经核查") == 1
    end(notice)
    outcomes = {o.case.id: o for o in confirm_proposed(a.campaign, organizer)}
    commit()
    assert outcomes[cases["B"].id].error is None and outcomes[c.id].error is not None  # C's own notice runs on
    figures = publication.latest(a.campaign_id).data["notice"]
    assert figures["upheld"] == 1 and figures["changes"][0]["moved_up_number"] == c.number


def test_objections_refused_unverified_wrong_number_late_and_over_the_daily_limit(app, make):
    cases, _organizer, notice = proposed(make)
    a = cases["A"]
    with pytest.raises(Forbidden):
        lodge_objection(a, None, PHONE, "other", "没有验证手机号的异议。")
    voter = verified()
    with pytest.raises(Invalid) as error:
        lodge_objection(a, voter, "13912345678", "nonsense", "短")
    assert set(error.value.field_errors) == {"phone", "ground", "text"}
    for n in range(5):
        lodge_objection(a, voter, PHONE, "other", f"第{n + 1}条异议，理由充分详细。")
    commit()
    with pytest.raises(Conflict, match="Try again tomorrow"):
        lodge_objection(a, voter, PHONE, "other", "第六条异议，超过每日限额。")
    db.session.rollback()
    end(notice)
    with pytest.raises(Conflict, match="no longer accepted"):
        lodge_objection(a, verified("13912345678"), "13912345678", "other", "公示期结束后的异议。")
    with pytest.raises(Conflict, match="not in public notice"):
        lodge_objection(cases["C"], voter, PHONE, "other", "对未获奖案例的异议。")


def test_parallel_objections_from_one_number_stop_at_the_daily_cap(app, make):
    """Ten objections from one number at once, each thread having read before any writes: five are lodged, five
    refused (a count read first let six of ten through)."""
    from awards.models import Objection
    from cases.models import Case
    from pingxuan.db import rollback
    from tests.races import first_writes_together, parallel

    cases, _organizer, _notice = proposed(make)
    case_id, voter = cases["A"].id, verified()
    db.session.remove()

    def lodge(i: int):
        with app.app_context(), force_locale("en"):
            try:
                objection = lodge_objection(db.session.get(Case, case_id), voter, PHONE, "other",
                                            f"第{i + 1}条并发异议，理由充分详细。")  # fmt: skip
                commit()
                return objection.id
            except Conflict as refused:
                rollback()
                return refused.message
            finally:
                db.session.remove()

    with first_writes_together("voters", 10, inserts_into=("objections",)):
        results = parallel(10, lodge)
    assert sum(isinstance(r, int) for r in results) == 5, results
    assert sum(isinstance(r, str) and "Try again tomorrow" in r for r in results) == 5, results
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 5
