"""Service configuration: one object per process, from flags and CASEBOOK_* variables, passed to create_app."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource

from index.location import is_postgres
from index.settings import SharedSettings

Profile = Literal["local", "production"]
# What CASEBOOK_PROFILE=production changes; any CASEBOOK_* variable still overrides it.
PROFILES: dict[str, dict[str, object]] = {
    "local": {},
    # No proxy is trusted by default in either profile: behind one, its address goes in CASEBOOK_TRUSTED_PROXIES
    # (docs/production.md has the nginx lines that make its X-Forwarded-For the client's own address).
    "production": {"rate_limit_per_minute": 120, "log_queries": False, "gap_log_max_rows": 50_000,
                   "gap_log_max_days": 90, "api_docs": False},
}
DATABASE_RELOAD_SECONDS = 0.25
MIN_ADMIN_TOKEN = 24  # characters: a guessable token would open readers' questions to anyone
CommaList = Annotated[tuple[str, ...], NoDecode]  # "a, b" in the environment, not JSON


class ServiceSettings(SharedSettings):
    """What the HTTP service needs; the embedding model comes from the index manifest, not from here."""

    default_k: int = Field(10, ge=1, validation_alias="CASEBOOK_TOP_K")
    max_k: int = Field(50, ge=1)
    max_query_chars: int = Field(500, ge=1)
    cors_origins: CommaList = ()
    # How often to look for a newly published index version: a file read for a folder; for a database, one
    # tiny query, asked four times a second so every process serves a new version within a second.
    reload_seconds: float = Field(1.0, gt=0)
    # Responses kept per index version and worker, searches and answers half each; sized by what they hold,
    # since one k=50 answer weighs as much as four ordinary ones.
    cache_mb: int = Field(64, ge=0)
    # Per client (an address; an IPv6 /64) and worker, in tokens: an ordinary search costs 1, an ask 1.25,
    # long text and many results more (service/http/admission.py). 0 = off.
    rate_limit_per_minute: int = Field(0, ge=0, validation_alias="CASEBOOK_RATE_LIMIT")
    # Peers whose X-Forwarded-For names the real client (your reverse proxy: addresses or networks); anyone
    # else could forge it. uvicorn is told this list and nothing else.
    trusted_proxies: CommaList = ()
    # Ranking work a worker runs at once; of it, requests costing 1.5 tokens or more, and one client's.
    # The rest wait, at most queue_seconds, then get 503 with Retry-After.
    ranking_slots: int = Field(4, ge=2)
    heavy_slots: int = Field(1, ge=1)
    client_slots: int = Field(2, ge=1)
    queue_seconds: float = Field(1.0, gt=0)
    max_connections: int = Field(512, ge=1)  # open connections and requests per worker (uvicorn); beyond, 503
    max_body_bytes: int = 1024  # every endpoint is a GET: a larger request body is refused with 413
    max_header_bytes: int = 16 * 1024  # all request headers together; more is refused with 431
    api_docs: bool = True  # /docs and /redoc (the interactive API pages load their scripts from a CDN)
    access_log: bool = True  # one JSON line per request on the casebook.access logger
    log_queries: bool = True  # False keeps query text out of the logs
    profile: Profile = "local"
    llm_url: str | None = None  # an OpenAI-compatible endpoint for generated answers; None: extractive only
    llm_model: str = "local"
    llm_timeout_seconds: float = Field(20.0, gt=0, validation_alias="CASEBOOK_LLM_TIMEOUT")
    llm_max_concurrency: int = Field(4, ge=1, validation_alias="CASEBOOK_LLM_CONCURRENCY")
    # Questions the blog could not answer, for `casebook gaps` (SQLite): beside the index
    # (<index>/gaps.sqlite) unless CASEBOOK_GAP_LOG is "off" or names another file. None = off.
    gap_log: Path | None = None
    gap_log_max_rows: int = Field(100_000, ge=0)  # retention: the newest rows kept (0 = no limit)
    gap_log_max_days: int = Field(365, ge=0, validation_alias="CASEBOOK_GAP_LOG_DAYS")  # older ones deleted
    # What shows readers' data (the authors' page) exists only when this is set, and opens only with it.
    admin_token: SecretStr | None = None

    @field_validator("admin_token", mode="before")
    @classmethod
    def _no_short_token(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value in (None, ""):
            return None
        if isinstance(value, str) and len(value) < MIN_ADMIN_TOKEN:
            raise ValueError(f"CASEBOOK_ADMIN_TOKEN is {len(value)} characters. Use at least {MIN_ADMIN_TOKEN} "
                             "random ones (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`).")
        return value

    @model_validator(mode="before")
    @classmethod
    def _database_polled_often(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "reload_seconds" in data or "CASEBOOK_RELOAD_SECONDS" in data:
            return data
        store = data.get("store_location") or data.get("CASEBOOK_STORE")
        return {**data, "reload_seconds": DATABASE_RELOAD_SECONDS} if store and is_postgres(str(store)) else data

    @model_validator(mode="before")
    @classmethod
    def _gap_log_beside_the_index(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "gap_log" not in data:
            index = data.get("index_dir") or data.get("CASEBOOK_INDEX") or cls.model_fields["index_dir"].default
            return {**data, "gap_log": Path(index) / "gaps.sqlite"}
        if isinstance(data["gap_log"], str) and data["gap_log"].strip().lower() in ("off", ""):
            return {**data, "gap_log": None}
        return data

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("llm_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None

    @model_validator(mode="after")
    def _default_within_limit(self) -> ServiceSettings:
        if self.default_k > self.max_k:
            raise ValueError(f"CASEBOOK_TOP_K has value {self.default_k}. Not within 1..{self.max_k}.")
        return self

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags, then the environment, then the profile's defaults; no .env or secrets files."""
        return init_settings, env_settings, _ProfileDefaults(settings_cls)


class _ProfileDefaults(PydanticBaseSettingsSource):
    """The defaults CASEBOOK_PROFILE chooses, below any variable set for one setting."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: `__call__` returns the whole profile at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        profile = PROFILES.get(os.environ.get("CASEBOOK_PROFILE", "local"), {})
        # Keyed as the environment keys them, so a variable set for the same setting replaces it.
        fields = self.settings_cls.model_fields
        return {_key(name, fields[name]): value for name, value in profile.items()}


def _key(name: str, field: FieldInfo) -> str:
    return field.validation_alias if isinstance(field.validation_alias, str) else name
