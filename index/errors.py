"""Why an index cannot be opened; each message names the folder and what is wrong."""

from __future__ import annotations


class IndexError_(Exception):
    """Base of the index errors (named with a trailing underscore to keep the builtin usable)."""


class IndexMissing(IndexError_):
    """There is no published index version in the folder."""


class IndexCorrupt(IndexError_):
    """A published version is unreadable or inconsistent (truncated file, damaged database)."""


class IndexMismatch(IndexError_):
    """A version was written by another format version, or its parts disagree with its manifest."""


class IndexLocked(IndexError_):
    """Another ingest holds the folder's write lock."""


class ModelUnavailable(IndexError_):
    """The embedding model cannot run: no exported copy beside the index, and no PyTorch here to export one."""


class StoreUnavailable(IndexError_):
    """The store cannot be reached or answered too slowly (a database that is down or restarting)."""
