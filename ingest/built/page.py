"""Read one built HTML file into a Page: its place in the site, its metadata and its readable body."""

from __future__ import annotations

import codecs
import hashlib
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree

from ingest.built.body import Body, TooDeep, choose_body, has_marker, read_body
from ingest.built.head import Head, read_head
from ingest.built.kinds import before_body
from ingest.built.tree import Element
from ingest.errors import PostError

MAX_BYTES = 8 * 1024 * 1024  # a built page carries its theme; a real one is well under 1 MiB
MAX_SECTIONS = 1000
# lxml.etree's own elements: lxml.html's element classes cost a lookup on every node visited.
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """One parsed HTML page, before the site decides whether it is an article and which series it is in."""

    path: str  # relative to the built folder, posix: "series/tidepool/part-1/index.html"
    url_path: str  # where the site serves it: "/series/tidepool/part-1/"
    head: Head
    body: Body | None  # None when the page has no element to read, or was left out before its body was read
    has_body_marker: bool  # some element is marked data-casebook-body (or data-pagefind-body)
    skip: str | None  # why it is no article, when its address or head tell (a redirect, a tag list ...)
    content_hash: str


def read_page(path: Path, root: Path) -> Page:
    """Parse one built file; raise PostError with its path and line when it cannot be read."""
    name = path.relative_to(root).as_posix()
    data = _read_bytes(path, name)
    encoding = _encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PostError(name, line, f"not valid {encoding} (byte 0x{data[exc.start]:02x})") from exc
    if "\0" in text:
        raise PostError(name, None, "not a text file")
    try:
        # Parsed from the decoded text, so the encoding read above is the one used; an XML declaration
        # would make lxml refuse a str.
        document = etree.fromstring(_XML_DECLARATION.sub("", text, count=1), _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise PostError(name, None, f"cannot parse as HTML: {exc}") from exc
    if document is None:
        raise PostError(name, None, "no HTML in the file")
    head = read_head(document)
    is_page = bool(re.search(r"<(html|head)[\s>]", text[:4096], re.IGNORECASE))
    ignored = _marked_ignored(document)
    skip = before_body(url_path(name), head, is_page, ignored)
    element = choose_body(document) if skip is None else None
    try:
        body = read_body(element) if element is not None else None
    except TooDeep as exc:
        raise PostError(name, exc.line, str(exc)) from exc
    if body is not None and len(body.sections) > MAX_SECTIONS:
        raise PostError(name, None, f"{len(body.sections)} sections by heading; the limit is {MAX_SECTIONS}")
    return Page(
        path=name,
        url_path=url_path(name),
        head=head,
        body=body,
        has_body_marker=has_marker(document, ("data-casebook-body", "data-pagefind-body")),
        skip=skip,
        content_hash=hashlib.sha256(data).hexdigest(),
    )


def url_path(name: str) -> str:
    """The URL path a static server gives a file: "a/b/index.html" -> "/a/b/", "a/b.html" -> "/a/b.html"."""
    posix = PurePosixPath(name)
    if posix.name in ("index.html", "index.htm"):
        parent = posix.parent.as_posix()
        return "/" if parent == "." else f"/{parent}/"
    return f"/{name}"


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise PostError(name, None, "not a regular file")
        if info.st_size > MAX_BYTES:
            raise PostError(name, None, f"too large (over {MAX_BYTES // 1024 // 1024} MiB)")
        data = path.read_bytes()
    except OSError as exc:
        raise PostError(name, None, f"cannot read: {exc.strerror}") from exc
    if not data.strip():
        raise PostError(name, None, "empty file")
    return data


def _encoding(data: bytes) -> str:
    """The page's encoding: a byte-order mark, else its <meta charset>, else UTF-8 (what HTML5 assumes today)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    declared = _CHARSET.search(data[:2048])
    if declared:
        try:
            return codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            pass
    return "utf-8"


def _marked_ignored(document: Element) -> bool:
    body = document.find("body")
    return any(element is not None and any(element.get(m) is not None
                                           for m in ("data-casebook-ignore", "data-pagefind-ignore"))
               for element in (document, body))
