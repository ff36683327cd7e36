"""Helpers shared by the source adapters (not an adapter: the leading underscore keeps it out of
`available_adapters()`).

Everything here is pure: HTML/feed parsing helpers, date parsing, and the per-item error policy
of `collect()`. No network, no store.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from calendar import timegm
from typing import Any, Callable, Iterable
from xml.sax import SAXParseException
from urllib.parse import urljoin, urlsplit

import feedparser
from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.base import FetchFailed, ParserVersion, SelectorDrift

UTC = dt.timezone.utc


class FeedError(ValueError):
    """A feed could not be parsed; the message names the URL and the parser's complaint."""

    def __init__(self, url: str, reason: str):
        self.url, self.reason = url, reason
        super().__init__(f"feed {url}: {reason}")


def clean(s: str | None) -> str:
    """Collapse runs of whitespace (incl. NBSP) to one space and strip."""
    if not s:
        return ""
    return " ".join(s.replace("\xa0", " ").split())


def node_text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return clean(node.text(separator=" "))


# Block-level tags whose text forms one paragraph of an article body.
_BLOCKS = "p, h2, h3, h4, h5, li, blockquote, pre, td"


def paragraphs(node: LexborNode | None) -> list[str]:
    """The text of `node` as paragraphs: one per outermost block element (p, h2, li, ...);
    loose text with no block element at all becomes one paragraph."""
    if node is None:
        return []
    blocks = node.css(_BLOCKS)
    if not blocks:
        t = node_text(node)
        return [t] if t else []
    ids = {b.mem_id for b in blocks}
    out: list[str] = []
    for b in blocks:
        p = b.parent
        nested = False
        while p is not None and p.mem_id != node.mem_id:
            if p.mem_id in ids:
                nested = True
                break
            p = p.parent
        if nested:
            continue
        t = node_text(b)
        if t:
            out.append(t)
    return out


def drop(node: LexborNode, selectors: Iterable[str]) -> None:
    """Remove every element matching one of `selectors` from the subtree of `node`."""
    for sel in selectors:
        for n in node.css(sel):
            n.decompose()


def html_tree(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(html)


def require(value: Any, source: str, version: type[ParserVersion], field_name: str, url: str) -> Any:
    """Return `value`, or raise SelectorDrift when it is empty/None."""
    if value is None or (isinstance(value, (str, list, dict)) and not value):
        raise SelectorDrift(source, version.name, field_name, url)
    return value


def abs_url(base: str, href: str | None) -> str | None:
    if not href:
        return None
    return urljoin(base, href.strip())


def normalize_url(url: str) -> str:
    """Article identity of a URL: crawler.canonical.canonicalize (lowercase scheme/host, IDNA
    host as punycode, no fragment, tracking parameters dropped, mirror hosts and AMP variants
    mapped to the main page) -- the same key the fetcher and the store use."""
    from crawler.canonical import canonicalize
    return canonicalize(url.strip())


def host_of(url: str) -> str:
    return urlsplit(normalize_url(url)).netloc


def parse_iso(value: str | None, default_tz: dt.tzinfo = UTC) -> dt.datetime | None:
    """ISO 8601 date or date-time -> aware datetime (naive values get `default_tz`)."""
    if not value or not isinstance(value, str):
        return None
    v = value.strip()
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    try:
        d = dt.datetime.fromisoformat(v)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=default_tz)
    return d


def parse_ddmmyyyy(value: str | None, tz: dt.tzinfo = UTC) -> dt.datetime | None:
    m = re.search(r"\b(\d{2})\.(\d{2})\.(\d{4})\b", value or "")
    if not m:
        return None
    return dt.datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)), tzinfo=tz)


def struct_to_dt(st) -> dt.datetime | None:
    """feedparser's *_parsed (UTC struct_time) -> aware UTC datetime."""
    if not st:
        return None
    return dt.datetime.fromtimestamp(timegm(st), tz=UTC)


