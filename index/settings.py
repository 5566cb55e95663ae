"""Settings every stage reads: where the index lives and how the model runs; one definition for all.

`IngestSettings` and `ServiceSettings` extend `SharedSettings`, so `CASEBOOK_INDEX` or
`CASEBOOK_EMBED_BACKEND` mean the same thing to every command. Values come from keyword arguments
(flags), then `CASEBOOK_*` variables, then defaults; `from_env` turns a bad value into one line
that names the variable, as Starlette's Config does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.embedder import Backend, ModelRuntime, Precision
from index.location import open_store, redact
from index.store import Store

_MESSAGES = {
    "int_parsing": "Not a valid int.", "int_from_float": "Not a valid int.", "float_parsing": "Not a valid number.",
    "bool_parsing": "Not a valid boolean.", "greater_than_equal": "Not {ge} or more.",
    "less_than_equal": "Not {le} or less.", "greater_than": "Not more than {gt}.",
}


class SharedSettings(BaseSettings):
    """The index (folder or database) and the model runtime, shared by ingest, the service and the author tools."""

    model_config = SettingsConfigDict(env_prefix="CASEBOOK_", frozen=True, validate_by_name=True,
                                      extra="forbid")

    index_dir: Path = Field(Path("var/index"), validation_alias="CASEBOOK_INDEX")
    # Where the versions live: a postgresql:// URL, or a folder; unset means the folder `index_dir`.
    store_location: str | None = Field(None, validation_alias="CASEBOOK_STORE")
    embed_backend: Backend = "onnx"  # ONNX Runtime: 3x faster per query than torch, same vectors (bench/)
    # What ingest embeds with; the service embeds queries at the precision the index records (bench/QUALITY.md).
    embed_precision: Precision = "fp32"
    embed_threads: int = Field(0, ge=0)  # 0: the runtime's default (all cores)
    model_cache: Path = Path("var/models")  # where the ONNX export of the model is kept

    @property
    def runtime(self) -> ModelRuntime:
        """How to run the embedding model."""
        return ModelRuntime(backend=self.embed_backend, precision=self.embed_precision, cache_dir=self.model_cache,
                            threads=self.embed_threads)

    def store(self, for_service: bool = False) -> Store:
        """The store holding the index versions: `CASEBOOK_STORE` (a database or a folder), else the index folder.

        `for_service` gives a database store the service's statement timeout.
        """
        return open_store(self.store_location or self.index_dir, for_service=for_service, model_cache=self.model_cache)

    @property
    def store_label(self) -> str:
        """Where the index is, for messages: the folder, or the database URL without its password."""
        return redact(self.store_location) if self.store_location else str(self.index_dir)

    @field_validator("store_location", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Settings from CASEBOOK_* variables with the given values (flags) on top; None means "not given".

        An index folder given as a flag wins over a `CASEBOOK_STORE` from the environment.
        """
        if overrides.get("index_dir") is not None and overrides.get("store_location") is None:
            overrides["store_location"] = ""
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except ValidationError as e:
            raise ValueError(describe(cls, e)) from None


def describe(settings: type[BaseSettings], error: ValidationError) -> str:
    """The first problem of a validation error, naming the variable: "CASEBOOK_TOP_K has value 'ten'. ..."."""
    first = error.errors()[0]
    if not first["loc"]:  # a check across fields words its own message
        return str(first["msg"]).removeprefix("Value error, ")
    name = str(first["loc"][0]) if first["loc"] else ""
    field = settings.model_fields.get(name)
    alias = field.validation_alias if field is not None else None
    variable = alias if isinstance(alias, str) else f"CASEBOOK_{name.upper()}" if field else name
    kind = first["type"]
    if kind == "literal_error":
        reason = f"Not one of {first['ctx']['expected'].replace(' or ', ', ').replace(chr(39), '')}."
    elif kind in _MESSAGES:
        reason = _MESSAGES[kind].format(**first.get("ctx", {}))
    else:
        reason = f"{first['msg']}."
    return f"{variable} has value {first['input']!r}. {reason}"
