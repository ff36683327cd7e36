"""Russia's Interior Ministry news (мвд.рф, punycode xn--b1aew.xn--p1ai).

News listing https://мвд.рф/news (pages /news/{n}/) -> items /news/item/{id}/ -> the generic
extractor (crawler/extract.py). The card markup changed in a redesign, so the listing is read
by its one stable feature, the item link `a[href*="/news/item/"]` (sources.md, "мвд.рф").
Hostnames are internationalised: links may come as punycode or Unicode; canonical URLs use
the IDNA (punycode) form https://xn--b1aew.xn--p1ai/..., as crawler.canonical does everywhere.

Options:
  max_items  item links read per listing page (default 30)
  min_chars  shortest extracted text accepted (default 200)
"""
from __future__ import annotations

import datetime as dt
from typing import AsyncIterator, ClassVar

from crawler.base import BaseAdapter, ParserVersion, SelectorDrift, pick_version
from crawler.sources._common import ItemErrors, abs_url, html_tree, normalize_url
from crawler.sources.generic import extract_record
from store.records import ArticleRecord


class ListingV1(ParserVersion):
    """Listing after the redesign: only the item-link pattern is relied on."""
    name: ClassVar[str] = "ListingV1"
    valid_until: ClassVar[dt.date] = dt.date.max
    ITEM_LINK = 'a[href*="/news/item/"]'

    @classmethod
    def links(cls, source: str, html: str, url: str) -> list[str]:
        out: list[str] = []
        for a in html_tree(html).css(cls.ITEM_LINK):
            u = normalize_url(abs_url(url, a.attributes.get("href")))
            if u not in out:
                out.append(u)
        if not out:
            raise SelectorDrift(source, cls.name, "news item links", url)
        return out


LISTING_VERSIONS = [ListingV1]


class Adapter(BaseAdapter):
    name = "mvd"
    optional_options = ("max_items", "min_chars")

    def _opt(self, key, default):
        return self.source.get("options", {}).get(key, default)

    def parse_listing(self, html: str, url: str, crawl_date: dt.date | None = None) -> list[str]:
        v = pick_version(LISTING_VERSIONS, crawl_date or dt.date.today())
        return v.links(self.source["id"], html, url)

    def parse_page(self, html: str, url: str, crawl_date: dt.date | None = None) -> ArticleRecord:
        rec = extract_record(html, url, self.source, min_chars=int(self._opt("min_chars", 200)),
                             kind="notice")
        rec.canonical_url = normalize_url(rec.canonical_url)
        rec.extra["parser"] = "mvd.extract"
        return rec

    def parse_document(self, text: str, url: str, crawl_date: dt.date) -> list:
        if "/news/item/" not in url:
            return self.parse_listing(text, url, crawl_date)
        return [self.parse_page(text, url, crawl_date)]

    async def collect(self, ctx) -> AsyncIterator[ArticleRecord]:
        errors = ItemErrors(ctx)
        limit = int(self._opt("max_items", 30))
        for listing in self.source.get("pages", []):
            page = await ctx.get(listing, kind="listing")
            if page.not_modified:
                continue
            for url in self.parse_listing(page.text, listing, page.fetched_at.date())[:limit]:
                if ctx.known(url):
                    continue
                rec = await errors.page(url, self.parse_page)
                if rec is None:
                    continue
                errors.ok += 1
                yield rec
        errors.finish()
