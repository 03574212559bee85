"""What a subscription may point at, per channel (checked before anything is recorded)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from paygod.actions.destinations import is_public, url_errors
from paygod.kernel.errors import FieldError
from paygod.kernel.identifiers import identifier_problem
from paygod.notifications.model import Channel

# RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}$")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def target_errors(
    channel: Channel, target: object, *, allow_private: bool, dev_mode: bool
) -> list[FieldError]:
    if not isinstance(target, str):
        return [FieldError("/target", "expected a string")]
    if channel is Channel.WEBHOOK:
        return webhook_errors(target, allow_private=allow_private, dev_mode=dev_mode)
    if channel is Channel.EMAIL:
        if len(target) > 254 or not EMAIL.match(target):
            return [FieldError("/target", "expected an e-mail address such as ops@example.com")]
        return []
    problem = identifier_problem(target)
    return [FieldError("/target", f"expected a principal id: {problem}")] if problem else []


def webhook_errors(url: str, *, allow_private: bool, dev_mode: bool) -> list[FieldError]:
    """https only; http only to this machine in dev mode; a literal non-public address only
    when allowed (names are resolved and checked again at every send)."""
    errors = url_errors(url, "/target")
    if errors:
        return errors
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "http" and not (dev_mode and host in LOCAL_HOSTS):
        return [
            FieldError("/target", "webhooks must use https (http only to localhost in dev mode)")
        ]
    local = host in LOCAL_HOSTS
    if not allow_private and not (dev_mode and local):
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if local or (address is not None and not is_public(address)):
            return [
                FieldError(
                    "/target", f"{host} is not a public address (set allow_private to allow it)"
                )
            ]
    return []


def is_local(url: str) -> bool:
    try:
        return (urlsplit(url).hostname or "").lower() in LOCAL_HOSTS
    except ValueError:
        return False
