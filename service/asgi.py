"""The ASGI factory uvicorn imports: one app per worker, settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from service.app import create_app
from service.settings import ServiceSettings


def app_from_env() -> FastAPI:
    """Build the app from CASEBOOK_* variables."""
    return create_app(ServiceSettings.from_env())
