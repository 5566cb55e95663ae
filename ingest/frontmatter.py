"""Split a Hugo source file into its front matter fields (YAML, TOML or JSON) and its body."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, datetime
from typing import Any

import yaml

from ingest.errors import PostError

MAX_BYTES = 64 * 1024
MAX_DEPTH = 20
LIST_FIELDS = ("aliases", "tags", "categories", "series")
STRING_FIELDS = ("title", "description", "slug", "url", "canonicalURL")
DATE_FIELDS = ("date", "lastmod")
KNOWN = {name.lower(): name for name in (*LIST_FIELDS, *STRING_FIELDS, *DATE_FIELDS, "draft", "weight")}
DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%Y/%m/%d")


# libyaml when present: the pure-Python loader costs a third of the parse time of a whole post.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    """Return (fields, body, file line where the body starts); ({}, text, 1) without front matter."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0].rstrip()
    if first in ("---", "+++"):
        raw, body, body_line = _delimited(text, first, path)
        data = _parse_yaml(raw, path) if first == "---" else _parse_toml(raw, path)
        raw_line = 2
    elif text.startswith("{"):
        data, body, body_line = _parse_json(text, path)
        raw, raw_line = text[: len(text) - len(body)], 1
    else:
        return {}, text, 1
    if not isinstance(data, dict):
        raise PostError(path, 1, f"front matter: expected a mapping, got {type(data).__name__}")
    _check_depth(data, path)
    return _normalise(data, raw, raw_line, path), body, body_line


def _delimited(text: str, delimiter: str, path: str) -> tuple[str, str, int]:
    lines = text.split("\n")
    size = 0
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() == delimiter:
            return "\n".join(lines[1 : number - 1]), "\n".join(lines[number:]), number + 1
        size += len(line) + 1
        if size > MAX_BYTES:
            raise PostError(path, 1, "front matter: larger than 64 KiB")
    raise PostError(path, 1, f"front matter: no closing '{delimiter}'")


def _parse_yaml(raw: str, path: str) -> Any:
    try:
        _refuse_bombs(raw, path)
        return yaml.load(raw, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise PostError(path, line, f"front matter: {reason}") from exc


def _refuse_bombs(raw: str, path: str) -> None:
    # Aliases let a few lines expand into gigabytes once serialised; front matter never needs them.
    depth = 0
    for event in yaml.parse(raw, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise PostError(path, _line(event), "front matter: aliases are not allowed")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                reason = f"front matter: nested deeper than {MAX_DEPTH} levels"
                raise PostError(path, _line(event), reason)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _parse_toml(raw: str, path: str) -> Any:
    try:
        return tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+)", str(exc))
        line = int(found.group(1)) + 1 if found else raw.count("\n") + 2  # "at end of document"
        reason = re.sub(r" \(at .*\)$", "", str(exc))
        raise PostError(path, line, f"front matter: {reason}") from exc
    except RecursionError as exc:
        raise PostError(path, 1, f"front matter: nested deeper than {MAX_DEPTH} levels") from exc


def _parse_json(text: str, path: str) -> tuple[Any, str, int]:
    try:
        data, end = json.JSONDecoder().raw_decode(text[:MAX_BYTES])
    except json.JSONDecodeError as exc:
        if len(text) > MAX_BYTES:
            raise PostError(path, 1, "front matter: larger than 64 KiB") from exc
        raise PostError(path, exc.lineno, f"front matter: {exc.msg}") from exc
    except RecursionError as exc:
        raise PostError(path, 1, f"front matter: nested deeper than {MAX_DEPTH} levels") from exc
    rest = text[end:]
    # The body starts on the line after the closing brace.
    newline = rest.find("\n")
    body = rest[newline + 1 :] if newline >= 0 else ""
    return data, body, text[: len(text) - len(body)].count("\n") + 1


def _check_depth(data: Any, path: str) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PostError(path, 1, f"front matter: nested deeper than {MAX_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)


def _normalise(data: dict[Any, Any], raw: str, raw_line: int, path: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in data.items():
        name = KNOWN.get(str(key).lower(), str(key))
        if name not in KNOWN.values():
            fields[name] = value
            continue
        try:
            fields[name] = _convert(name, value)
        except ValueError as exc:
            raise PostError(path, _key_line(raw, raw_line, str(key)), f"front matter: {exc}") from exc
    return fields


def _convert(name: str, value: Any) -> Any:
    if name in LIST_FIELDS:
        if isinstance(value, str):
            value = [value]
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str | int | float) for item in value):
            raise ValueError(f"expected '{name}' to be a list of strings")
        return [str(item) for item in value if str(item).strip()]
    if name in STRING_FIELDS:
        if isinstance(value, dict | list):
            raise ValueError(f"expected '{name}' to be a string")
        return "" if value is None else str(value)
    if name in DATE_FIELDS:
        return _iso_date(name, value)
    if name == "draft":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError("expected 'draft' to be true or false")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("expected 'weight' to be a whole number")
    try:
        return int(value)
    except ValueError:
        raise ValueError("expected 'weight' to be a whole number") from None


def _iso_date(name: str, value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        # Hugo keeps the date as written, in its own offset: "2026-05-02T23:00:00-07:00" is May 2.
        if re.match(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return date.fromisoformat(text[:10]).isoformat()
            except ValueError:
                pass
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
    raise ValueError(f"cannot read '{name}' as a date: {value!r}")


def _key_line(raw: str, raw_line: int, key: str) -> int:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[:=]", re.IGNORECASE)
    for number, line in enumerate(raw.split("\n"), start=raw_line):
        if pattern.match(line):
            return number
    return 1


def _line(event: Any) -> int:
    return int(event.start_mark.line) + 2 if event.start_mark is not None else 1
