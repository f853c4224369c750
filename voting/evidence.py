"""The evidence a ballot carries, computed from the request and the voter row without extra queries.

Everything that identifies a person is a keyed hash (voting.privacy); the phone number's segment class is
taken at verification and kept without the number. The detection rules (voting.integrity) read only these
columns, so an organizer can show which facts struck a ballot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from voting.privacy import address_hashes

MOBILE, VIRTUAL, IOT = "mobile", "virtual", "iot"
WECHAT = "wechat"  # not a number: a follower of the official account, signed in by WeChat (voting.wechat)
# Mobile virtual network operators' segments (虚拟运营商号段) and the IoT / data-only 14x segments.
VIRTUAL_PREFIXES = ("170", "171", "162", "165", "167")
IOT_PREFIX = "14"

_AUTOMATION = re.compile(
    r"headless|phantomjs|selenium|webdriver|puppeteer|playwright|electron|python-requests|python-urllib|aiohttp|"
    r"httpx|curl/|wget/|go-http-client|okhttp|java/|node-fetch|axios|scrapy|bot\b|spider|crawler",
    re.IGNORECASE,
)
_FAMILIES = (  # first match wins: in-app browsers before the engines they embed
    ("wechat", re.compile(r"MicroMessenger", re.I)),
    ("alipay", re.compile(r"AlipayClient", re.I)),
    ("qq", re.compile(r"\bMQQBrowser|QQ/", re.I)),
    ("edge", re.compile(r"Edg/", re.I)),
    ("chrome", re.compile(r"Chrome/|CriOS/", re.I)),
    ("firefox", re.compile(r"Firefox/|FxiOS/", re.I)),
    ("safari", re.compile(r"Safari/", re.I)),
)


def phone_class(phone: str) -> str:
    """The segment class of a normalized mainland mobile number: virtual operator, IoT (14x) or mobile."""
    if phone.startswith(VIRTUAL_PREFIXES):
        return VIRTUAL
    if phone.startswith(IOT_PREFIX):
        return IOT
    return MOBILE


def user_agent_family(user_agent: str) -> tuple[str, bool]:
    """(family, automated): headless browsers, automation drivers and HTTP libraries are flagged. A crowd sends
    a few hundred distinct strings, so each ordinary one is matched against the patterns once per process."""
    ua = user_agent or ""
    return _known_family(ua) if len(ua) <= 512 else _family(ua)


@lru_cache(maxsize=4096)
def _known_family(ua: str) -> tuple[str, bool]:
    return _family(ua)


def _family(ua: str) -> tuple[str, bool]:
    if not ua.strip():
        return "none", True  # every real browser sends one
    automated = bool(_AUTOMATION.search(ua))
    for family, pattern in _FAMILIES:
        if pattern.search(ua):
            return ("headless" if automated else family), automated
    return ("script" if automated else "other"), automated


def referrer_host(referrer: str | None) -> str:
    try:
        return (urlsplit(referrer or "").hostname or "")[:100]
    except ValueError:
        return ""


@dataclass(frozen=True)
class RequestEvidence:
    """What one vote request tells about itself; the voter-side evidence is added by the insert."""

    ip_hash: str
    subnet_hash: str
    network_hash: str
    user_agent: str
    ua_family: str
    automated: bool
    referrer_host: str

    def values(self) -> dict:
        return {
            "ip_hash": self.ip_hash, "subnet_hash": self.subnet_hash, "network_hash": self.network_hash,
            "user_agent": self.user_agent, "ua_family": self.ua_family, "automated": self.automated,
            "referrer_host": self.referrer_host,
        }  # fmt: skip


def from_request(address: str, user_agent: str, referrer: str | None) -> RequestEvidence:
    family, automated = user_agent_family(user_agent)
    return RequestEvidence(*address_hashes(address), (user_agent or "")[:300], family, automated,
                           referrer_host(referrer))  # fmt: skip
