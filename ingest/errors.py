"""Errors of the ingest stage; their text is shown to the user as is."""

from __future__ import annotations

from index.records import SkippedPost


class IngestError(Exception):
    """The ingest as a whole cannot go on (missing content folder, index locked, ...)."""


class PostError(Exception):
    """One source file cannot be indexed; it is reported with its path and line and skipped."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(str(self))

    @property
    def record(self) -> SkippedPost:
        """The stored record of the skipped post."""
        return SkippedPost(path=self.path, line=self.line, reason=self.reason)

    def __str__(self) -> str:
        return str(self.record)
