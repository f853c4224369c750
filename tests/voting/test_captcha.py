"""The vote's escalation captcha as a script would meet it (issue 18).

The self-made captcha drew its five digits as stroke-font polylines in the SVG source: a script that fits each
group of strokes to the font read 20 of 20 challenges. The captcha is now ALTCHA, a proof of work: the markup
holds no answer, a client must spend the work (here a brute force in Python, as a real client does), and each
solved challenge earns exactly one pass, once, before it expires.
"""

from __future__ import annotations

import base64
import json
import re
import time

import pytest

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from pingxuan.extensions import db
from pingxuan.paths import PROJECT_ROOT
from tests import altcha_client
from tests.cases.browsing import english_client
from tests.races import parallel
from voting.models import Ballot, Voter
from voting.operations import voter_token

FINALIST = "public_vote"
VENDORED = {  # pingxuan/static/vendor/altcha/<name>: node_modules/altcha/<path>
    "altcha.min.js": "dist/external/altcha.min.js",  # the build with no worker or style inside (strict CSP)
    "altcha.css": "dist/external/altcha.css",
    "pbkdf2.js": "dist/workers/pbkdf2.js",
    "sha.js": "dist/workers/sha.js",
    "zh-cn.js": "dist/i18n/zh-cn.js",
    "LICENSE.txt": "LICENSE.txt",
}

# The stroke font the self-made captcha drew with (x right, y down on a 0..1 grid), as an attacker copies it.
FONT = {
    "0": [[(0.2, 0.05), (0.8, 0.05), (0.8, 0.95), (0.2, 0.95), (0.2, 0.05)]],
    "1": [[(0.3, 0.2), (0.55, 0.05), (0.55, 0.95)], [(0.3, 0.95), (0.8, 0.95)]],
    "2": [[(0.2, 0.15), (0.5, 0.05), (0.8, 0.2), (0.8, 0.45), (0.2, 0.95), (0.85, 0.95)]],
    "3": [[(0.2, 0.05), (0.8, 0.05), (0.45, 0.45), (0.8, 0.6), (0.75, 0.9), (0.2, 0.95)]],
    "4": [[(0.7, 0.95), (0.7, 0.05), (0.15, 0.65), (0.9, 0.65)]],
    "5": [[(0.8, 0.05), (0.25, 0.05), (0.2, 0.45), (0.75, 0.5), (0.8, 0.85), (0.2, 0.95)]],
    "6": [[(0.75, 0.05), (0.25, 0.4), (0.2, 0.95), (0.8, 0.95), (0.8, 0.55), (0.22, 0.55)]],
    "7": [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)], [(0.35, 0.5), (0.75, 0.5)]],
    "8": [[(0.25, 0.05), (0.75, 0.05), (0.75, 0.45), (0.25, 0.45), (0.25, 0.05)],
          [(0.2, 0.45), (0.8, 0.45), (0.8, 0.95), (0.2, 0.95), (0.2, 0.45)]],
    "9": [[(0.78, 0.45), (0.2, 0.45), (0.2, 0.05), (0.8, 0.05), (0.8, 0.6), (0.3, 0.95)]],
}  # fmt: skip


def _fit(observed: list[complex], template: list[complex]) -> float:
    """Residual of the best similarity transform (shift, scale, rotation) taking ``template`` onto ``observed``."""
    n = len(template)
    mean_t, mean_o = sum(template) / n, sum(observed) / n
    t = [z - mean_t for z in template]
    o = [z - mean_o for z in observed]
    b = sum(oo * tt.conjugate() for oo, tt in zip(o, t, strict=True)) / (sum(abs(tt) ** 2 for tt in t) or 1)
    return sum(abs(oo - b * tt) ** 2 for oo, tt in zip(o, t, strict=True))


