"""Make a fetched document safe to hand to feedparser: one known encoding, no entity tricks.

- Encoding policy (Miniflux's): a byte-order mark wins; else bytes that are valid UTF-8 are
  UTF-8 whatever the prolog claims (a prolog saying windows-1252 over UTF-8 bytes is the
  common lie); else the declared charset (XML prolog, then HTTP header); else windows-1252.
  The result is re-encoded as UTF-8 with a matching prolog, so feedparser never guesses.
- Entities: the internal DTD subset is removed. Plain-text general entities are expanded by us
  under a hard budget (a "quadratic blowup" feed — one large entity used thousands of times —
  would otherwise be expanded without limit by feedparser's fallback parser); entities that
  refer to other entities (billion laughs), external ones (``SYSTEM "file:///etc/passwd"``) and
  parameter entities are dropped, with their references.
- Numeric character references that cannot be a character (``&#xD800;``, ``&#x110000;``,
  ``&#99999999999;``) make feedparser raise; they become U+FFFD so the rest of the feed survives.
"""
from __future__ import annotations

import codecs
import re

EXPANSION_BUDGET = 1 << 20  # bytes that entity expansion may add to a document


class UnsafeDocument(ValueError):
    """The document cannot be made safe (e.g. entity expansion beyond the budget)."""


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# '<?' in encodings that have no BOM but are recognisable by their first bytes.
_SIGNATURES = (
    (b"\x00\x00\x00\x3c", "utf-32-be"), (b"\x3c\x00\x00\x00", "utf-32-le"),
    (b"\x00\x3c\x00\x3f", "utf-16-be"), (b"\x3c\x00\x3f\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # EBCDIC '<?xm'
)
_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_DECL_TEXT = re.compile(r"<\?xml\b[^>]*\?>")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_SINGLE_BYTE_LIARS = {"iso-8859-1", "latin-1", "latin1", "cp1252", "windows-1252", "us-ascii", "ascii",
                      "iso8859-1", "iso-8859-15"}


def decode_document(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Bytes → (text, encoding used), following the policy in the module docstring."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(enc, errors="replace"), enc
    for sig, enc in _SIGNATURES:
        if body.startswith(sig):
            return body.decode(enc, errors="replace"), enc
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = None
    m = _DECL.match(body[:512])
    if m:
        declared = m.group(1).decode("ascii").lower()
    elif content_type:
        cm = _CHARSET.search(content_type)
        declared = cm.group(1).lower() if cm else None
    if declared and declared.replace("_", "-") in ("utf-8", "utf8"):
        declared = None  # it said UTF-8 and is not: the usual culprit is windows-1252
    for enc in (declared, "windows-1252"):
        if not enc:
            continue
        try:
            codecs.lookup(enc)
        except LookupError:
            continue
        try:
            return body.decode(enc), enc
        except UnicodeDecodeError:
            return body.decode(enc, errors="replace"), enc
    return body.decode("latin-1"), "latin-1"  # pragma: no cover - windows-1252 always exists


# <!DOCTYPE name [ internal subset ]>  — the subset may hold quoted '>' and ']'.
_DOCTYPE = re.compile(
    r"""<!DOCTYPE\s+[^\s\[>]+(?:\s+(?:SYSTEM|PUBLIC)(?:\s+(?:"[^"]*"|'[^']*'))+)?\s*"""
    r"""(\[(?:[^\]"']|"[^"]*"|'[^']*')*\])?\s*>""", re.I)
_ENTITY = re.compile(r"""<!ENTITY\s+(%\s+)?([^\s%;"'>]+)\s+("([^"]*)"|'([^']*)'|[^>]*)\s*>""")
_REF = re.compile(r"&([A-Za-z_:][\w.:-]*);")
_CHARREF = re.compile(r"&#(?:x([0-9a-fA-F]+)|([0-9]+));")


def _fix_charref(m: re.Match) -> str:
    try:
        cp = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    except ValueError:
        return "&#xFFFD;"
    if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF or len(m.group(0)) > 12:
        return "&#xFFFD;"
    return m.group(0)


_ROOT_START = re.compile(r"<[A-Za-z_]")


def _prolog_end(text: str) -> int:
    root = _ROOT_START.search(text)
    return root.start() if root else len(text)


def neutralise_entities(text: str) -> tuple[str, list[str]]:
    """Remove entity declarations from the prolog, expanding only safe ones under a budget.

    Only the prolog (before the root element) can declare entities, so only it is searched.
    Returns the new text and notes on what was dropped (for the feed's warnings).
    """
    notes: list[str] = []
    prolog_end = _prolog_end(text)
    prolog = text[:prolog_end]
    values: dict[str, str] = {}
    dropped: set[str] = set()
    if "<!ENTITY" in prolog.upper():
        for em in _ENTITY.finditer(prolog):
            name = em.group(2)
            if em.group(1):  # parameter entity: only useful for DTD tricks
                notes.append(f"dropped parameter entity %{name}")
                continue
            value = em.group(4) if em.group(4) is not None else em.group(5)
            if value is None:
                dropped.add(name)
                notes.append(f"dropped external entity {name}")
            elif "&" in value or "%" in value or "<" in value:
                dropped.add(name)
                notes.append(f"dropped entity {name} (refers to other entities or markup)")
            else:
                values[name] = value
        dm = _DOCTYPE.search(prolog)
        if dm is not None and dm.group(1):
            prolog = prolog[:dm.start()] + prolog[dm.end():]
        prolog = _ENTITY.sub("", prolog)
        if "<!ENTITY" in prolog.upper():
            raise UnsafeDocument("entity declarations that cannot be read safely")
        # A subset we could not match as a whole: drop what is left of it.
        prolog = re.sub(r"<!DOCTYPE[^\[>]*\[.*", "", prolog, flags=re.S | re.I)
    text = prolog + text[prolog_end:]
    if values or dropped:
        budget = [EXPANSION_BUDGET]

        def expand(m: re.Match) -> str:
            name = m.group(1)
            if name in values:
                v = values[name]
                budget[0] -= len(v)
                if budget[0] < 0:
                    raise UnsafeDocument(
                        "entity expansion exceeds 1 MiB (an XML bomb, such as a quadratic blowup)")
                return v
            return "" if name in dropped else m.group(0)

        text = _REF.sub(expand, text)
    if "&#" in text:
        text = _CHARREF.sub(_fix_charref, text)
    return text, notes


def prepare(body: bytes, content_type: str | None) -> tuple[bytes, str, list[str]]:
    """The safe UTF-8 document for feedparser, the source encoding, and notes."""
    text, encoding = decode_document(body, content_type)
    text, notes = neutralise_entities(text)
    m = _DECL_TEXT.search(text, 0, _prolog_end(text))
    if m:
        text = text[:m.start()] + text[m.end():]
    return ('<?xml version="1.0" encoding="utf-8"?>' + text).encode("utf-8", "replace"), encoding, notes
