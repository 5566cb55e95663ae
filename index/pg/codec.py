"""pgvector's binary wire format for numpy vectors, registered on each connection.

A vector travels as uint16 dimension, uint16 zero, then the values big-endian: float32 for `vector`,
float16 for `halfvec`. Binary saves the server parsing and the client formatting ~400 decimals per
passage, which is most of a bulk write's time in text.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Dumper, Loader, PyFormat
from psycopg.pq import Format
from psycopg.types import TypeInfo

from index.errors import IndexMissing

_DTYPES = {"vector": ">f4", "halfvec": ">f2"}


class Embedding:
    """A vector to send in the embedding column's type (a wrapper, so no other numpy array is sent as one)."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array


class FullVector(Embedding):
    """A vector to send as `vector` (float32) whatever the column's type: for exact scores."""

    __slots__ = ()


class _VectorDumper(Dumper):
    format = Format.BINARY
    dtype = ">f4"

    def dump(self, obj: Any) -> Buffer:
        array = obj.array
        return struct.pack(">HH", len(array), 0) + np.asarray(array).astype(self.dtype).tobytes()


class _VectorLoader(Loader):
    format = Format.BINARY
    dtype = ">f4"

    def load(self, data: Buffer) -> np.ndarray:
        return np.frombuffer(bytes(data), dtype=self.dtype, offset=4).astype(np.float32)


def registered(conn: psycopg.Connection[Any]) -> bool:
    """Whether `register` has run on this connection."""
    try:
        conn.adapters.get_dumper(Embedding, PyFormat.BINARY)
    except psycopg.ProgrammingError:
        return False
    return True


def register(conn: psycopg.Connection[Any], kind: str, required: bool = True) -> None:
    """Send `Embedding` as `kind` (vector or halfvec) and read both types back as float32 arrays.

    Before the first ingest the extension may not exist yet: then nothing is registered (or, when
    `required`, IndexMissing says what to do), and the connection tries again when next handed out.
    """
    for name, dtype in _DTYPES.items():
        info = TypeInfo.fetch(conn, name)
        if info is None:
            if not required:
                return
            raise IndexMissing("the pgvector extension is not installed in this database "
                               "(an administrator runs: CREATE EXTENSION vector)")
        info.register(conn)  # COPY's set_types finds the type by name
        conn.adapters.register_loader(info.oid, type(f"{name}Loader", (_VectorLoader,), {"dtype": dtype}))
        dumper = type(f"{name}Dumper", (_VectorDumper,), {"oid": info.oid, "dtype": dtype})
        if name == kind:
            conn.adapters.register_dumper(Embedding, dumper)
        if name == "vector":
            conn.adapters.register_dumper(FullVector, dumper)


def array_bytes(values: np.ndarray, dtype: str) -> bytes:
    """A numeric array as little-endian bytes (how postings are kept)."""
    return np.ascontiguousarray(values, dtype=dtype).tobytes()
