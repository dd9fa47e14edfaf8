"""One hardened way to parse XML that may be hostile (an edXML package from another agency, an
upload to be signed), shared by the signing and exchange services so that both refuse the same
things for the same reasons.

Any DOCTYPE is refused before libxml2 reads it, so neither entity expansion (billion laughs)
nor external entities (XXE) are reachable; nothing is fetched from files or the network; and
libxml2 keeps its own limits on depth and text size (no `huge_tree`).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from vanban.platform.errors import InvalidArgumentError

# A feed of this size is enough to see the prolog of any document we accept.
_PROLOG_CHUNK = 16 * 1024


class _DoctypeFound(Exception):
    pass


class _PrologEnd(Exception):
    pass


class _PrologScan:
    """A parser target that stops at the DOCTYPE (before libxml2 reads its internal subset,
    where entities are declared) or at the root element's start tag, whichever comes first."""

    def doctype(self, name: str | None, pubid: str | None, system: str | None) -> None:
        raise _DoctypeFound

    def start(self, tag: str, attrib: Any, nsmap: Any = None) -> None:
        raise _PrologEnd

    def end(self, tag: str) -> None:
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        return None


def hardened_parser(target: object | None = None) -> etree.XMLParser:
    """A new parser that resolves no entity, loads no DTD and reaches no network; to hand to
    libraries that parse again (signxml). A new one each time: an lxml parser must not be used
    by two threads at once."""
    return etree.XMLParser(
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )


def _malformed(exc: etree.XMLSyntaxError) -> InvalidArgumentError:
    return InvalidArgumentError(f"the XML is not well-formed: {exc}", reason="XML_MALFORMED")


def _doctype_forbidden() -> InvalidArgumentError:
    return InvalidArgumentError(
        "the XML has a DOCTYPE; document type declarations are not accepted",
        reason="XML_DOCTYPE_FORBIDDEN",
    )


def _refuse_doctype(data: bytes) -> None:
    scan = hardened_parser(_PrologScan())
    try:
        for start in range(0, len(data), _PROLOG_CHUNK):
            scan.feed(data[start : start + _PROLOG_CHUNK])
        scan.close()
    except _DoctypeFound:
        raise _doctype_forbidden() from None
    except _PrologEnd:
        return
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc) from None


def parse_xml(data: bytes, *, max_bytes: int) -> etree._Element:
    """The root of `data` parsed for hostile input: at most `max_bytes`, no DOCTYPE (so no
    entity of any kind), nothing fetched from files or the network, libxml2's size limits.
    Refusals are InvalidArgumentError with reason XML_TOO_LARGE, XML_DOCTYPE_FORBIDDEN or
    XML_MALFORMED."""
    if len(data) > max_bytes:
        raise InvalidArgumentError(
            f"the XML has {len(data)} bytes, more than the {max_bytes} accepted",
            reason="XML_TOO_LARGE",
            metadata={"max_bytes": str(max_bytes)},
        )
    _refuse_doctype(data)
    try:
        root = etree.fromstring(data, parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc) from None
    docinfo = root.getroottree().docinfo
    # The scan above has refused these already; checked again on the tree that is returned.
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _doctype_forbidden()
    if next(root.iter(etree.Entity), None) is not None:
        raise _doctype_forbidden()
    return root
