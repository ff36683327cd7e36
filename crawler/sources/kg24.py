"""24.kg (Kyrgyz news agency), Russian and English editions.

Feed (RSS 2.0) -> items -> article pages. One module serves both editions; the source entry
says which feed and language (config/sources.toml: kg24_ru, kg24_en).

Selectors: last-known template as documented in ../shared/reference/sources.md ("24.kg"), i.e.
the schema.org microdata article template (NewsArticle container with itemid = canonical URL,
h1.newsTitle, .newsDate with span[itemprop=datePublished][content], author microdata,
div.cont[itemprop=articleBody] with the related box div.poTeme). Not verified against a live
page while this was written (the site was unreachable); the fixtures are reconstructed.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import AsyncIterator, ClassVar

from crawler.base import BaseAdapter, ParserVersion, SelectorDrift, pick_version
from crawler.sources._common import (ItemErrors, drop, entry_times, html_fragment_paragraphs,
                                     html_tree, node_text, normalize_url, paragraphs, parse_feed,
                                     parse_iso, require)
from store.records import ArticleRecord

# Kyrgyzstan is UTC+6 all year (no DST since 2005); the page shows local time only.
BISHKEK = dt.timezone(dt.timedelta(hours=6), "Asia/Bishkek")


class V1(ParserVersion):
    """24.kg article template, last known layout (sources.md, 2024-2026 pages)."""
    name: ClassVar[str] = "V1"
    valid_until: ClassVar[dt.date] = dt.date.max

    CONTAINER = 'div[itemtype="http://schema.org/NewsArticle"]'
    TITLE = "h1.newsTitle"
    SECTION = ".newsCat"
    DATE_BOX = ".newsDate"
    DATE = "span[itemprop=datePublished][content]"
    AUTHOR = "span[itemprop=author] span[itemprop=name]"
    BODY = "div.cont[itemprop=articleBody]"
    CANONICAL = "link[rel=canonical]"
    # Chrome inside the body: related-links box ("Читайте по теме"), ads, embeds, share bar.
    STRIP = ("div.poTeme", "script", "style", "iframe", "noscript", ".banner", ".share",
             ".social", "ins")
    # Boilerplate lines of the English edition's page text (currency widget, footer counters).
    BOILERPLATE = re.compile(
        r"^(?:(?:USD|EUR|RUB|KZT|CNY|GBP|TRY|UZS)\s+[\d.,]+"
        r"|link:\s*\S+|views:\s*[\d\s]+|Print|Related|Popular|Читайте по теме:?)$",
        re.IGNORECASE)
    TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b")

    def __init__(self, source: str, html: str, url: str):
        self.source, self.url = source, url
        self.tree = html_tree(html)
        self.root = self.tree.css_first(self.CONTAINER) or self.tree.body or self.tree.root

    def _req(self, value, field_name):
        return require(value, self.source, type(self), field_name, self.url)

    def canonical_url(self) -> str:
        c = self.tree.css_first(self.CONTAINER)
        if c is not None and c.attributes.get("itemid"):
            return normalize_url(c.attributes["itemid"])
        link = self.tree.css_first(self.CANONICAL)
        if link is not None and link.attributes.get("href"):
            return normalize_url(link.attributes["href"])
        return normalize_url(self.url)

    def title(self) -> str:
        return self._req(node_text(self.root.css_first(self.TITLE)), "title")

    def section(self) -> str | None:
        return node_text(self.root.css_first(self.SECTION)) or None

    def published(self) -> dt.datetime:
        span = self.root.css_first(self.DATE)
        day = span.attributes.get("content") if span is not None else None
        d = parse_iso(day, BISHKEK) if day else None
        d = self._req(d, "published")
        box = node_text(self.root.css_first(self.DATE_BOX))
        m = self.TIME.search(box)
        if m:  # the time of day is only in the visible text ("10:14, 20 января 2021, ...")
            d = d.replace(hour=int(m.group(1)), minute=int(m.group(2)))
        return d

    def authors(self) -> list[str]:
        return [t for t in (node_text(n) for n in self.root.css(self.AUTHOR)) if t]

    def body(self) -> str:
        node = self.root.css_first(self.BODY)
        if node is None:
            raise SelectorDrift(self.source, self.name, "body", self.url)
        drop(node, self.STRIP)
        paras = [p for p in paragraphs(node) if not self.BOILERPLATE.match(p)]
        return self._req("\n\n".join(paras), "body")


VERSIONS: list[type[V1]] = [V1]


class Adapter(BaseAdapter):
    name = "kg24"
    optional_options = ("max_items",)

    def parse_page(self, html: str, url: str, crawl_date: dt.date | None = None) -> ArticleRecord:
        version = pick_version(VERSIONS, crawl_date or dt.date.today())
        p = version(self.source["id"], html, url)
        return ArticleRecord(
            canonical_url=p.canonical_url(), source_id=self.source["id"], title=p.title(),
            body=p.body(), lang=self.source.get("lang"), kind="article", authors=p.authors(),
            section=p.section(), published_at=p.published(),
            extra={"parser": f"kg24.{version.name}"})

    def parse_document(self, text: str, url: str, crawl_date: dt.date) -> list[ArticleRecord]:
        if url.rstrip("/").endswith("/rss"):
            return [self._from_feed_entry(e, url) for e in parse_feed(text, url).entries]
        return [self.parse_page(text, url, crawl_date)]

    def _from_feed_entry(self, entry, feed_url: str) -> ArticleRecord:
        """Feed-only record (fetch_articles = false): title + description."""
        link = entry.get("link")
        if not link or not entry.get("title"):
            raise SelectorDrift(self.source["id"], "feed", "item link/title", feed_url)
        body = "\n\n".join(html_fragment_paragraphs(entry.get("description") or ""))
        if not body:
            raise SelectorDrift(self.source["id"], "feed", "item description", link)
        pub, upd = entry_times(entry)
        return ArticleRecord(canonical_url=normalize_url(link), source_id=self.source["id"],
                             title=" ".join(entry.title.split()), body=body,
                             lang=self.source.get("lang"), published_at=pub, updated_at=upd,
                             extra={"parser": "kg24.feed"})

    async def collect(self, ctx) -> AsyncIterator[ArticleRecord]:
        limit = int(self.source.get("options", {}).get("max_items", 100))
        errors = ItemErrors(ctx)
        for feed_url in self.source.get("feeds", []):
            page = await ctx.get(feed_url, kind="feed")
            if page.not_modified:
                continue
            feed = parse_feed(page.text, feed_url, ctx.warn)
            for entry in feed.entries[:limit]:
                link = entry.get("link")
                if not link:
                    ctx.warn(f"feed {feed_url}: item without <link> skipped "
                             f"({entry.get('title', '')[:60]!r})")
                    continue
                url = normalize_url(link)
                pub, upd = entry_times(entry)
                # Already stored and the feed states no update: nothing new to read.
                if ctx.known(url) and upd is None:
                    continue
                if not self.source.get("fetch_articles", True):
                    try:
                        rec = self._from_feed_entry(entry, feed_url)
                    except SelectorDrift as e:
                        errors.drifted(e)
                        continue
                else:
                    rec = await errors.page(url, self.parse_page)
                    if rec is None:
                        continue
                    rec.updated_at = rec.updated_at or upd
                errors.ok += 1
                yield rec
        errors.finish()
