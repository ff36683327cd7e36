"""`lawwatch extract`: use the source adapter for known hosts, the generic extractor otherwise."""
from __future__ import annotations

import datetime as dt
import re
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.charset import decode_html

# Hosts each adapter's parse_page() understands (mirrors included). Adapters without a
# page parser (API/feed-only sources) are not listed.
ADAPTER_HOSTS = {
    "24.kg": "kg24", "www.24.kg": "kg24", "24-kg.com": "kg24", "www.24-kg.com": "kg24",
    "themoscowtimes.com": "moscowtimes", "www.themoscowtimes.com": "moscowtimes",
    "ru.themoscowtimes.com": "moscowtimes", "moscowtimes.ru": "moscowtimes",
    "www.moscowtimes.ru": "moscowtimes",
    "courteurasian.org": "courteurasian", "www.courteurasian.org": "courteurasian",
    "sozd.duma.gov.ru": "sozd_duma",
}
_CANON_RE = re.compile(r"""<link[^>]+rel=["']?canonical["']?[^>]*>""", re.I)
_HREF_RE = re.compile(r"""href=["']([^"']+)["']""", re.I)
_OGURL_RE = re.compile(r"""<meta[^>]+property=["']og:url["'][^>]*content=["']([^"']+)["']""", re.I)
MAX_FILE_BYTES = 50_000_000


def read_page(path: str | Path) -> bytes:
    p = Path(path)
    if not p.exists():
        raise ValueError("no such file")
    if p.is_dir():
        raise ValueError("is a directory, expected an .html or .html.gz file")
    data = p.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = _gunzip_capped(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"corrupt gzip data: {exc}") from None
    if not data.strip():
        raise ValueError("empty file, expected an HTML page")
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{len(data)} bytes is over the {MAX_FILE_BYTES}-byte limit for one page")
    return data


def _gunzip_capped(data: bytes) -> bytes:
    """Decompress, refusing more than MAX_FILE_BYTES of output (a gzip bomb is refused, not
    expanded into memory)."""
    d = zlib.decompressobj(wbits=47)
    out = d.decompress(data, MAX_FILE_BYTES + 1)
    if len(out) > MAX_FILE_BYTES:
        raise ValueError(f"decompresses to more than {MAX_FILE_BYTES} bytes; refusing it")
    if not d.eof:
        raise ValueError("corrupt gzip data: truncated stream")
    return out


def guess_url(html: str) -> str | None:
    m = _CANON_RE.search(html)
    if m:
        h = _HREF_RE.search(m.group(0))
        if h and h.group(1).startswith("http"):
            return h.group(1)
    m = _OGURL_RE.search(html)
    return m.group(1) if m else None


def adapter_for_url(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return ADAPTER_HOSTS.get(host)


def extract_file(path: str | Path, url: str | None = None) -> dict[str, Any]:
    data = read_page(path)
    if b"\x00" in data[:4096] and not data.lstrip().startswith(b"<"):
        raise ValueError("binary data, not an HTML page")
    decoded = decode_html(data, None)
    html = decoded.text
    url = url or guess_url(html)
    name = adapter_for_url(url)
    if name is not None:
        from crawler.base import SelectorDrift
        from crawler.sources import load_adapter
        source = {"id": name, "name": name, "adapter": name, "lang": None, "options": {}}
        try:
            rec = load_adapter(name)(source).parse_page(html, url, dt.date.today())
            return {"path": str(path), "url": rec.canonical_url, "title": rec.title,
                    "text": "\n\n".join(p for p in (rec.lead, rec.body) if p),
                    "published": rec.published_at.isoformat() if rec.published_at else None,
                    "lang": rec.lang, "extractor": f"adapter:{name}"}
        except (SelectorDrift, NotImplementedError):
            pass  # layout not recognised: fall back to the generic extractor, and say so
    from crawler.extract import extract_article
    art = extract_article(html, url)
    return {"path": str(path), "url": art.url or url, "title": art.title, "text": art.text,
            "published": art.published, "lang": art.lang, "extractor": "generic"}
