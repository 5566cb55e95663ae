"""Ingest configuration, built once per run from flags and environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from index.embedder import DEFAULT_MODEL
from index.text import ENCODING

DEFAULT_INDEX = Path("var/index")


@dataclass(frozen=True)
class IngestSettings:
    """Where to read, where to write, and how to cut and embed."""

    content_dir: Path
    index_dir: Path = DEFAULT_INDEX
    site_dir: Path | None = None  # holds hugo.toml; None means content-only (no baseURL, no permalinks)
    model: str = DEFAULT_MODEL
    # ~180 tokens keeps a passage about one idea and well under MiniLM's 256-token window, context included.
    chunk_tokens: int = 180
    overlap_tokens: int = 30
    index_kind: str = "flat"
    drafts: bool = False
    batch_size: int = 64
    lock_wait_seconds: float = 0.0

    @property
    def chunker(self) -> dict[str, object]:
        """The settings that shape passages and vectors; any change forces a full rebuild."""
        return {"chunk_tokens": self.chunk_tokens, "overlap_tokens": self.overlap_tokens,
                "encoding": ENCODING, "context": "title>headings", "drafts": self.drafts}

    @classmethod
    def from_env(cls, content_dir: Path, site_dir: Path | None = None, **overrides: object) -> IngestSettings:
        """Settings from CASEBOOK_* variables, then explicit overrides (flags) on top."""
        env = os.environ
        values: dict[str, object] = {
            "content_dir": content_dir,
            "site_dir": site_dir,
            "index_dir": Path(env.get("CASEBOOK_INDEX", str(DEFAULT_INDEX))),
            "model": env.get("CASEBOOK_MODEL", DEFAULT_MODEL),
            "chunk_tokens": _int(env, "CASEBOOK_CHUNK_TOKENS", 180),
            "overlap_tokens": _int(env, "CASEBOOK_CHUNK_OVERLAP", 30),
            "index_kind": env.get("CASEBOOK_INDEX_KIND", "flat"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.index_kind not in ("flat", "hnsw"):
            raise ValueError(f"CASEBOOK_INDEX_KIND has value {settings.index_kind!r}. Not one of flat, hnsw.")
        if not 16 <= settings.chunk_tokens <= 1000 or not 0 <= settings.overlap_tokens < settings.chunk_tokens:
            raise ValueError(f"chunk size {settings.chunk_tokens} / overlap {settings.overlap_tokens} out of range")
        return settings


def _int(env: os._Environ[str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{key} has value {raw!r}. Not a valid int.") from None
