"""Decode fetched HTML bytes into text without silently producing mojibake.

Order of evidence (first one that holds wins)::

    HTTP Content-Type charset  ->  BOM  ->  <meta charset> / http-equiv in the
    first 4 KiB  ->  statistical detection (charset-normalizer + a Cyrillic
    single-byte check)  ->  UTF-8 with replacement characters

Guards against the classic failure modes:

* A declared charset whose decode fails hard (many undecodable bytes) is
  skipped and the next source of evidence is tried.
* A *single-byte* declaration (latin-1, cp1251, ...) can never "fail", so if
  the bytes are in fact valid, non-ASCII UTF-8 we decode as UTF-8: random
  single-byte text practically never forms valid multi-byte UTF-8 sequences.
* The Western defaults (latin-1 / windows-1252 / ascii), typical of a
  misconfigured server, are only trusted when the bytes do not look like
  Cyrillic cp1251/koi8-r text (urlwatch-style "fall back to latin-1 because
  it accepts any bytes" is exactly the bug we avoid).
* If a BOM disagrees with the header, the BOM wins (as in WHATWG sniffing).
"""

from __future__ import annotations

import codecs
import gzip
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DecodedText", "decode_html", "read_html_file", "charset_from_content_type"]

DECIDED_BY = ("header", "bom", "meta", "detection", "fallback-utf8")


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # Python codec name, e.g. "utf-8", "cp1251", "koi8-r"
    decided_by: str  # one of DECIDED_BY


_CT_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
# Matches both <meta charset="x"> and <meta http-equiv=... content="text/html; charset=x">
_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I
)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.I)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # must precede UTF-16 LE (same prefix)
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels that in practice are server/template defaults rather than facts.
_WEAK_WESTERN = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"}
_CYRILLIC_SINGLE_BYTE = ("cp1251", "koi8-r", "koi8-u", "iso8859-5", "cp866", "mac-cyrillic")
# Most frequent Russian lowercase letters (~75% of letters in running text).
_RU_FREQUENT = set("оеаинтсрвлкмдпуяыь")


def _normalize_label(label: str | bytes | None) -> str | None:
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    # WHATWG: a document that declares UTF-16 in a meta tag is really ASCII-compatible.
    if label in {"utf-16", "utf-16le", "utf-16be", "unicode"}:
        label = "utf-8"
    if label in {"x-user-defined"}:
        label = "windows-1252"
    if label in {"x-cp1251", "win-1251", "cp-1251"}:
        label = "cp1251"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # Browsers decode every "latin-1" label as windows-1252 (a superset for 0x80-0x9F).
    if name in {"latin-1", "iso8859-1", "ascii"}:
        name = "cp1252"
    return name


def charset_from_content_type(content_type: str | None) -> str | None:
    """Codec name from a Content-Type header value, or None."""
    if not content_type:
        return None
    m = _CT_CHARSET_RE.search(content_type)
    return _normalize_label(m.group(1)) if m else None


def _bom(body: bytes) -> tuple[str, int] | None:
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return enc, len(bom)
    return None


def _meta_charset(body: bytes) -> str | None:
    head = body[:4096]
    m = _XML_DECL_RE.search(head) or _META_CHARSET_RE.search(head)
    return _normalize_label(m.group(1)) if m else None


def _is_ascii(body: bytes) -> bool:
    try:
        return body.isascii()
    except AttributeError:  # pragma: no cover
        return all(b < 0x80 for b in body)


def _valid_utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decode_cp1252(body: bytes) -> str:
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:  # 5 undefined bytes; latin-1 maps them to C1 controls
        return body.decode("latin-1")


