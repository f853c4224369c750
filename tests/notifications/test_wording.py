"""Notification templates: organizers change the wording and the next mail uses it (text and HTML); a template
reads nothing beyond its placeholders; reset and history; every shipped wording is a valid template."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from notifications import wording
from notifications.models import MessageTemplateChange, OutboxMail
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.errors import Invalid
from pingxuan.extensions import db
from pingxuan.i18n import EN, ZH
from tests.factories import login
from workflow.definition import TRANSITION_BY_NAME
from workflow.engine import fire

RETURN = "return_for_revision"


def returnable(make):
    return make.case(TRANSITION_BY_NAME[RETURN].sources[0], title="智慧城管<综合>执法平台")


def test_every_shipped_wording_is_a_valid_template_in_both_languages(app):
    for key, kind in wording.kinds().items():
        for locale in (ZH, EN):
            subject, body = wording.default(key, locale)
            assert wording.problems(key, subject, body) == {}, (key, locale)
            rendered = wording.render(key, locale, wording.samples(key))
            assert rendered.text and "{{" not in rendered.text and (rendered.subject or kind.subject is None)
    assert any(key.startswith("transition.") for key in wording.kinds())


def test_a_changed_template_is_used_by_the_next_transitions_mail(app, make):
    case = returnable(make)
    organizer = make.organizer()
    key = f"transition.{RETURN}"
    body = (
        "{{ unit_name }}：您的案例《{{ case_title }}》需要修改。\n{% if comment %}意见：{{ comment }}{% endif %}\n\n"
        "请于{{ due_date }}前修改。联系人：李老师 0532-8888 8888\n{{ link }}"
    )
    wording.save(key, ZH, "【退回】{{ case_number }}", body, organizer)
    commit()
    fire(case, RETURN, organizer, "请补充<运营数据>", fields={"due_date": today() + timedelta(days=7)})
    commit()
    sent = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc())).first()
    assert sent.subject == f"【退回】{case.number}"
    assert "联系人：李老师" in sent.body and "请补充<运营数据>" in sent.body and "智慧城管<综合>执法平台" in sent.body
    assert "请补充&lt;运营数据&gt;" in sent.body_html and "<运营数据>" not in sent.body_html, "HTML escaped"
    assert f'<a href="http://localhost/cases/{case.id}">' in sent.body_html
    # the English wording was not changed: an English member still gets the shipped text
    assert wording.current(key, EN)[2] is None


@pytest.mark.parametrize("body", [
    "{{ config }}", "{{ config.SECRET_KEY }}", "{{ case_title.__class__.__mro__ }}", "{{ range(3) }}",
    "{{ case_title|attr('__class__') }}", "{{ self.__init__.__globals__ }}",
    "{% for x in ''.__class__.__mro__ %}{% endfor %}",
    "{{ case_title", "{% if %}",
])  # fmt: skip
def test_a_template_reads_nothing_beyond_its_placeholders(app, make, body):
    organizer = make.organizer()
    with pytest.raises(Invalid) as refused:
        wording.save(f"transition.{RETURN}", ZH, "主题", body, organizer)
    assert "body" in refused.value.field_errors
    assert db.session.scalar(select(MessageTemplateChange)) is None


def test_a_stored_template_that_does_not_render_falls_back_to_the_shipped_wording(app, make):
    from notifications.models import MessageTemplate

    db.session.add(MessageTemplate(key=f"transition.{RETURN}", locale=ZH, subject="x", body="{{ config.SECRET_KEY }}"))
    commit()
    rendered = wording.render(f"transition.{RETURN}", ZH, wording.samples(f"transition.{RETURN}"))
    assert app.config["SECRET_KEY"] not in rendered.text and rendered.text == wording.render(
        f"transition.{RETURN}", ZH, wording.samples(f"transition.{RETURN}")).text  # fmt: skip
    assert rendered.subject == wording.default(f"transition.{RETURN}", ZH)[0]


def test_reset_and_history(app, make, client):
    organizer = make.admin()  # the reset mail carries a secret link: administrators only edit it (issue 18)
    key = "account.password_reset"
    wording.save(key, EN, "Reset", "Hello {{ name }}: {{ link }}", organizer)
    commit()
    wording.reset(key, EN, organizer)
    commit()
    assert wording.current(key, EN)[2] is None
    assert [c.action for c in wording.history(key)] == [wording.RESET, wording.EDIT]
    login(client, organizer)
    client.get("/language/en")
    page = client.get(f"/admin/messages/{key}/{EN}").get_data(as_text=True)
    assert "reset to the shipped wording" in page and "Open this link within two hours" in page
