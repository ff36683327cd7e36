"""The Moscow Times: English site (RSS feeds -> article pages) and the Russian service
(listing page cards -> article pages).

Selectors: the site template of 2024 as documented in ../shared/reference/sources.md
("The Moscow Times"): header.article__header h1/h2, .article__label, byline authors and
time.byline__datetime[datetime], div.article__intro, div.article__block--html blocks,
div.article__tags a; Russian service listing cards div.article-excerpt-default. The site
could not be reached while this was written; fixtures are reconstructed from that template.

Options:
  full_text  (bool, default false) the feed's <description> carries the whole article as HTML
             (true for /rss/all); with fetch_articles = false the record is built from the feed.
  max_items  (int, default 100) items read per feed / listing page.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import AsyncIterator, ClassVar

from crawler.base import BaseAdapter, ParserVersion, SelectorDrift, pick_version
from crawler.sources._common import (ItemErrors, abs_url, drop, entry_times,
                                     html_fragment_paragraphs, html_tree, node_text,
                                     normalize_url, paragraphs, parse_feed, parse_iso, require)
from store.records import ArticleRecord

MOSCOW = dt.timezone(dt.timedelta(hours=3), "Europe/Moscow")

# Fundraising / promo text that the page template puts between or after text blocks.
_APPEAL_START = re.compile(r"^(A Message from The Moscow Times|Сообщение от The Moscow Times)",
                           re.I)
_APPEAL_END = re.compile(r"^(Remind me later\.?|Напомнить позже\.?)$", re.I)
_PROMO = re.compile(r"^(Support The Moscow Times!?|Поддержите The Moscow Times!?"
                    r"|Subscribe to our (weekly )?newsletter.*|Sign up for our .*newsletter.*)$",
                    re.I)


def strip_appeals(paras: list[str]) -> list[str]:
    """Drop the donation appeal (from "A Message from The Moscow Times:" to "Remind me later.",
    or to the end when no closing line) and single promo lines."""
    out: list[str] = []
    skipping = False
    for p in paras:
        if skipping:
            if _APPEAL_END.match(p):
                skipping = False
            continue
        if _APPEAL_START.match(p):
            skipping = True
            continue
        if _PROMO.match(p):
            continue
        out.append(p)
    return out


class V1(ParserVersion):
    """Article page, site template 2024 (sources.md)."""
    name: ClassVar[str] = "V1"
    valid_until: ClassVar[dt.date] = dt.date.max

    TITLE = "header.article__header h1"
    SUBTITLE = "header.article__header h2"
    LABEL = ".article__label"
    AUTHORS = "a.byline__author__name, span.byline__author__name"   # span: older pages
    DATETIME = "time.byline__datetime[datetime]"
    LEAD = "div.article__intro"
    BLOCKS = "div.article__block--html"
    TAGS = "div.article__tags a"
    CANONICAL = "link[rel=canonical]"
    JSON_LD = 'script[type="application/ld+json"]'
    STRIP = ("aside", ".sidebar", ".banner", "script", "style", "iframe", "noscript",
             ".article__block--newsletter", ".newsletter", ".contribution", ".donate")

    def __init__(self, source: str, html: str, url: str):
        self.source, self.url = source, url
        self.tree = html_tree(html)

    def _req(self, value, field_name):
        return require(value, self.source, type(self), field_name, self.url)

    def _ld(self) -> dict:
        for s in self.tree.css(self.JSON_LD):
            try:
                data = json.loads(s.text() or "")
            except ValueError:
                continue
            for obj in data if isinstance(data, list) else [data]:
                if isinstance(obj, dict) and "Article" in str(obj.get("@type", "")):
                    return obj
        return {}

    def canonical_url(self) -> str:
        link = self.tree.css_first(self.CANONICAL)
        href = link.attributes.get("href") if link is not None else None
        return normalize_url(abs_url(self.url, href) or self.url)

    def title(self) -> str:
        return self._req(node_text(self.tree.css_first(self.TITLE)), "title")

    def subtitle(self) -> str | None:
        return node_text(self.tree.css_first(self.SUBTITLE)) or None

    def label(self) -> str | None:
        return node_text(self.tree.css_first(self.LABEL)) or None

    def authors(self) -> list[str]:
        seen: list[str] = []
        for n in self.tree.css(self.AUTHORS):
            t = node_text(n)
            if t and t not in seen:
                seen.append(t)
        return seen

    def dates(self) -> tuple[dt.datetime, dt.datetime | None]:
        """(published, updated). The byline time shows the *updated* time when the article was
        updated more than 10 minutes after publication; JSON-LD datePublished, when present,
        says which it is."""
        t = self.tree.css_first(self.DATETIME)
        shown = parse_iso(t.attributes.get("datetime"), MOSCOW) if t is not None else None
        shown = self._req(shown, "datetime")
        ld = self._ld()
        published = parse_iso(ld.get("datePublished"), MOSCOW) or shown
        modified = parse_iso(ld.get("dateModified"), MOSCOW)
        updated = max([d for d in (shown, modified) if d is not None])
        if updated - published <= dt.timedelta(minutes=10):
            return published, None
        return published, updated

    def lead(self) -> str | None:
        return "\n\n".join(paragraphs(self.tree.css_first(self.LEAD))) or None

    def body(self) -> str:
        paras: list[str] = []
        for block in self.tree.css(self.BLOCKS):
            drop(block, self.STRIP)
            if block.css_first(".sidebar, aside") is None:
                paras.extend(paragraphs(block))
        return self._req("\n\n".join(strip_appeals(paras)), "body")

    def tags(self) -> list[str]:
        out = [node_text(a) for a in self.tree.css(self.TAGS)]
        if not out:
            meta = self.tree.css_first('meta[name="news_keywords"]')
            if meta is not None:
                out = [k.strip() for k in (meta.attributes.get("content") or "").split(",")]
        return [t for t in out if t]


class ListingV1(ParserVersion):
    """Russian service listing cards (sources.md)."""
    name: ClassVar[str] = "ListingV1"
    valid_until: ClassVar[dt.date] = dt.date.max

    CARD = "div.article-excerpt-default"
    LINK = "a[href]"
    HEADLINE = "p.article-excerpt-default__headline"
    TEASER = "div.article-excerpt-default__teaser"

    @classmethod
    def cards(cls, source: str, html: str, url: str) -> list[dict]:
        tree = html_tree(html)
        out = []
        for card in tree.css(cls.CARD):
            a = card.css_first(cls.LINK)
            headline = node_text(card.css_first(cls.HEADLINE))
            if a is None or not headline:
                continue
            out.append({"url": normalize_url(abs_url(url, a.attributes.get("href"))),
                        "headline": headline,
                        "teaser": node_text(card.css_first(cls.TEASER)) or None})
        if not out:
            raise SelectorDrift(source, cls.name, "listing cards", url)
        return out


VERSIONS = [V1]
LISTING_VERSIONS = [ListingV1]


class Adapter(BaseAdapter):
    name = "moscowtimes"
    optional_options = ("full_text", "max_items")

    def parse_page(self, html: str, url: str, crawl_date: dt.date | None = None) -> ArticleRecord:
        version = pick_version(VERSIONS, crawl_date or dt.date.today())
        p = version(self.source["id"], html, url)
        published, updated = p.dates()
        label, subtitle = p.label(), p.subtitle()
        extra = {"parser": f"moscowtimes.{version.name}"}
        if subtitle:
            extra["subtitle"] = subtitle
        return ArticleRecord(
            canonical_url=p.canonical_url(), source_id=self.source["id"], title=p.title(),
            body=p.body(), lead=p.lead() or subtitle, lang=self.source.get("lang"),
            kind="article", authors=p.authors(), section=label, tags=p.tags(),
            published_at=published, updated_at=updated, extra=extra)

    def parse_listing(self, html: str, url: str, crawl_date: dt.date | None = None) -> list[dict]:
        version = pick_version(LISTING_VERSIONS, crawl_date or dt.date.today())
        return version.cards(self.source["id"], html, url)

    def parse_document(self, text: str, url: str, crawl_date: dt.date) -> list:
        if "/rss/" in url:
            return [self._from_feed_entry(e, url) for e in parse_feed(text, url).entries]
        if url in self.source.get("pages", []):
            return self.parse_listing(text, url, crawl_date)
        return [self.parse_page(text, url, crawl_date)]

    def _from_feed_entry(self, entry, feed_url: str) -> ArticleRecord:
        link, title = entry.get("link") or entry.get("id"), entry.get("title")
        if not link or not title:
            raise SelectorDrift(self.source["id"], "feed", "item link/title", feed_url)
        html = ""
        if entry.get("content"):
            html = entry.content[0].get("value", "")
        html = html or entry.get("description") or ""
        body = "\n\n".join(strip_appeals(html_fragment_paragraphs(html)))
        if not body:
            raise SelectorDrift(self.source["id"], "feed", "item description", link)
        pub, upd = entry_times(entry)
        cats = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
        return ArticleRecord(canonical_url=normalize_url(link), source_id=self.source["id"],
                             title=" ".join(title.split()), body=body,
                             lang=self.source.get("lang"), published_at=pub, updated_at=upd,
                             section=cats[0] if cats else None,
                             extra={"parser": "moscowtimes.feed",
                                    "full_text": bool(self._opt("full_text", False))})

    def _opt(self, key, default):
        return self.source.get("options", {}).get(key, default)

    async def _article(self, ctx, url: str, errors: ItemErrors, feed_entry=None, feed_url=None):
        if not self.source.get("fetch_articles", True) and feed_entry is not None:
            try:
                return self._from_feed_entry(feed_entry, feed_url)
            except SelectorDrift as e:
                errors.drifted(e)
                return None
        rec = await errors.page(url, self.parse_page)
        if rec is not None and feed_entry is not None:
            pub, _ = entry_times(feed_entry)
            # The byline shows the *updated* time when an update came >10 min after
            # publication; the feed's pubDate is the publication time.
            if pub is not None and rec.published_at - pub > dt.timedelta(minutes=10):
                rec.updated_at = max(rec.updated_at or rec.published_at, rec.published_at)
                rec.published_at = pub
        return rec

    async def collect(self, ctx) -> AsyncIterator[ArticleRecord]:
        limit = int(self._opt("max_items", 100))
        errors = ItemErrors(ctx)
        for feed_url in self.source.get("feeds", []):
            page = await ctx.get(feed_url, kind="feed")
            if page.not_modified:
                continue
            for entry in parse_feed(page.text, feed_url, ctx.warn).entries[:limit]:
                link = entry.get("link") or entry.get("id")
                if not link:
                    ctx.warn(f"feed {feed_url}: item without <link> skipped")
                    continue
                url = normalize_url(link)
                _, upd = entry_times(entry)
                if ctx.known(url) and upd is None:
                    continue
                rec = await self._article(ctx, url, errors, entry, feed_url)
                if rec is not None:
                    errors.ok += 1
                    yield rec
        for listing_url in self.source.get("pages", []):
            page = await ctx.get(listing_url, kind="listing")
            if page.not_modified:
                continue
            for card in self.parse_listing(page.text, listing_url, page.fetched_at.date())[:limit]:
                if ctx.known(card["url"]):
                    continue
                rec = await self._article(ctx, card["url"], errors)
                if rec is not None:
                    rec.lead = rec.lead or card["teaser"]
                    errors.ok += 1
                    yield rec
        errors.finish()
