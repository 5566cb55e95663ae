"""The ASGI factory uvicorn imports: one app per worker, settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from service.http.app import create_app
from service.http.logs import configure_logging
from service.settings import ServiceSettings


def app_from_env() -> FastAPI:
    """Build the app from CASEBOOK_* variables, logging JSON lines to stderr."""
    configure_logging()
    return create_app(ServiceSettings.from_env())
