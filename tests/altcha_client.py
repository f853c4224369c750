"""A client of the vote's captcha as a script would write one: no browser, the ALTCHA protocol done by hand.

It fetches a challenge, tries counters from 0 until the derived key starts with the challenge's ``keyPrefix``
(the proof of work the widget's workers do), and sends the payload the widget would put in its ``altcha`` field.
Written from the protocol, not with the server's library, so a test that passes proves a real client gets through.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct

DIGESTS = {"PBKDF2/SHA-256": "sha256", "PBKDF2/SHA-384": "sha384", "PBKDF2/SHA-512": "sha512"}


def derive(parameters: dict, counter: int) -> bytes:
    password = bytes.fromhex(parameters["nonce"]) + struct.pack(">I", counter)
    digest = DIGESTS[parameters["algorithm"]]
    salt = bytes.fromhex(parameters["salt"])
    return hashlib.pbkdf2_hmac(digest, password, salt, parameters["cost"], parameters["keyLength"])


def solve(challenge: dict, limit: int = 1_000_000) -> dict:
    """The first counter whose derived key starts with the prefix: the work a client has to do."""
    parameters = challenge["parameters"]
    for counter in range(limit):
        key = derive(parameters, counter).hex()
        if key.startswith(parameters["keyPrefix"]):
            return {"counter": counter, "derivedKey": key}
    raise AssertionError(f"no solution below {limit}")


def payload(challenge: dict, solution: dict | None = None) -> str:
    """What the widget sends: base64 of the challenge as received and its solution."""
    solution = solution if solution is not None else solve(challenge)
    return base64.b64encode(json.dumps({"challenge": challenge, "solution": solution}).encode()).decode()
