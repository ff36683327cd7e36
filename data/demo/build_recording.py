"""Build the bundled demo recording data/demo/recording.warc.gz (what `make demo` replays).

    .venv/bin/python data/demo/build_recording.py            # WARC + README + manifest
    .venv/bin/python data/demo/build_recording.py --fixtures # also rewrite the reconstructed
                                                             # test fixtures in tests/fixtures/

Inputs (all real texts, each with its real source URL):
  * /work/shared/seeds/*.txt  (the five seed articles; see SEEDS below for where each is from)
  * classify/data/demo_articles.jsonl (real domain articles with source URLs)
  * classify/data/dev.jsonl: the REAL items of the crawled outlets (24.kg, The Moscow Times)
    that have a publication date and a topic or a legal change, not already in
    demo_articles.jsonl (the held-out sets classify/data/holdout*.jsonl are never used)
  * /work/shared/fixtures/pravo-gov-api/*.json (REAL publication.pravo.gov.ru API responses)
Only the page *markup* is reconstructed (data/demo/templates.py, from the last-known templates
in /work/shared/reference/sources.md); each reconstructed page says so in
<meta name="lawwatch-provenance" content="reconstructed 2026-11-21 from <source>">.

Rules of the build:
  * An article goes into the template of its own outlet, under its own URL; articles from
    outlets we do not crawl are skipped (listed in the README).
  * An article without a known publication date is skipped rather than given an invented one.
  * The texts of the .jsonl inputs are short excerpts (~0.5-1.2k characters) of the articles.
  * A feed lists the newest FEED_MAX items of its outlet (like the live feeds).
  * data/demo/config/sources.toml (a config overlay) disables the sources the recording has no
    material for, so the demo does not show them as failed.
  * Deterministic: fixed capture time, fixed record ids (uuid5 of the URL), gzip without
    timestamps, inputs sorted -> rebuilding from the same inputs gives identical bytes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import re
import sys
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import templates as T  # noqa: E402  (data/demo/templates.py)

SHARED = Path("/work/shared")
SEED_DIR = SHARED / "seeds"
PRAVO_DIR = SHARED / "fixtures" / "pravo-gov-api"
DEMO_ARTICLES = ROOT / "classify" / "data" / "demo_articles.jsonl"
DEV_ARTICLES = ROOT / "classify" / "data" / "dev.jsonl"
FEED_MAX = 50                    # a live 24.kg / Moscow Times feed lists about the newest 50
OUT_DIR = ROOT / "data" / "demo"
FIXTURES = ROOT / "tests" / "fixtures"

UTC = dt.timezone.utc
BISHKEK = dt.timezone(dt.timedelta(hours=6))
MOSCOW = dt.timezone(dt.timedelta(hours=3))
CAPTURE = dt.datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)     # fixed "crawl" time of the demo
CAPTURE_DAY = CAPTURE.date()

KG24_RU_FEED = "https://24.kg/rss/"
KG24_EN_FEED = "https://24.kg/english/rss/"
MT_FEED = "https://www.themoscowtimes.com/rss/news"
MT_RU_HOME = "https://www.moscowtimes.ru/"
EAEU_SITEMAP = "https://courteurasian.org/sitemap-iblock-9.xml"
R_7_25 = ("https://courteurasian.org/court_cases/eaeu/r-7-25-tsentr-sudebnogo-predstavitelstva-"
          "pri-ministerstve-yustitsii-kyrgyzskoy-respubliki-o-razyasne/")
REG_RSS = "https://regulation.gov.ru/api/public/Rss/"
MVD_NEWS = "https://мвд.рф/news"
MLSP_HOME = "https://mlsp.gov.kg/ru/"

# Where each seed text comes from (found by its text; see README).
SEEDS = {
    "24kg_2023_social_security_of_migrants.txt": {
        "url": "https://24.kg/english/268404__Improvement_of_social_security_of_Kyrgyz_migrants_"
               "discussed_in_Moscow/", "outlet": "kg24_en"},
    "moscowtimes_kyrgyzstan_sues_russia_eaeu_court.txt": {
        "url": "https://www.themoscowtimes.com/2026/01/27/kyrgyzstan-sues-russia-at-eurasian-"
               "court-over-migrant-families-health-insurance-a91792", "outlet": "moscowtimes_en"},
    "eaeu_court_advisory_opinion_chi.txt": {
        "url": "https://en.avesta.tj/2026/03/05/the-eurasian-economic-union-court-clarified-the-"
               "rules-for-medical-insurance-for-families-of-migrant-workers-in-russia/",
        "outlet": None,
        "why": "Avesta.tj (Tajikistan) English report citing 24.kg; the English 24.kg original's "
               "URL is not known, and Avesta.tj is not a crawled source. The Russian 24.kg "
               "report of the same opinion IS recorded (24.kg/obschestvo/364419_...)."},
    "analysis_eaeu_court_stress_test.txt": {
        "url": "https://caspianpost.com/analytics/why-kyrgyzstan-took-russia-to-eau-court-over-"
               "migrant-rights", "outlet": None,
        "why": "Caspian Post analysis; not a crawled source."},
    "guide_for_migrants_from_kyrgyzstan.txt": {
        "url": "https://open.kg/en/news/local-news/45222-gajd-dlja-migrantov-iz-kyrgyzstana-kak-"
               "zakonno-i-bezopasno-osvoitsja-v-rossii.html", "outlet": None,
        "why": "open.kg guide: the source of the rules registry (config/rules.toml), not a "
               "development; open.kg is not a crawled source."},
}

KG24_SECTIONS = {"obschestvo": "Общество", "vlast": "Власть", "ekonomika": "Экономика",
                 "proisshestvija": "Происшествия", "zakon_i_pravo": "Закон и право"}


@dataclass
class Item:
    outlet: str                  # source id in config/sources.toml
    url: str
    lang: str
    title: str
    paras: list[str]
    published: dt.datetime
    time_known: bool
    src: str                     # provenance: seed file or demo_articles id + URL
    author: str | None = None
    label: str | None = None
    appeal: list[str] = field(default_factory=list)
    note: str = ""


# ---------------------------------------------------------------------------------------------
# inputs

def _split_paras(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def seed_items() -> list[Item]:
    items: list[Item] = []
    # 24.kg English, 19 June 2023 (first line title, second line date/author line)
    name = "24kg_2023_social_security_of_migrants.txt"
    lines = _split_paras((SEED_DIR / name).read_text(encoding="utf-8"))
    m = re.match(r"(\d{1,2}):(\d{2}), (\d{1,2}) (\S+) (\d{4}), .*?, (.+)$", lines[1])
    month = T.RU_MONTHS.index(m.group(4)) + 1
    items.append(Item(
        outlet="kg24_en", url=SEEDS[name]["url"], lang="en", title=lines[0], paras=lines[2:],
        published=dt.datetime(int(m.group(5)), month, int(m.group(3)), int(m.group(1)),
                              int(m.group(2)), tzinfo=BISHKEK),
        time_known=True, author=m.group(6).strip(), src=f"seed {name} ({SEEDS[name]['url']})"))
    # The Moscow Times, 27 January 2026: body, then the donation appeal (kept as page chrome)
    name = "moscowtimes_kyrgyzstan_sues_russia_eaeu_court.txt"
    lines = _split_paras((SEED_DIR / name).read_text(encoding="utf-8"))
    cut = next(i for i, p in enumerate(lines) if p.startswith("A Message from The Moscow Times"))
    items.append(Item(
        outlet="moscowtimes_en", url=SEEDS[name]["url"], lang="en",
        title="Kyrgyzstan Sues Russia at Eurasian Court Over Migrant Families' Health Insurance",
        paras=lines[:cut], appeal=lines[cut:],
        published=dt.datetime(2026, 1, 27, tzinfo=MOSCOW), time_known=False, label="News",
        src=f"seed {name} ({SEEDS[name]['url']})",
        note="headline reconstructed from the URL slug (the seed file has no title line); "
             "time of day unknown"))
    return items


def outlet_for(url: str, lang: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    path = urlsplit(url).path
    if host in ("24.kg", "www.24.kg", "24-kg.com", "www.24-kg.com"):
        if path.startswith("/archive/"):
            return None          # old archive URLs: not served by the current template
        return "kg24_en" if path.startswith("/english/") else "kg24_ru"
    if host in ("themoscowtimes.com", "www.themoscowtimes.com"):
        return "moscowtimes_en"
    if host in ("moscowtimes.ru", "www.moscowtimes.ru", "ru.themoscowtimes.com"):
        return "moscowtimes_ru"
    if host in ("мвд.рф", "xn--b1aew.xn--p1ai"):
        return "mvd"
    if host in ("mlsp.gov.kg", "www.mlsp.gov.kg"):
        return "mlsp_kg"
    return None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def _recorded_url(url: str, outlet: str) -> tuple[str, str]:
    """The URL an article is recorded under, and a note when it differs from the input URL.
    Only host spellings of the same site are normalised (mirror / trailing-dot / www host ->
    24.kg) and 24.kg's trailing slash added; the path is the real one."""
    note = ""
    parts = urlsplit(url)
    host = _host(url)
    if outlet.startswith("kg24") and parts.netloc.lower() != "24.kg":
        url = parts._replace(netloc="24.kg").geturl()
        why = ("the text was taken from the mirror" if "24-kg.com" in host
               else "the input URL spells the same host as")
        note = f"recorded at the main host 24.kg; {why} {parts.netloc}"
    if outlet.startswith("kg24") and not url.endswith("/"):
        url += "/"
    return url, note


