"""One clock and plain words (issue 20): on every page of a demo campaign, in its mails and exports, times are in
the campaign's zone to the minute with the zone named, dates have one format, and no state, event or rule shows
by its key."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from accounts.models import User
from accounts.operations import request_password_reset
from awards.models import OBJECTION_PENDING, Objection
from campaigns.models import VOTE_OPEN, Campaign
from cases.models import Case
from notifications import wording
from notifications.models import OutboxMail
from pingxuan.clock import day, left, shown, size, today, zone_label
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.progress import send_reminders
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.factories import login
from tests.test_demo import run_demo
from voting.ballots import cast_vote
from voting.integrity import RULES
from voting.models import Ballot, SmsMessage, Voter
from workflow.definition import STATES, STEPS, TRANSITIONS

SKIP = ("/logout", "/language/", "/static/", "/admin/static/", "/metrics", "/api/")
NOT_PAGES = re.compile(r"\.(pdf|zip|png|jpe?g|csv|xlsx|svg)$|/(download|file|files|attachments?|export)(/|$)")
# Flask-Admin's sort, filter and paging links show the same rows again
VARIANTS = re.compile(r"[?&](sort|desc|flt\d*_\w+|page|page_size|search)=")


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles, nor what a person typed into a text area
    (the dossier form's declaration is code)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "template", "textarea"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "textarea") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


HIDDEN = re.compile(r'<(div|span)\b[^>]*\bclass="[^"]*\bd-none\b[^"]*"[^>]*>.*?</\1>', re.S)  # Flask-Admin's data


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(HIDDEN.sub("", html))
    return " ".join(" ".join(parser.parts).split())


LABEL = zone_label()
TIME = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?![\d])")
SHOWN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} " + re.escape(LABEL))
OTHER_DATES = re.compile(
    r"\d{4}/\d{1,2}/\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}, \d{4}"
)
BARE_ZONE = re.compile(r"\b(UTC|GMT|CST)\b(?![+-]\d)")


def clock_problems(text: str) -> list[str]:
    """Times not shown by the one clock: without the zone, with seconds or microseconds, or in another format."""
    covered = [m.span() for m in SHOWN.finditer(text)]
    problems = []
    for m in TIME.finditer(text):
        if not any(start <= m.start() < end for start, end in covered):
            problems.append(text[max(0, m.start() - 25) : m.end() + 25])
    problems += [text[max(0, m.start() - 15) : m.end() + 15] for m in OTHER_DATES.finditer(text)]
    problems += [text[max(0, m.start() - 25) : m.end() + 10] for m in BARE_ZONE.finditer(text)]
    return problems


def _keys() -> set[str]:
    keys = {s.name for s in STATES} | {t.name for t in TRANSITIONS} | {s.name for s in STEPS} | set(RULES)
    keys |= {name for rule in RULES.values() for name in rule.defaults if "_" in name}  # "share" is a word too
    # badges: the vote's, objections', certificates' and books' statuses ("open", "closed", "pending"…)
    keys |= {"not_open", "open", "closed", "forwarded", "answered", "upheld", "dismissed", "pending", "issued",
             "failed", "superseded", "outbox"}  # fmt: skip
    return keys | set(wording.kinds())  # the messages' keys (transition.submit, account.invitation…)


KEYS = "|".join(sorted(map(re.escape, _keys()), key=len, reverse=True))
KEY_WORDS = re.compile(r"(?<![\w./#-])(" + KEYS + r")(?![\w-])|\b[a-z]+_[a-z_]+ = [\d.]+")


def key_problems(text: str, compound_only: bool = False) -> list[str]:
    """State, event, rule and parameter keys in a Chinese page's text (where no English word belongs); with
    ``compound_only``, the keys no English text has as a word (objection_dismissed, min_votes, not_open)."""
    found = [m for m in KEY_WORDS.finditer(text) if not compound_only or re.search(r"[a-z][_.][a-z]", m.group(0))]
    return [text[max(0, m.start() - 20) : m.end() + 20] for m in found]


def _links(html: str) -> list[str]:
    return re.findall(r'<a\b[^>]*\bhref="([^"#]*)', html)


def crawl(client, seeds: list[str], limit: int = 250) -> dict[str, str]:
    """Every same-site page reachable by links from the seeds: URL → visible text."""
    pages: dict[str, str] = {}
    seen: set[str] = set()
    per_record: dict[str, int] = {}
    queue = list(seeds)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        pages[url] = visible(response.text)
        for link in _links(response.text):
            target = urljoin(url, link.replace("&amp;", "&"))
            parts = urlparse(target)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.netloc or parts.scheme or any(parts.path.startswith(s) for s in SKIP):
                continue
            if NOT_PAGES.search(parts.path) or VARIANTS.search(path) or path in seen:
                continue
            if "id=" in parts.query:  # the back office's record pages: a few of each kind
                per_record[parts.path] = per_record.get(parts.path, 0) + 1
                if per_record[parts.path] > 3:
                    continue
            queue.append(path)
    return pages


def _user(role: str) -> User:
    return db.session.scalars(select(User).where(User.role == role).order_by(User.id)).first()


@pytest.fixture
def demo(app):
    """The demo, with a few ballots in its open vote (an automated browser's among them, so rules flag some)."""
    run_demo(app)
    campaign = db.session.scalar(select(Campaign).where(Campaign.is_current.is_(True)))
    voting = db.session.scalars(select(Case).where(Case.campaign_id == campaign.id, Case.state == "public_vote")).all()
    for n, case in enumerate(voting * 2):
        voter = Voter(phone_hash=f"{n:064d}")
        db.session.add(voter)
        commit()
        cast_vote(voter.id, case.id, f"10.0.{n % 3}.{n}", "HeadlessChrome" if n % 2 else "Mozilla/5.0")
        commit()
    return campaign


def test_the_one_clock_and_its_words(app):
    assert SHOWN.fullmatch(shown(datetime(2017, 5, 20, 6, 30)))
    assert shown(datetime(2017, 5, 20, 6, 30)) == "2017-05-20 14:30 UTC+8"
    assert day(datetime(2017, 5, 20, 20, 30)) == "2017-05-21"  # the local day
    assert day(date(2017, 5, 20)) == "2017-05-20"
    with app.test_request_context("/"):
        said = [left(date(2017, 5, d), on=date(2017, 5, 20)) for d in (23, 20, 18)] + [size(721), size(721_000)]
    assert said == ["还剩 3 天", "今天截止", "已逾期 2 天", "721 字节", "704.1 KB"]
    assert clock_problems("提交于 2017-05-20 06:30:00.123456") and clock_problems("14:30 UTC")
    assert not clock_problems(f"提交于 {shown(datetime(2017, 5, 20, 6, 30))}")


def test_no_page_shows_a_time_off_the_clock_or_a_key(app, client, demo):
    """Every staff page (back office included), the expert's, the unit's and the public pages of the demo."""
    pages: dict[str, str] = {}
    for role, seeds in (
        ("admin", ["/staff", "/admin/", "/worklists", "/vote-admin/", "/notice/objections", "/admin/events/",
                   "/admin/outbox/", "/admin/sms/", f"/vote-admin/{demo.id}/integrity", "/admin/awards/certificates/",
                   f"/vote-admin/{demo.id}/integrity/preview?rule=automation&rule=fresh_voter&combine=any"]),
        ("expert", ["/worklists", "/review/mine"]),
        ("applicant", ["/my-cases", "/notifications"]),
    ):  # fmt: skip
        login(client, _user(role))
        pages |= {f"{role} {url}": text for url, text in crawl(client, seeds).items()}
        client.get("/logout")
    pages |= {f"public {url}": text for url, text in crawl(client, ["/", "/showcase", "/results", "/notice"]).items()}
    assert len(pages) > 100, len(pages)
    labelled = sum(len(SHOWN.findall(text)) for text in pages.values())
    assert labelled > 200, labelled  # it did see times
    # deadlines say what is left: the unit's submission deadline, the experts' reviews, the campaign home's
    for who in ("applicant /my-cases", "expert /review/mine", "admin /staff"):
        assert re.search(r"还剩 \d+ 天|今天截止|已逾期 \d+ 天", pages[who]), who
    clock = {url: found for url, text in pages.items() if (found := clock_problems(text))}
    assert not clock, "\n".join(f"{url}: {found[:3]}" for url, found in clock.items())
    chinese = {url: text for url, text in pages.items() if "lang=en" not in url and not url.endswith("/en")}
    keys = {url: found for url, text in chinese.items() if (found := key_problems(text))}
    # on English pages a key with an underscore is still no word (objection_dismissed, min_votes, not_open)
    keys |= {url: found for url, text in pages.items() if url not in chinese and (found := key_problems(text, True))}
    assert not keys, "\n".join(f"{url}: {found[:3]}" for url, found in keys.items())


def test_mails_and_texts_keep_the_clock(app, client, demo):
    """The demo's mails (case notices, invitations) and texts (codes, an objection's outcome), a review reminder
    (reviews due and overdue) and a password reset."""
    with app.test_request_context("/"):
        assert send_reminders(today() + timedelta(days=60)) > 0
        request_password_reset(_user("expert").email)
        commit()
    kinds = {m.subject for m in db.session.scalars(select(OutboxMail))}
    assert len(kinds) >= 3, kinds
    mails = db.session.scalars(select(OutboxMail)).all()
    texts = db.session.scalars(select(SmsMessage)).all()
    assert mails and texts
    assert any("已逾期" in m.body for m in mails)  # the reminder says how late each review is
    for message in [f"{m.subject}\n{m.body}" for m in mails] + [t.body or "" for t in texts]:
        assert not clock_problems(message), message
        assert not key_problems(message), message


def test_exports_keep_the_clock(app, client, demo):
    login(client, _user("admin"))
    exported = client.get("/admin/cases/export/csv/")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) > 10
    cells = [cell for row in rows[1:] for cell in row]
    assert any(SHOWN.fullmatch(cell) for cell in cells)  # the last change, labelled
    assert not any(clock_problems(cell) or key_problems(cell) for cell in cells)
    edition = db.session.scalar(select(Objection).where(Objection.status.in_(OBJECTION_PENDING))).case.campaign
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/admin/awards/ranking/export.{fmt}?campaign={edition.id}")
        assert response.status_code == 200, fmt
        if fmt == "csv":
            text = response.get_data(as_text=True).lstrip("\ufeff")
            cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        else:
            book = load_workbook(io.BytesIO(response.data))
            values = [c.value for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
            assert not [v for v in values if isinstance(v, datetime)]  # a bare datetime cell has no zone
            cells = [str(v) for v in values]
        assert not any(clock_problems(cell) or key_problems(cell) for cell in cells), fmt


def test_a_burst_is_shown_in_the_campaigns_zone_and_given_in_rfc_3339_by_the_api(app, client, make, bearer):  # noqa: F811
    """The minute of a burst was the stored UTC minute, unlabelled, on the ballots page and in the API."""
    case = make.case("public_vote")
    case.campaign.vote_status = VOTE_OPEN
    commit()
    for n in range(30):
        voter = Voter(phone_hash=f"{n:064d}")
        db.session.add(voter)
        commit()
        cast_vote(voter.id, case.id, f"10.1.{n}.1", "Mozilla/5.0")
    commit()
    minute = datetime(2017, 5, 20, 6, 30)  # UTC: 14:30 in Shanghai
    for n, ballot in enumerate(db.session.scalars(select(Ballot).order_by(Ballot.id))):
        ballot.created_at = minute - timedelta(minutes=10 - n) if n < 5 else minute + timedelta(seconds=n)
    commit()
    organizer = make.organizer()
    report = client.get(f"/api/v1/cases/{case.id}/vote/anomalies", headers=bearer(organizer)).get_json()
    assert report["bursts"] == [["2017-05-20T06:30:00+00:00", 25]]
    login(client, organizer)
    page = visible(client.get(f"/vote-admin/cases/{case.id}").get_data(as_text=True))
    assert "2017-05-20 14:30 UTC+8 (25)" in page and not clock_problems(page)
