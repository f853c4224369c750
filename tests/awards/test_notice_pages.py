"""The public notice page, lodging an objection with a photo, and the office's and the unit's pages."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from awards import publication
from awards.decisions import confirm_proposed
from awards.models import OBJECTION_DISMISSED, Objection
from campaigns.transfer import clone_campaign
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.awards.test_notice import PHONE, end, proposed, verified
from tests.factories import PNG, login
from voting.abuse import VOTER_SESSION_KEY
from voting.models import SmsMessage
from voting.privacy import phone_hash


def test_the_public_objects_the_office_forwards_the_unit_answers_the_office_dismisses(app, client, make):
    cases, organizer, notice = proposed(make)
    a = cases["A"]
    page = client.get("/notice?lang=en").get_data(as_text=True)
    assert a.title in page and cases["C"].title not in page
    assert f'class="notice-title" href="/showcase/cases/{a.id}?lang=en"' in page, "each title opens the dossier"
    assert f'href="/notice/cases/{a.id}/objection?lang=en"' in page
    form = client.get(f"/notice/cases/{a.id}/objection?lang=en").get_data(as_text=True)
    assert 'id="verify-to-object"' in form and "objection-form" not in form, "no form before the number is verified"
    assert "Explain your objection in 10 to 5000 characters." in form, "the limits come before any error"

    voter = verified()
    with client.session_transaction() as session:
        session[VOTER_SESSION_KEY] = voter
    page = client.get(f"/notice/cases/{a.id}/objection").get_data(as_text=True)
    assert f'action="/notice/cases/{a.id}/objections' in page  # with lang=en: the language chosen stays
    refused = client.post(f"/notice/cases/{a.id}/objections", data={"phone": PHONE, "ground": "other", "text": "短"})
    assert refused.status_code == 422 and "field-error" in refused.get_data(as_text=True)
    done = client.post(f"/notice/cases/{a.id}/objections", content_type="multipart/form-data", data={
        "phone": PHONE, "ground": "cutoff", "text": "该系统晚于截止日期上线，附现场照片。", "anonymous": "1",
        "files": (io.BytesIO(PNG), "现场.png"),
    })  # fmt: skip
    assert done.status_code == 302 and "/notice/objection-lodged" in done.location
    objection = db.session.scalar(select(Objection))
    assert objection.files[0].filename == "现场.png" and objection.anonymous
    assert objection.dossier_version == 1, "the dossier as submitted when the objection was lodged"

    login(client, organizer)
    listing = client.get("/notice/objections").get_data(as_text=True)
    assert f'data-objection="{objection.id}"' in listing and 'data-version="1"' in listing
    due = (today() + timedelta(days=3)).isoformat()
    client.post(f"/objections/{objection.id}/forward", data={"note": "请说明上线时间", "due": due})
    db.session.expire_all()
    assert objection.forwarded_at is not None

    login(client, a.created_by)
    unit_page = client.get(f"/objections/{objection.id}").get_data(as_text=True)
    assert "138****8000" not in unit_page, "anonymous to the unit"
    client.post(f"/objections/{objection.id}/answer", data={"response": "系统于2016年6月上线。"})
    assert client.get(f"/objections/{cases['B'].id + 999}").status_code == 404
    timeline = client.get(f"/cases/{a.id}?lang=en").get_data(as_text=True)
    assert 'data-transition="objection_forwarded"' in timeline and "Objection forwarded to the unit" in timeline
    public = client.application.test_client().get(f"/cases/{a.id}").get_data(as_text=True)
    assert "objection_forwarded" not in public, "the public sees no timeline"

    login(client, organizer)
    client.post(
        f"/objections/{objection.id}/decide",
        data={"outcome": "dismissed", "reason": "材料证明上线时间合规。", "confirmed": "1"},
    )
    db.session.expire_all()
    assert objection.status == OBJECTION_DISMISSED
    outbox = db.session.scalars(select(SmsMessage.body).where(SmsMessage.phone_hash == phone_hash(PHONE))).all()
    assert any("材料证明上线时间合规" in body for body in outbox)

    end(notice)
    confirm_proposed(a.campaign, organizer)
    commit()
    assert publication.latest(a.campaign_id).data["notice"]["dismissed"] == 1
    results = client.get("/results?lang=en").get_data(as_text=True)
    assert "results-notice" in results and PHONE not in results


def test_the_current_campaigns_empty_notice_points_to_the_campaign_in_notice(app, client, make):
    cases, organizer, _notice = proposed(make)
    noticed = cases["A"].campaign
    clone_campaign(noticed, organizer, make_current=True)  # next year's edition, nothing in notice yet
    commit()
    page = client.get("/notice?lang=en").get_data(as_text=True)
    assert "No award is in public notice now." in page and cases["A"].title not in page
    assert f'class="notice-elsewhere" href="/notice?year={noticed.year}' in page
    assert cases["A"].title in client.get(f"/notice?year={noticed.year}").get_data(as_text=True)
