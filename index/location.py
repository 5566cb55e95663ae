"""A store's location: a `postgresql://` URL names a database, anything else an index folder."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from index.store import Store

POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def redact(location: str) -> str:
    """A store location fit for logs and messages: a database URL's password replaced by ***."""
    if not is_postgres(location):
        return location
    parts = urlsplit(location)
    if parts.password is None:
        return location
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def is_postgres(location: str | Path) -> bool:
    """Whether a store location names a PostgreSQL database."""
    return isinstance(location, str) and location.startswith(POSTGRES_PREFIXES)


def open_store(location: str | Path, *, for_service: bool = False, model_cache: Path = Path("var/models")) -> Store:
    """The store at a location: a `postgresql://` URL, or an index folder.

    `for_service` gives database queries the service's statement timeout (ingest's writes have none);
    a database store unpacks the model it keeps into `model_cache`.
    """
    if is_postgres(location):
        from index.pg.store import PostgresStore  # psycopg is imported only when a database is used

        return PostgresStore(str(location), for_service=for_service, model_cache=model_cache)
    from index.folder import FolderStore

    return FolderStore(Path(location))
