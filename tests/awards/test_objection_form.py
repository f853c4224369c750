"""The notice leads somewhere: the public navigation and the unpublished results point to it, each title opens
the case's dossier, the objection form states its limits first, carries the verified number over and gives a
reference number that the objector can quote (also in the outcome's text)."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from awards.models import Objection
from awards.objections import decide_objection, lodge_objection, reference
from pingxuan.db import commit
from pingxuan.errors import Conflict
from pingxuan.extensions import db
from tests.awards.test_notice import PHONE, proposed, verified
from tests.factories import login
from tests.phone import last_code, last_text


def _verify_from(client, form: str) -> None:
    client.post("/showcase/verify/code", data={"phone": PHONE, "next": form})
    client.post("/showcase/verify/check", data={"phone": PHONE, "code": last_code(PHONE), "next": form})


def test_the_navigation_and_the_unpublished_results_point_to_the_notice(app, client, make):
    proposed(make)
    results = client.get("/results").get_data(as_text=True)
    assert "评选结果尚未发布" in results and 'id="results-notice-link" href="/notice"' in results
    assert 'href="/notice">公示</a>' in results, "in the public navigation"
    assert 'href="/notice">公示</a>' in client.get("/showcase").get_data(as_text=True)


def test_no_pointer_to_a_notice_when_none_runs(app, client, make):
    make.campaign()
    assert "results-notice-link" not in client.get("/results").get_data(as_text=True)


def test_the_form_states_its_limits_and_leads_to_verification(app, client, make):
    cases, _organizer, _notice = proposed(make)
    a = cases["A"]
    form = client.get(f"/notice/cases/{a.id}/objection").get_data(as_text=True)
    limits = form.index('id="objection-limits"')
    assert "异议说明需写 10 至 5000 个字。" in form and "每个手机号每天最多提交 5 条异议。" in form
    assert "可附最多 5 个证明文件" in form and "field-error" not in form
    assert 'id="read-dossier"' in form and f'href="/showcase/cases/{a.id}"' in form
    verify = re.search(r'id="verify-to-object" href="([^"]+)"', form).group(1)
    assert verify.startswith("/showcase/verify?") and "purpose=objection" in verify and limits < form.index(verify)
    assert client.get(f"/notice/cases/{cases['C'].id}/objection").status_code == 404, "not in notice"


def test_the_verified_number_is_carried_over_and_the_objector_gets_a_reference(app, client, make):
    cases, organizer, _notice = proposed(make)
    a = cases["A"]
    form = f"/notice/cases/{a.id}/objection"
    _verify_from(client, form)
    page = client.get(form).get_data(as_text=True)
    assert 'name="phone"' not in page and "138****8000" in page
    short = client.post(f"/notice/cases/{a.id}/objections", data={"ground": "other", "text": "太短"})
    html = short.get_data(as_text=True)
    assert short.status_code == 422 and "请写明异议理由，至少 10 个字。" in html and 'name="phone"' not in html
    assert "太短" in html, "what was typed is kept"

    text = "该系统2017年5月才上线，晚于截止日期。"
    done = client.post(f"/notice/cases/{a.id}/objections", data={"ground": "cutoff", "text": text})
    assert done.status_code == 302 and done.location.endswith("/notice/objection-lodged")
    objection = db.session.scalar(select(Objection))
    assert objection.phone_masked == "138****8000"
    ref = reference(objection)
    assert ref == f"{a.campaign.year % 100:02d}-{objection.id:04d}"
    lodged = client.get("/notice/objection-lodged").get_data(as_text=True)
    assert f'id="objection-reference">{ref}<' in lodged and "138****8000" in lodged
    assert client.application.test_client().get("/notice/objection-lodged").status_code == 302, "only the objector"

    decide_objection(objection, organizer, upheld=False, reason="上线时间早于截止日期。")
    commit()
    assert ref in last_text(PHONE) and "上线时间早于截止日期" in last_text(PHONE)


def test_the_office_sees_the_reference_the_objector_quotes(app, client, make):
    cases, organizer, _notice = proposed(make)
    objection = lodge_objection(cases["A"], verified(), PHONE, "copied", "申报材料抄袭了另一城市的案例。")
    commit()
    login(client, organizer)
    ref = reference(objection)
    assert ref in client.get("/notice/objections").get_data(as_text=True)
    assert ref in client.get(f"/objections/{objection.id}").get_data(as_text=True)


def test_the_limits_read_right_in_the_singular(app, client, make, monkeypatch):
    """English says "1 objection a day" and "1 file", not "1 objections", "1 files" (issue 21)."""
    import awards.objections

    monkeypatch.setattr(awards.objections, "MAX_PER_NUMBER_PER_DAY", 1)
    monkeypatch.setattr(awards.objections, "MAX_FILES", 1)
    cases, _organizer, _notice = proposed(make)
    url = f"/notice/cases/{cases['A'].id}/objection?lang=en"
    _verify_from(client, url)
    form = client.get(url).get_data(as_text=True)
    assert "Each mobile number may lodge 1 objection a day." in form
    assert "You may attach 1 file as evidence: a photo (JPG, PNG) or a PDF, at most" in form
    assert "1 file, at most" in form and "1 files" not in form and "1 objections" not in form
    other = "13912345678"
    voter = verified(other)
    lodge_objection(cases["A"], voter, other, "other", "第一条异议，理由充分详细。")
    commit()
    with force_locale("en"), pytest.raises(Conflict) as refused:
        lodge_objection(cases["A"], voter, other, "other", "第二条异议，超过每日限额。")
    assert refused.value.message == "This number has reached today's limit of 1 objection. Try again tomorrow."
