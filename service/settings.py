"""Service configuration: one object per process, from CASEBOOK_* variables, passed to create_app."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# What CASEBOOK_PROFILE=production changes; any CASEBOOK_* variable still overrides it.
PROFILES: dict[str, dict[str, object]] = {
    "local": {},
    "production": {"rate_limit_per_minute": 120, "log_queries": False,
                   "trusted_proxies": ("127.0.0.1", "::1"), "gap_log_max_rows": 50_000, "gap_log_max_days": 90},
}


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
    rate_limit_per_minute: int = 0  # per client on /api/; 0 = off (local use)
    # Peers whose X-Forwarded-For names the real client (your reverse proxy); anyone else could forge it.
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = 1024  # every endpoint is a GET: a larger request body is refused with 413
    max_header_bytes: int = 16 * 1024  # all request headers together; more is refused with 431
    access_log: bool = True  # one JSON line per request on the casebook.access logger
    log_queries: bool = True  # False keeps query text out of the logs
    profile: str = "local"
    llm_url: str | None = None
    llm_model: str = "local"
    llm_timeout_seconds: float = 20.0
    llm_max_concurrency: int = 4
    # Questions the blog could not answer, for `casebook gaps` (SQLite). None = off; from_env puts it
    # beside the index (<index>/gaps.sqlite) unless CASEBOOK_GAP_LOG is "off" or names another file.
    gap_log: Path | None = None
    gap_log_max_rows: int = 100_000  # retention: the newest rows kept (0 = no limit)
    gap_log_max_days: int = 365  # retention: older questions are deleted (0 = no limit)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        """Settings from the environment (CASEBOOK_PROFILE, CASEBOOK_INDEX, ...), then overrides."""
        env = os.environ
        profile = env.get("CASEBOOK_PROFILE", "local")
        if profile not in PROFILES:
            raise ValueError(f"CASEBOOK_PROFILE has value {profile!r}. Not one of {', '.join(PROFILES)}.")
        base = cls(profile=profile, **PROFILES[profile])  # type: ignore[arg-type]
        values: dict[str, object] = {
            "index_dir": Path(env.get("CASEBOOK_INDEX", "var/index")),
            "default_k": _int(env, "CASEBOOK_TOP_K", base.default_k),
            "max_query_chars": _int(env, "CASEBOOK_MAX_QUERY_CHARS", base.max_query_chars),
            "cors_origins": _list(env, "CASEBOOK_CORS_ORIGINS", ()),
            "reload_seconds": _float(env, "CASEBOOK_RELOAD_SECONDS", base.reload_seconds),
            "cache_size": _int(env, "CASEBOOK_CACHE_SIZE", base.cache_size),
            "rate_limit_per_minute": _int(env, "CASEBOOK_RATE_LIMIT", base.rate_limit_per_minute),
            "trusted_proxies": _list(env, "CASEBOOK_TRUSTED_PROXIES", base.trusted_proxies),
            "max_body_bytes": _int(env, "CASEBOOK_MAX_BODY_BYTES", base.max_body_bytes),
            "max_header_bytes": _int(env, "CASEBOOK_MAX_HEADER_BYTES", base.max_header_bytes),
            "access_log": _bool(env, "CASEBOOK_ACCESS_LOG", base.access_log),
            "log_queries": _bool(env, "CASEBOOK_LOG_QUERIES", base.log_queries),
            "profile": profile,
            "llm_url": env.get("CASEBOOK_LLM_URL") or None,
            "llm_model": env.get("CASEBOOK_LLM_MODEL", "local"),
            "llm_timeout_seconds": _float(env, "CASEBOOK_LLM_TIMEOUT", base.llm_timeout_seconds),
            "llm_max_concurrency": _int(env, "CASEBOOK_LLM_CONCURRENCY", base.llm_max_concurrency),
            "gap_log_max_rows": _int(env, "CASEBOOK_GAP_LOG_MAX_ROWS", base.gap_log_max_rows),
            "gap_log_max_days": _int(env, "CASEBOOK_GAP_LOG_DAYS", base.gap_log_max_days),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        gap_log = env.get("CASEBOOK_GAP_LOG", "").strip()
        if "gap_log" not in values:
            values["gap_log"] = (None if gap_log.lower() == "off"
                                 else Path(gap_log) if gap_log else Path(str(values["index_dir"])) / "gaps.sqlite")
        settings = cls(**values)  # type: ignore[arg-type]
        if not 1 <= settings.default_k <= settings.max_k:
            raise ValueError(f"CASEBOOK_TOP_K has value {settings.default_k}. Not within 1..{settings.max_k}.")
        if settings.rate_limit_per_minute < 0:
            limit = settings.rate_limit_per_minute
            raise ValueError(f"CASEBOOK_RATE_LIMIT has value {limit}. Not 0 or more.")
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


def _list(env: os._Environ[str], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(key)
    return default if raw is None else tuple(item.strip() for item in raw.split(",") if item.strip())


def _bool(env: os._Environ[str], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw is None:
        return default
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{key} has value {raw!r}. Not a valid boolean.")
