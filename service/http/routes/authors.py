"""The authors' page (/authors) and its JSON (/api/authors): there only when CASEBOOK_ADMIN_TOKEN is set, open only
with it.

A script proves the token with `Authorization: Bearer <token>`; a browser signs in once through the page's form,
which sets an HttpOnly, SameSite=Strict cookie holding a digest of the token (Secure over https). The form's token
is read from the request body only, never from a query string, and neither it nor the cookie is logged or echoed.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from service.authors.overview import AuthorsView
from service.http.admin import COOKIE, COOKIE_SECONDS, AdminDep, configured_token, is_admin, session_value
from service.http.deps import HolderDep, LiveDep, SettingsDep

PAGES = Path(__file__).parents[1] / "pages"  # package data, served only through these routes
PRIVATE = {"Cache-Control": "no-store"}  # readers' questions: never kept by a proxy or the browser's cache
FAILED_MARK = 'id="sign-in-failed" role="alert" hidden'

router = APIRouter(include_in_schema=False)


@router.get("/authors")
def page(request: Request, settings: SettingsDep) -> Response:
    """The page once signed in; the sign-in form (401) before."""
    token = configured_token(settings)
    if not is_admin(request, token):
        return _sign_in_form(failed=False)
    return FileResponse(PAGES / "authors.html", headers=PRIVATE)


@router.post("/authors/sign-in")
async def sign_in(request: Request, settings: SettingsDep) -> Response:
    """Check the form's token and set the sign-in cookie; the form again (401) when it is wrong."""
    token = configured_token(settings)
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))  # the body: never the query string
    offered = form.get("token", [""])[0].strip()
    if not hmac.compare_digest(offered.encode(), token.encode()):
        return _sign_in_form(failed=True)
    response = RedirectResponse("/authors", status_code=303, headers=PRIVATE)
    response.set_cookie(COOKIE, session_value(token), max_age=COOKIE_SECONDS, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/authors/sign-out")
def sign_out(settings: SettingsDep) -> Response:
    """Forget the sign-in cookie."""
    configured_token(settings)
    response = RedirectResponse("/authors", status_code=303, headers=PRIVATE)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/api/authors")
async def overview(_: AdminDep, live: LiveDep, holder: HolderDep, settings: SettingsDep) -> Response:
    """Links to add, orphans, what the version changed, content gaps by week, the most asked questions."""
    view = live.derived(AuthorsView)
    found = await run_in_threadpool(view.overview, holder.store, settings.gap_log)
    return JSONResponse(asdict(found), headers=PRIVATE)


def _sign_in_form(failed: bool) -> HTMLResponse:
    html = (PAGES / "sign-in.html").read_text(encoding="utf-8")
    if failed:
        html = html.replace(FAILED_MARK, FAILED_MARK.removesuffix(" hidden"))
    return HTMLResponse(html, status_code=401, headers={**PRIVATE, "WWW-Authenticate": "Bearer"})
