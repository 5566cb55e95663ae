"""Read a static-site generator's output folder (Hugo, Jekyll, Pelican, Eleventy, Astro, MkDocs ...) into Posts."""

from ingest.built.site import BuiltSite, discover_pages, read_built_site

__all__ = ["BuiltSite", "discover_pages", "read_built_site"]