def _jsonl_item(d: dict, outlet: str, origin: str) -> Item:
    url, note = _recorded_url(d["url"], outlet)
    note = "; ".join(x for x in (f"text is a short excerpt ({len(d['text'])} characters) of the "
                                 f"article", note) if x)
    day = dt.date.fromisoformat(d["published"][:10])
    tz = BISHKEK if outlet.startswith("kg24") else MOSCOW
    return Item(
        outlet=outlet, url=url, lang=d.get("lang") or "ru", title=d["title"],
        paras=_split_paras(d["text"]), published=dt.datetime(day.year, day.month, day.day,
                                                             tzinfo=tz),
        time_known=False, label="News" if outlet.startswith("moscowtimes") else None,
        src=f"{origin} {d['id']} ({d['url']})", note=note)


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def demo_items() -> tuple[list[Item], list[dict]]:
    items, skipped = [], []
    for d in _read_jsonl(DEMO_ARTICLES):
        outlet = outlet_for(d["url"], d.get("lang", ""))
        if outlet is None:
            skipped.append({"id": d["id"], "url": d["url"], "why": "outlet not crawled / "
                            "archive URL outside the current template"})
            continue
        if not d.get("published"):
            skipped.append({"id": d["id"], "url": d["url"],
                            "why": "no known publication date (not invented)"})
            continue
        items.append(_jsonl_item(d, outlet, "classify/data/demo_articles.jsonl"))
    return items, skipped


