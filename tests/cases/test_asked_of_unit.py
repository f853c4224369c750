"""The unit always knows what is asked of it (issue 21): a forwarded objection tells its members in the app and
by mail and shows on its pages with the due date until answered; a returned case opens with the office's reason,
the due date and the days left, resubmitting first and withdrawing set apart; earlier campaigns' cases are
listed under their own campaign."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, NamedTuple

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import User
from awards.objections import answer_objection, forward_objection, lodge_objection
from campaigns.models import Campaign
from cases.models import Case
from notifications.models import Notification, OutboxMail
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.awards.test_notice import PHONE, proposed, verified
from tests.factories import Factory, login
from workflow.definition import DUE_DATE
from workflow.engine import fire


def _section(page: str, element_id: str) -> str:
    """The HTML of the <section> with this id (sections do not nest on these pages)."""
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


class Ruled(NamedTuple):
    """A case the office ruled on, and its unit's logged-in client with the case page it opened."""

    case: Case
    organizer: User
    client: FlaskClient
    page: str


def _ruled_on(app: Flask, make: Factory, transition: str, comment: str | None, lang: str,
              fields: dict[str, Any] | None = None) -> Ruled:  # fmt: skip
    """The office fires `transition` (with `comment` and the transition's `fields`) on a case in the eligibility
    check; then the case's unit opens the case page in `lang`: the set-up each of the unit's banners starts from."""
    case = make.case("eligibility_check")
    organizer = make.organizer()
    fire(case, transition, organizer, comment=comment, fields=fields)
    commit()
    client = app.test_client()
    login(client, case.created_by)
    page = client.get(f"/cases/{case.id}?lang={lang}").get_data(as_text=True)
    return Ruled(case, organizer, client, page)


def test_a_forwarded_objection_tells_the_unit_and_shows_on_its_pages_until_answered(app, make):
    cases, organizer, _notice = proposed(make)
    case = cases["A"]
    owner = case.created_by
    colleague = make.applicant(unit=owner.unit)
    objection = lodge_objection(case, verified(), PHONE, "cutoff", "该系统2017年5月才上线，晚于截止日期。")
    commit()
    assert not db.session.scalars(select(Notification).where(Notification.link.is_not(None))).all()

    forward_objection(objection, organizer, "请说明上线时间并提供证明材料。", today() + timedelta(days=3))
    commit()
    path = f"/objections/{objection.id}"
    notes = db.session.scalars(select(Notification).where(Notification.link == path)).all()
    assert {note.user_id for note in notes} == {owner.id, colleague.id}
    assert all("请说明上线时间并提供证明材料。" in note.message_zh and case.title in note.message_en for note in notes)
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.body.contains(path))).all()
    assert {m.recipient for m in mails} == {owner.email, colleague.email}
    assert all(case.title in m.body and (today() + timedelta(days=3)).isoformat() in m.body for m in mails)

    client = app.test_client()
    login(client, owner)
    for url in (f"/cases/{case.id}?lang=en", "/my-cases?lang=en"):
        page = client.get(url).get_data(as_text=True)
        awaiting = _section(page, "objections-awaiting")
        assert f'href="{path}"' in awaiting and "3 days left" in awaiting, url
        assert "请说明上线时间并提供证明材料。" in awaiting
    assert "还剩 3 天" in client.get(f"/cases/{case.id}?lang=zh").get_data(as_text=True)
    assert f'href="{path}"' in client.get("/notifications").get_data(as_text=True)

    staff = app.test_client()
    login(staff, organizer)
    assert 'id="objections-awaiting"' not in staff.get(f"/cases/{case.id}").get_data(as_text=True)

    answer_objection(objection, owner, "系统于2016年6月上线，附验收报告。")
    commit()
    for url in (f"/cases/{case.id}", "/my-cases"):
        assert 'id="objections-awaiting"' not in client.get(url).get_data(as_text=True), url