def read_svg(page: str) -> str:
    """The digits a script reads from the captcha's markup: glyph strokes are the round-capped polylines; each
    group of strokes near one fifth of the width is fitted to every digit of the font, the best fit wins."""
    strokes = []
    for path in re.findall(r"<path [^>]*>", page):
        if 'stroke-linecap="round"' not in path:
            continue  # the noise curves
        drawn = re.search(r'd="([^"]*)"', path)
        pairs = re.findall(r"(-?[\d.]+),(-?[\d.]+)", drawn[1] if drawn else "")
        points = [complex(float(x), float(y)) for x, y in pairs]
        strokes.append(points)
    if not strokes:
        return ""
    step = (200 - 16) / 5
    glyphs: dict[int, list[list[complex]]] = {}
    for points in strokes:
        centre = sum(p.real for p in points) / len(points)
        glyphs.setdefault(min(4, max(0, int((centre - 8) // step))), []).append(points)
    answer = ""
    for index in sorted(glyphs):
        best, best_error = "?", float("inf")
        group = sorted(glyphs[index], key=len, reverse=True)
        for digit, lines in FONT.items():
            lines = sorted(lines, key=len, reverse=True)
            if [len(line) for line in lines] != [len(points) for points in group]:
                continue
            observed = [p for points in group for p in points]
            template = [complex((x - 0.5) * 0.6, y - 0.5) for line in lines for x, y in line]
            error = _fit(observed, template)
            if error < best_error:
                best, best_error = digit, error
        answer += best
    return answer


def _campaign_and_finalists(make, n: int):
    campaign = make.campaign()
    campaign.vote_status = VOTE_OPEN
    commit()
    return [make.case(FINALIST) for _ in range(n)]


def _voter(client) -> None:
    voter = Voter(phone_hash="7" * 64)
    db.session.add(voter)
    commit()
    with client.session_transaction() as session:
        session["voter_id"] = voter.id


def _vote(client, case) -> int:
    return client.post(f"/showcase/cases/{case.id}/vote", headers={"Accept": "application/json"}).status_code


def test_a_script_reading_the_captcha_markup_earns_no_pass(app, make):
    """Before: the digits were polylines in the SVG, and reading them earned a pass for one more vote."""
    finalists = _campaign_and_finalists(make, 6)
    app.config.update(VOTE_LIMIT_IP="1 per minute")
    client = english_client(app)
    _voter(client)
    assert _vote(client, finalists[0]) == 200
    after_reading = []
    for case in finalists[1:]:
        assert _vote(client, case) == 429  # the address's limit: the captcha is asked
        answer = read_svg(client.get("/showcase/captcha").get_data(as_text=True))
        client.post("/showcase/captcha", data={"answer": answer, "altcha": answer})
        after_reading.append(_vote(client, case))
    assert after_reading == [429] * 5
    assert Ballot.query.count() == 1


@pytest.fixture
def easy(app):
    """A cheap proof of work, so the Python client solves in well under a second."""
    app.config.update(CAPTCHA_COST=50, CAPTCHA_MAX_NUMBER=300, VOTE_LIMIT_IP="1 per minute")


def _stopped_voter(app, make, n: int):
    """A verified voter whose address has used its one vote this minute, and ``n`` more finalists to vote for."""
    finalists = _campaign_and_finalists(make, n + 1)
    client = english_client(app)
    _voter(client)
    assert _vote(client, finalists[0]) == 200
    assert _vote(client, finalists[1]) == 429
    return client, finalists[1:]


def test_a_client_that_does_the_work_earns_exactly_one_pass(app, make, easy):
    client, finalists = _stopped_voter(app, make, 2)
    page = client.get("/showcase/captcha").get_data(as_text=True)
    assert "<altcha-widget" in page and "<svg" not in page.split("<altcha-widget", 1)[0]
    challenge = client.get("/showcase/captcha/challenge")
    assert challenge.headers["Cache-Control"] == "private, no-store"
    challenge = challenge.get_json()
    assert challenge["parameters"]["algorithm"] == "PBKDF2/SHA-256" and challenge["signature"]
    solution = altcha_client.solve(challenge)
    assert 150 <= solution["counter"] <= 300  # the work asked: between half of CAPTCHA_MAX_NUMBER and it
    solved = client.post(
        "/showcase/captcha",
        data={"altcha": altcha_client.payload(challenge, solution), "next": f"/showcase/cases/{finalists[0].id}"},
    )
    assert solved.status_code == 302 and solved.headers["Location"] == f"/showcase/cases/{finalists[0].id}"
    assert [_vote(client, finalists[0]), _vote(client, finalists[1])] == [200, 429]  # one pass, one vote
    assert Ballot.query.count() == 2


def test_a_solved_challenge_is_refused_the_second_time(app, make, easy):
    client, finalists = _stopped_voter(app, make, 2)
    challenge = client.get("/showcase/captcha/challenge").get_json()
    solved = altcha_client.payload(challenge)
    assert client.post("/showcase/captcha", data={"altcha": solved}).status_code == 302
    assert _vote(client, finalists[0]) == 200
    replay = client.post("/showcase/captcha", data={"altcha": solved})
    assert replay.status_code == 422 and "did not succeed or has expired" in replay.get_data(as_text=True)
    assert client.post("/api/v1/captcha", json={"payload": solved}).status_code == 422  # nor through the API
    assert _vote(client, finalists[1]) == 429
    assert Ballot.query.count() == 2


def test_an_expired_challenge_is_refused(app, make, easy):
    app.config.update(CAPTCHA_SECONDS=1)
    client, finalists = _stopped_voter(app, make, 1)
    challenge = client.get("/showcase/captcha/challenge").get_json()
    solved = altcha_client.payload(challenge)
    time.sleep(max(0.0, challenge["parameters"]["expiresAt"] - time.time()) + 0.2)
    assert client.post("/showcase/captcha", data={"altcha": solved}).status_code == 422
    assert _vote(client, finalists[0]) == 429


def _forged(challenge: dict, **changes) -> dict:
    return {"parameters": challenge["parameters"] | changes, "signature": challenge["signature"]}


def test_a_changed_or_foreign_challenge_is_refused(app, make, easy):
    client, finalists = _stopped_voter(app, make, 1)
    challenge = client.get("/showcase/captcha/challenge").get_json()
    solution = altcha_client.solve(challenge)
    later = _forged(challenge, expiresAt=challenge["parameters"]["expiresAt"] + 3600)
    wrong = {"counter": solution["counter"] + 1, "derivedKey": altcha_client.derive(challenge["parameters"], 1).hex()}
    cheap = _forged(challenge, cost=1)
    cheap = {**cheap, "parameters": cheap["parameters"] | {"keyPrefix": "0", "keySignature": None}}
    attempts = [
        altcha_client.payload(later, solution),  # a longer life than we signed
        altcha_client.payload(challenge, wrong),  # a key that is not the one asked for
        altcha_client.payload(cheap),  # an easier challenge than we signed
        base64.b64encode(json.dumps({"challenge": challenge}).encode()).decode(),  # no solution at all
        "not base64 at all",
        "",
    ]
    assert [client.post("/showcase/captcha", data={"altcha": a}).status_code for a in attempts] == [422] * 6
    assert _vote(client, finalists[0]) == 429
    app.config["SECRET_KEY"] = "another installation"
    foreign = client.get("/showcase/captcha/challenge").get_json()
    app.config["SECRET_KEY"] = "test-secret"
    assert client.post("/showcase/captcha", data={"altcha": altcha_client.payload(foreign)}).status_code == 422
    assert _vote(client, finalists[0]) == 429


def test_the_api_takes_the_payload_where_it_took_the_answer(app, make, easy):
    client, finalists = _stopped_voter(app, make, 2)

    with client.session_transaction() as session:
        token = voter_token(session["voter_id"])

    def api_vote(case) -> int:
        return client.post(f"/api/v1/showcase/cases/{case.id}/vote", headers={"X-Voter-Token": token}).status_code

    stopped = client.post(f"/api/v1/showcase/cases/{finalists[0].id}/vote")
    assert stopped.status_code == 429 and stopped.get_json()["captcha"] == "/api/v1/captcha"
    challenge = client.get("/api/v1/captcha")
    assert challenge.status_code == 200 and challenge.headers["Cache-Control"] == "private, no-store"
    challenge = challenge.get_json()
    missing = client.post("/api/v1/captcha", json={"answer": "12345"})
    assert missing.status_code == 422 and "payload" in missing.get_json()["errors"]
    assert client.post("/api/v1/captcha", json={"payload": "12345"}).status_code == 422
    assert client.post("/api/v1/captcha", json={"payload": altcha_client.payload(challenge)}).status_code == 204
    assert [api_vote(finalists[0]), api_vote(finalists[1])] == [200, 429]
    schema = client.get("/api/v1/openapi.json").get_json()
    operation = schema["paths"]["/api/v1/captcha"]["post"]
    assert "payload" in json.dumps(operation) or "CaptchaAnswer" in json.dumps(operation)
    assert "altcha: the payload" in json.dumps(schema["components"]["schemas"]["CaptchaAnswer"])
    assert "signature" in schema["components"]["schemas"]["Captcha"]["properties"]


def test_the_served_widget_is_the_npm_package_build():
    """The widget's files under static/ are the npm package's build, byte for byte, at the version package.json
    pins: after an upgrade (npm install), copy them again (README, "The vote's captcha")."""
    dist = PROJECT_ROOT / "node_modules" / "altcha"
    pinned = json.loads((PROJECT_ROOT / "package.json").read_text())["dependencies"]["altcha"]
    assert json.loads((dist / "package.json").read_text())["version"] == pinned
    vendor = PROJECT_ROOT / "pingxuan" / "static" / "vendor" / "altcha"
    for served, built in VENDORED.items():
        assert (vendor / served).read_bytes() == (dist / built).read_bytes(), served
    assert sorted(p.name for p in vendor.iterdir()) == sorted(VENDORED)


def test_one_payload_sent_by_many_clients_at_once_earns_one_pass(app, easy):
    """The used challenge is recorded by one atomic write, so parallel copies of a payload cannot all pass the
    check before any of them is recorded."""
    challenge = english_client(app).get("/api/v1/captcha").get_json()
    solved = altcha_client.payload(challenge)
    clients = [english_client(app) for _ in range(8)]

    def send(i: int) -> int:
        with app.app_context():  # each thread a server worker of its own
            return clients[i].post("/api/v1/captcha", json={"payload": solved}).status_code

    statuses = parallel(8, send)
    assert sorted(statuses) == [204] + [422] * 7
