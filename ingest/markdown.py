"""Turn a Markdown body into clean sections with Hugo's heading anchors, and its internal links."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ingest.document import Block, BlockKind, Heading, Section, sections_of

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_ATTRIBUTES = re.compile(r"\s*\{\s*((?:[#.][\w-]+|[\w-]+=\S+)(?:\s+(?:[#.][\w-]+|[\w-]+=\S+))*)\s*\}\s*$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
_HIDDEN_HTML = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_OPEN_HIDDEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_CLOSE_HIDDEN = re.compile(r"</(script|style)\s*>", re.IGNORECASE)
NAV_LINK_SHARE = 0.6  # a paragraph or list whose text is mostly link text is navigation
NAV_LIST_LINK_SHARE = 0.25  # ... and so is a list linking from every item, when links are a good part of it


def parse_body(
    body: str, first_line: int, base_url: str = "/"
) -> tuple[tuple[Section, ...], tuple[str, ...]]:
    """Cut a body into sections of clean blocks; also return the internal links it contains.

    Args:
        first_line: the file line where `body` starts, so blocks carry file line numbers.
        base_url: absolute links under it count as internal ("https://site/x/" -> "/x/").
    """
    text, faqs = expand_shortcodes(body)
    links: list[str] = []
    events = list(_events(_MD.parse(text), first_line, links))
    events += [_faq_block(faq, first_line, links) for faq in faqs]
    events.sort(key=lambda event: event[0])
    found = (_internal_link(href, base_url) for href in links)
    return _sections(events), tuple(dict.fromkeys(link for link in found if link))


def heading_anchor(text: str) -> str:
    """Hugo's goldmark "github" auto id: lowercase letters, digits, '_' kept; spaces and '-' -> '-'."""
    out = []
    for char in text:
        if char in " \t-":
            out.append("-")
        elif char == "_" or unicodedata.category(char) in _ID_CATEGORIES:
            out.append(char.lower())
    return "".join(out)


_ID_CATEGORIES = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nd"}

# An event is (file line, order, payload): a Block, or a (level, heading text, explicit id) tuple.
Event = tuple[int, int, "Block | tuple[int, str, str | None]"]


def _sections(events: list[Event]) -> tuple[Section, ...]:
    seen = set[str]()

    def anchored(payload: Block | tuple[int, str, str | None]) -> Block | Heading:
        if isinstance(payload, Block):
            return payload
        level, title, explicit = payload
        return level, title, _unique(explicit or heading_anchor(title) or "heading", seen, explicit)

    return sections_of(anchored(payload) for _, _, payload in events)


def _unique(anchor: str, seen: set[str], explicit: str | None) -> str:
    # Like goldmark's id factory: explicit ids are taken as written, auto ids get "-1", "-2", ...
    if not explicit and anchor in seen:
        number = 1
        while f"{anchor}-{number}" in seen:
            number += 1
        anchor = f"{anchor}-{number}"
    seen.add(anchor)
    return anchor


def _events(tokens: list[Token], first_line: int, links: list[str]) -> Iterator[Event]:
    prose = _Prose()
    depth, item_start, lists = 0, False, 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        line = first_line + (token.map[0] if token.map else 0)
        kind = token.type
        if kind == "heading_open":
            title = _inline_text(tokens[index + 1], links)
            found = _ATTRIBUTES.search(title)
            explicit = re.search(r"#([\w-]+)", found.group(1)) if found else None
            title = title[: found.start()] if found else title
            yield line, index, (int(token.tag[1]), title.strip(), explicit.group(1) if explicit else None)
            index += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            lists += kind != "blockquote_open"
            depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
            lists -= kind != "blockquote_close"
            depth -= 1
        elif kind == "list_item_open":
            item_start = True
            prose.items.append(False)
        elif kind == "inline":
            text, in_links = _inline_parts(token, links)
            if lists and in_links:
                prose.items[-1] = True
            if lists:
                text = "  " * (lists - 1) + ("- " if item_start else "  ") + text.replace("\n", "\n  ")
                item_start = False
            prose.add(text, line, in_links)
        elif kind in ("fence", "code_block"):
            info = token.info.strip().split(maxsplit=1)
            is_mermaid = bool(info) and info[0].lower() == "mermaid"
            yield line, index, Block("mermaid" if is_mermaid else "code", token.content.rstrip("\n"), line)
        elif kind == "table_open":
            end = _closing(tokens, index)
            yield line, index, Block("table", _table_text(tokens[index:end], links), line)
            index = end
        elif kind == "html_block" and (text := _strip_html(token.content)):
            prose.add(text, line)
        if prose.lines and depth == 0:
            yield prose.start, index, Block(prose.kind, "\n".join(prose.lines), prose.start)
            prose = _Prose()
        index += 1


