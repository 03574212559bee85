"""The webhook allowlist's rules: what a destination may be and where it may resolve.

A decision names a destination by name only; the URL comes from this allowlist, which a
tenant admin keeps. A name resolving to a loopback, private, link-local or otherwise
non-public address is refused at send time (every time: DNS answers change) unless its
entry says `allow_private`, so a request cannot aim the executor at the kernel's own
network.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx

from paygod.kernel.errors import FieldError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_SECRET_CHARS = 16
MAX_TIMEOUT_SECONDS = 30.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The destination resolves to an address its entry does not allow."""


def name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not NAME.match(name):
        return "must be 1 to 64 characters of letters, digits, '.', '_' or '-'"
    return None


def url_errors(url: object, pointer: str = "/url") -> list[FieldError]:
    if not isinstance(url, str) or len(url) > 2048:
        return [FieldError(pointer, "expected an http(s) URL of at most 2048 characters")]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return [FieldError(pointer, f"not a URL: {exc}")]
    if parts.scheme not in ("http", "https"):
        return [FieldError(pointer, "the scheme must be http or https")]
    if not parts.hostname:
        return [FieldError(pointer, "the URL names no host")]
    if parts.username is not None or parts.password is not None:
        return [FieldError(pointer, "credentials in the URL are not allowed; use the secret")]
    if parts.fragment:
        return [FieldError(pointer, "a fragment is never sent; remove it")]
    if port == 0:
        return [FieldError(pointer, "port 0 is not a destination")]
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        return [FieldError(pointer, "the URL holds a space or control character")]
    return []


def is_public(address: IPAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return bool(address.is_global) and not address.is_multicast


def resolve(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """Every address `host` resolves to; AddressRefused when one is not public and the
    entry does not allow that (all are checked: the client may connect to any)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"{host} does not resolve: {exc}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise AddressRefused(f"{host} resolves to no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise AddressRefused(
                    f"{host} resolves to {address}, a non-public address "
                    "(the destination's entry does not allow private addresses)"
                )
    return addresses


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def pinned(url: str, *, allow_private: bool) -> tuple[str, str | None]:
    """Where to send a request for `url`, and the Host header to send with it (None: the
    URL's own). Every address of its host is vetted first (AddressRefused otherwise); over
    http the connection goes to the vetted address itself, Host naming the site, so a second
    DNS answer cannot send it elsewhere. Over https it connects by name: TLS checks the name."""
    parts = urlsplit(url)
    port = parts.port or default_port(parts.scheme)
    addresses = resolve(parts.hostname or "", port, allow_private=allow_private)
    if parts.scheme != "http":
        return url, None
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    vetted = urlunsplit(("http", f"{literal}:{port}", parts.path or "/", parts.query, ""))
    return vetted, parts.netloc.rsplit("@", 1)[-1]  # Host carries no user:password@


def post_pinned(
    target: str, *, allow_private: bool, body: bytes, headers: dict[str, str], timeout: float
) -> httpx.Response:
    """POST `body` to `target` at its vetted address (`pinned`), never following a redirect
    (a redirect could lead past the vetting). AddressRefused: an address it may not reach;
    httpx.HTTPError: no answer."""
    url, host = pinned(target, allow_private=allow_private)
    if host is not None:
        headers = {**headers, "Host": host}
    return httpx.post(url, content=body, headers=headers, timeout=timeout, follow_redirects=False)


def delivered(status: int) -> bool:
    """The receiver has the message: a 2xx, or 409 (it had it already)."""
    return 200 <= status < 300 or status == 409


def refused_for_good(status: int) -> bool:
    """A client error a retry would meet again; 408, 425 and 429 ask for a retry."""
    return 400 <= status < 500 and status not in (408, 425, 429)