def test_a_returned_case_opens_with_the_reason_the_due_date_and_resubmit_first(app, make):
    case, organizer, client, page = _ruled_on(app, make, "return_for_revision", "请补充2016年的运营数据。", "en",
                                              fields={DUE_DATE: today() + timedelta(days=5)})  # fmt: skip
    banner = _section(page, "actions")
    assert "请补充2016年的运营数据。" in banner and "5 days left" in banner
    assert re.search(r'<button[^>]*value="resubmit"', banner) and 'value="withdraw"' not in banner
    assert page.index("banner-returned") < page.index("<h2>Dossier</h2>"), "the banner opens the page"
    apart = _section(page, "other-actions")
    assert page.index("<h2>Dossier</h2>") < page.index('id="other-actions"'), "withdrawal is lower on the page"
    withdraw = re.search(r'<button[^>]*value="withdraw"[^>]*>', apart).group(0)
    assert "danger" in withdraw and "This is final and cannot be undone." in withdraw
    assert "is final" in apart
    chinese = client.get(f"/cases/{case.id}?lang=zh").get_data(as_text=True)
    assert "还剩 5 天" in chinese and "重新提交" in _section(chinese, "actions")
    listed = _section(client.get("/my-cases").get_data(as_text=True), "current-cases")
    assert 'value="resubmit"' in listed and 'value="withdraw"' not in listed, "no withdrawal next to resubmitting"

    staff = app.test_client()
    login(staff, organizer)
    office_view = staff.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "请补充2016年的运营数据。" in office_view and 'value="resubmit"' not in office_view


def test_my_cases_lists_the_current_campaign_first_and_earlier_ones_under_their_own_heading(app, make):
    current = make.case("submitted")
    owner = current.created_by
    earlier_campaign = Campaign(year=2016, title_zh="2016智慧青岛典型案例评选活动", title_en="2016 selection",
                                in_operation_before=date(2016, 1, 1), is_current=False)  # fmt: skip
    db.session.add(earlier_campaign)
    commit()
    earlier = make.case("submitted", owner=owner, title="2016年的案例")
    earlier.campaign_id = earlier_campaign.id
    commit()
    client = app.test_client()
    login(client, owner)
    page = client.get("/my-cases").get_data(as_text=True)
    now = _section(page, "current-cases")
    assert current.campaign.title_zh in now and f'data-case="{current.id}"' in now
    assert f'data-case="{earlier.id}"' not in now, "a 2016 case is not under the 2017 heading"
    before = page[page.index('data-campaign="2016"') :]
    assert "2016智慧青岛典型案例评选活动" in before and f'data-case="{earlier.id}"' in before
    assert page.index('id="current-cases"') < page.index('data-campaign="2016"')


def test_a_unit_without_certificates_is_told_when_they_come(app, make):
    owner = make.applicant()
    client = app.test_client()
    login(client, owner)
    section = _section(client.get("/my-cases?lang=en").get_data(as_text=True), "certificates")
    assert "No certificate yet." in section and "once the awards are confirmed" in section


def test_the_landing_page_names_the_current_campaign_first(app, make):
    campaign = make.campaign()
    page = app.test_client().get("/").get_data(as_text=True)
    assert re.search(r"<h1>\s*" + re.escape(campaign.title_zh) + r"\s*</h1>", page)


def test_an_ineligible_case_opens_with_the_office_s_decision_and_reason(app, make):
    page = _ruled_on(app, make, "reject", "项目投入运营时间晚于2017-03-31，不符合申报条件。", "zh").page
    banner = _section(page, "decision")
    assert "主办方的决定：判定不符合条件" in banner and "不符合申报条件" in banner
    assert page.index('id="decision"') < page.index("申报材料"), "the decision opens the page, above the dossier"
    reinstated = _ruled_on(app, make, "approve", None, "zh")  # a decision that owes no reason shows no banner
    assert 'id="decision"' not in reinstated.page
