"""The verify page in its context: it names what the number is for, says in plain words what is kept, gives one
error per mistake, counts the resend delay down, and sends a text worded for voting or for objecting."""

from __future__ import annotations

import re

from sqlalchemy import select

from pingxuan.extensions import db
from tests.awards.test_notice import proposed
from tests.phone import last_code, last_text
from tests.voting.test_pages import FINALIST, open_campaign
from voting.models import SmsMessage
from voting.voters import VERIFIED_NUMBER_KEY

PHONE = "13800138000"
ERRORS = re.compile(r'class="(?:field-error|error-message)"')


def _errors(html: str) -> list[str]:
    return ERRORS.findall(html)


def test_a_bad_number_gives_one_error_once(app, client, make):
    open_campaign(make)
    for bad in ("12345", "1380013800a", "+44 7700 900123"):
        page = client.post("/showcase/verify/code?lang=en", data={"phone": bad, "next": "/showcase"})
        html = page.get_data(as_text=True)
        assert page.status_code == 422
        assert len(_errors(html)) == 1, html
        assert html.count("Enter a mainland mobile number of 11 digits.") == 1
        assert 'aria-invalid="true"' in html and 'id="phone-error"' in html


def test_a_bad_number_on_the_code_step_gives_one_error_too(app, client, make):
    open_campaign(make)
    page = client.post("/showcase/verify/check?lang=en", data={"phone": "12345", "code": "123456"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and len(_errors(html)) == 1
    assert html.count("Enter a mainland mobile number of 11 digits.") == 1


def test_the_page_names_the_case_and_speaks_plainly_of_privacy(app, client, make):
    campaign = open_campaign(make)
    case = make.case(FINALIST, title="智慧停车诱导系统")
    page = client.get(f"/showcase/verify?next=/showcase/cases/{case.id}").get_data(as_text=True)
    assert "您正在为“智慧停车诱导系统”投票。" in page and "验证手机号后投票" in page
    assert f"每个号码每天在每个类别最多投 {campaign.votes_per_category_per_day} 票" in page
    assert "我们不保存您的手机号" in page
    assert "哈希" not in page and "密钥" not in page and "加密" not in page


def test_the_resend_button_counts_down_the_delay(app, client, make):
    open_campaign(make)
    sent = client.post("/showcase/verify/code?lang=en", data={"phone": PHONE, "next": "/showcase"})
    html = sent.get_data(as_text=True)
    wait = int(re.search(r'id="resend-code" data-wait="(\d+)"', html).group(1))
    assert 55 <= wait <= 60 and 'data-label-wait="Send a new code ({n} s)"' in html
    assert "verify.js" in html
    again = client.post("/showcase/verify/code?lang=en", data={"phone": PHONE, "next": "/showcase"})
    html = again.get_data(as_text=True)
    assert again.status_code == 409 and 'name="code"' in html, "still the code step: the code is on its way"
    assert 0 < int(re.search(r'id="resend-code" data-wait="(\d+)"', html).group(1)) <= 60
    assert len(_errors(html)) == 1


def test_the_text_says_voting_for_a_vote_and_objecting_for_an_objection(app, client, make):
    cases, _organizer, _notice = proposed(make)
    a = cases["A"]
    objection_form = f"/notice/cases/{a.id}/objection"
    page = client.get(f"/showcase/verify?next={objection_form}").get_data(as_text=True)
    assert f"您正在对拟获奖案例“{a.title}”提出异议。" in page and "验证手机号后提出异议" in page
    assert "投票" not in page.split('<main class="content">')[1], "the objector's page says nothing of voting"
    assert 'name="purpose" value="objection"' in page
    client.post("/showcase/verify/code", data={"phone": PHONE, "next": objection_form})
    assert "异议" in last_text(PHONE) and "投票" not in last_text(PHONE)

    other = "13900139000"
    client.post("/showcase/verify/code", data={"phone": other, "next": "/showcase"})
    assert "投票验证码" in last_text(other) and "异议" not in last_text(other)
    assert db.session.scalars(select(SmsMessage.kind).order_by(SmsMessage.id)).all() == ["objection.code", "vote.code"]


def test_verifying_for_an_objection_goes_back_to_the_form_with_the_number(app, client, make):
    cases, _organizer, _notice = proposed(make)
    a = cases["A"]
    form = f"/notice/cases/{a.id}/objection"
    client.post("/showcase/verify/code", data={"phone": PHONE, "next": form})
    done = client.post("/showcase/verify/check", data={"phone": PHONE, "code": last_code(PHONE), "next": form})
    assert done.status_code == 302 and done.location.endswith(form)
    with client.session_transaction() as session:
        assert PHONE not in str(session[VERIFIED_NUMBER_KEY]), "sealed, not in clear in the cookie"
    page = client.get(form).get_data(as_text=True)
    assert "手机号已验证，现在可以填写异议了。" in page, "the verified message shows where the person is"
    assert "138****8000" in page and 'name="phone"' not in page, "the number is not asked again"

    client.post("/showcase/voter/forget", data={"next": form})
    page = client.get(form).get_data(as_text=True)
    assert 'id="verify-to-object"' in page and "138****8000" not in page


def test_a_vote_from_a_gallery_tile_names_its_case_through_both_steps(app, client, make):
    open_campaign(make)
    case = make.case(FINALIST, title="智慧停车诱导系统")
    gallery = f"/showcase?category={case.category_id}#case-{case.id}"
    to_verify = client.get(f"/showcase/cases/{case.id}/vote", query_string={"next": gallery})
    assert to_verify.status_code == 302 and f"case={case.id}" in to_verify.location
    page = client.get(to_verify.location).get_data(as_text=True)
    assert "您正在为“智慧停车诱导系统”投票。" in page and f'name="case" value="{case.id}"' in page
    sent = client.post("/showcase/verify/code", data={"phone": PHONE, "next": gallery, "case": case.id})
    assert "您正在为“智慧停车诱导系统”投票。" in sent.get_data(as_text=True), "the code step names it too"
    done = client.post("/showcase/verify/check", data={"phone": PHONE, "code": last_code(PHONE), "next": gallery})
    assert done.location.endswith(gallery), "back to the tile"
    assert client.get("/showcase/voter").get_json()["message"] == "手机号码已验证，现在可以投票了。"
    assert "message" not in client.get("/showcase/voter").get_json(), "said once"
