"""WeChat: the share card of public pages (JS-SDK) and voting as a follower of the office's official account.

Both use the official account's credentials (``PINGXUAN_WECHAT_APPID``, ``PINGXUAN_WECHAT_SECRET``) through
``wechatpy``. The account's access token and its ``jsapi_ticket`` are kept in the shared cache (Redis in
production) and fetched again five minutes before WeChat expires them, by one process at a time: fetching a new
token invalidates the old one at WeChat, so two processes refreshing together would knock each other out.

A voter who opens the vote in WeChat signs in with the account's web authorization (``snsapi_base``: no consent
screen) and votes as the account's ``openid``, kept only as a keyed hash in the voters' table, like a number.
Ballots, limits and the integrity rules treat both kinds of voter alike; the ballot's evidence says ``wechat``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from campaigns.models import VOTE_BY_EITHER, VOTE_BY_WECHAT, Campaign
from pingxuan.cache import cache
from pingxuan.db import utcnow
from pingxuan.errors import Invalid, Unavailable
from pingxuan.extensions import db
from voting.evidence import WECHAT
from voting.models import Voter
from voting.privacy import keyed_hash

API_BASE = "https://api.weixin.qq.com/"
OPEN_BASE = "https://open.weixin.qq.com/connect/"
MARGIN = 300  # seconds before WeChat's expiry that a token or ticket is fetched anew
SHARE_APIS = ["updateAppMessageShareData", "updateTimelineShareData"]
JSSDK_ORIGIN = "https://res.wx.qq.com"  # WeChat's JS-SDK, loaded from WeChat as its documentation requires
JSSDK_URL = JSSDK_ORIGIN + "/open/js/jweixin-1.6.0.js"


def configured() -> bool:
    config = current_app.config
    return bool(config.get("WECHAT_APPID") and config.get("WECHAT_SECRET"))


def offered(campaign: Campaign, user_agent: str | None) -> bool:
    """Whether this visitor may sign in with WeChat to vote: set up, allowed by the campaign, inside WeChat."""
    return configured() and campaign.vote_identity in (VOTE_BY_WECHAT, VOTE_BY_EITHER) and in_wechat(user_agent)


def sms_allowed(campaign: Campaign) -> bool:
    """A WeChat-only campaign takes no number: its voters sign in with WeChat."""
    return campaign.vote_identity != VOTE_BY_WECHAT


@dataclass(frozen=True)
class IdentityOptions:
    wechat: bool  # offer "vote with WeChat"
    sms: bool  # offer the number and its code
    open_in_wechat: bool  # a WeChat-only vote opened elsewhere: say where to open it


def identity_options(voting: bool, user_agent: str | None) -> IdentityOptions:
    """How the verify page lets this visitor prove who they are (an objection always takes a number)."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.is_current.is_(True)))
    if campaign is None or not voting:
        return IdentityOptions(False, True, False)
    sms = sms_allowed(campaign)
    return IdentityOptions(offered(campaign, user_agent), sms, not sms and not in_wechat(user_agent))


def in_wechat(user_agent: str | None) -> bool:
    """WeChat's built-in browser says so in its user agent (and only there can the JS-SDK run)."""
    return "micromessenger" in (user_agent or "").lower()


def _base(name: str, default: str) -> str:
    value = str(current_app.config.get(name) or default)
    return value if value.endswith("/") else value + "/"


