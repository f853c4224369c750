"""A mail server for tests: accepts every message over SMTP and keeps it, the stand-in for the recipients'
mailboxes (the ``smtp`` mail backend talks to it like to a real server)."""

from __future__ import annotations

import email
import socketserver
import threading
from email.message import EmailMessage
from email.policy import default


class _Session(socketserver.StreamRequestHandler):
    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:
                if line.rstrip(b"\r\n") == b".":
                    self.server.sink.received(b"".join(data))
                    data = None
                    self.reply("250 queued")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-sink")
                self.reply("250 8BITMIME")
            elif verb == b"DATA":
                data = []
                self.reply("354 end with a dot")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Session)
        self._server.daemon_threads = True
        self._server.sink = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def received(self, raw: bytes) -> None:
        with self._lock:
            self.messages.append(email.message_from_bytes(raw, policy=default))

    def texts(self, recipient: str) -> list[str]:
        with self._lock:
            return [m.get_body(("plain",)).get_content() for m in self.messages if m["To"] == recipient]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
