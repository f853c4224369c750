"""Audit records are read-only; set-up and people go through the operations' rules."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from accounts.models import Unit, User
from campaigns.models import Campaign
from notifications.models import OutboxMail
from notifications.operations import send_mail
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.backoffice.helpers import in_english, text
from tests.factories import credit_code, login
from workflow.models import WorkflowEvent


def test_workflow_events_cannot_be_created_edited_or_deleted(client, make):
    case = make.case("submitted")
    login(client, make.organizer())
    event = db.session.scalars(select(WorkflowEvent).where(WorkflowEvent.case_id == case.id)).first()
    listing = text(client.get("/admin/events/"))
    assert "/admin/events/edit/" not in listing and "/admin/events/delete/" not in listing
    assert "/admin/events/new/" not in listing
    assert client.get(f"/admin/events/edit/?id={event.id}").status_code == 302
    client.post(f"/admin/events/edit/?id={event.id}", data={"comment": "rewritten", "to_state": "awarded"})
    client.post("/admin/events/delete/", data={"id": str(event.id)})
    client.post("/admin/events/action/", data={"action": "delete", "rowid": [str(event.id)]})
    client.post("/admin/events/new/", data={"case": str(case.id), "transition": "award", "to_state": "awarded"})
    db.session.expire_all()
    kept = db.session.get(WorkflowEvent, event.id)
    assert kept is not None and kept.comment == "test" and kept.to_state == "submitted"
    assert db.session.scalar(select(func.count()).select_from(WorkflowEvent)) == 1
    assert client.get(f"/admin/events/details/?id={event.id}").status_code == 200


def test_outbox_is_read_only(client, make):
    login(client, make.organizer())
    mail = send_mail("someone@example.org", "Hello", "Body text")
    commit()
    assert "someone@example.org" in text(client.get("/admin/outbox/"))
    client.post(f"/admin/outbox/edit/?id={mail.id}", data={"subject": "changed"})
    client.post("/admin/outbox/delete/", data={"id": str(mail.id)})
    db.session.expire_all()
    assert db.session.get(type(mail), mail.id).subject == "Hello"


def test_users_never_show_password_hashes(client, make):
    applicant = make.applicant()
    login(client, make.organizer())
    pages = [
        client.get("/admin/users/"),
        client.get(f"/admin/users/details/?id={applicant.id}"),
        client.get(f"/admin/users/edit/?id={applicant.id}"),
        client.get("/admin/users/new/"),
        client.get("/admin/users/export/csv/"),
    ]
    for page in pages:
        assert applicant.password_hash not in text(page)
        assert "password_hash" not in text(page)


def test_staff_create_users_through_the_operation(client, make):
    login(client, make.organizer())
    in_english(client)
    data = {"name": "专家甲", "email": "Expert.A@Example.org", "role": "expert", "password": "long enough 1"}
    assert client.post("/admin/users/new/", data=data).status_code == 302
    created = db.session.scalar(select(User).where(User.email == "expert.a@example.org"))
    assert created is not None and created.role == "expert" and created.password_hash.startswith("pbkdf2")
    # An organizer may not make administrators.
    page = text(client.post("/admin/users/new/", data={**data, "email": "boss@example.org", "role": "admin"}))
    assert "Only an administrator can make someone an administrator." in page
    assert db.session.scalar(select(User).where(User.email == "boss@example.org")) is None


def test_staff_change_role_and_active_but_not_lock_themselves_out(client, make):
    organizer = make.organizer()
    expert = make.expert()
    login(client, organizer)
    in_english(client)
    response = client.post(
        f"/admin/users/edit/?id={expert.id}", data={"name": expert.name, "role": "expert", "active": ""}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, expert.id).active is False
    page = text(client.post(f"/admin/users/edit/?id={organizer.id}", data={"name": "x", "role": "organizer"}))
    assert "You cannot lock yourself out of the back office." in page
    db.session.expire_all()
    assert db.session.get(User, organizer.id).active is True


def test_unit_credit_code_is_checked_on_save(client, make):
    login(client, make.organizer())
    in_english(client)
    data = {
        "name": "青岛新单位", "kind": "enterprise", "district": "崂山区", "credit_code": "913702001234567890",
        "contact_name": "王", "contact_phone": "13800000000",
    }  # fmt: skip
    page = text(client.post("/admin/units/new/", data=data))
    assert "check digit does not match" in page
    assert db.session.scalar(select(Unit).where(Unit.name == "青岛新单位")) is None
    assert client.post("/admin/units/new/", data={**data, "credit_code": credit_code()}).status_code == 302
    assert db.session.scalar(select(Unit).where(Unit.name == "青岛新单位")) is not None


def test_setting_the_current_campaign_goes_through_the_operation(client, make):
    first = make.campaign()
    login(client, make.admin())
    data = {
        "year": "2018", "title_zh": "2018年评选", "title_en": "2018 selection", "in_operation_before": "2018-03-31",
        "awards_per_category": "10", "reviewers_per_case": "5", "expert_weight": "70", "public_weight": "30",
        "is_current": "y",
    }  # fmt: skip
    assert client.post("/admin/campaigns/new/", data=data).status_code == 302
    db.session.expire_all()
    current = db.session.scalars(select(Campaign).where(Campaign.is_current.is_(True))).all()
    assert [c.year for c in current] == [2018]
    assert db.session.get(Campaign, first.id).is_current is False


def test_campaign_settings_are_checked(client, make):
    campaign = make.campaign()
    login(client, make.organizer())
    in_english(client)
    page = text(
        client.post(
            f"/admin/campaigns/edit/?id={campaign.id}",
            data={
                "year": str(campaign.year), "title_zh": campaign.title_zh, "title_en": campaign.title_en,
                "in_operation_before": campaign.in_operation_before.isoformat(), "awards_per_category": "10",
                "reviewers_per_case": "5", "expert_weight": "70", "public_weight": "40", "is_current": "y",
                "submission_opens": "2017-05-01", "submission_closes": "2017-04-01",
            },
        )
    )  # fmt: skip
    assert "add up to 100" in page and "closes before it opens" in page
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).public_weight == 30


def test_organizers_cannot_read_reset_or_invitation_links_in_the_outbox(app, client, make, caplog):
    """An organizer asks a reset for the admin, then reads the outbox: the link there must not work."""
    caplog.set_level("INFO", logger="pingxuan.mail")
    admin = make.admin()
    organizer = make.organizer()
    applicant = make.applicant()
    client.post("/forgot", data={"email": admin.email})
    login(client, applicant)
    client.post("/unit", data={"email": "colleague@example.org"})
    client.post("/logout")
    sent = "\n".join(r.getMessage() for r in caplog.records if r.name == "pingxuan.mail")
    tokens = re.findall(r"/(?:reset|invitations)/([\w.-]+)", sent)
    assert len(tokens) == 2  # the mails themselves carry the links

    login(client, organizer)
    mails = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    pages = [text(client.get("/admin/outbox/")), text(client.get("/admin/outbox/export/csv/"))]
    pages += [text(client.get(f"/admin/outbox/details/?id={mail.id}")) for mail in mails]
    for token in tokens:
        assert not any(token in page for page in pages)
        assert not any(token in (mail.body + (mail.body_html or "")) for mail in mails)
    client.post("/logout")
    for path in re.findall(r"/reset/[\w.-]+", "\n".join(pages)):
        response = client.post(path, data={"password": "taken over 123", "confirm": "taken over 123"})
        assert response.status_code != 302
    db.session.expire_all()
    assert client.post("/login", data={"email": admin.email, "password": "taken over 123"}).status_code != 302


def test_unit_one_line_fields_refuse_a_line_separator_in_the_back_office(client, make):
    login(client, make.organizer())
    in_english(client)
    data = {
        "name": "青岛新单位", "kind": "enterprise", "district": "崂山区\u2028", "credit_code": credit_code(),
        "parent_org": "青岛\u2029市", "contact_name": "王\u2028芳", "contact_phone": "13800000000",
    }  # fmt: skip
    page = text(client.post("/admin/units/new/", data=data))
    assert page.count("Remove the hidden character") == 2  # the district's trailing separator is trimmed
    assert db.session.scalar(select(Unit).where(Unit.name == "青岛新单位")) is None
