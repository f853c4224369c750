"""Secrets never pass through the wording staff can shape or read (issue 18).

An organizer once saved the reset wording as ``{{ link|reverse }}``, asked /forgot for the administrator's
address and read the reversed link in the outbox. Now a secret placeholder is a slot the wording can only place:
every filter and expression on it either is refused or shows nothing of the secret, in the outbox, the preview
or the SMS outbox, while the mail or text that goes out carries the secret exactly once. Rendering is bounded
(steps, sizes, nesting): a hostile wording is refused when saved, and one stored by hand falls back."""

from __future__ import annotations

import logging
import re
import time

import pytest
from flask_babel import force_locale
from jinja2.filters import FILTERS
from sqlalchemy import select

from accounts.operations import request_password_reset
from notifications import wording
from notifications.models import MessageTemplate, OutboxMail
from pingxuan.db import commit
from pingxuan.errors import Forbidden, Invalid
from pingxuan.extensions import db
from pingxuan.i18n import EN, ZH
from tests.factories import login
from tests.phone import last_code, last_text
from voting.models import OtpChallenge, SmsMessage
from voting.voters import request_code

EXPRESSIONS = [
    "{{ link|reverse }}", "{{ link[::-1] }}", "{{ link[10:] }}", "{{ link[0] }}", "{{ link ~ '' }}", "{{ '' ~ link }}",
    "{{ link * 2 }}", "{{ 2 * link }}", "{{ link + '' }}", "{{ link % 1 }}", "{% for c in link %}{{ c }}{% endfor %}",
    "{% for c in link * 10**7 %}{% endfor %}", "{{ link.split('/') }}", "{{ link.replace('a', 'b') }}",
    "{{ link.upper() }}", "{{ link.__str__() }}", "{{ link.marker }}", "{{ link.name }}", "{{ link.marker|reverse }}",
    "{{ link|string|list }}", "{{ link|string|reverse }}", "{{ '%s'|format(link) }}", "{{ '%s' % link }}",
    "{{ '{}'.format(link) }}", "{{ link|urlencode }}", "{{ link|attr('upper')() }}", "{{ [link] }}",
    "{{ [link]|join }}", "{{ {'a': link} }}", "{{ (link, 1)|first }}", "{{ link if link == 'x' else 'no' }}",
    "{{ link != '' }}", "{{ link > 'a' }}", "{{ 'http' in link }}", "{{ link in 'http' }}", "{{ link is string }}",
    "{{ link is lower }}", "{{ link is divisibleby(3) }}", "{{ link is sameas link }}", "{% if link %}yes{% endif %}",
    "{{ link|default('x')|reverse }}", "{{ link|d|upper }}", "{{ -link }}", "{{ link|tojson }}", "{{ link|pprint }}",
    "{% set x %}{{ link }}{% endset %}{{ x|reverse }}", "{% set x %}{{ link }}{% endset %}{{ x[::-1] }}",
    "{% set x %}{{ link }}{% endset %}{{ x }}", "{% filter reverse %}{{ link }}{% endfilter %}",
    "{% filter upper %}{{ link }}{% endfilter %}", "{% set y = link %}{{ y|reverse }}", "{{ link }}{{ link }}",
    "{% for i in 'ab' %}{{ link }}{% endfor %}", "{{ (link ~ link)|reverse }}", "{{ link|truncate(5) }}",
    "{% with z = link %}{{ z|list }}{% endwith %}", "{{ link|list|join(',') }}", "{{ link|map('upper')|join }}",
]  # fmt: skip
EXPRESSIONS += [f"{{{{ link|{name} }}}}" for name in sorted(FILTERS)]  # every builtin filter, bare
EXPRESSIONS += [f"{{{{ link|string|{name} }}}}" for name in sorted(FILTERS)]  # and after |string


def _windows(secret: str, size: int = 8) -> set[str]:
    """Every stretch of the secret an attacker could piece together, forwards and backwards, any case."""
    pieces = set()
    for text in (secret, secret[::-1]):
        pieces |= {text[i : i + size].lower() for i in range(len(text) - size + 1)}
    return pieces


def _sent_mails(caplog, recipient: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "pingxuan.mail" and f"mail to {recipient}:" in
            r.getMessage()]  # fmt: skip


def _store(key: str, body: str, subject: str = "x") -> None:
    """A wording written into the database directly, as if the checks at saving did not exist."""
    db.session.query(MessageTemplate).filter_by(key=key).delete()
    db.session.add(MessageTemplate(key=key, locale=ZH, subject=subject, body=body))
    commit()


