"""regulation.gov.ru — draft regulations open for public comment (RSS).

Feed https://regulation.gov.ru/api/public/Rss/ -> one ArticleRecord (kind "draft") per item:
title, description, link (project page /projects/{id}/), pubDate. With fetch_articles = true
the project page is also read through the generic extractor and its text appended; the page is
a JavaScript application on the live site, so a page without extractable text only earns a
warning and the feed record stands.

The feed format is plain RSS 2.0 (sources.md, "regulation.gov.ru"); the fixture is
reconstructed.

Options:
  max_items  items read per feed (default 100)
"""
from __future__ import annotations

import datetime as dt
import re
from typing import AsyncIterator, ClassVar

from crawler.base import BaseAdapter, FetchFailed, ParserVersion, SelectorDrift, pick_version
from crawler.sources._common import (entry_times, html_fragment_paragraphs, normalize_url,
                                     parse_feed)
from store.records import ArticleRecord

_PROJECT_ID = re.compile(r"(?:/projects/(?:#npa=)?|[?&#]npa=)(\d+)")


class V1(ParserVersion):
    name: ClassVar[str] = "V1"
    valid_until: ClassVar[dt.date] = dt.date.max

    @classmethod
    def record(cls, source: dict, entry, feed_url: str) -> ArticleRecord:
        sid = source["id"]
        link, title = entry.get("link"), " ".join((entry.get("title") or "").split())
        if not link:
            raise SelectorDrift(sid, cls.name, "item link", feed_url)
        if not title:
            raise SelectorDrift(sid, cls.name, "item title", link)
        paras = html_fragment_paragraphs(entry.get("description") or "")
        pub, upd = entry_times(entry)
        if pub is None:
            raise SelectorDrift(sid, cls.name, "item pubDate", link)
        m = _PROJECT_ID.search(link)
        extra = {"parser": f"regulation_gov.{cls.name}", "project_id": m.group(1) if m else None,
                 "body_from": "description" if paras else "title"}
        cats = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
        return ArticleRecord(
            canonical_url=normalize_url(link), source_id=sid, title=title,
            body="\n\n".join(paras) or title, lang=source.get("lang") or "ru", kind="draft",
            section=cats[0] if cats else None, published_at=pub, updated_at=upd, extra=extra)


VERSIONS = [V1]


class Adapter(BaseAdapter):
    name = "regulation_gov"
    optional_options = ("max_items",)

    def parse_feed_records(self, text: str, url: str, crawl_date: dt.date | None = None):
        v = pick_version(VERSIONS, crawl_date or dt.date.today())
        return [v.record(self.source, e, url) for e in parse_feed(text, url).entries]

    def parse_document(self, text: str, url: str, crawl_date: dt.date) -> list[ArticleRecord]:
        return self.parse_feed_records(text, url, crawl_date)

    async def collect(self, ctx) -> AsyncIterator[ArticleRecord]:
        limit = int(self.source.get("options", {}).get("max_items", 100))
        ok, drift = 0, None
        for feed_url in self.source.get("feeds", []):
            page = await ctx.get(feed_url, kind="feed")
            if page.not_modified:
                continue
            v = pick_version(VERSIONS, page.fetched_at.date())
            for entry in parse_feed(page.text, feed_url, ctx.warn).entries[:limit]:
                try:
                    rec = v.record(self.source, entry, feed_url)
                except SelectorDrift as e:
                    drift = drift or e
                    ctx.warn(str(e))
                    continue
                ok += 1
                if ctx.known(rec.canonical_url) and rec.updated_at is None:
                    continue
                if self.source.get("fetch_articles", True):
                    await self._add_project_page(ctx, rec)
                yield rec
        if ok == 0 and drift is not None:
            raise drift

    async def _add_project_page(self, ctx, rec: ArticleRecord) -> None:
        from crawler.extract import extract_article
        try:
            page = await ctx.get(rec.canonical_url)
        except FetchFailed as e:
            ctx.warn(f"project page not read, feed text kept: {e}")
            return
        if page.not_modified:
            return
        art = extract_article(page.text, page.url)
        if len(art.text or "") < 200:
            ctx.warn(f"{rec.canonical_url}: project page has no extractable text "
                     f"(JavaScript application?); feed text kept")
            return
        rec.body = rec.body + "\n\n" + art.text
        rec.extra["project_page"] = True
