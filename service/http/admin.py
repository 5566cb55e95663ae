"""The admin token: what shows readers' data is closed without it, and absent when none is configured.

A request proves it with `Authorization: Bearer <token>`, or with the cookie a browser gets by signing in once
(`sign_in_cookie`). The cookie holds a keyed digest of the token, never the token; both are compared in constant
time, and neither is ever read from a query string (proxies log URLs) or written to a log.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from service.http.deps import SettingsDep
from service.settings import ServiceSettings

COOKIE = "casebook_admin"
COOKIE_SECONDS = 12 * 3600  # a signed-in browser signs in again after half a day


def session_value(token: str) -> str:
    """What the sign-in cookie holds: derived from the token, so the cookie alone never reveals it."""
    return hmac.new(token.encode(), b"casebook admin session", hashlib.sha256).hexdigest()


def is_admin(request: Request, token: str) -> bool:
    """Whether the request carries the admin token (bearer) or the signed-in cookie."""
    scheme, _, offered = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and offered:
        return hmac.compare_digest(offered.strip().encode(), token.encode())
    cookie = request.cookies.get(COOKIE)
    return cookie is not None and hmac.compare_digest(cookie.encode(), session_value(token).encode())


def configured_token(settings: ServiceSettings) -> str:
    """The admin token; without one what it guards does not exist (404)."""
    if settings.admin_token is None:
        raise HTTPException(404, detail="Not Found")
    return settings.admin_token.get_secret_value()


async def require_admin(request: Request, settings: SettingsDep) -> None:
    """404 when no admin token is configured (the page does not exist), 401 without the right token."""
    if not is_admin(request, configured_token(settings)):
        raise HTTPException(401, detail="the admin token is required", headers={"WWW-Authenticate": "Bearer"})


AdminDep = Annotated[None, Depends(require_admin)]
