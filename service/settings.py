"""Service configuration: one object per process, from CASEBOOK_* variables, passed to create_app."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ServiceSettings:
    """What the HTTP service needs; the embedding model comes from the index manifest, not from here."""

    index_dir: Path = Path("var/index")
    default_k: int = 10
    max_k: int = 50
    max_query_chars: int = 500
    cors_origins: tuple[str, ...] = ()
    reload_seconds: float = 1.0  # how often to look for a newly published index version
    cache_size: int = 1024  # search results kept per index version
    rate_limit_per_minute: int = 0  # per client; 0 = off (local use)
    log_queries: bool = True  # False keeps query text out of the logs
    llm_url: str | None = None
    llm_model: str = "local"
    llm_timeout_seconds: float = 20.0
    llm_max_concurrency: int = 4
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        """Settings from the environment (CASEBOOK_INDEX, CASEBOOK_CORS_ORIGINS, ...), then overrides."""
        env = os.environ
        values: dict[str, object] = {
            "index_dir": Path(env.get("CASEBOOK_INDEX", "var/index")),
            "default_k": _int(env, "CASEBOOK_TOP_K", 10),
            "max_query_chars": _int(env, "CASEBOOK_MAX_QUERY_CHARS", 500),
            "cors_origins": tuple(o.strip() for o in env.get("CASEBOOK_CORS_ORIGINS", "").split(",") if o.strip()),
            "reload_seconds": _float(env, "CASEBOOK_RELOAD_SECONDS", 1.0),
            "cache_size": _int(env, "CASEBOOK_CACHE_SIZE", 1024),
            "rate_limit_per_minute": _int(env, "CASEBOOK_RATE_LIMIT", 0),
            "log_queries": env.get("CASEBOOK_LOG_QUERIES", "1") not in ("0", "false", "no"),
            "llm_url": env.get("CASEBOOK_LLM_URL") or None,
            "llm_model": env.get("CASEBOOK_LLM_MODEL", "local"),
            "llm_timeout_seconds": _float(env, "CASEBOOK_LLM_TIMEOUT", 20.0),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if not 1 <= settings.default_k <= settings.max_k:
            raise ValueError(f"CASEBOOK_TOP_K has value {settings.default_k}. Not within 1..{settings.max_k}.")
        return settings


def _int(env: os._Environ[str], key: str, default: int) -> int:
    raw = env.get(key)
    try:
        return default if raw is None else int(raw)
    except ValueError:
        raise ValueError(f"{key} has value {raw!r}. Not a valid int.") from None


def _float(env: os._Environ[str], key: str, default: float) -> float:
    raw = env.get(key)
    try:
        return default if raw is None else float(raw)
    except ValueError:
        raise ValueError(f"{key} has value {raw!r}. Not a valid number.") from None
