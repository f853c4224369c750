"""A local stand-in for WeChat's official-account endpoints, speaking their documented protocol.

``wechatpy`` (voting/wechat.py) talks to it through the configured base URLs: the access token
(``/cgi-bin/token``), the JS-SDK ticket (``/cgi-bin/ticket/getticket``), web authorization
(``/connect/oauth2/authorize``, which for ``snsapi_base`` redirects straight back with a code, as WeChat does
without a consent screen) and the code's exchange for the user's ``openid`` (``/sns/oauth2/access_token``).
Each checks the app id, the secret, the token or the code as WeChat does, and answers with WeChat's documented
bodies (``errcode``/``errmsg`` on errors); ``valid_signature`` checks a page's ``wx.config`` against the ticket
it issued, as WeChat's client does (sha1 of the fields sorted by name).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

APPID, SECRET = "wx5f0a1c2b3d4e5f60", "test-wechat-secret"


@dataclass
class FakeWeChat:
    openid: str = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"  # who the next web authorization signs in
    tokens_issued: int = 0
    tickets_issued: int = 0
    codes: dict[str, str] = field(default_factory=dict)
    token: str = ""
    ticket: str = ""
    url: str = ""

    def start(self) -> FakeWeChat:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def wsgi(self, environ, start_response):
        return self.handle(Request(environ))(environ, start_response)

    @staticmethod
    def _json(body: dict) -> Response:
        return Response(json.dumps(body), content_type="application/json")

    def handle(self, request: Request) -> Response:
        args = request.args
        if request.path == "/cgi-bin/token":
            if args.get("grant_type") != "client_credential":
                return self._json({"errcode": 40002, "errmsg": "invalid grant_type"})
            if args.get("appid") != APPID or args.get("secret") != SECRET:
                return self._json({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
            self.tokens_issued += 1
            self.token = f"ACCESS_TOKEN_{self.tokens_issued}_{secrets.token_hex(8)}"  # the old one stops working
            return self._json({"access_token": self.token, "expires_in": 7200})
        if request.path == "/cgi-bin/ticket/getticket":
            if not self.token or args.get("access_token") != self.token:
                return self._json({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
            if args.get("type") != "jsapi":
                return self._json({"errcode": 40097, "errmsg": "invalid args"})
            self.tickets_issued += 1
            self.ticket = f"TICKET_{self.tickets_issued}_{secrets.token_hex(8)}"
            return self._json({"errcode": 0, "errmsg": "ok", "ticket": self.ticket, "expires_in": 7200})
        if request.path == "/connect/oauth2/authorize":
            if args.get("appid") != APPID or args.get("response_type") != "code":
                return Response("appid or response_type invalid", status=400)
            if args.get("scope") != "snsapi_base":
                return Response("scope not allowed for this test account", status=400)
            code = secrets.token_hex(12)
            self.codes[code] = self.openid
            back = args["redirect_uri"] + "?" + urlencode({"code": code, "state": args.get("state", "")})
            return Response(status=302, headers={"Location": back})
        if request.path == "/sns/oauth2/access_token":
            if args.get("appid") != APPID or args.get("secret") != SECRET:
                return self._json({"errcode": 40125, "errmsg": "invalid appsecret"})
            openid = self.codes.pop(args.get("code", ""), None)  # a code works once
            if openid is None or args.get("grant_type") != "authorization_code":
                return self._json({"errcode": 40029, "errmsg": "invalid code"})
            return self._json(
                {
                    "access_token": secrets.token_hex(16),
                    "expires_in": 7200,
                    "refresh_token": secrets.token_hex(16),
                    "openid": openid,
                    "scope": "snsapi_base",
                }
            )
        return self._json({"errcode": 40066, "errmsg": "invalid url"})

    def valid_signature(self, config: dict, url: str) -> bool:
        fields = {"jsapi_ticket": self.ticket, "noncestr": config["nonceStr"], "timestamp": str(config["timestamp"]),
                  "url": url.split("#")[0]}  # fmt: skip
        text = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))
        return config["appId"] == APPID and hashlib.sha1(text.encode()).hexdigest() == config["signature"]
