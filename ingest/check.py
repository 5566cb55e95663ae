"""`--check`: is the published index current with the content folder? Hashes only, no parsing."""

from __future__ import annotations

from dataclasses import dataclass

from index.errors import IndexCorrupt, IndexMismatch, IndexMissing
from ingest.pipeline import Sources, index_current
from ingest.settings import IngestSettings


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    """Which posts differ between the content folder and the published index, and why."""

    current: bool
    version: str | None
    added: list[str]
    changed: list[str]
    removed: list[str]
    problem: str | None  # settings changed, or no usable index

    def describe(self) -> str:
        """Readable lines for the terminal."""
        if self.current:
            return f"Index version {self.version} is current."
        lines = [f"Index is stale: {self.problem}" if self.problem else "Index is stale:"]
        lines += [f"  added    {p}" for p in self.added]
        lines += [f"  changed  {p}" for p in self.changed]
        lines += [f"  removed  {p}" for p in self.removed]
        return "\n".join(lines)


def check_index(settings: IngestSettings) -> CheckReport:
    """Compare file hashes and settings with the published version's manifest."""
    sources = Sources.scan(settings)
    try:
        manifest = settings.store().manifest()
    except (IndexMissing, IndexCorrupt, IndexMismatch) as e:
        return CheckReport(current=False, version=None, added=sorted(sources.files), changed=[], removed=[],
                           problem=f"no usable index ({e})")
    indexed: dict[str, str] = manifest.extra.get("sources", {})
    added = sorted(set(sources.files) - set(indexed))
    removed = sorted(set(indexed) - set(sources.files))
    changed = sorted(p for p in set(sources.files) & set(indexed) if sources.files[p] != indexed[p])
    problem = None
    if manifest.model != settings.model:
        problem = f"model changed ({manifest.model} -> {settings.model})"
    elif manifest.precision != settings.embed_precision:
        problem = f"model precision changed ({manifest.precision} -> {settings.embed_precision})"
    elif manifest.chunker != settings.chunker or not index_current(manifest, settings):
        problem = "chunker or index settings changed"
    elif manifest.content_hash != sources.fingerprint and not (added or removed or changed):
        problem = "site configuration changed"
    current = not (added or removed or changed or problem)
    return CheckReport(current=current, version=manifest.version, added=added, changed=changed, removed=removed,
                       problem=problem)
