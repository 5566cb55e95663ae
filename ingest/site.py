"""The few Hugo site settings the parser needs: base URL, permalink patterns, buildFuture."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.errors import IngestError

CONFIG_NAMES = (
    "hugo.toml",
    "hugo.yaml",
    "hugo.yml",
    "hugo.json",
    "config.toml",
    "config.yaml",
    "config.json",
)


@dataclass(frozen=True)
class SiteConfig:
    """Site-wide settings that shape a page's public URL."""

    base_url: str = "/"
    permalinks: dict[str, str] = field(default_factory=dict)  # section -> "/posts/:slug/"
    build_future: bool = True


def read_site_config(site_dir: Path) -> SiteConfig:
    """Read hugo.toml (or config.*) in site_dir; defaults when the folder holds content only."""
    for folder in (site_dir, site_dir / "config" / "_default"):
        for name in CONFIG_NAMES:
            config_path = folder / name
            if config_path.is_file():
                return _site_config(_load(config_path))
    return SiteConfig()


def _load(config_path: Path) -> dict[str, Any]:
    text = config_path.read_text(encoding="utf-8")
    try:
        if config_path.suffix == ".toml":
            data = tomllib.loads(text)
        elif config_path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise IngestError(f"{config_path}: cannot read site config: {exc}") from exc
    if not isinstance(data, dict):
        raise IngestError(f"{config_path}: site config is not a mapping")
    return data


def _site_config(data: dict[str, Any]) -> SiteConfig:
    keys = {str(key).lower(): value for key, value in data.items()}
    base_url = str(keys.get("baseurl") or "/")
    if not base_url.endswith("/"):
        base_url += "/"
    permalinks = keys.get("permalinks") or {}
    # Hugo 0.120+ also accepts permalinks grouped by page kind; regular pages use "page".
    if isinstance(permalinks.get("page"), dict):
        permalinks = permalinks["page"]
    patterns = {str(k): str(v) for k, v in permalinks.items() if isinstance(v, str)}
    # Hugo's own default is false once a config exists; a content-only folder publishes everything.
    return SiteConfig(
        base_url=base_url, permalinks=patterns, build_future=bool(keys.get("buildfuture", False))
    )
