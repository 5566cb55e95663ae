"""Read one Hugo source file into a Post: metadata as Hugo publishes it, and its clean sections."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin

from index.records import PostMeta
from ingest.document import Post
from ingest.errors import PostError
from ingest.frontmatter import split_front_matter
from ingest.markdown import parse_body
from ingest.site import SiteConfig

MAX_BYTES = 2 * 1024 * 1024
MAX_SECTIONS = 1000  # a real post has dozens of headings; thousands would each cost a passage to embed
SUFFIXES = (".md", ".markdown")


def discover_posts(content_dir: Path, suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """Every Markdown file (or file ending in `suffixes`) under content_dir, sorted; hidden folders,
    outside symlinks and loops skipped."""
    root = content_dir.resolve()
    found: list[Path] = []
    seen: set[Path] = set()
    for folder, dirs, files in os.walk(content_dir, followlinks=True):
        here = Path(folder)
        # A symlink back to an ancestor would otherwise be walked again and again, each pass a duplicate site.
        seen.add(here.resolve())
        dirs[:] = [d for d in dirs if not d.startswith(".") and _inside(here / d, root)
                   and (here / d).resolve() not in seen]
        found += [here / f for f in files if f.endswith(suffixes) and _inside(here / f, root)]
    return sorted(found)


def file_digest(path: Path) -> str:
    """sha256 of a source file, without reading one that read_post will refuse (FIFO, device, too large)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return f"unread:{info.st_mode}:{info.st_size}:{info.st_mtime_ns}"
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def read_post(path: Path, content_dir: Path, site: SiteConfig) -> Post:
    """Parse one source file; raise PostError with its path and line when it cannot be indexed."""
    name = path.as_posix()
    text, data = _read_text(path, name)
    fields, body, body_line = split_front_matter(text, name)
    rel = PurePosixPath(path.relative_to(content_dir).as_posix())
    is_hub = rel.stem == "_index"
    title = fields.get("title") or _pretty(rel.parent.name if is_hub else rel.stem)
    url = _post_url(rel, fields, title, site)
    sections, links = parse_body(body, body_line, site.base_url)
    if len(sections) > MAX_SECTIONS:
        raise PostError(name, None, f"{len(sections)} sections by heading; the limit is {MAX_SECTIONS}")
    page_path = _path_of(url, site.base_url)
    meta = PostMeta(
        path=str(rel),
        title=title,
        url=url,
        section=rel.parts[0] if len(rel.parts) > 1 else "",
        series=_series(rel, fields),
        tags=tuple(fields.get("tags", ())),
        categories=tuple(fields.get("categories", ())),
        date=fields.get("date"),
        lastmod=fields.get("lastmod"),
        description=fields.get("description", ""),
        weight=fields.get("weight", 0),
        aliases=tuple(_slashed(alias) for alias in fields.get("aliases", ())),
        is_hub=is_hub,
        content_hash=hashlib.sha256(data).hexdigest(),
        links=tuple(dict.fromkeys(urljoin(page_path, link) for link in links)),
    )
    return Post(meta=meta, sections=sections, draft=fields.get("draft", False))


def _read_text(path: Path, name: str) -> tuple[str, bytes]:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise PostError(name, None, "not a regular file")
        if info.st_size > MAX_BYTES:
            raise PostError(name, None, "too large (over 2 MiB)")
        data = path.read_bytes()
    except OSError as exc:
        raise PostError(name, None, f"cannot read: {exc.strerror}") from exc
    if b"\0" in data:
        raise PostError(name, None, "not a text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PostError(name, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from exc
    # Both replacements keep the line count, so reported lines match the editor's.
    return text.replace("\r\n", "\n").replace("\r", "\n"), data


def _series(rel: PurePosixPath, fields: dict[str, Any]) -> tuple[str, ...]:
    if fields.get("series"):
        # Hugo urlizes taxonomy terms: series: ["Logistics Operations"] lives at /series/logistics-operations/.
        return tuple(dict.fromkeys(_urlize(name) for name in fields["series"] if _urlize(name)))
    if rel.parts[0] == "series" and len(rel.parts) >= 3:
        return (rel.parts[1],)
    return ()


def _post_url(rel: PurePosixPath, fields: dict[str, Any], title: str, site: SiteConfig) -> str:
    if canonical := fields.get("canonicalURL"):
        return canonical if re.match(r"^https?://", canonical) else _absolute(site.base_url, canonical)
    if url := fields.get("url"):
        return url if re.match(r"^https?://", url) else _absolute(site.base_url, url)
    folder = rel.parent.as_posix().lower() if rel.parent.parts else ""
    if rel.stem == "_index":
        return _absolute(site.base_url, f"/{folder}/")
    pattern = site.permalinks.get(rel.parts[0]) if len(rel.parts) > 1 else None
    if pattern:
        return _absolute(site.base_url, _permalink(pattern, rel, fields, title))
    leaf = rel.parent.name if rel.stem == "index" else rel.stem
    folder = rel.parent.parent.as_posix() if rel.stem == "index" else rel.parent.as_posix()
    slug = _urlize(fields.get("slug") or leaf)
    return _absolute(site.base_url, f"/{_urlize(folder) if folder != '.' else ''}/{slug}/")


def _permalink(pattern: str, rel: PurePosixPath, fields: dict[str, Any], title: str) -> str:
    date = fields.get("date") or ""
    filename = rel.parent.name if rel.stem == "index" else rel.stem
    values = {
        "slug": _urlize(fields.get("slug") or title),
        "slugorfilename": _urlize(fields.get("slug") or filename),
        "title": _urlize(title),
        "filename": _urlize(filename),
        "contentbasename": _urlize(filename),
        "section": rel.parts[0],
        "sections": _urlize(rel.parent.as_posix()),
        "year": date[:4],
        "month": date[5:7],
        "day": date[8:10],
    }
    # Longest names first, so ":slugorfilename" is not read as ":slug" + "orfilename".
    names = "|".join(sorted(values, key=len, reverse=True))
    return re.sub(f":({names})", lambda m: values[m.group(1)], pattern).lower()


def _urlize(text: str) -> str:
    """Hugo's urlize: keep letters, digits and a few marks; runs of spaces become one '-'."""
    out: list[str] = []
    hyphen = False
    for char in text:
        if char in "./\\_#+~-@" or unicodedata.category(char)[0] in "LNM":
            if hyphen:
                out.append("-")
                hyphen = False
            out.append(char)
        elif out and char.isspace():
            hyphen = True
    return "".join(out).lower()


def _absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + re.sub(r"/{2,}", "/", path).lstrip("/")


def _path_of(url: str, base_url: str) -> str:
    if url.startswith(base_url):
        return "/" + url[len(base_url) :].lstrip("/")
    return re.sub(r"^https?://[^/]+", "", url) or "/"


def _slashed(alias: str) -> str:
    path = "/" + alias.strip().strip("/")
    return path if path == "/" else path + "/"


def _pretty(stem: str) -> str:
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else "Home"
