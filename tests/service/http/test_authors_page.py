"""/authors and /api/authors: absent without an admin token, closed without it, open by header or signed-in cookie."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from index import Embedders
from service.http.admin import COOKIE, session_value
from service.http.app import create_app
from service.settings import ServiceSettings

TOKEN = "correct-horse-battery-staple-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ROUTES = ["/authors", "/api/authors"]


@pytest.fixture(scope="module")
def app_settings(index_dir: Path) -> ServiceSettings:
    return ServiceSettings(index_dir=index_dir, admin_token=TOKEN, gap_log=None, reload_seconds=3600)


@pytest.fixture(scope="module")
def admin(app_settings: ServiceSettings, embedders: Embedders) -> Iterator[TestClient]:
    """A client over an app with an admin token, its lifespan run; tests clear its cookies before use."""
    with TestClient(create_app(app_settings, embedders)) as test_client:
        yield test_client


@pytest.fixture
def fresh(admin: TestClient) -> TestClient:
    admin.cookies.clear()
    return admin


def sign_in(client: TestClient, token: str = TOKEN) -> httpx.Response:
    return client.post("/authors/sign-in", data={"token": token}, follow_redirects=False)


@pytest.mark.parametrize("route", [*ROUTES, "/authors/sign-in", "/authors/sign-out"])
def test_without_a_configured_token_the_page_does_not_exist(client: TestClient, route: str) -> None:
    response = client.post(route) if "sign" in route else client.get(route, headers=BEARER)
    assert response.status_code == 404


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-the-token-at-all-0123456789"},
                                     {"Cookie": f"{COOKIE}={TOKEN}"}, {"Cookie": f"{COOKIE}=forged"}])
def test_no_token_or_a_wrong_one_is_a_401_that_never_echoes_it(fresh: TestClient, route: str,
                                                               headers: dict[str, str]) -> None:
    response = fresh.get(route, headers=headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in response.text and "not-the-token" not in response.text


def test_the_closed_page_is_the_sign_in_form_and_the_json_says_why(fresh: TestClient) -> None:
    page = fresh.get("/authors")
    assert page.headers["content-type"].startswith("text/html") and page.headers["cache-control"] == "no-store"
    assert '<form method="post" action="/authors/sign-in">' in page.text and 'type="password"' in page.text
    assert 'id="sign-in-failed" role="alert" hidden' in page.text
    assert fresh.get("/api/authors").json() == {"detail": "the admin token is required"}


@pytest.mark.parametrize("route", ROUTES)
def test_the_token_in_a_query_string_is_never_accepted(fresh: TestClient, route: str) -> None:
    assert fresh.get(route, params={"token": TOKEN, "admin_token": TOKEN}).status_code == 401
    assert sign_in(fresh, "").status_code == 401
    assert fresh.post("/authors/sign-in", params={"token": TOKEN}, follow_redirects=False).status_code == 401


def test_the_right_token_by_header_opens_the_page_and_its_json(fresh: TestClient) -> None:
    page = fresh.get("/authors", headers=BEARER)
    assert page.status_code == 200 and '<script src="/static/authors.js" defer></script>' in page.text
    report = fresh.get("/api/authors", headers=BEARER)
    assert report.status_code == 200 and report.headers["cache-control"] == "no-store"
    assert set(report.json()) == {"version", "articles", "crosslinks", "change", "gap_log", "weeks", "unanswered",
                                  "gaps", "most_asked"}


def test_a_wrong_token_in_the_form_shows_the_form_again_saying_so(fresh: TestClient) -> None:
    response = sign_in(fresh, "not-the-token-at-all-0123456789")
    assert response.status_code == 401 and "set-cookie" not in response.headers
    assert 'id="sign-in-failed" role="alert">That is not the admin token.' in response.text
    assert "not-the-token-at-all" not in response.text


def test_signing_in_sets_an_httponly_strict_cookie_holding_a_digest_not_the_token(fresh: TestClient) -> None:
    response = sign_in(fresh)
    assert response.status_code == 303 and response.headers["location"] == "/authors"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={session_value(TOKEN)};") and TOKEN not in cookie
    assert {"HttpOnly", "SameSite=strict", "Path=/", "Max-Age=43200"} <= {p.strip() for p in cookie.split(";")}
    assert "Secure" not in cookie  # over plain http a Secure cookie would never come back
    assert fresh.get("/authors").status_code == 200 and fresh.get("/api/authors").status_code == 200


def test_over_https_the_cookie_is_secure(app_settings: ServiceSettings, embedders: Embedders) -> None:
    with TestClient(create_app(app_settings, embedders), base_url="https://casebook.example") as secure:
        assert "Secure" in {p.strip() for p in sign_in(secure).headers["set-cookie"].split(";")}


def test_signing_out_forgets_the_cookie(fresh: TestClient) -> None:
    sign_in(fresh)
    response = fresh.post("/authors/sign-out", follow_redirects=False)
    assert response.status_code == 303 and f'{COOKIE}=""' in response.headers["set-cookie"]
    assert fresh.get("/authors").status_code == 401


def test_the_token_never_reaches_the_access_log(fresh: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="casebook.access")
    fresh.get("/authors", params={"token": TOKEN})
    fresh.get("/api/authors", params={"token": TOKEN}, headers=BEARER)
    sign_in(fresh)
    logged = [r for r in caplog.records if r.name == "casebook.access"]
    assert len(logged) == 3 and [r.fields["route"] for r in logged] == ["/authors", "/api/authors",  # type: ignore[attr-defined]
                                                                       "/authors/sign-in"]
    assert all(TOKEN not in repr(r.__dict__) for r in logged)
