"""The low items of the second probe (issue 18): no 500 for an out-of-range year or a bad version, /metrics
behind a token when one is set, a Permissions-Policy on every answer."""

from __future__ import annotations

from notifications.models import OutboxMail
from notifications.operations import deliver_mail, send_mail
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import login


def test_a_year_beyond_any_column_is_a_4xx_while_logged_in(client, make):
    make.campaign()
    login(client, make.organizer())
    for year in ("2147483648", "99999999999999999999"):
        assert client.get(f"/notice?year={year}").status_code in (404, 422)


def test_a_case_edit_with_a_bad_version_is_a_4xx(client, make):
    case = make.case("submitted")
    login(client, make.organizer())
    for version in ("abc", "1e3", "9" * 30):
        answer = client.post(f"/admin/cases/edit/?id={case.id}", data={"version": version})
        assert answer.status_code < 500, version


def test_metrics_need_the_token_when_one_is_set(app, client):
    assert client.get("/metrics").status_code == 200  # unset: open (restrict it at the reverse proxy)
    app.config["METRICS_TOKEN"] = "s3cret-scrape"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert answer.status_code == 200 and b"pingxuan_" in answer.data


def test_every_answer_has_a_permissions_policy(client):
    policy = client.get("/").headers.get("Permissions-Policy", "")
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def test_a_mail_that_cannot_be_written_is_marked_failed_with_its_reason(app):
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=9)  # never reached
    mail = send_mail("wang@example.org", "[pingxuan] 青岛\u2028云帆 registered", "Body")
    commit()  # the delivery task runs (eagerly here) once the transaction commits
    db.session.expire_all()
    kept = db.session.get(OutboxMail, mail.id)
    assert kept.sent_at is None and kept.error.startswith("undeliverable: ") and "linefeed" in kept.error
    assert deliver_mail(mail.id) is None  # given up: not tried again, the reason stays