DEV_HOSTS = {"24.kg", "www.24.kg", "themoscowtimes.com", "www.themoscowtimes.com"}


def _norm_key(url: str) -> str:
    """URL identity for de-duplication: host spelling and trailing slash ignored."""
    host = _host(url)
    host = "24.kg" if host in ("www.24.kg", "24-kg.com", "www.24-kg.com") else host
    host = host.removeprefix("www.")
    return f"{host}{urlsplit(url).path.rstrip('/')}"


def dev_items(known_urls: list[str]) -> tuple[list[Item], list[dict]]:
    """REAL items of classify/data/dev.jsonl from 24.kg / The Moscow Times that are dated and
    carry a topic or a legal change, minus those already in demo_articles.jsonl."""
    known = {_norm_key(u) for u in known_urls}
    items, skipped = [], []
    for d in _read_jsonl(DEV_ARTICLES):
        if _host(d["url"]) not in DEV_HOSTS:
            continue
        why = None
        if d.get("provenance", "real") != "real":
            why = "not a real text"
        elif _norm_key(d["url"]) in known:
            why = ("duplicate of an item of classify/data/demo_articles.jsonl (recorded or "
                   "skipped there)")
        elif not d.get("published"):
            why = "no known publication date (not invented)"
        elif not (d.get("topics") or (d.get("change") or {}).get("is_change")):
            why = "no topic and no legal change (off-domain item)"
        elif urlsplit(d["url"]).path.startswith("/archive/"):
            why = "archive URL outside the current template"
        if why:
            skipped.append({"id": d["id"], "url": d["url"], "why": why})
            continue
        items.append(_jsonl_item(d, outlet_for(d["url"], d.get("lang", "")),
                                 "classify/data/dev.jsonl"))
        known.add(_norm_key(d["url"]))
    return items, skipped


