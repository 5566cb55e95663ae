"""The manifest: what a published index version is, and what it must agree with to be opened."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, get_args

from index.embedder import Precision
from index.errors import IndexCorrupt, IndexMismatch
from index.vectors import IndexKind

FORMAT_VERSION = 2  # 2: adds bm25-posts/


@dataclass(frozen=True)
class Manifest:
    """Identity and shape of one index version, written last so a version without it is incomplete."""

    version: str  # sortable id "20261125T123456Z-1a2b3c4d"
    model: str  # the embedding model the vectors (and so the queries) use
    dim: int
    index_kind: IndexKind
    chunker: dict[str, Any]  # the settings that shaped the passages; a change forces a full rebuild
    counts: dict[str, int]  # posts, passages, series, skipped
    content_hash: str  # over every indexed post's path and content hash
    built_at: str  # ISO 8601 UTC
    seconds: float = 0.0
    # The model's weights that embedded the passages; queries must be embedded the same way. Versions
    # written before int8 existed have no such field and were all built at fp32.
    precision: Precision = "fp32"
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Write the manifest as indented JSON."""
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read and validate a manifest file."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise IndexCorrupt(f"{path}: manifest missing") from e
        except (OSError, ValueError) as e:
            raise IndexCorrupt(f"{path}: manifest unreadable: {e}") from e
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: object, where: str) -> Manifest:
        """Validate a manifest read from anywhere (a file, a database row); `where` names it in errors."""
        if not isinstance(data, dict):
            raise IndexCorrupt(f"{where}: manifest is not a JSON object")
        found = data.get("format_version")
        if found != FORMAT_VERSION:
            raise IndexMismatch(f"{where}: index format {found!r}, this Casebook reads format {FORMAT_VERSION}")
        precision = data.get("precision", "fp32")
        if precision not in get_args(Precision):
            raise IndexMismatch(f"{where}: vectors embedded at precision {precision!r}; this Casebook runs "
                                f"{' or '.join(get_args(Precision))}")
        try:
            return cls(**data)
        except TypeError as e:
            raise IndexCorrupt(f"{where}: manifest fields: {e}") from e
