"""`flask pingxuan demo` fills an empty database through the operations, and refuses to touch a full one."""

from __future__ import annotations

import re
import shutil
import subprocess

from flask import url_for
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from accounts.models import User
from accounts.operations import authenticate
from awards.models import OBJECTION_DISMISSED, OBJECTION_OPEN, Notice, Objection
from campaigns.models import VOTE_CLOSED, Campaign
from cases.models import Attachment, Case
from cases.versions import compare, versions
from notifications.models import Notification, OutboxMail
from pingxuan import storage
from pingxuan.clock import today
from pingxuan.extensions import db
from reviewers.models import SUBMITTED, Assignment
from shell.demo import NOTICE_REASON, NOTICE_YEAR, demo_states
from voting.models import SmsMessage
from workflow.definition import path_to
from workflow.models import WorkflowEvent

EXPECTED_STATES = {
    "draft", "submitted", "eligibility_check", "returned", "ineligible", "withdrawn",
    "expert_review", "not_shortlisted", "public_vote",
}  # fmt: skip


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run_demo(app) -> str:
    result = app.test_cli_runner().invoke(args=["pingxuan", "demo"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_builds_a_campaign_in_every_listed_state(app, client):
    output = run_demo(app)
    assert "Demo data loaded" in output
    assert set(demo_states()) == EXPECTED_STATES

    campaign = db.session.scalar(select(Campaign).where(Campaign.is_current.is_(True)))
    assert campaign.year == 2017 and campaign.is_current
    assert campaign.in_operation_before.isoformat() == "2017-03-31"
    assert campaign.submission_opens < today() < campaign.submission_closes

    cases = db.session.scalars(select(Case).where(Case.campaign_id == campaign.id)).all()
    assert 35 <= len(cases) <= 45
    assert {c.state for c in cases} == EXPECTED_STATES
    assert {c.category_id for c in cases} == {c.id for c in campaign.categories}  # all 7 categories
    assert any("数字城管" in c.title for c in cases) and any("互联网医院" in c.title for c in cases)

    # Every state was reached through fire(): the events replay each case's path from draft; one returned case
    # came back revised, with dossier versions 1 and 2 and a visible difference.
    (revised,) = [c for c in cases if len(versions(c)) == 2]
    assert compare(revised, 1, 2).changed_fields and compare(revised, 1, 2).attachments[0].status == "replaced"
    for case in cases:
        events = db.session.scalars(
            select(WorkflowEvent).where(WorkflowEvent.case_id == case.id).order_by(WorkflowEvent.id)
        ).all()
        path = [t.name for t in path_to(case.state)]
        if case is revised:
            path = ["submit", "return_for_revision", "resubmit"]
        assert [e.transition for e in events] == path, case.title
        if events:
            assert events[-1].to_state == case.state and all(e.actor_id for e in events)
        if any("assign_number" in t.actions for t in path_to(case.state)):
            assert case.number and case.number.startswith("2017-")
    assert count(Notification) > 0 and count(OutboxMail) > 0

    # Reviews finished where the shortlist decision was taken.
    for case in cases:
        if case.state in ("public_vote", "not_shortlisted"):
            statuses = db.session.scalars(select(Assignment.status).where(Assignment.case_id == case.id)).all()
            assert statuses and set(statuses) == {SUBMITTED}
        if case.state == "expert_review":
            assert db.session.scalar(select(func.count(Assignment.id)).where(Assignment.case_id == case.id)) > 0

    # Roles, and units with one or two members.
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles["admin"] == 1 and roles["organizer"] == 2 and roles["expert"] == 6
    members = select(User.unit_id, func.count()).where(User.unit_id.is_not(None)).group_by(User.unit_id)
    sizes = [n for _unit, n in db.session.execute(members)]
    assert len(sizes) >= 8 and set(sizes) <= {1, 2}

    # Attachments are real PDFs.
    attachment = db.session.scalars(select(Attachment)).first()
    data = storage.read(attachment.sha256)
    assert attachment.content_type == "application/pdf" and data.startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout
        assert b"pingxuan demo dossier" in text

    # A printed credential logs in.
    password = re.search(r"password: (\S+)", output).group(1)
    email = re.search(r"applicant\s+(\S+@\S+)", output).group(1)
    user = authenticate(email, password)
    assert user is not None and user.role == "applicant"
    if "accounts.login" in app.view_functions:
        with app.test_request_context():
            login_url = url_for("accounts.login")
        response = client.post(login_url, data={"email": email, "password": password})
        assert response.status_code in (302, 303), response.text[:500]
        with client.session_transaction() as session:
            assert session.get("_user_id") == user.get_id()

    # The previous edition is in its public notice today, one objection decided and one open.
    edition = db.session.scalar(select(Campaign).where(Campaign.year == NOTICE_YEAR))
    assert edition.vote_status == VOTE_CLOSED and edition.submission_closes < today()
    [notice] = db.session.scalars(select(Notice).where(Notice.campaign_id == edition.id)).all()
    assert notice.starts_on <= today() <= notice.ends_on and len(notice.entries) == 3
    decided, still_open = db.session.scalars(select(Objection).order_by(Objection.id)).all()
    assert decided.status == OBJECTION_DISMISSED and decided.response and decided.reason == NOTICE_REASON
    assert still_open.status == OBJECTION_OPEN and decided.files[0].content_type == "image/jpeg"
    told = db.session.scalars(select(SmsMessage.body).where(SmsMessage.phone_hash == decided.phone_hash)
                              .order_by(SmsMessage.id.desc())).first()  # fmt: skip
    assert NOTICE_REASON in told
    page = client.get(f"/notice?year={NOTICE_YEAR}").get_data(as_text=True)
    assert all(entry.case.title in page for entry in notice.entries) and "objection-form" not in page


def test_demo_refuses_when_data_exists(app, make):
    make.admin()
    before = (count(User), count(Case), count(Campaign))
    output = run_demo(app)
    assert "already" in output and "not loaded" in output
    assert (count(User), count(Case), count(Campaign)) == before


def test_create_admin_takes_the_password_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("PINGXUAN_ADMIN_PASSWORD", "a long admin secret")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pingxuan", "create-admin", "Root@Example.org", "Root"])
    assert result.exit_code == 0, result.output
    user = authenticate("root@example.org", "a long admin secret")
    assert user is not None and user.role == "admin"
    again = runner.invoke(args=["pingxuan", "create-admin", "root@example.org", "Root"])
    with force_locale("zh_Hans_CN"):  # the CLI speaks the office's language, like the pages
        expected = gettext("An account with this e-mail address exists already.")
    assert again.exit_code == 1 and expected in again.output


def test_create_admin_prompts_for_the_password(app, monkeypatch):
    monkeypatch.delenv("PINGXUAN_ADMIN_PASSWORD", raising=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pingxuan", "create-admin", "ops@example.org", "Ops"], input="short\nshort\n")
    assert result.exit_code == 1 and "password" in result.output
    result = runner.invoke(args=["pingxuan", "create-admin", "ops@example.org", "Ops"], input="long enough 1\n" * 2)
    assert result.exit_code == 0, result.output
    assert authenticate("ops@example.org", "long enough 1") is not None
