"""The vote sent by the page's script, answered before Flask's request machinery (issue 19).

A vote is the one request the public sends by the thousand a minute. Sent by the page's script it carries its
credential in ``X-Voter-Token`` and wants JSON, so it needs no session, no CSRF check, no user, no template:
what is left is the token's signature, the two limits (one Redis round trip) and the one statement that checks
every rule and writes the ballot and its count (voting.ballots). This WSGI layer does exactly that, in an app
context, with the same functions the view calls, and answers the accepted vote itself.

A vote a rule refuses (already voted today, the day's votes used, the vote closed) is answered here too, with the
view's JSON: the rule's message in the voter's language and the same status. Anything else goes to Flask
unchanged: another request, a vote without a valid token, SQLite (no one-statement vote) or a breached limit
(the captcha's escalation). Their limits were counted here, so the view does not count them again
(``abuse.COUNTED_ENVIRON``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus

from babel.support import Translations
from flask import Flask
from flask_babel import force_locale, get_translations

from pingxuan import logs, metrics
from pingxuan.i18n import EN, LANGUAGE_COOKIE, ZH
from voting import abuse
from voting.ballots import Refusal
from voting.operations import fast_public_vote, refused_vote, voter_from_token
from voting.views import accepted_answer

_VOTE_PATH = re.compile(r"^/showcase/cases/([1-9][0-9]{0,9})/vote$")
_LANG = re.compile(r"(?:^|&)lang=(en|zh)(?:&|$)")
_CHOSEN = re.compile(rf"(?:^|;)\s*{LANGUAGE_COOKIE}=\"?({EN}|{ZH})\"?\s*(?:;|$)")
ENDPOINT = "showcase.vote"


class VoteFastPath:
    """WSGI middleware around ``app.wsgi_app``; ``headers`` are the security headers every answer carries."""

    def __init__(self, app: Flask, wsgi_app: Callable, headers: list[tuple[str, str]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.headers = [*headers, ("Content-Type", "application/json")]
        self._catalogues: dict[str, Translations] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and "HTTP_X_VOTER_TOKEN" in environ:
            match = _VOTE_PATH.match(environ.get("PATH_INFO", ""))
            if match and "application/json" in environ.get("HTTP_ACCEPT", ""):
                answered = self._vote(environ, int(match.group(1)))
                if answered is not None:
                    status, answer = answered
                    start_response(status, [*self.headers, ("Content-Length", str(len(answer))),
                                            ("X-Request-ID", logs.REQUEST_ID.get())])  # fmt: skip
                    return [answer]
        return self.wsgi_app(environ, start_response)

    def _vote(self, environ: dict, case_id: int) -> tuple[str, bytes] | None:
        started = time.perf_counter()
        app = self.app
        if app.config.get("SQLALCHEMY_DATABASE_URI", "").startswith("sqlite"):
            return None
        with app.app_context():
            voter_id = voter_from_token(environ["HTTP_X_VOTER_TOKEN"])
            abuse.remember_voter(environ, voter_id)
            if voter_id is None:
                return None
            address = abuse.address_of(environ)
            if app.config.get("RATELIMIT_ENABLED", True):
                counted = abuse.count_vote_limits(voter_id, address)
                environ[abuse.COUNTED_ENVIRON] = counted
                if counted.breached:
                    return None
            result = fast_public_vote(voter_id, case_id, address, environ.get("HTTP_USER_AGENT", ""),
                                      environ.get("HTTP_REFERER"))  # fmt: skip
            if result is None:  # SQLite, or every attempt lost a race: the view decides
                return None
            logs.REQUEST_ID.set(logs.new_request_id(environ.get("HTTP_X_REQUEST_ID")))
            locale = self._locale(environ)
            if isinstance(result, Refusal):
                with force_locale(locale):
                    error = refused_vote(result)
                    status, body = f"{error.status} {HTTPStatus(error.status).phrase}", error.to_dict()
            else:
                status, body = "200 OK", accepted_answer(result, self._words(locale))
        metrics.REQUEST_SECONDS.labels(ENDPOINT, "POST").observe(time.perf_counter() - started)
        return status, json.dumps(body, separators=(",", ":")).encode() + b"\n"

    def _words(self, locale: str) -> Translations:
        """The language's catalogue, looked up once (Babel's locale switch costs more than the rest of the
        answer); the words are the view's (voting.views), so either path answers alike."""
        words = self._catalogues.get(locale)
        if words is None:
            with force_locale(locale):
                words = self._catalogues[locale] = get_translations()
        return words

    @staticmethod
    def _locale(environ: dict) -> str:
        """The page's language: its URL's ``lang`` (the script votes at the URL the page gave it), else the
        language this browser chose (pingxuan.i18n keeps the choice in a cookie too), else Chinese."""
        found = _LANG.search(environ.get("QUERY_STRING", ""))
        if found:
            return EN if found.group(1) == "en" else ZH
        chosen = _CHOSEN.search(environ.get("HTTP_COOKIE", ""))
        return chosen.group(1) if chosen else ZH