# ---------------------------------------------------------------------------------------------
# pages

def kg24_page(it: Item, related: list[Item]) -> str:
    section = None
    if it.lang == "ru":
        seg = urlsplit(it.url).path.strip("/").split("/")[0]
        section = (f"/{seg}/", KG24_SECTIONS.get(seg, seg))
    rel = [(r.url, r.title) for r in related if r.url != it.url][:2]
    return T.kg24_article(url=it.url, lang=it.lang, title=it.title, paras=it.paras,
                          published=it.published, time_known=it.time_known, author=it.author,
                          section=section, related=rel, src=it.src)


def kg24_feed(items: list[Item], lang: str) -> str:
    feed_items = [{"title": i.title, "link": i.url, "description": T._e(i.paras[0]),
                   "pubDate": i.published} for i in items]
    return T.rss(title="24.kg" if lang == "ru" else "24.kg - English",
                 link="https://24.kg/" if lang == "ru" else "https://24.kg/english/",
                 description="Новости Кыргызстана" if lang == "ru" else "News of Kyrgyzstan",
                 items=feed_items, lang=lang,
                 src="the RSS 2.0 feed format (sources.md); items = the recorded articles")


def mt_page(it: Item) -> str:
    return T.mt_article(url=it.url, lang=it.lang, title=it.title, subtitle=None,
                        label=it.label or "News", authors=[], published=it.published,
                        shown=it.published, lead=None, paras=it.paras, tags=[],
                        appeal=it.appeal or None, src=it.src)


def mt_feed(items: list[Item]) -> str:
    feed_items = [{"title": i.title, "link": i.url, "description": T._e(i.paras[0]),
                   "pubDate": i.published, "category": "Article - News"} for i in items]
    return T.rss(title="The Moscow Times - News", link="https://www.themoscowtimes.com/",
                 description="The Moscow Times news feed", items=feed_items, lang="en",
                 src="the /rss/news feed format (sources.md); items = the recorded articles")


# The R-7/25 case card. Field values are facts from the public reports recorded here and in
# sources.md; the stage and the one document are what the 24.kg report of 4 March 2026 states.
CASE_SRC = ("sources.md (type, sphere, applicant); subject: the applicant's request as reported "
            "by the Kyrgyz CHI Fund (gazeta.kg/en/society/163604); stage/document: 24.kg report "
            "of 2026-03-04 (24.kg/obschestvo/364419_...), document date = report date, PDF path "
            "synthetic")
CASE_FIELDS = [
    ("Тип дела", "О разъяснении"),
    ("Предмет спора", "О разъяснении положений пунктов 3 и 4 статьи 98 Договора о Евразийском "
                      "экономическом союзе от 29 мая 2014 года (доступ членов семей трудящихся "
                      "к обязательному медицинскому страхованию)"),
    ("Сфера права", "Трудовая миграция"),
    ("Заявитель", "Центр судебного представительства при Министерстве юстиции Кыргызской "
                  "Республики"),
    ("Стадия", "Вынесено консультативное заключение"),
    ("Ключевые слова", "трудящиеся, члены семьи, медицинская помощь, обязательное медицинское "
                       "страхование"),
]
CASE_SUMMARY = ("Большая коллегия Суда разъяснила, что Договор о ЕАЭС разграничивает социальное "
                "обеспечение и право на медицинскую помощь; специальные нормы (пункт 4 статьи 98 "
                "Договора, приложение № 30) не предусматривают автоматического применения "
                "механизмов обязательного медицинского страхования к членам семей трудящихся.")
