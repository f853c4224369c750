"""Keyed hashes for phone numbers and addresses: comparable, never reversible without the secret key."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from functools import cache, lru_cache

from flask import current_app


def keyed_hash(kind: str, value: str) -> str:
    return hashed(current_app.config["SECRET_KEY"], kind, value)


def hashed(secret_key: str, kind: str, value: str) -> str:
    """``keyed_hash`` with the key given: for callers that cache by key."""
    keyed = _keyed(secret_key).copy()  # a copy skips preparing the key: a vote hashes five values
    keyed.update(f"{kind}:{value}".encode())
    return keyed.hexdigest()


@cache
def _keyed(secret_key: str) -> hmac.HMAC:
    return hmac.new(secret_key.encode(), digestmod=hashlib.sha256)


def phone_hash(phone: str) -> str:
    return keyed_hash("phone", phone)


def ip_hash(address: str) -> str:
    return keyed_hash("ip", address)


def _network(address: str, v4_prefix: int, v6_prefix: int, secret_key: str) -> str:
    """The address's network, hashed: the /24 (IPv6 /64) is one office, school or home line; the /16 (IPv6 /48)
    groups a farm spread over many /24s."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return hashed(secret_key, "net", "invalid")
    prefix, width = (v4_prefix, 32) if ip.version == 4 else (v6_prefix, 128)
    first = int(ip) >> (width - prefix) << (width - prefix)  # the network's first address, as ip_network names it
    named = ipaddress.ip_address(first) if width == 32 else ipaddress.IPv6Address(first)
    return hashed(secret_key, "net", f"{named}/{prefix}")


def address_hashes(address: str) -> tuple[str, str, str]:
    """The address's own hash, its /24's (IPv6 /64) and its /16's (IPv6 /48), as a ballot records them."""
    return _address_hashes(current_app.config["SECRET_KEY"], address)


@lru_cache(maxsize=8192)
def _address_hashes(secret_key: str, address: str) -> tuple[str, str, str]:
    """Cached per process: mobile voters reach the site through a few carriers' gateways, so addresses repeat,
    and parsing and hashing one address three times showed in the vote's profile (issue 19). The cache holds
    addresses and their hashes, nothing a ballot does not already keep in hashed form."""
    return (hashed(secret_key, "ip", address), _network(address, 24, 64, secret_key),
            _network(address, 16, 48, secret_key))  # fmt: skip


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