def parse_feed(text: str | bytes, url: str,
               warn: Callable[[str], None] | None = None) -> feedparser.FeedParserDict:
    """Parse RSS/Atom; raise FeedError naming the URL when it is not a usable feed.
    A well-formed feed with zero items is fine (returns it); a document that is not a feed
    (HTML error page, truncated XML with no items) is an error. A feed that is not
    well-formed but still yields items (cut off mid-document, a broken tag) is read
    leniently, and `warn` (an adapter passes ctx.warn) is told: the lenient parse can drop
    items without a trace, so the source's health must say so."""
    # Always hand feedparser a stream: given a str or bytes that looks like a path or URL it
    # would open that file or fetch that URL instead of parsing the body.
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    try:
        parsed = feedparser.parse(io.BytesIO(data))
    except (ValueError, UnicodeError, LookupError, RecursionError) as exc:
        raise FeedError(url, f"not a parseable RSS/Atom document ({type(exc).__name__}: {exc})") from None
    version = parsed.get("version") or ""
    if parsed.bozo and not parsed.entries:
        exc = parsed.get("bozo_exception")
        raise FeedError(url, f"not a parseable RSS/Atom document ({type(exc).__name__}: {exc})")
    if not version and not parsed.entries:
        head = (text[:80] if isinstance(text, str) else text[:80].decode("utf-8", "replace"))
        raise FeedError(url, f"no RSS/Atom root element (document starts {head.strip()!r})")
    if warn is not None:
        problem = feed_problem(parsed, url)
        if problem:
            warn(problem)
    return parsed


def feed_problem(parsed: feedparser.FeedParserDict, url: str) -> str | None:
    """Why a feed that parsed with items may still have lost some, or None.

    Only XML well-formedness errors count: feedparser then re-parses leniently, and a
    truncated document or a mismatched tag silently loses the items around it (seen in
    tests/test_crawl_faults.py: an Atom feed with one bad tag came back with one entry of
    two). "undefined entity" is not counted: HTML entities such as &nbsp; in RSS are common
    and the lenient parse reads them fine."""
    exc = parsed.get("bozo_exception")
    if not parsed.get("bozo") or not isinstance(exc, SAXParseException):
        return None
    if "undefined entity" in str(exc):
        return None
    return (f"feed {url}: not well-formed XML ({exc}); read the {len(parsed.entries)} item(s) "
            f"a lenient parse recovered, others may be missing")


def entry_times(entry) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(published, updated) of a feed entry; updated only when the feed states a distinct,
    later time."""
    # dict.get: FeedParserDict.get("updated_parsed") silently falls back to published_parsed
    pub = struct_to_dt(dict.get(entry, "published_parsed"))
    upd = struct_to_dt(dict.get(entry, "updated_parsed"))
    if pub is None:
        pub, upd = upd, None
    if upd is not None and pub is not None and upd <= pub:
        upd = None
    return pub, upd


def html_fragment_paragraphs(html: str) -> list[str]:
    """Paragraphs of an HTML fragment (feed description / content:encoded)."""
    tree = LexborHTMLParser(f"<div id='lw-frag'>{html}</div>")
    return paragraphs(tree.css_first("#lw-frag"))


class ItemErrors:
    """Per-item error policy of collect(): a page that cannot be fetched or parsed is reported
    with ctx.warn and skipped, so one bad page does not hide the rest; if *no* item could be
    read and some drifted, the first SelectorDrift is raised at the end, so source health sees
    a broken parser rather than a quiet source."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.ok = 0
        self.drift: SelectorDrift | None = None
        self.failed: list[str] = []

    def fetch_failed(self, exc: FetchFailed) -> None:
        self.failed.append(exc.url)
        self.ctx.warn(f"fetch failed: {exc}")

    def drifted(self, exc: SelectorDrift) -> None:
        if self.drift is None:
            self.drift = exc
        self.ctx.warn(str(exc))

    def finish(self) -> None:
        if self.ok == 0 and self.drift is not None:
            raise self.drift

    async def page(self, url: str, parse) -> Any:
        """Fetch one item page and `parse(text, final_url, crawl_date)` it. None when the page
        is unchanged (304) or failed; a failure is recorded here (warned, drift kept)."""
        try:
            page = await self.ctx.get(url)
            if page.not_modified:
                return None
            return parse(page.text, page.url, page.fetched_at.date())
        except FetchFailed as e:
            self.fetch_failed(e)
        except SelectorDrift as e:
            self.drifted(e)
        return None