CASE_DOCS = [("04.03.2026", "Консультативное заключение Большой коллегии Суда",
              "/upload/iblock/r-7-25/konsultativnoe-zaklyuchenie.pdf")]


def case_card() -> str:
    return T.case_card(url=R_7_25, title="Р-7/25 Центр судебного представительства при "
                       "Министерстве юстиции Кыргызской Республики о разъяснении",
                       fields=CASE_FIELDS, summaries=[CASE_SUMMARY], documents=CASE_DOCS,
                       src=CASE_SRC)


ROBOTS = {
    "https://24.kg/robots.txt": ["Disallow: /search/"],
    "https://www.themoscowtimes.com/robots.txt": ["Disallow: /search"],
    "https://themoscowtimes.com/robots.txt": ["Disallow: /search"],
    "https://www.moscowtimes.ru/robots.txt": ["Disallow: /search"],
    # publication.pravo.gov.ru: the rules documented in sources.md
    "http://publication.pravo.gov.ru/robots.txt": ["Disallow: /Error", "Disallow: /Rss",
                                                    "Disallow: /File", "Disallow: /Search"],
    "https://courteurasian.org/robots.txt": ["Disallow: /bitrix/"],
    "https://regulation.gov.ru/robots.txt": ["Disallow:"],
    "https://sozd.duma.gov.ru/robots.txt": ["Disallow:"],
    "https://мвд.рф/robots.txt": ["Disallow:"],
    "https://mlsp.gov.kg/robots.txt": ["Disallow:"],
}


def pravo_query_urls() -> list[str]:
    from crawler.sources.pravo_gov import Adapter
    src = next(s for s in tomllib.loads((ROOT / "config/sources.toml").read_text("utf-8"))["source"]
               if s["id"] == "pravo_gov")
    a = Adapter(src)
    return [a.query_url(b, t, i) for b in a.blocks for t in a.terms
            for i in range(1, a.max_pages + 1)]


# ---------------------------------------------------------------------------------------------
# WARC

HTML = "text/html; charset=utf-8"
XML = "application/rss+xml; charset=utf-8"


def _headers(ctype: str, body: bytes, date: dt.datetime) -> list[tuple[str, str]]:
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    return [("Content-Type", ctype), ("Content-Length", str(len(body))),
            ("Date", date.strftime("%a, %d %b %Y %H:%M:%S GMT")), ("ETag", etag)]


