"""Court of the Eurasian Economic Union (courteurasian.org): case cards.

Sitemap of case cards (pages = ["https://courteurasian.org/sitemap-iblock-9.xml"]) ->
/court_cases/ URLs -> case cards. Followed: the cases listed in options.follow_cases, and any
card whose fields/summary contain one of options.follow_keywords (case-insensitive stems).
One ArticleRecord (kind "case") per followed card; the stage and the list of documents go into
`extra`, which ArticleRecord.content_hash() includes: a new document or a new stage makes a new
version, i.e. a change.

Selectors: last-known card template from ../shared/reference/sources.md ("courteurasian.org"):
label div.case-card__ttl followed by a <p> value; summaries div.show-hide-text; documents are
table rows linking /upload/....pdf with a dd.mm.yyyy date. The site could not be reached while
this was written; the fixture is reconstructed.

Options:
  follow_cases     case-card URLs always followed
  follow_keywords  stems matched against a card's title, fields and summary
  max_cards        cards read from the sitemap per run (default 200; the sitemap holds ~135)
"""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import AsyncIterator, ClassVar

from crawler.base import BaseAdapter, FetchFailed, ParserVersion, SelectorDrift, pick_version
from crawler.sources._common import (FeedError, ItemErrors, abs_url, html_tree, node_text,
                                     normalize_url, parse_ddmmyyyy, paragraphs)
from store.records import ArticleRecord

MINSK = dt.timezone(dt.timedelta(hours=3), "Europe/Minsk")
CASE_PATH = "/court_cases/"

# Card labels -> record keys (the order is the order of the body text).
FIELDS = {
    "Тип дела": "case_type",
    "Предмет спора": "subject",
    "Сфера права": "sphere",
    "Заявитель": "applicant",
    "Ответчик": "respondent",
    "Стадия": "stage",
    "Ключевые слова": "keywords",
}


def parse_sitemap(text: str, url: str) -> list[str]:
    """<loc> URLs of a sitemap; FeedError naming the URL when it is not one."""
    try:
        root = ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    except ET.ParseError as e:
        raise FeedError(url, f"sitemap is not well-formed XML ({e})") from None
    if not root.tag.endswith("urlset") and not root.tag.endswith("sitemapindex"):
        raise FeedError(url, f"not a sitemap (root element <{root.tag}>)")
    return [normalize_url(el.text) for el in root.iter() if el.tag.endswith("loc") and el.text]


class V1(ParserVersion):
    name: ClassVar[str] = "V1"
    valid_until: ClassVar[dt.date] = dt.date.max

    TITLE = "h1"
    LABEL = "div.case-card__ttl"
    SUMMARY = "div.show-hide-text"
    DOC_ROWS = "tr"
    DOC_LINK = 'a[href*="/upload/"]'

    def __init__(self, source: str, html: str, url: str):
        self.source, self.url = source, url
        self.tree = html_tree(html)

    def title(self) -> str:
        t = node_text(self.tree.css_first(self.TITLE))
        if not t:
            raise SelectorDrift(self.source, self.name, "title", self.url)
        return t

    def fields(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for label in self.tree.css(self.LABEL):
            key = FIELDS.get(node_text(label).rstrip(":"))
            if key is None:
                continue
            sib = label.next
            while sib is not None and sib.tag in ("-text", "-comment"):
                sib = sib.next
            value = node_text(sib) if sib is not None and sib.tag == "p" else ""
            if value:
                out[key] = value
        if not out:
            raise SelectorDrift(self.source, self.name, "case-card fields", self.url)
        return out

    def summaries(self) -> list[str]:
        paras: list[str] = []
        for n in self.tree.css(self.SUMMARY):
            paras.extend(paragraphs(n))
        return paras

    def documents(self) -> list[dict]:
        docs = []
        for row in self.tree.css(self.DOC_ROWS):
            a = row.css_first(self.DOC_LINK)
            if a is None:
                continue
            href = a.attributes.get("href") or ""
            if not href.lower().split("?")[0].endswith(".pdf"):
                continue
            d = parse_ddmmyyyy(node_text(row), MINSK)
            docs.append({"date": d.date().isoformat() if d else None,
                         "title": node_text(a) or node_text(row),
                         "url": normalize_url(abs_url(self.url, href))})
        docs.sort(key=lambda x: (x["date"] or "", x["url"]))
        return docs


VERSIONS = [V1]


class Adapter(BaseAdapter):
    name = "courteurasian"
    optional_options = ("follow_cases", "follow_keywords", "max_cards")

    def _opt(self, key, default):
        return self.source.get("options", {}).get(key, default)

    def parse_page(self, html: str, url: str, crawl_date: dt.date | None = None) -> ArticleRecord:
        version = pick_version(VERSIONS, crawl_date or dt.date.today())
        p = version(self.source["id"], html, url)
        title, fields = p.title(), p.fields()
        summaries, docs = p.summaries(), p.documents()
        lines = [f"{label}: {fields[key]}" for label, key in FIELDS.items() if key in fields]
        body = "\n\n".join(lines + summaries)
        dates = sorted(d["date"] for d in docs if d["date"])
        as_dt = lambda s: dt.datetime.fromisoformat(s).replace(tzinfo=MINSK)  # noqa: E731
        extra = {"parser": f"courteurasian.{version.name}", **fields, "documents": docs}
        extra["stage"] = fields.get("stage")
        return ArticleRecord(
            canonical_url=normalize_url(url), source_id=self.source["id"], title=title,
            body=body, lead=summaries[0] if summaries else fields.get("subject"),
            lang=self.source.get("lang") or "ru", kind="case",
            tags=[k.strip() for k in fields.get("keywords", "").split(",") if k.strip()],
            section=fields.get("sphere"),
            published_at=as_dt(dates[0]) if dates else None,
            updated_at=as_dt(dates[-1]) if len(dates) > 1 else None, extra=extra)

    def parse_document(self, text: str, url: str, crawl_date: dt.date) -> list:
        if url.endswith(".xml"):
            return parse_sitemap(text, url)
        return [self.parse_page(text, url, crawl_date)]

    def matches(self, rec: ArticleRecord) -> bool:
        hay = " ".join([rec.title, rec.body]).lower()
        return any(k.lower() in hay for k in self._opt("follow_keywords", []))

    async def collect(self, ctx) -> AsyncIterator[ArticleRecord]:
        follow = [normalize_url(u) for u in self._opt("follow_cases", [])]
        errors = ItemErrors(ctx)
        candidates: list[str] = list(follow)
        for sitemap_url in self.source.get("pages", []):
            page = await ctx.get(sitemap_url, kind="sitemap")
            if page.not_modified:
                continue
            for u in parse_sitemap(page.text, sitemap_url):
                if CASE_PATH in u and u not in candidates:
                    candidates.append(u)
        for url in candidates[: max(len(follow), int(self._opt("max_cards", 200)))]:
            try:
                page = await ctx.get(url)
                if page.not_modified:
                    continue
                rec = self.parse_page(page.text, page.url, page.fetched_at.date())
            except FetchFailed as e:
                errors.fetch_failed(e)
                continue
            except SelectorDrift as e:
                errors.drifted(e)
                continue
            errors.ok += 1
            if url in follow or self.matches(rec):
                yield rec
        errors.finish()
