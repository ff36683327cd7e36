"""Any site: listing pages -> links matching options.link_pattern -> article pages through the
generic extractor (crawler/extract.py); RSS/Atom feeds in `feeds` are read as well.

Used for sites whose templates we do not know (e.g. mlsp.gov.kg, the Kyrgyz Ministry of
Labour, Social Security and Migration: news under /ru/{yyyy}/{mm}/{dd}/...).

Options:
  link_pattern  regex searched in absolute link URLs on a listing page (required with pages)
  same_host     only follow links on the listing page's host (default true)
  max_items     links/items read per listing page or feed (default 50)
  min_chars     shortest extracted text accepted as an article (default 200, the extractor's
                own `has_article` floor)
"""
from __future__ import annotations

import datetime as dt
import re
from typing import AsyncIterator

from crawler.base import BaseAdapter, SelectorDrift
from crawler.sources._common import (ItemErrors, abs_url, entry_times, host_of, html_tree,
                                     normalize_url, parse_feed, parse_iso)
from store.records import ArticleRecord

VERSION = "extract"   # no site-specific selectors: the generic extractor decides


def extract_record(html: str, url: str, source: dict, *, min_chars: int = 200,
                   kind: str = "article") -> ArticleRecord:
    """ArticleRecord from the generic extractor; SelectorDrift when it finds no article."""
    from crawler.extract import detect_lang, extract_article
    art = extract_article(html, url)
    sid = source["id"]
    if not art.title:
        raise SelectorDrift(sid, VERSION, "title", url)
    if len(art.text or "") < min_chars:
        raise SelectorDrift(sid, VERSION, f"text (extracted {len(art.text or '')} chars, "
                                          f"need {min_chars})", url)
    lang = source.get("lang") or art.lang or detect_lang(art.text)
    return ArticleRecord(
        canonical_url=normalize_url(art.url or url), source_id=sid, title=art.title,
        body=art.text, lead=art.description or None, lang=lang, kind=kind,
        authors=list(art.authors or []), published_at=parse_iso(art.published),
        updated_at=parse_iso(art.modified), extra={"parser": "generic.extract"})


def listing_links(html: str, url: str, pattern: re.Pattern, same_host: bool = True) -> list[str]:
    """Absolute, de-duplicated links on a listing page matching `pattern`, in page order."""
    tree = html_tree(html)
    host = host_of(url)
    out: list[str] = []
    for a in tree.css("a[href]"):
        u = abs_url(url, a.attributes.get("href"))
        if not u or not u.startswith(("http://", "https://")):
            continue
        u = normalize_url(u)
        if same_host and host_of(u) != host:
            continue
        if pattern.search(u) and u not in out and u != normalize_url(url):
            out.append(u)
    return out


class Adapter(BaseAdapter):
    name = "generic"
    optional_options = ("link_pattern", "same_host", "max_items", "min_chars")

    def __init__(self, source):
        super().__init__(source)
        o = source.get("options", {})
        pat = o.get("link_pattern")
        if source.get("pages") and not pat:
            from lawwatch.schema import ConfigError
            raise ConfigError("sources.toml", f"source[{source['id']}].options.link_pattern",
                              "required when `pages` are given (which links are articles?)")
        try:
            self.pattern = re.compile(pat) if pat else None
        except re.error as e:
            from lawwatch.schema import ConfigError
            raise ConfigError("sources.toml", f"source[{source['id']}].options.link_pattern",
                              f"not a valid regular expression: {e}") from None
        self.same_host = bool(o.get("same_host", True))
        self.max_items = int(o.get("max_items", 50))
        self.min_chars = int(o.get("min_chars", 200))

    def parse_page(self, html: str, url: str, crawl_date: dt.date | None = None) -> ArticleRecord:
        return extract_record(html, url, self.source, min_chars=self.min_chars)

    def parse_document(self, text: str, url: str, crawl_date: dt.date) -> list:
        if url in self.source.get("pages", []):
            links = listing_links(text, url, self.pattern, self.same_host)
            if not links:
                raise SelectorDrift(self.source["id"], VERSION, "listing links", url)
            return links
        return [self.parse_page(text, url, crawl_date)]

    async def collect(self, ctx) -> AsyncIterator[ArticleRecord]:
        errors = ItemErrors(ctx)
        for listing in self.source.get("pages", []):
            page = await ctx.get(listing, kind="listing")
            if page.not_modified:
                continue
            links = listing_links(page.text, page.url, self.pattern, self.same_host)
            if not links:
                raise SelectorDrift(self.source["id"], VERSION,
                                    f"links matching {self.pattern.pattern!r}", listing)
            for url in links[: self.max_items]:
                if ctx.known(url):
                    continue
                rec = await errors.page(url, self.parse_page)
                if rec is not None:
                    errors.ok += 1
                    yield rec
        for feed_url in self.source.get("feeds", []):
            page = await ctx.get(feed_url, kind="feed")
            if page.not_modified:
                continue
            for entry in parse_feed(page.text, feed_url, ctx.warn).entries[: self.max_items]:
                link = entry.get("link")
                if not link:
                    ctx.warn(f"feed {feed_url}: item without <link> skipped")
                    continue
                url = normalize_url(link)
                _, upd = entry_times(entry)
                if ctx.known(url) and upd is None:
                    continue
                rec = await errors.page(url, self.parse_page)
                if rec is not None:
                    errors.ok += 1
                    yield rec
        errors.finish()