def write_warc(path: Path, responses: list[tuple[str, int, str, bytes]]) -> None:
    """Deterministic WARC/1.1 (gzip, one member per record): a warcinfo record, then one
    `response` record per (url, status, content type, body) -- the format crawler/warc.py
    writes and replays (Target-URI with IDNA hosts in punycode, like live records)."""
    import httpx
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True, warc_version="WARC/1.1")
    info = w.create_warcinfo_record(path.name, {"software": "lawwatch data/demo/build_recording.py",
                                                "description": "lawwatch demo recording; see "
                                                               "data/demo/README.md"})
    info.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'warcinfo:' + path.name)}>")
    info.rec_headers.replace_header("WARC-Date", CAPTURE.strftime("%Y-%m-%dT%H:%M:%SZ"))
    w.write_record(info)
    for i, (url, status, ctype, body) in enumerate(responses):
        when = CAPTURE + dt.timedelta(seconds=2 * i)
        target = str(httpx.URL(url))
        hdrs = StatusAndHeaders(f"{status} {'OK' if status == 200 else 'Not Found'}",
                                _headers(ctype, body, when), protocol="HTTP/1.1")
        rec = w.create_warc_record(target, "response", payload=io.BytesIO(body), length=len(body),
                                   http_headers=hdrs, warc_headers_dict={
                                       "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, target)}>",
                                       "WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
        w.write_record(rec)
    path.write_bytes(buf.getvalue())


# ---------------------------------------------------------------------------------------------

def build(out_dir: Path = OUT_DIR) -> dict:
    seeds = seed_items()
    demo, skipped = demo_items()
    dev, dev_skipped = dev_items([d["url"] for d in _read_jsonl(DEMO_ARTICLES)]
                                 + [i.url for i in seeds])
    by_url: dict[str, Item] = {}
    for it in seeds + demo + dev:                   # a URL once (seed wins)
        by_url.setdefault(it.url, it)
    items = sorted(by_url.values(), key=lambda i: (i.outlet, -i.published.timestamp(), i.url))
    # a feed lists the newest FEED_MAX items; only what a feed lists is reachable in replay
    dropped = [i for o in {i.outlet for i in items}
               for i in [j for j in items if j.outlet == o][FEED_MAX:]]
    for i in sorted(dropped, key=lambda i: i.url):
        skipped.append({"id": i.src, "url": i.url, "why": f"older than the newest {FEED_MAX} "
                        f"items of its feed"})
    items = [i for i in items if i not in dropped]
    responses: list[tuple[str, int, str, bytes]] = []
    manifest: list[dict] = []

    def add(url, body, ctype=HTML, provenance="reconstructed", source_url=None, what="", note=""):
        data = body.encode("utf-8") if isinstance(body, str) else body
        responses.append((url, 200, ctype, data))
        manifest.append({"url": url, "what": what, "provenance": provenance,
                         "source_url": source_url or url, "bytes": len(data), "note": note})

    for url, lines in ROBOTS.items():
        add(url, T.robots(lines), "text/plain; charset=utf-8", what="robots.txt",
            note=("the rules documented in sources.md" if "pravo" in url
                  else "reconstructed, permissive (the real file was not captured)"))
    for feed_url, outlet, lang in ((KG24_RU_FEED, "kg24_ru", "ru"), (KG24_EN_FEED, "kg24_en", "en")):
        group = [i for i in items if i.outlet == outlet]
        add(feed_url, kg24_feed(group, lang), XML, what=f"24.kg {lang} RSS feed",
            note=f"{len(group)} items")
        for it in group:
            add(it.url, kg24_page(it, group), what=f"24.kg {lang} article: {it.title}",
                source_url=it.src, note=it.note)
    mt = [i for i in items if i.outlet == "moscowtimes_en"]
    add(MT_FEED, mt_feed(mt), XML, what="The Moscow Times /rss/news", note=f"{len(mt)} items")
    for it in mt:
        add(it.url, mt_page(it), what=f"The Moscow Times article: {it.title}", source_url=it.src,
            note=it.note)
    # pravo.gov.ru: the REAL API response, served at every query URL the adapter builds
    real = (PRAVO_DIR / "documents_search_sample.json").read_bytes()
    for q in pravo_query_urls():
        add(q, real, "application/json; charset=utf-8", provenance="real",
            source_url="/work/shared/fixtures/pravo-gov-api/documents_search_sample.json",
            what="publication.pravo.gov.ru /api/Documents",
            note="real response captured 2026-01-17 for an unfiltered /api/Documents query, "
                 "served at this query URL; its acts do not match the query term")
    add(EAEU_SITEMAP, T.sitemap([(R_7_25, "2026-03-04")], "sitemap format; only the R-7/25 card"
        " URL (the one case we have material for)"), "application/xml; charset=utf-8",
        what="courteurasian.org case-card sitemap", note="1 URL (R-7/25)")
    add(R_7_25, case_card(), what="EAEU Court case card R-7/25", source_url=CASE_SRC,
        note="stage 'Вынесено консультативное заключение', 1 document dated 04.03.2026")
    add(REG_RSS, T.rss(title="regulation.gov.ru", link="https://regulation.gov.ru/",
                       description="Проекты нормативных правовых актов", items=[], lang="ru",
                       src="RSS 2.0 format; no real draft item text was available"),
        XML, what="regulation.gov.ru RSS (no items)",
        note="no real draft text available: recorded as an empty, valid feed")
    extra_outlets = {"moscowtimes_ru": MT_RU_HOME, "mvd": MVD_NEWS, "mlsp_kg": MLSP_HOME}
    for outlet, home in extra_outlets.items():
        group = [i for i in items if i.outlet == outlet]
        if not group:
            manifest.append({"url": home, "what": f"{outlet} listing", "provenance": "not recorded",
                             "source_url": "", "bytes": 0,
                             "note": "no real article of this outlet in the inputs; not recorded "
                                     "(replay reports 'not in recording' for this source)"})
            continue
        if outlet == "moscowtimes_ru":
            add(home, T.mt_ru_listing(cards=[{"url": i.url, "headline": i.title,
                                              "teaser": i.paras[0]} for i in group],
                                      src="listing of the recorded articles"),
                what="moscowtimes.ru front page")
            for it in group:
                add(it.url, mt_page(it), what=f"moscowtimes.ru article: {it.title}",
                    source_url=it.src)
        else:
            site = "МВД России" if outlet == "mvd" else "Министерство труда, социального обеспечения и миграции КР"
            add(home, T.listing(title=site, links=[(i.url, i.title, f"{i.published:%d.%m.%Y}")
                                                   for i in group],
                                src="listing of the recorded articles"),
                what=f"{outlet} listing")
            for it in group:
                add(it.url, T.plain_article(url=it.url, site=site, title=it.title, paras=it.paras,
                                            published=it.published, src=it.src),
                    what=f"{outlet} item: {it.title}", source_url=it.src)
    manifest.append({"url": "https://sozd.duma.gov.ru/bill/956556-8", "what": "sozd bill card",
                     "provenance": "not recorded", "source_url": "", "bytes": 0,
                     "note": "no real capture or text of bill 956556-8 available; not recorded"})

    warc = Path(out_dir) / "recording.warc.gz"
    write_warc(warc, responses)
    disabled = write_overlay(items, out_dir)
    return {"items": items, "skipped": skipped, "dev_skipped": dev_skipped, "manifest": manifest,
            "warc": warc, "responses": responses, "disabled": disabled}


# Source ids whose material in the recording is not article items of `items`.
NON_ARTICLE_SOURCES = {"pravo_gov": "real publication.pravo.gov.ru API responses",
                       "eaeu_court": "the case-card sitemap and the R-7/25 case card"}


def write_overlay(items: list[Item], out_dir: Path) -> dict[str, str]:
    """data/demo/config/sources.toml: disable every configured source the recording has no
    material for (otherwise the demo shows it as failed 'not in recording')."""
    cfg = tomllib.loads((ROOT / "config/sources.toml").read_text("utf-8"))["source"]
    have = {i.outlet for i in items}
    why_off = {"regulation_gov": "the recording has only an empty (item-less) feed: no real "
                                 "draft text was available",
               "sozd_duma": "no real capture or text of the tracked bill is available"}
    disabled = {}
    for s in cfg:
        sid = s["id"]
        if sid in have or sid in NON_ARTICLE_SOURCES:
            continue
        disabled[sid] = why_off.get(sid, "no real article of this outlet is available")
    lines = ["# Demo overlay (written by data/demo/build_recording.py; do not edit by hand).",
             "# Merged by id over config/sources.toml when the demo replays "
             "data/demo/recording.warc.gz.",
             "# It disables exactly the sources the recording has NO material for: nothing "
             "real was",
             "# available for them, nothing was invented, and enabled they would only show as "
             "failed",
             "# ('not in recording'). See data/demo/README.md.", ""]
    for sid, why in disabled.items():
        lines += ["[[source]]", f'id = "{sid}"', "enabled = false", f"# {why}", ""]
    d = Path(out_dir) / "config"
    d.mkdir(parents=True, exist_ok=True)
    (d / "sources.toml").write_text("\n".join(lines), encoding="utf-8")
    return disabled


def write_readme(result: dict, out_dir: Path = OUT_DIR) -> None:
    items, manifest = result["items"], result["manifest"]
    size = result["warc"].stat().st_size
    lines = [
        "# Demo recording", "",
        "`recording.warc.gz` is what `make demo` replays (no network). Built by "
        "`data/demo/build_recording.py` (deterministic; rerun it after classify/data/"
        "demo_articles.jsonl changes). Texts are real and listed with their source URLs; the "
        "page markup of the outlets is reconstructed from the last-known templates in "
        "/work/shared/reference/sources.md (each page has `<meta name=\"lawwatch-provenance\" "
        "content=\"reconstructed 2026-11-21 from ...\">`). publication.pravo.gov.ru responses "
        "are real API responses. The article texts taken from classify/data/*.jsonl are short "
        "EXCERPTS (~0.5-1.2k characters) of the real articles, not their full text; "
        "publication dates are the real ones (time of day unknown, so none is shown).", "",
        f"WARC: {len(result['responses'])} response records, {size:,} bytes. "
        f"Articles: {len(items)} ({', '.join(f'{o}: {sum(1 for i in items if i.outlet == o)}' for o in sorted({i.outlet for i in items}))}).",
        "", "## Recorded items", "",
        "| URL | what | provenance | text source | note |", "|---|---|---|---|---|"]
    for m in manifest:
        lines.append(f"| {m['url']} | {m['what']} | {m['provenance']} | {m['source_url']} | "
                     f"{m['note']} |")
    lines += ["", "## Seeds", ""]
    for name, s in SEEDS.items():
        lines.append(f"- `{name}`: {s['url']} — " + (f"recorded as {s['outlet']}" if s["outlet"]
                                                       else f"not recorded: {s['why']}"))
    lines += ["", "## Skipped from classify/data/demo_articles.jsonl", ""]
    for s in result["skipped"]:
        lines.append(f"- {s['id']} {s['url']} — {s['why']}")
    dev = [i for i in items if i.src.startswith("classify/data/dev.jsonl")]
    lines += ["", "## Added from classify/data/dev.jsonl", "",
              "Real items of the crawled outlets (hosts 24.kg, www.24.kg, 24.kg., "
              "themoscowtimes.com, www.themoscowtimes.com) with a publication date and at least "
              "one topic or a legal change, not already in demo_articles.jsonl. Texts are "
              "excerpts. The held-out sets (classify/data/holdout*.jsonl) are never used.", ""]
    for i in dev:
        lines.append(f"- {i.src} → {i.outlet} {i.url} ({i.published:%Y-%m-%d})"
                     + (f" — {i.note}" if i.note else ""))
    lines += ["", "Not used (24.kg / Moscow Times items of dev.jsonl):", ""]
    for s in result["dev_skipped"]:
        lines.append(f"- {s['id']} {s['url']} — {s['why']}")
    lines += ["", "## Demo config overlay", "",
              "`data/demo/config/sources.toml` (written by the builder) is merged by id over "
              "config/sources.toml for the demo and disables the sources the recording has no "
              "material for, so they do not show as failed ('not in recording'):", ""]
    for sid, why in result["disabled"].items():
        lines.append(f"- `{sid}`: {why}")
    lines += ["", "## Known gaps", "",
              "- moscowtimes.ru, мвд.рф, mlsp.gov.kg, sozd.duma.gov.ru: no real text/capture in "
              "our inputs, so nothing is recorded for them (no invented articles); the demo "
              "overlay disables them (without it a replay reports 'not in recording' for them). "
              "regulation.gov.ru is recorded as a valid feed without items and is disabled by "
              "the overlay too.",
              "- Article texts are excerpts of ~0.5-1.2k characters, so extraction sees short "
              "bodies.",
              "- pravo.gov.ru: the only real /api/Documents response we have is an unfiltered "
              "listing (captured 2026-01-17); it is served for every term query, so the acts it "
              "yields are real but unrelated to the query terms.",
              "- The EAEU Court case card R-7/25 is reconstructed from reported facts; its "
              "document date is the date of the 24.kg report (2026-03-04).", ""]
    (Path(out_dir) / "README.md").write_text("\n".join(lines), encoding="utf-8")
    (Path(out_dir) / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1)
                                           + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", action="store_true",
                    help="also rewrite the reconstructed fixtures under tests/fixtures/")
    ap.add_argument("--out", type=Path, default=OUT_DIR,
                    help="output directory (default data/demo/)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    result = build(args.out)
    write_readme(result, args.out)
    if args.fixtures:
        import fixtures_build
        fixtures_build.write_all(result)
    print(f"{result['warc']}: {len(result['responses'])} records, "
          f"{result['warc'].stat().st_size:,} bytes; {len(result['items'])} articles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
