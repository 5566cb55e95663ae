"""The admin token: absent, wrong, in a query string or right, by header or by the signed-in cookie."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.http.admin import COOKIE, AdminDep, session_value
from service.settings import ServiceSettings

TOKEN = "correct-horse-battery-staple-0123456789"


def app_with(token: str | None) -> TestClient:
    """A small app whose one route needs the admin token, with the service's settings."""
    app = FastAPI()
    app.state.settings = ServiceSettings(admin_token=token, gap_log=None)

    @app.get("/private")
    def private(_: AdminDep) -> dict[str, str]:
        return {"ok": "yes"}

    return TestClient(app)


def test_without_a_configured_token_the_route_does_not_exist():
    assert app_with(None).get("/private", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": "Bearer"}, {"Cookie": f"{COOKIE}={TOKEN}"}])
def test_a_missing_or_wrong_token_is_a_401_that_does_not_echo_it(headers):
    response = app_with(TOKEN).get("/private", headers=headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in response.text and "wrong" not in response.text


def test_the_token_in_a_query_string_is_never_accepted():
    assert app_with(TOKEN).get("/private", params={"token": TOKEN, "admin_token": TOKEN}).status_code == 401


def test_the_bearer_token_or_the_signed_in_cookie_opens_it():
    client = app_with(TOKEN)
    assert client.get("/private", headers={"Authorization": f"Bearer {TOKEN}"}).json() == {"ok": "yes"}
    client.cookies.set(COOKIE, session_value(TOKEN))
    assert client.get("/private").json() == {"ok": "yes"}


def test_a_short_token_is_refused_at_start_naming_the_variable():
    with pytest.raises(ValueError, match="CASEBOOK_ADMIN_TOKEN is 6 characters"):
        ServiceSettings(admin_token="secret", gap_log=None)