def test_no_filter_or_expression_on_a_link_shows_it_to_staff(app, make, caplog):
    caplog.set_level(logging.INFO, logger="pingxuan.mail")
    admin = make.admin()
    admin.locale = ZH
    commit()
    key = "account.password_reset"
    saved = refused = 0
    for expression in EXPRESSIONS:
        body = expression + "\n{{ link }}"
        try:
            wording.save(key, ZH, "重置", body, admin)
            saved += 1
        except Invalid as error:
            db.session.rollback()
            assert error.field_errors.get("body"), expression
            refused += 1
            _store(key, body)  # and as if it had been saved anyway
        commit()
        caplog.clear()
        request_password_reset(admin.email)
        commit()
        outbox = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc())).first()
        sent = _sent_mails(caplog, admin.email)
        assert len(sent) == 1, expression
        links = re.findall(r"http://localhost/reset/[\w.\-]+", sent[0])
        assert len(links) == 1, (expression, sent[0])  # the recipient gets the link, once
        token = links[0].rsplit("/", 1)[1]
        staff_sees = "\n".join([outbox.subject, outbox.body, outbox.body_html or ""]).lower()
        leaked = [piece for piece in _windows(token) if piece in staff_sees]
        assert not leaked, (expression, leaked, outbox.body)
        assert "[link]" in outbox.body, expression  # where the link went, by name
        preview = wording.preview(key, ZH, "重置", "{{ name }}\n{{ link }}", wording.samples(key))
        assert "pingxuan.example/reset" in preview.text  # a preview shows the sample where the link goes
    assert saved >= 3 and refused > 100  # plain placements are fine; everything else is refused


def test_the_sms_code_is_never_in_what_staff_can_read(app, make):
    admin = make.admin()
    make.campaign()
    for expression in ("{{ code|reverse }}", "{{ code|list|join('-') }}", "{{ code[0] }}{{ code[1:] }}",
                       "{{ code|int + 1 }}", "{% for d in code %}{{ d }} {% endfor %}"):  # fmt: skip
        with pytest.raises(Invalid):
            wording.save("vote.code", ZH, "", expression + " {{ code }}", admin)
        db.session.rollback()
        _store("vote.code", expression + " {{ code }}", subject="")
        db.session.query(SmsMessage).delete()
        db.session.query(OtpChallenge).delete()
        commit()
        request_code("13800138000", "203.0.113.9")
        commit()
        code = last_code("13800138000")
        body = db.session.scalar(select(SmsMessage.body))
        assert code not in body and code[::-1] not in body and "-".join(code) not in body, (expression, body)
        assert last_text("13800138000").count(code) == 1


def test_messages_with_secrets_are_edited_by_administrators_only(app, make, client):
    organizer = make.organizer()
    for key in ("account.password_reset", "account.invitation", "account.welcome_expert", "vote.code",
                "objection.code", "account.registration_confirm", "account.registration_taken"):  # fmt: skip
        with pytest.raises(Forbidden):
            wording.save(key, ZH, "x", "{{ link }}" if key.startswith("account") else "{{ code }}", organizer)
        with pytest.raises(Forbidden):
            wording.reset(key, ZH, organizer)
    db.session.rollback()
    login(client, organizer)
    client.get("/language/en")
    page = client.get(f"/admin/messages/account.password_reset/{EN}").get_data(as_text=True)
    assert "only an administrator can change its wording" in page and 'value="save"' not in page
    tried = client.post(f"/admin/messages/account.password_reset/{ZH}",
                        data={"subject": "x", "body": "{{ link }}", "action": "save"})  # fmt: skip
    assert tried.status_code == 200 and wording.current("account.password_reset", ZH)[2] is None
    notice = next(key for key in wording.kinds() if key.startswith("transition."))
    assert 'value="save"' in client.get(f"/admin/messages/{notice}/{EN}").get_data(as_text=True)


@pytest.mark.parametrize("body, reason", [
    ("{% for c in link * 10**7 %}{% endfor %}{{ link }}", "can only be placed"),
    ("{{ name * 10**7 }}{{ link }}", "longer than"),
    ("{{ name|center(100000000) }}{{ link }}", "longer than"),
    ("{{ name.center(100000000) }}{{ link }}", "text methods"),
    ("{{ 10**10**10 }}{{ link }}", "too large"),
    ("{% set a = name %}" + "{% set a = a|replace('', a) %}" * 4 + "{{ link }}", "longer than"),
    ("{% set a = name %}" + "{% set a = a ~ a %}" * 30 + "{{ link }}", "longer than"),
    ("{% for a in 'xxxxxxxxxx' %}{% for b in 'xxxxxxxxxx' %}{% for c in 'xxxxxxxxxx' %}{% endfor %}{% endfor %}"
     "{% endfor %}{{ link }}", "nested"),
    ("{% for a in name * 100 %}{% for b in name * 100 %}{% endfor %}{% endfor %}{{ link }}", "too much work"),
    ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}{{ link }}", "Macros"),
])  # fmt: skip
def test_a_wording_that_would_hold_a_worker_is_refused_at_once(app, make, body, reason):
    started = time.monotonic()
    with force_locale(EN), pytest.raises(Invalid) as refused:
        wording.save("account.password_reset", EN, "x", body, make.admin())
    assert reason in refused.value.field_errors["body"]
    assert time.monotonic() - started < 5  # (it took 28 s, or never ended)


def test_a_stored_slow_code_wording_falls_back_and_keeps_the_public_path_fast(app, make):
    make.campaign()
    nested = "".join("{% for x" + str(i) + " in minutes * 9 %}" for i in range(6)) + "{% endfor %}" * 6
    _store("vote.code", nested + "{{ code }}", subject="")
    started = time.monotonic()
    request_code("13800138000", "203.0.113.9")
    commit()
    assert time.monotonic() - started < 5
    code = last_code("13800138000")
    assert last_text("13800138000") == wording.render("vote.code", ZH, {"minutes": "5"}, {"code": code}).outgoing_text
