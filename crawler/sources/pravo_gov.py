"""publication.pravo.gov.ru — the official publication portal of Russian legal acts (JSON API).

One ArticleRecord (kind "act") per published act found by term queries:
  GET {api_base}/Documents?Block=<code>&<search_field>=<term>&PageSize=<n>&Index=<page>
for every configured block x term, pages 1..max_pages (Index is 1-based; PageSize accepts only
10, 30, 100 or 200 — the portal's own API help page, ../shared/fixtures/pravo-gov-api/api_help.html).
The act's text is only available as PDF under /File, which robots.txt disallows: we never
request it; the record carries the official name and metadata, and links the human page
http://publication.pravo.gov.ru/document/{eoNumber}.

Response shape: real responses in ../shared/fixtures/pravo-gov-api/ (captured 2026-01-17).
The portal answers an unknown path with its HTML "Страница не найдена" page (real copy:
not_found_page.html), sometimes where JSON was expected: that is an error, never data.

Options:
  api_base      (required) e.g. "http://publication.pravo.gov.ru/api"
  blocks        publication blocks (president, assembly, government, federal_authorities,
                court, subjects, international); default ["president", "government"]
  terms         search terms (each queried separately); required, non-empty
  search_field  "Name" (default), "ComplexName" or "DocumentText"
  page_size     10, 30 (default), 100 or 200
  max_pages     pages per query (default 1); paging also stops at pagesTotalCount and at the
                first page whose acts are all already stored
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import AsyncIterator, ClassVar
from urllib.parse import quote, urlencode

from crawler.base import BaseAdapter, FetchFailed, ParserVersion, SelectorDrift, pick_version
from crawler.sources._common import ItemErrors, clean, parse_iso
from store.records import ArticleRecord

MOSCOW = dt.timezone(dt.timedelta(hours=3), "Europe/Moscow")
PAGE_SIZES = (10, 30, 100, 200)
BLOCKS = ("president", "assembly", "government", "federal_authorities", "court", "subjects",
          "international")
SEARCH_FIELDS = ("Name", "ComplexName", "DocumentText")
DOCUMENT_URL = "http://publication.pravo.gov.ru/document/{eo}"


class PortalErrorPage(FetchFailed):
    """The portal served an HTML page (its 404 page) where the API should have sent JSON."""


def _config_error(source: dict, key: str, msg: str):
    from lawwatch.schema import ConfigError
    return ConfigError("sources.toml", f"source[{source['id']}].options.{key}", msg)


class V1(ParserVersion):
    """API response format as captured 2026-01-17 (real fixtures)."""
    name: ClassVar[str] = "V1"
    valid_until: ClassVar[dt.date] = dt.date.max

    ITEMS = "items"
    PAGES_TOTAL = "pagesTotalCount"
    CURRENT_PAGE = "currentPage"
    EO_NUMBER = "eoNumber"
    COMPLEX_NAME = "complexName"
    NAME = "name"
    TITLE = "title"                 # complexName with "<br />" between type line and name
    NUMBER = "number"
    DOCUMENT_DATE = "documentDate"
    PUBLISH_DATE = "publishDateShort"
    EXTRA = ("number", "documentTypeId", "signatoryAuthorityId", "pagesCount", "viewDate", "id")

    NOT_FOUND_MARKERS = ("Страница не найдена", "запрашиваемая Вами страница не найдена")

    @classmethod
    def decode(cls, source: str, text: str, url: str, status: int = 200) -> dict:
        """The JSON object of a response, or an error naming what the portal sent instead."""
        head = text.lstrip()[:1]
        if head == "<":
            if any(m in text for m in cls.NOT_FOUND_MARKERS):
                raise PortalErrorPage(url, "the portal served its HTML 'Страница не найдена' "
                                           "(page not found) page where JSON was expected; "
                                           "check options.api_base", status)
            raise PortalErrorPage(url, "HTML received where the API should send JSON", status)
        try:
            data = json.loads(text)
        except ValueError as e:
            raise PortalErrorPage(url, f"response is not valid JSON ({e})", status) from None
        except RecursionError:
            raise PortalErrorPage(url, "response JSON is nested too deeply", status) from None
        if isinstance(data, dict) and "message" in data and cls.ITEMS not in data:
            raise PortalErrorPage(url, f"API error: {clean(str(data['message']))}", status)
        if not isinstance(data, dict) or not isinstance(data.get(cls.ITEMS), list):
            raise SelectorDrift(source, cls.name, cls.ITEMS, url)
        return data

    @staticmethod
    def one_line(s) -> str:
        if s is not None and not isinstance(s, str):
            raise ValueError(f"expected text, got {type(s).__name__} {s!r:.40}")
        return clean(re.sub(r"<br\s*/?>", " ", s or "", flags=re.I))

    @classmethod
    def record(cls, source: str, item: dict, url: str, lang: str | None) -> ArticleRecord:
        if not isinstance(item, dict):
            raise SelectorDrift(source, cls.name, f"{cls.ITEMS}[] (an object)", url)
        eo = item.get(cls.EO_NUMBER)
        if not eo or not isinstance(eo, str):
            raise SelectorDrift(source, cls.name, cls.EO_NUMBER, url)
        for key in (cls.COMPLEX_NAME, cls.TITLE, cls.NAME, cls.PUBLISH_DATE, cls.DOCUMENT_DATE):
            v = item.get(key)
            if v is not None and not isinstance(v, str):
                raise SelectorDrift(source, cls.name, f"{key} (text, got {type(v).__name__})", url)
        title = cls.one_line(item.get(cls.COMPLEX_NAME) or item.get(cls.TITLE) or "")
        name = cls.one_line(item.get(cls.NAME) or "")
        if not title and not name:
            raise SelectorDrift(source, cls.name, "complexName/name", url)
        title = title or name
        published = parse_iso(item.get(cls.PUBLISH_DATE), MOSCOW)
        if published is None:
            raise SelectorDrift(source, cls.name, cls.PUBLISH_DATE, url)
        doc_date = parse_iso(item.get(cls.DOCUMENT_DATE), MOSCOW)
        lines = [title]
        if name and name not in title:
            lines.append(name)
        lines.append(f"Номер электронного опубликования: {eo}. Дата опубликования: "
                     f"{published:%d.%m.%Y}." + (f" Дата подписания: {doc_date:%d.%m.%Y}."
                                                 if doc_date else ""))
        extra = {"eoNumber": eo, "documentDate": doc_date.date().isoformat() if doc_date else None,
                 "parser": f"pravo_gov.{cls.name}", "api_query": url}
        for k in cls.EXTRA:
            if item.get(k) is not None:
                extra[k] = item[k]
        return ArticleRecord(
            canonical_url=DOCUMENT_URL.format(eo=eo), source_id=source, title=title,
            body="\n\n".join(lines), lead=name or None, lang=lang, kind="act",
            published_at=published, extra=extra)


VERSIONS = [V1]


class Adapter(BaseAdapter):
    name = "pravo_gov"
    required_options = ("api_base", "terms")
    optional_options = ("blocks", "search_field", "page_size", "max_pages")

    def __init__(self, source):
        super().__init__(source)
        o = source.get("options", {})
        self.api_base = str(o["api_base"]).rstrip("/")
        self.terms = list(o["terms"])
        self.blocks = list(o.get("blocks", ["president", "government"]))
        self.search_field = o.get("search_field", "Name")
        self.page_size = o.get("page_size", 30)
        self.max_pages = o.get("max_pages", 1)
        if not self.terms or not all(isinstance(t, str) and t.strip() for t in self.terms):
            raise _config_error(source, "terms", "needs at least one non-empty search term")
        bad = [b for b in self.blocks if b not in BLOCKS]
        if bad or not self.blocks:
            raise _config_error(source, "blocks", f"unknown block {bad[0] if bad else '(none)'!r};"
                                                  f" the API knows {', '.join(BLOCKS)}")
        if self.page_size not in PAGE_SIZES:
            raise _config_error(source, "page_size", f"{self.page_size!r} is not accepted by the "
                                f"API; use one of {', '.join(map(str, PAGE_SIZES))}")
        if self.search_field not in SEARCH_FIELDS:
            raise _config_error(source, "search_field", f"{self.search_field!r}; use one of "
                                f"{', '.join(SEARCH_FIELDS)}")
        if not isinstance(self.max_pages, int) or self.max_pages < 1:
            raise _config_error(source, "max_pages", "must be a positive integer")
        if "/File" in self.api_base:
            raise _config_error(source, "api_base", "/File is disallowed by robots.txt")

    def query_url(self, block: str, term: str, index: int) -> str:
        """The exact request URL (parameter order fixed, so recordings can be replayed)."""
        params = [("Block", block), (self.search_field, term), ("PageSize", self.page_size),
                  ("Index", index)]
        return f"{self.api_base}/Documents?{urlencode(params, quote_via=quote)}"

    def query_urls(self, index: int = 1) -> list[str]:
        return [self.query_url(b, t, index) for b in self.blocks for t in self.terms]

    def parse_response(self, text: str, url: str, crawl_date: dt.date | None = None,
                       status: int = 200) -> tuple[list[ArticleRecord], dict]:
        version = pick_version(VERSIONS, crawl_date or dt.date.today())
        data = version.decode(self.source["id"], text, url, status)
        recs = [version.record(self.source["id"], item, url, self.source.get("lang"))
                for item in data[version.ITEMS]]
        return recs, data

    def parse_document(self, text: str, url: str, crawl_date: dt.date) -> list[ArticleRecord]:
        return self.parse_response(text, url, crawl_date)[0]

    async def collect(self, ctx) -> AsyncIterator[ArticleRecord]:
        seen: set[str] = set()
        errors = ItemErrors(ctx)
        for block in self.blocks:
            for term in self.terms:
                for index in range(1, self.max_pages + 1):
                    url = self.query_url(block, term, index)
                    if "/File" in url:  # robots.txt: never
                        raise FetchFailed(url, "disallowed by robots.txt (/File)")
                    page = await ctx.get(url, kind="api")
                    if page.not_modified:
                        break
                    version = pick_version(VERSIONS, page.fetched_at.date())
                    data = version.decode(self.source["id"], page.text, url, page.status)
                    fresh = 0
                    for item in data[version.ITEMS]:
                        try:
                            rec = version.record(self.source["id"], item, url,
                                                 self.source.get("lang"))
                        except SelectorDrift as e:
                            errors.drifted(e)
                            continue
                        errors.ok += 1
                        if rec.canonical_url in seen:
                            continue
                        seen.add(rec.canonical_url)
                        if ctx.known(rec.canonical_url):
                            continue
                        fresh += 1
                        yield rec
                    total = data.get(version.PAGES_TOTAL) or 0
                    if index >= total or fresh == 0:
                        break
        errors.finish()
