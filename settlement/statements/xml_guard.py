"""What an XML statement must pass before it is read: one root, in a namespace, no DTD.

lxml is told not to load DTDs, expand entities or use the network; on top of that a
document that declares a DTD is refused outright, with a message that says why. An
unexpanded entity would otherwise vanish from the text without a word (``ID-&x;-END``
reads as ``ID-``), and an entity bomb would end in a bare "not well-formed" error.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from settlement.statements.errors import StatementError


def root_namespace(head: bytes) -> str | None:
    """The root element's namespace ("" for none), or None when no root is in ``head``.

    Refuses a document with a DTD: a statement needs none, and its entities could
    expand without bound or, as external entities, read local files."""
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True, load_dtd=False)
    try:
        parser.feed(head)
    except etree.XMLSyntaxError as exc:
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise StatementError(_DTD_REFUSED) from None
        error: etree.XMLSyntaxError | None = exc
    else:
        error = None
    for _, element in parser.read_events():
        refuse_dtd(element)
        return etree.QName(element).namespace or ""
    if error is not None:
        raise StatementError(f"not well-formed XML: {error}") from None
    return None


_DTD_REFUSED = (
    "the XML document declares a DTD (<!DOCTYPE ...>) and was refused: bank statements need none, and its "
    "entities could expand without bound (an entity bomb) or read local files (external entities); ask the "
    "bank for the file without the DOCTYPE"
)


def refuse_dtd(element: Any) -> None:
    info = element.getroottree().docinfo
    if info.internalDTD is not None or info.externalDTD is not None or info.system_url or info.public_id:
        raise StatementError(_DTD_REFUSED)
