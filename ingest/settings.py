"""Ingest configuration, built once per run from flags and environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from index.embedder import DEFAULT_MODEL
from index.settings import SharedSettings
from index.text import ENCODING
from index.vectors import IndexChoice


class IngestSettings(SharedSettings):
    """Where to read, where to write, and how to cut and embed."""

    content_dir: Path = Path("content")
    site_dir: Path | None = None  # holds hugo.toml; None means content-only (no baseURL, no permalinks)
    # A generator's output folder (Hugo's public/, Jekyll's _site/ ...): when set, read instead of content_dir.
    built_dir: Path | None = None
    base_url: str | None = None  # the built site's public URL, when its pages carry no canonical links
    model: str = DEFAULT_MODEL
    # ~180 tokens keeps a passage about one idea and well under MiniLM's 256-token window, context included.
    chunk_tokens: int = Field(180, ge=16, le=1000)
    overlap_tokens: int = Field(30, ge=0, validation_alias="CASEBOOK_CHUNK_OVERLAP")
    index_kind: IndexChoice = "auto"  # auto: flat up to 50,000 passages, IVF past it (index/vectors.py)
    drafts: bool = False
    batch_size: int = Field(64, ge=1)
    lock_wait_seconds: float = Field(0.0, ge=0)
    # Another store (a folder, when moving to PostgreSQL) whose published vectors this ingest may reuse.
    reuse_vectors_from: str | None = None

    @model_validator(mode="after")
    def _overlap_below_size(self) -> IngestSettings:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError(f"CASEBOOK_CHUNK_OVERLAP has value {self.overlap_tokens}. "
                             f"Not below the passage size {self.chunk_tokens}.")
        return self

    @property
    def chunker(self) -> dict[str, object]:
        """The settings that shape passages and vectors; any change forces a full rebuild."""
        return {"chunk_tokens": self.chunk_tokens, "overlap_tokens": self.overlap_tokens,
                "encoding": ENCODING, "context": "title>headings", "drafts": self.drafts}
