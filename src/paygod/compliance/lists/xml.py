"""Safe XML reading shared by the XML list readers: no DTDs, no entities (defusedxml),
namespaces reduced to local names (OFAC has moved its namespace more than once)."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from paygod.compliance.model import ListFormatError


def parse_root(data: bytes, expected: str, what: str) -> Element:
    try:
        root = fromstring(data, forbid_dtd=True)
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise ListFormatError(f"not well-formed XML at line {line}, column {column}") from None
    except DefusedXmlException as exc:
        raise ListFormatError(f"refused XML construct: {type(exc).__name__}") from None
    if not isinstance(root, Element) or local(root.tag) != expected:
        if not isinstance(root, Element):
            raise ListFormatError(f"not {what}")
        raise ListFormatError(
            f"not {what}: the root element is <{local(root.tag)}>, not <{expected}>"
        )
    return root


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(element: Element, name: str) -> Element | None:
    for item in element:
        if local(item.tag) == name:
            return item
    return None


def children(element: Element, name: str) -> list[Element]:
    return [item for item in element if local(item.tag) == name]


def text(element: Element | None, name: str | None = None) -> str:
    if element is None:
        return ""
    node = child(element, name) if name is not None else element
    if node is None or node.text is None:
        return ""
    return " ".join(node.text.split())


def path_all(element: Element, *names: str) -> list[Element]:
    """Elements at element/names[0]/names[1]/..."""
    level = [element]
    for name in names:
        level = [c for e in level for c in children(e, name)]
    return level
