"""State Duma bill cards (sozd.duma.gov.ru/bill/{number}).

One ArticleRecord (kind "bill") per bill in options.bills. The card's passport table and the
timeline of readings go into `extra` (timeline, stage), which ArticleRecord.content_hash()
includes: a new reading/stage is a new version, i.e. a change. The search listing is rendered
by JavaScript, so bills are configured by number; the official API needs a key.

Selectors: last-known card template from ../shared/reference/sources.md ("sozd.duma.gov.ru"):
number span#number_oz_id, name span#oz_name, comment p#oz_name_comment, passport
div#opc_hild tr > td (label/value pairs), timeline div#bh_hron div.ch-item with
.ch-item-header, .hron_date, div.ch-item-event. The fixture is reconstructed.

Options:
  bills  bill numbers, e.g. ["956556-8"] (required to collect anything)
"""
from __future__ import annotations

import datetime as dt
import re
from typing import AsyncIterator, ClassVar

from crawler.base import BaseAdapter, FetchFailed, ParserVersion, SelectorDrift, pick_version
from crawler.sources._common import html_tree, node_text, parse_ddmmyyyy
from store.records import ArticleRecord

MOSCOW = dt.timezone(dt.timedelta(hours=3), "Europe/Moscow")
BILL_URL = "https://sozd.duma.gov.ru/bill/{number}"
_BILL_NUMBER = re.compile(r"^\d{1,7}-\d{1,2}$")


class V1(ParserVersion):
    name: ClassVar[str] = "V1"
    valid_until: ClassVar[dt.date] = dt.date.max

    NUMBER = "span#number_oz_id"
    NAME = "span#oz_name"
    COMMENT = "p#oz_name_comment"
    PASSPORT_ROWS = "div#opc_hild tr"
    TIMELINE = "div#bh_hron div.ch-item"
    T_HEADER = ".ch-item-header"
    T_DATE = ".hron_date"
    T_EVENT = "div.ch-item-event"

    def __init__(self, source: str, html: str, url: str):
        self.source, self.url = source, url
        self.tree = html_tree(html)

    def _req(self, value, field_name):
        if not value:
            raise SelectorDrift(self.source, self.name, field_name, self.url)
        return value

    def number(self) -> str:
        return self._req(node_text(self.tree.css_first(self.NUMBER)).lstrip("№ ").strip(),
                         "number")

    def title(self) -> str:
        return self._req(node_text(self.tree.css_first(self.NAME)), "name")

    def comment(self) -> str | None:
        return node_text(self.tree.css_first(self.COMMENT)) or None

    def passport(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for tr in self.tree.css(self.PASSPORT_ROWS):
            tds = [node_text(td) for td in tr.css("td")]
            if len(tds) >= 2 and tds[0] and tds[1]:
                out[tds[0].rstrip(":")] = tds[1]
        return out

    def timeline(self) -> list[dict]:
        items = []
        for it in self.tree.css(self.TIMELINE):
            header = node_text(it.css_first(self.T_HEADER))
            d = parse_ddmmyyyy(node_text(it.css_first(self.T_DATE)), MOSCOW)
            event = node_text(it.css_first(self.T_EVENT))
            if header or event:
                items.append({"stage": header, "date": d.date().isoformat() if d else None,
                              "event": event})
        return self._req(items, "timeline")


VERSIONS = [V1]


class Adapter(BaseAdapter):
    name = "sozd_duma"
    optional_options = ("bills",)

    def bill_urls(self) -> list[str]:
        bills = self.source.get("options", {}).get("bills", [])
        bad = [b for b in bills if not _BILL_NUMBER.match(str(b))]
        if bad or not bills:
            from lawwatch.schema import ConfigError
            raise ConfigError("sources.toml", f"source[{self.source['id']}].options.bills",
                              f"bill numbers look like '956556-8'; got {bad[0]!r}" if bad
                              else "no bills configured")
        return [BILL_URL.format(number=b) for b in bills]

    def parse_page(self, html: str, url: str, crawl_date: dt.date | None = None) -> ArticleRecord:
        version = pick_version(VERSIONS, crawl_date or dt.date.today())
        p = version(self.source["id"], html, url)
        number, title, comment = p.number(), p.title(), p.comment()
        passport, timeline = p.passport(), p.timeline()
        lines = [f"Законопроект № {number}: {title}"]
        if comment:
            lines.append(comment)
        lines += [f"{k}: {v}" for k, v in passport.items()]
        lines += [" — ".join(x for x in (t["date"], t["stage"], t["event"]) if x)
                  for t in timeline]
        dates = sorted(t["date"] for t in timeline if t["date"])
        as_dt = lambda s: dt.datetime.fromisoformat(s).replace(tzinfo=MOSCOW)  # noqa: E731
        last = max((t for t in timeline if t["date"]), key=lambda t: t["date"], default=timeline[-1])
        return ArticleRecord(
            canonical_url=BILL_URL.format(number=number), source_id=self.source["id"],
            title=title, body="\n\n".join(lines), lead=comment, lang="ru", kind="bill",
            published_at=as_dt(dates[0]) if dates else None,
            updated_at=as_dt(dates[-1]) if len(dates) > 1 else None,
            extra={"parser": f"sozd_duma.{version.name}", "number": number,
                   "passport": passport, "timeline": timeline,
                   "stage": last["stage"] or last["event"]})

    def parse_document(self, text: str, url: str, crawl_date: dt.date) -> list[ArticleRecord]:
        return [self.parse_page(text, url, crawl_date)]

    async def collect(self, ctx) -> AsyncIterator[ArticleRecord]:
        ok, drift, failed = 0, None, None
        for url in self.bill_urls():
            try:
                page = await ctx.get(url)
                if page.not_modified:
                    ok += 1
                    continue
                rec = self.parse_page(page.text, url, page.fetched_at.date())
            except FetchFailed as e:
                failed = failed or e
                ctx.warn(f"fetch failed: {e}")
                continue
            except SelectorDrift as e:
                drift = drift or e
                ctx.warn(str(e))
                continue
            ok += 1
            yield rec
        if ok == 0 and (drift or failed):
            raise drift or failed