def _client(access_token: str | None = None):
    from wechatpy import WeChatClient

    config = current_app.config
    base = _base("WECHAT_API_BASE", API_BASE)

    class Client(WeChatClient):
        API_BASE_URL = base + "cgi-bin/"

        def fetch_access_token(self) -> dict:  # wechatpy names the public host here: follow the configured base
            return self._fetch_access_token(url=self.API_BASE_URL + "token", params={
                "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})  # fmt: skip

    return Client(config["WECHAT_APPID"], config["WECHAT_SECRET"], access_token=access_token, timeout=5)


def _shared(key: str, fetch) -> str:
    """A value WeChat hands out with an expiry, fetched by one process while the others wait for it."""
    appid = current_app.config["WECHAT_APPID"]
    key = f"wechat:{appid}:{key}"
    value = cache.get(key)
    if value:
        return value
    lock = key + ":refreshing"
    deadline = time.monotonic() + 8
    while not cache.add(lock, 1, timeout=10):  # another process is fetching it: wait for its result
        time.sleep(0.1)
        value = cache.get(key)
        if value:
            return value
        if time.monotonic() > deadline:
            raise Unavailable(_("WeChat did not answer in time. Please try again."))
    try:
        value = cache.get(key)
        if value:
            return value
        value, expires_in = fetch()
        cache.set(key, value, timeout=max(60, int(expires_in) - MARGIN))
        return value
    finally:
        cache.delete(lock)


def access_token() -> str:
    def fetch() -> tuple[str, int]:
        result = _client().fetch_access_token()
        return result["access_token"], result.get("expires_in", 7200)

    return _shared("access_token", fetch)


def jsapi_ticket() -> str:
    def fetch() -> tuple[str, int]:
        result = _client(access_token()).jsapi.get_ticket("jsapi")
        return result["ticket"], result.get("expires_in", 7200)

    return _shared("jsapi_ticket", fetch)


def js_config(url: str) -> dict[str, Any] | None:
    """``wx.config``'s arguments for the page at ``url`` (without its fragment), or None when WeChat is not set up
    or does not answer: the page then works as anywhere else, without the share card."""
    if not configured():
        return None
    from wechatpy.exceptions import WeChatException
    from wechatpy.utils import WeChatSigner

    try:
        ticket = jsapi_ticket()
    except (WeChatException, Unavailable, OSError) as error:
        current_app.logger.warning("WeChat JS-SDK not configured for this page: %s", error)
        return None
    nonce, timestamp = secrets.token_hex(8), int(time.time())
    signer = WeChatSigner(delimiter=b"&")  # sha1 of the fields sorted by name, as the JS-SDK's appendix says
    signer.add_data(f"noncestr={nonce}", f"jsapi_ticket={ticket}", f"timestamp={timestamp}", f"url={url.split('#')[0]}")
    signature = signer.signature
    return {"appId": current_app.config["WECHAT_APPID"], "timestamp": timestamp, "nonceStr": nonce,
            "signature": signature, "jsApiList": SHARE_APIS}  # fmt: skip


# Voting as a follower ---------------------------------------------------------------------------------------


def authorize_url(redirect_uri: str, state: str) -> str:
    from wechatpy.oauth import WeChatOAuth

    config = current_app.config
    oauth = WeChatOAuth(config["WECHAT_APPID"], config["WECHAT_SECRET"], redirect_uri, "snsapi_base", state)
    oauth.OAUTH_BASE_URL = _base("WECHAT_OPEN_BASE", OPEN_BASE)
    return oauth.authorize_url


def voter_for_code(code: str) -> Voter:
    """The voter of the WeChat user that web authorization returned ``code`` for (made on first sign-in)."""
    from wechatpy.exceptions import WeChatException
    from wechatpy.oauth import WeChatOAuth

    if not configured():
        raise Invalid(_("Voting with WeChat is not set up."))
    config = current_app.config
    oauth = WeChatOAuth(config["WECHAT_APPID"], config["WECHAT_SECRET"], "", "snsapi_base")
    oauth.API_BASE_URL = _base("WECHAT_API_BASE", API_BASE)
    try:
        openid = oauth.fetch_access_token(code)["openid"]
    except (WeChatException, OSError, KeyError) as error:
        current_app.logger.info("WeChat web authorization refused: %s", error)
        raise Invalid(_("WeChat did not confirm who you are. Please try again.")) from error
    hashed = keyed_hash("wechat", openid)  # its own domain of hashes: never equal to a number's
    voter = db.session.scalar(select(Voter).where(Voter.phone_hash == hashed))
    if voter is None:
        voter = Voter(phone_hash=hashed)
        db.session.add(voter)
    voter.verified_at, voter.phone_class = utcnow(), WECHAT
    db.session.flush()
    return voter
