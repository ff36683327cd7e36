"""Write the parser test fixtures under tests/fixtures/<source_id>/ (called by
`data/demo/build_recording.py --fixtures`; expected outputs then come from
`tests/fixtures/regenerate.py`, reviewed by a person).

Per source directory:
  <source>[_<role>]_<YYYY_MM_DD>.<html|xml|json>.gz   the document as served (gzip)
  meta.json   file -> {url, crawl_date, headers, role, provenance: real|reconstructed, note}
  <source>.json  expected parse keyed by parser version (written by regenerate.py)

REAL: pravo_gov (the portal's own API responses and 404 page, /work/shared/fixtures/pravo-gov-api).
RECONSTRUCTED (markup from sources.md, dated 2026-11-21):
  kg24_ru, kg24_en, moscowtimes_en, eaeu_court -- real texts under their real URLs;
  moscowtimes_ru, regulation_gov, sozd_duma, mvd, mlsp_kg -- STAND-INS: we have no real page
  or text of these outlets, so the template is filled with a real text of another outlet
  (named in the page and in meta.json) under a synthetic URL, titles prefixed "[fixture]".
  They test markup handling only and are never put in the demo recording.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json

import templates as T
from build_recording import (CAPTURE, EAEU_SITEMAP, FIXTURES, KG24_EN_FEED, KG24_RU_FEED, MLSP_HOME,
                             MT_FEED, MT_RU_HOME, MVD_NEWS, PRAVO_DIR, R_7_25, REG_RSS, case_card,
                             demo_items, kg24_feed, kg24_page, mt_feed, pravo_query_urls,
                             seed_items)

DAY = CAPTURE.strftime("%Y_%m_%d")
STANDIN = ("stand-in: no real page or text of this outlet is available; the reconstructed "
           "template is filled with the real text of {src} under a synthetic URL")


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


class SourceDir:
    def __init__(self, source: str):
        self.source = source
        self.dir = FIXTURES / source
        self.meta: dict[str, dict] = {}

    def add(self, *, role: str, url: str, body: str | bytes, ext: str, ctype: str,
            provenance: str, note: str, day: str = DAY, crawl_date: str | None = None) -> None:
        name = f"{self.source}{'_' + role if role != 'page' else ''}_{day}.{ext}.gz"
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / name).write_bytes(_gz(data))
        self.meta[name] = {"url": url, "role": role,
                           "crawl_date": crawl_date or CAPTURE.isoformat(),
                           "headers": {"Content-Type": ctype}, "provenance": provenance,
                           "note": note}

    def close(self) -> None:
        (self.dir / "meta.json").write_text(json.dumps(self.meta, ensure_ascii=False, indent=1,
                                                       sort_keys=True) + "\n", encoding="utf-8")


HTML, XML = "text/html; charset=utf-8", "application/rss+xml; charset=utf-8"


def write_all(result: dict | None = None) -> None:
    seeds = {i.outlet: i for i in seed_items()}
    demo = {i.url: i for i in demo_items()[0]}
    by_id = {}
    for i in demo.values():
        by_id[i.src.split()[1]] = i

    # -- 24.kg English: the 2023 seed article (author + time in the visible date line)
    en = seeds["kg24_en"]
    d = SourceDir("kg24_en")
    d.add(role="feed", url=KG24_EN_FEED, body=kg24_feed([en], "en"), ext="xml", ctype=XML,
          provenance="reconstructed", note=f"RSS 2.0 with the one recorded item ({en.url})")
    d.add(role="page", url=en.url, body=kg24_page(en, [by_id["demo-0004"]]), ext="html",
          ctype=HTML, provenance="reconstructed",
          note=f"24.kg article template (sources.md) with the real text of {en.src}")
    d.close()

    # -- 24.kg Russian: the EAEU Court advisory opinion report (demo-0001)
    ru = by_id["demo-0001"]
    d = SourceDir("kg24_ru")
    d.add(role="feed", url=KG24_RU_FEED, body=kg24_feed([ru], "ru"), ext="xml", ctype=XML,
          provenance="reconstructed", note=f"RSS 2.0 with the one recorded item ({ru.url})")
    d.add(role="page", url=ru.url, body=kg24_page(ru, [by_id["demo-0002"], by_id["demo-0003"]]),
          ext="html", ctype=HTML, provenance="reconstructed",
          note=f"24.kg article template (sources.md) with the real text of {ru.src}")
    d.close()

    # -- The Moscow Times (English): the seed article, with the donation appeal in the page
    mt = seeds["moscowtimes_en"]
    page = T.mt_article(url=mt.url, lang="en", title=mt.title, subtitle=None, label="News",
                        authors=[], published=mt.published,
                        shown=mt.published + dt.timedelta(hours=5), lead=None, paras=mt.paras,
                        tags=["Kyrgyzstan", "Migrants", "EAEU"], appeal=mt.appeal, src=mt.src)
    d = SourceDir("moscowtimes_en")
    d.add(role="feed", url=MT_FEED, body=mt_feed([mt]), ext="xml", ctype=XML,
          provenance="reconstructed", note=f"/rss/news format with the one recorded item")
    d.add(role="page", url=mt.url, body=page, ext="html", ctype=HTML, provenance="reconstructed",
          note=f"2024 article template (sources.md) with the real text of {mt.src}; headline "
               "from the URL slug; tags and the byline 'updated' time (+5 h, to exercise "
               "updated-vs-published) are fixture values, not from the real page")
    d.close()

    # -- pravo_gov: REAL API responses
    d = SourceDir("pravo_gov")
    q = pravo_query_urls()[0]
    d.add(role="page", url=q, body=(PRAVO_DIR / "documents_search_sample.json").read_bytes(),
          ext="json", ctype="application/json; charset=utf-8", provenance="real", day="2026_01_17",
          crawl_date="2026-01-17T00:00:00+03:00",
          note="real /api/Documents response (/work/shared/fixtures/pravo-gov-api/"
               "documents_search_sample.json; an unfiltered query, PageSize 10); served here at "
               "the adapter's first query URL. Capture date = newest publishDate in it (exact "
               "capture time not recorded)")
    d.add(role="notfound", url=q.replace("/api/Documents", "/api/Documentz"),
          body=(PRAVO_DIR / "not_found_page.html").read_bytes(), ext="html", ctype=HTML,
          provenance="real", day="2026_01_17", crawl_date="2026-01-17T00:00:00+03:00",
          note="the portal's real HTML 404 page (not_found_page.html), served where JSON was "
               "expected: must be reported as an error")
    d.close()

    # -- EAEU Court: sitemap + R-7/25 card
    d = SourceDir("eaeu_court")
    d.add(role="sitemap", url=EAEU_SITEMAP,
          body=T.sitemap([(R_7_25, "2026-03-04")], "sitemap format; the R-7/25 URL"),
          ext="xml", ctype="application/xml; charset=utf-8", provenance="reconstructed",
          note="sitemap with the one case card we have material for")
    d.add(role="page", url=R_7_25, body=case_card(), ext="html", ctype=HTML,
          provenance="reconstructed", note="case card template (sources.md) filled with reported "
          "facts; see data/demo/build_recording.py CASE_SRC")
    d.close()

    # -- stand-ins -------------------------------------------------------------------------
    def standin_paras(item) -> list[str]:
        return item.paras + [f"Текст-заменитель для теста разметки: {item.src}."]

    src = by_id["demo-0010"]
    art_url = "https://www.moscowtimes.ru/2025/11/29/fixture-standin-a1"
    d = SourceDir("moscowtimes_ru")
    d.add(role="listing", url=MT_RU_HOME, body=T.mt_ru_listing(cards=[{
        "url": art_url, "headline": "[fixture] " + src.title, "teaser": src.paras[0]}],
        src=STANDIN.format(src=src.src)), ext="html", ctype=HTML, provenance="reconstructed",
        note=STANDIN.format(src=src.src))
    d.add(role="page", url=art_url, body=T.mt_article(
        url=art_url, lang="ru", title="[fixture] " + src.title, subtitle=None, label="Новости",
        authors=["[fixture]"], published=src.published, shown=src.published, lead=None,
        paras=standin_paras(src), tags=[], appeal=None, src=STANDIN.format(src=src.src)),
        ext="html", ctype=HTML, provenance="reconstructed", note=STANDIN.format(src=src.src))
    d.close()

    src = by_id["demo-0002"]
    d = SourceDir("regulation_gov")
    d.add(role="feed", url=REG_RSS, body=T.rss(
        title="regulation.gov.ru", link="https://regulation.gov.ru/",
        description="Проекты нормативных правовых актов", lang="ru",
        src=STANDIN.format(src=src.src),
        items=[{"title": "[fixture] " + src.title, "link": "https://regulation.gov.ru/projects/"
                "000001/", "description": T._e(src.paras[0]), "pubDate": src.published}]),
        ext="xml", ctype=XML, provenance="reconstructed", note=STANDIN.format(src=src.src))
    d.close()

    d = SourceDir("sozd_duma")
    d.add(role="page", url="https://sozd.duma.gov.ru/bill/956556-8", body=T.bill_card(
        number="956556-8", name="[fixture] название законопроекта не записано",
        comment="[fixture] карточка по шаблону sources.md; значения не настоящие",
        passport=[("Субъект права законодательной инициативы", "[fixture] субъект"),
                  ("Форма законопроекта", "[fixture] форма")],
        timeline=[("[fixture] Внесение законопроекта", "01.06.2025", "[fixture] событие 1"),
                  ("[fixture] Первое чтение", "01.07.2025", "[fixture] событие 2")],
        src="fixture values only (no real capture of bill 956556-8 available)"),
        ext="html", ctype=HTML, provenance="reconstructed",
        note="stand-in: no real capture or text of bill 956556-8 is available; every value is a "
             "marked fixture value, only the markup follows sources.md")
    d.close()

    src = by_id["demo-0003"]
    item = "https://мвд.рф/news/item/00000001/"
    d = SourceDir("mvd")
    d.add(role="listing", url=MVD_NEWS, body=T.listing(
        title="МВД России", links=[(item, "[fixture] " + src.title, "27.11.2025")],
        src=STANDIN.format(src=src.src)), ext="html", ctype=HTML, provenance="reconstructed",
        note=STANDIN.format(src=src.src))
    d.add(role="page", url=item, body=T.plain_article(
        url=item, site="МВД России", title="[fixture] " + src.title, paras=standin_paras(src),
        published=src.published, src=STANDIN.format(src=src.src)), ext="html", ctype=HTML,
        provenance="reconstructed", note=STANDIN.format(src=src.src))
    d.close()

    src = by_id["demo-0014"]
    item = "https://mlsp.gov.kg/ru/2025/08/25/fixture-standin/"
    d = SourceDir("mlsp_kg")
    d.add(role="listing", url=MLSP_HOME, body=T.listing(
        title="Министерство труда, социального обеспечения и миграции КР",
        links=[(item, "[fixture] " + src.title, "25.08.2025"), ("https://mlsp.gov.kg/ru/about/",
                                                                "О министерстве", "")],
        src=STANDIN.format(src=src.src)), ext="html", ctype=HTML, provenance="reconstructed",
        note=STANDIN.format(src=src.src))
    d.add(role="page", url=item, body=T.plain_article(
        url=item, site="Министерство труда, социального обеспечения и миграции КР",
        title="[fixture] " + src.title, paras=standin_paras(src), published=src.published,
        src=STANDIN.format(src=src.src)), ext="html", ctype=HTML, provenance="reconstructed",
        note=STANDIN.format(src=src.src))
    d.close()
