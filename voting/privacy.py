"""Keyed hashes for phone numbers and addresses: comparable, never reversible without the secret key."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from flask import current_app


def keyed_hash(kind: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def phone_hash(phone: str) -> str:
    return keyed_hash("phone", phone)


def ip_hash(address: str) -> str:
    return keyed_hash("ip", address)


def subnet_hash(address: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of an address, hashed: shared offices and schools group here."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return keyed_hash("net", "invalid")
    prefix = 24 if ip.version == 4 else 48
    return keyed_hash("net", str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)))


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
