"""Keyed hashes for phone numbers and addresses: comparable, never reversible without the secret key."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from functools import cache

from flask import current_app


def keyed_hash(kind: str, value: str) -> str:
    keyed = _keyed(current_app.config["SECRET_KEY"]).copy()  # a copy skips preparing the key: a vote hashes five
    keyed.update(f"{kind}:{value}".encode())
    return keyed.hexdigest()


@cache
def _keyed(secret_key: str) -> hmac.HMAC:
    return hmac.new(secret_key.encode(), digestmod=hashlib.sha256)


def phone_hash(phone: str) -> str:
    return keyed_hash("phone", phone)


def ip_hash(address: str) -> str:
    return keyed_hash("ip", address)


def _network(address: str, v4_prefix: int, v6_prefix: int) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return keyed_hash("net", "invalid")
    prefix, width = (v4_prefix, 32) if ip.version == 4 else (v6_prefix, 128)
    first = int(ip) >> (width - prefix) << (width - prefix)  # the network's first address, as ip_network names it
    return keyed_hash("net", f"{ipaddress.ip_address(first) if width == 32 else ipaddress.IPv6Address(first)}/{prefix}")


def subnet_hash(address: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of an address, hashed: one office, school or home line."""
    return _network(address, 24, 64)


def network_hash(address: str) -> str:
    """The /16 (IPv4) or /48 (IPv6) network of an address, hashed: a farm spread over many /24s groups here."""
    return _network(address, 16, 48)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