@dataclass
class _Prose:
    """Paragraph, list or quote text gathered into one block, with what tells navigation apart."""

    lines: list[str] = field(default_factory=list)
    start: int = 0
    chars: int = 0
    linked: int = 0  # characters of link text
    items: list[bool] = field(default_factory=list)  # per list item: whether it holds a link

    def add(self, text: str, line: int, linked: int = 0) -> None:
        if text.strip():
            self.start = self.start if self.lines else line
            self.lines.append(text)
        self.chars += len(text)
        self.linked += linked

    @property
    def kind(self) -> BlockKind:
        # "Related posts" lists and series navigation name other posts' topics without discussing
        # them: text that is mostly link text, or a list whose every item links somewhere.
        share = self.linked / self.chars if self.chars else 0.0
        list_of_links = len(self.items) >= 2 and all(self.items) and share >= NAV_LIST_LINK_SHARE
        return "links" if share >= NAV_LINK_SHARE or list_of_links else "text"


def _closing(tokens: list[Token], index: int) -> int:
    level = tokens[index].level
    end = index + 1
    while not (tokens[end].level == level and tokens[end].nesting == -1):
        end += 1
    return end


def _table_text(tokens: list[Token], links: list[str]) -> str:
    rows: list[list[str]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline":
            rows[-1].append(_inline_text(token, links))
    return "\n".join(" | ".join(cells) for cells in rows)


def _inline_text(token: Token, links: list[str]) -> str:
    return _inline_parts(token, links)[0]


def _inline_parts(token: Token, links: list[str]) -> tuple[str, int]:
    """The inline text, and how many of its characters are link text."""
    out: list[str] = []
    hidden = in_link = linked = 0
    for child in token.children or []:
        if child.type == "html_inline":
            hidden += bool(_OPEN_HIDDEN.match(child.content)) - bool(_CLOSE_HIDDEN.match(child.content))
            hidden = max(hidden, 0)
        elif hidden:
            continue
        elif child.type in ("text", "code_inline"):
            out.append(child.content)
            linked += len(child.content) if in_link else 0
        elif child.type == "image" and child.content:
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "link_open":
            links.append(str(child.attrGet("href") or ""))
            in_link += 1
        elif child.type == "link_close":
            in_link = max(in_link - 1, 0)
    text = "".join(out)
    return text.strip(), min(linked, len(text.strip()))


def _strip_html(raw: str) -> str:
    text = html.unescape(_TAG.sub("", _HIDDEN_HTML.sub("", raw)))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _faq_block(faq: Faq, first_line: int, links: list[str]) -> Event:
    answer: list[str] = []
    for _, _, payload in _events(_MD.parse(faq.answer), first_line + faq.line - 1, links):
        if isinstance(payload, Block):
            answer.append(payload.text)
        else:
            answer.append(payload[1])
    line = first_line + faq.line - 1
    text = "\n".join([faq.question, *answer]).strip()
    return line, -1, Block("faq", text, line)


def _internal_link(href: str, base_url: str) -> str | None:
    href = href.strip()
    if base_url.startswith(("http://", "https://")) and href.startswith(base_url):
        href = "/" + href[len(base_url) :]
    if not href or _SCHEME.match(href):
        return None
    path = href.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return None
    name = path.rsplit("/", 1)[-1]
    if name.endswith((".md", ".markdown")):
        path = path[: path.rindex(".")]
        path = re.sub(r"(^|/)_?index$", r"\1", path)
    elif "." in name:
        return None  # a file (image, PDF), not a page
    path = re.sub(r"/{2,}", "/", path)
    return (path if path.endswith("/") or not path else path + "/").lower() or None


# Hugo shortcodes are expanded before Markdown, as Hugo does; fenced code keeps them as written.
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ESCAPED = r"\{\{([<%])/\*(.*?)\*/([>%])\}\}"
_SHORTCODE = r"\{\{[<%]\s*(/?)\s*([\w./-]+)((?:[^\"`>%]|\"[^\"]*\"|`[^`]*`)*?)/?\s*[>%]\}\}"
_ANY = re.compile(f"{_ESCAPED}|{_SHORTCODE}", re.DOTALL)
_ESCAPED_ONLY = re.compile(_ESCAPED, re.DOTALL)
_FAQ = re.compile(r"\{\{[<%]\s*faq\b(.*?)[>%]\}\}(.*?)\{\{[<%]\s*/faq\s*[>%]\}\}", re.DOTALL)
_PARAM = re.compile(r"(?:(\w+)\s*=\s*)?(?:\"((?:[^\"\\]|\\.)*)\"|`([^`]*)`|([^\s\"`=]+))")
_LABELS = ("title", "q", "caption")


@dataclass(frozen=True)
class Faq:
    """A `faq` shortcode lifted out of the body: its question, raw answer and body line."""

    question: str
    answer: str
    line: int  # 1-based line within the body


def expand_shortcodes(body: str) -> tuple[str, list[Faq]]:
    """Replace shortcodes by their readable text, line count unchanged; lift out `faq` ones."""
    fences = [(start, end) for in_fence, start, end in _fence_spans(body) if in_fence]
    faqs: list[Faq] = []

    def lift(match: re.Match[str]) -> str:
        if any(start <= match.start() < end for start, end in fences):
            return match.group(0)
        line = body.count("\n", 0, match.start()) + 1
        faqs.append(Faq(_params(match.group(1)).get("q", ""), expand_shortcodes(match.group(2))[0], line))
        return "\n" * match.group(0).count("\n")

    # Hugo expands shortcodes before Markdown, so a faq answer may itself hold a fenced block.
    text = _FAQ.sub(lift, body)
    parts = []
    for in_fence, start, end in _fence_spans(text):
        chunk = text[start:end]
        parts.append(_ESCAPED_ONLY.sub(_unescape, chunk) if in_fence else _expand(chunk))
    return "".join(parts), faqs


def _fence_spans(body: str) -> Iterator[tuple[bool, int, int]]:
    start = offset = 0
    fence = ""
    for line in body.splitlines(keepends=True):
        opener = _FENCE.match(line)
        if not fence and opener:
            yield False, start, offset
            start, fence = offset, opener.group(1)
        elif fence and opener and opener.group(1).startswith(fence) and not line.strip(" \t\r\n`~"):
            yield True, start, offset + len(line)
            start, fence = offset + len(line), ""
        offset += len(line)
    yield bool(fence), start, offset


def _expand(text: str) -> str:
    closed = {m.group(5) for m in _ANY.finditer(text) if m.group(4)}

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return _unescape(match)
        closing, name, params = match.group(4), match.group(5), _params(match.group(6))
        if closing:
            label = ""
        elif name in ("ref", "relref"):
            label = _ref_path(params.get("0", ""))
        elif name in closed:
            label = next((params[key] for key in _LABELS if params.get(key)), "")
        else:
            label = ""
        return label + "\n" * match.group(0).count("\n")

    return _ANY.sub(replace, text)


def _unescape(match: re.Match[str]) -> str:
    return "{{" + match.group(1) + match.group(2) + match.group(3) + "}}"


def _params(raw: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for position, match in enumerate(_PARAM.finditer(raw)):
        value = next((group for group in match.groups()[1:] if group is not None), "")
        params[match.group(1) or str(position)] = value.replace('\\"', '"')
    return params


def _ref_path(target: str) -> str:
    path, _, fragment = target.partition("#")
    path = re.sub(r"(^|/)_?index\.(md|markdown)$", r"\1", path)
    path = re.sub(r"\.(md|markdown)$", "/", path)
    return path + (f"#{fragment}" if fragment else "")
