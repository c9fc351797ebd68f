"""Who may reach the dashboard: the bind policy, the token, and the read-only method guard.

The dashboard shows every finding of every audited database, so by default it listens on the
loopback interface only. Listening anywhere else needs a shared secret, ``PGAUDIT_SERVE_TOKEN``:
every request must then carry it, as ``Authorization: Bearer TOKEN`` (scripts) or as the
password of HTTP Basic authentication (a browser asks for it; the user name is ignored). The
token is compared in constant time. Whatever the bind, only GET and HEAD are answered: there is
nothing to write.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pgaudit.errors import PgauditError

TOKEN_ENV = "PGAUDIT_SERVE_TOKEN"
READ_METHODS = frozenset({"GET", "HEAD"})
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_local(host: str) -> bool:
    """A loopback address or name: only this machine can connect."""
    name = host.strip().strip("[]").lower()
    if name in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token (PgauditError, one line)."""
    if not host.strip():
        raise PgauditError("--host is empty; use 127.0.0.1 (the default) or an address")
    if token is not None and not token.strip():
        raise PgauditError(f"{TOKEN_ENV} is set but empty; set a long random secret")
    if not is_local(host) and token is None:
        raise PgauditError(
            f"refusing to listen on {host}: beyond this machine the dashboard needs a token "
            f"(set {TOKEN_ENV} to a long random secret; clients send it as a bearer token or "
            "as the Basic password)")


def authorised(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries the token, as Bearer or as a Basic password."""
    if not header:
        return False
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        given = value
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        _user, sep, given = decoded.partition(":")
        if not sep:
            return False
    else:
        return False
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


class Guard:
    """ASGI middleware: GET and HEAD only (405 otherwise), and the token when one is set."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return  # no websockets: nothing here streams
        if scope["method"] not in READ_METHODS:
            await _plain(send, 405, "read-only: only GET and HEAD are answered",
                         [(b"allow", b"GET, HEAD")], head=False)
            return
        if self.token is not None:
            header = dict(scope.get("headers") or []).get(b"authorization")
            text = header.decode("latin-1") if header is not None else None
            if not authorised(text, self.token):
                await _plain(send, 401, f"a token is required ({TOKEN_ENV})",
                             [(b"www-authenticate", b'Basic realm="pgaudit", charset="UTF-8"')],
                             head=scope["method"] == "HEAD")
                return
        await self.app(scope, receive, send)


async def _plain(send: Send, status: int, text: str,
                 headers: list[tuple[bytes, bytes]], head: bool) -> None:
    body = (text + "\n").encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]})
    await send({"type": "http.response.body", "body": b"" if head else body})