def _try_decode(body: bytes, enc: str) -> str | None:
    """Decode, tolerating a few bad bytes; None when the decode fails hard."""
    if enc == "cp1252":
        return _decode_cp1252(body)
    try:
        return body.decode(enc)
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = body.decode(enc, errors="replace")
    bad = text.count("\ufffd")
    # "Hard" failure: more than 1 bad sequence per 2,000 characters (and more than a couple).
    if bad > max(3, len(text) // 2000):
        return None
    return text


def _cyrillic_score(text: str) -> tuple[float, int]:
    """(share of frequent lowercase Russian letters among Cyrillic letters, #cyrillic)."""
    cyr = 0
    freq = 0
    for ch in text:
        if "\u0400" <= ch <= "\u04ff":
            cyr += 1
            if ch in _RU_FREQUENT:
                freq += 1
    return (freq / cyr if cyr else 0.0), cyr


def _guess_cyrillic_single_byte(body: bytes) -> str | None:
    """Return cp1251/koi8-r/... when the high bytes are clearly Cyrillic text.

    Works on the bytes that are >= 0x80: in Russian text encoded in a single-byte
    Cyrillic code page they are the majority of letters and form whole words,
    and decoding with the *right* code page yields mostly frequent lowercase
    letters (о, е, а, и, ...), while the wrong one yields capitals or symbols.
    """
    high = sum(1 for b in body if b >= 0x80) if len(body) < 200_000 else None
    if high is None:
        sample = body[:200_000]
        high = sum(1 for b in sample if b >= 0x80)
    # Four high bytes are enough to try: a single short Cyrillic word ("Новости") must
    # not fall through to statistical detection, which guesses CJK code pages for it.
    if high < 4:
        return None
    # Restrict scoring to runs of high bytes (words), ignore markup.
    runs = re.findall(rb"[\x80-\xff]{2,}", body[:400_000])
    if not runs:
        return None
    sample = b" ".join(runs)
    best: tuple[float, str] | None = None
    for enc in _CYRILLIC_SINGLE_BYTE:
        try:
            text = sample.decode(enc, errors="replace")
        except LookupError:  # pragma: no cover
            continue
        share, cyr = _cyrillic_score(text)
        total = max(1, len(sample) - sample.count(b" "))
        if cyr < 0.6 * total:
            continue
        # frequent-letter share decides; Cyrillic coverage breaks near-ties
        # (mac-cyrillic and cp1251 share lowercase but not capitals).
        score = share * cyr / total + 0.1 * cyr / total
        if best is None or score > best[0]:
            best = (score, enc)
    if best and best[0] >= 0.4:
        return best[1]
    return None


def _detect(body: bytes) -> tuple[str, str] | None:
    """Statistical detection: returns (text, encoding) or None."""
    text = _valid_utf8(body)
    if text is not None:
        return text, "utf-8"
    cyr = _guess_cyrillic_single_byte(body)
    if cyr:
        return body.decode(cyr, errors="replace"), cyr
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover
        return None
    # Detection cost grows with size; the first 256 KiB are plenty.
    results = from_bytes(body[:262_144])
    best = results.best()
    if best is None:
        return None
    enc = _normalize_label(best.encoding)
    # Equally plausible candidates (same chaos/coherence) are common for short
    # Western text (cp1250 vs cp1252 ...): prefer the most widespread code page.
    tied = {
        _normalize_label(m.encoding)
        for m in results
        if m.chaos == best.chaos and m.coherence == best.coherence
    }
    for preferred in ("utf-8", "cp1252", "cp1251"):
        if preferred in tied:
            enc = preferred
            break
    if not enc:
        return None
    text = _try_decode(body, enc)
    if text is None:
        return None
    return text, enc


def _weak_declaration_overridden(body: bytes, declared: str) -> tuple[str, str] | None:
    """For a single-byte declaration, check whether the bytes say otherwise."""
    if declared == "utf-8" or _is_ascii(body):
        return None
    try:
        single_byte = codecs.lookup(declared).name not in {
            "utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
            "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "shift_jis", "euc_jp", "euc-jp",
            "euc_kr", "euc-kr", "iso2022_jp", "cp932", "cp949", "cp950",
        }
    except LookupError:  # pragma: no cover
        return None
    if not single_byte:
        return None
    text = _valid_utf8(body)
    if text is not None:
        return text, "utf-8"
    if declared in _WEAK_WESTERN:
        cyr = _guess_cyrillic_single_byte(body)
        if cyr:
            return body.decode(cyr, errors="replace"), cyr
    return None


def _strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


def decode_html(body: bytes, content_type: str | None = None) -> DecodedText:
    """Decode an HTML response body (see module docstring for the rules)."""
    if isinstance(body, str):  # be forgiving to callers that already decoded
        return DecodedText(body, "utf-8", "fallback-utf8")
    body = bytes(body or b"")
    bom = _bom(body)
    header = charset_from_content_type(content_type)

    if header and not (bom and bom[0] != header):
        override = _weak_declaration_overridden(body, header)
        if override:
            return DecodedText(_strip_bom(override[0]), override[1], "detection")
        text = _try_decode(body, header)
        if text is not None:
            return DecodedText(_strip_bom(text), header, "header")

    if bom:
        enc, n = bom
        text = _try_decode(body[n:], enc)
        if text is not None:
            return DecodedText(text, enc, "bom")

    meta = _meta_charset(body)
    if meta:
        override = _weak_declaration_overridden(body, meta)
        if override:
            return DecodedText(override[0], override[1], "detection")
        text = _try_decode(body, meta)
        if text is not None:
            return DecodedText(text, meta, "meta")

    detected = _detect(body)
    if detected:
        return DecodedText(detected[0], detected[1], "detection")

    return DecodedText(body.decode("utf-8", errors="replace"), "utf-8", "fallback-utf8")


def read_html_file(path: str | Path, content_type: str | None = None) -> DecodedText:
    """Read and decode an ``.html`` or gzip-compressed ``.html.gz`` file."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return decode_html(raw, content_type)
