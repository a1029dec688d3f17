"""Write a camt.054 holding only the given entries of a bank's camt.053 or camt.054 file.

For the day of lost bank notifications (docs/OPERATIONS.md): the credits `reconcile` found
missing in the ledger are delivered again through a camt054 bank connector, and only
those: the day's other lines are either already booked (a repeated delivery is recognised)
or were never notifications (cash deposits are recorded from their slips), and posting
them would book them a second time. Entries are picked by their bank reference
(``AcctSvcrRef``, the ``bank_ids`` of report.json). Each account's entries stay under their
own account; balances and summaries are dropped (a notification has none).

Usage: .venv/bin/python scripts/camt054_select.py STATEMENT OUT BANK_REF [BANK_REF ...]
Exit 0 written; 2 a reference is not in the file, or the file is not camt.053/camt.054.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lxml import etree

CAMT = "urn:iso:std:iso:20022:tech:xsd:camt."
CONTAINERS = {"BkToCstmrStmt": "BkToCstmrDbtCdtNtfctn", "BkToCstmrDbtCdtNtfctn": "BkToCstmrDbtCdtNtfctn"}
BLOCKS = {"Stmt": "Ntfctn", "Ntfctn": "Ntfctn"}
DROPPED = {"Bal", "TxsSummry"}


def local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def rebuilt(element: etree._Element, namespace: str) -> etree._Element:
    """``element`` and its whole subtree in ``namespace``."""
    copy = etree.Element(f"{{{namespace}}}{local(element)}", attrib=dict(element.attrib), nsmap={None: namespace})
    copy.text, copy.tail = element.text, element.tail
    for child in element:
        if isinstance(child.tag, str):
            copy.append(rebuilt(child, namespace))
    return copy


def select(statement: bytes, references: set[str]) -> tuple[bytes, set[str]]:
    """The camt.054 document, and the references it found."""
    root = etree.fromstring(statement, etree.XMLParser(resolve_entities=False, no_network=True))
    container = next((c for c in root if isinstance(c.tag, str) and local(c) in CONTAINERS), None)
    source = etree.QName(root).namespace or ""
    if container is None or not source.startswith((f"{CAMT}053.001.", f"{CAMT}054.001.")):
        raise ValueError("not a camt.053 or camt.054 document")
    namespace = f"{CAMT}054.001.{source.rsplit('.', 1)[1]}"  # the same version of the message
    document = etree.Element(f"{{{namespace}}}Document", nsmap={None: namespace})
    out = etree.SubElement(document, f"{{{namespace}}}{CONTAINERS[local(container)]}")
    found: set[str] = set()
    for child in container:
        if not isinstance(child.tag, str):
            continue
        if local(child) == "GrpHdr":
            out.append(rebuilt(child, namespace))
        elif local(child) in BLOCKS:
            block = etree.Element(f"{{{namespace}}}{BLOCKS[local(child)]}")
            for part in child:
                if not isinstance(part.tag, str) or local(part) in DROPPED:
                    continue
                if local(part) == "Ntry":
                    ids = {r.text for r in part.iter(f"{{{etree.QName(part).namespace}}}AcctSvcrRef")}
                    if not ids & references:
                        continue
                    found |= ids & references
                block.append(rebuilt(part, namespace))
            if any(local(p) == "Ntry" for p in block):
                out.append(block)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8"), found


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__.split("\n\n")[-2], file=sys.stderr)
        return 2
    source, target, references = Path(argv[0]), Path(argv[1]), set(argv[2:])
    try:
        document, found = select(source.read_bytes(), references)
    except (OSError, ValueError, etree.XMLSyntaxError) as exc:
        print(f"camt054_select: cannot read {source}: {exc}", file=sys.stderr)
        return 2
    if missing := references - found:
        print(f"camt054_select: not in {source}: {', '.join(sorted(missing))}", file=sys.stderr)
        return 2
    target.write_bytes(document)
    print(f"camt054_select: {len(found)} entries written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
