"""Typed access to an lxml tree: XPath results as elements or strings, an element's text and source line."""

from __future__ import annotations

from lxml.etree import _Element as Element

__all__ = ["Element", "elements", "line_of", "strings", "text_of"]


def elements(root: Element, path: str) -> list[Element]:
    """The elements an XPath selects."""
    found = root.xpath(path)
    return [e for e in found if isinstance(e, Element)] if isinstance(found, list) else []


def strings(root: Element, path: str) -> list[str]:
    """The attribute values or texts an XPath selects."""
    found = root.xpath(path)
    return [str(s) for s in found if isinstance(s, str | bytes)] if isinstance(found, list) else []


def text_of(element: Element) -> str:
    """All text inside the element, as written."""
    return "".join(t if isinstance(t, str) else t.decode() for t in element.itertext())


def line_of(element: Element) -> int:
    """The source line the element starts on; 0 when unknown."""
    line = element.sourceline
    return line if isinstance(line, int) else 0
