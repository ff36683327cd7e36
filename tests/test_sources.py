"""Every source adapter in config/sources.toml: fixtures, expected parses, collect() over loopback,
error paths, and the bundled demo recording.

Fixture layout and regeneration: tests/fixtures/regenerate.py (a person reviews the diff).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import re
from pathlib import Path

import pytest

from crawler.base import FetchFailed, SelectorDrift
from crawler.sources import load_adapter
from tests.fixtures.regenerate import (FIXTURES, crawl_date, load_sources, parse_file, read_fixture,
                                       read_meta, version_name)
from tests.loopback import Response

ROOT = Path(__file__).resolve().parents[1]
SOURCES = load_sources()
SOURCE_IDS = sorted(SOURCES)
def name_re(source_id: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(source_id)}(_(?P<role>[a-z]+))?_(?P<y>\d{{4}})_(?P<m>\d{{2}})"
                      rf"_(?P<d>\d{{2}})\.(html|xml|json)\.gz$")
DEMO_WARC = ROOT / "data" / "demo" / "recording.warc.gz"


# ---------------------------------------------------------------------------------------------
# helpers

def crawl_settings(**over):
    from crawler.config_schema import CRAWL
    from lawwatch.schema import validate
    base = {"per_host_delay_s": 0.0, "retries": 0, "backoff_base_s": 0.01,
            "resolve": {}, "warc_dir": "unused"}
    base.update(over)
    return validate(CRAWL, base, "test", "crawl")


async def _collect(source: dict, *, resolve=None, replay=None, known=(), limit_time=60):
    from crawler.fetch import Fetcher
    from crawler.run import SourceContext
    settings = crawl_settings(resolve=resolve or {})
    async with Fetcher(settings, replay=replay) as fetcher:
        ctx = SourceContext(source, fetcher, settings, {}, set(known), "test-run")
        adapter = load_adapter(source["adapter"])(source)
        recs = []

        async def run():
            async for r in adapter.collect(ctx):
                recs.append(r)
        await asyncio.wait_for(run(), limit_time)
        return recs, ctx


def collect(source, **kw):
    return asyncio.run(_collect(source, **kw))


def serve_fixtures(server, source_id: str) -> dict[str, dict]:
    """Route every fixture of a source at its URL (gunzipped, with its recorded Content-Type),
    plus a permissive robots.txt per host (pravo.gov.ru: its documented rules)."""
    d = FIXTURES / source_id
    meta = read_meta(d)
    hosts = set()
    for name, m in meta.items():
        if m.get("role") == "notfound":
            continue
        body = gzip.decompress((d / name).read_bytes())
        server.add(m["url"], Response(body, content_type=m["headers"]["Content-Type"]))
        from urllib.parse import urlsplit
        p = urlsplit(m["url"])
        hosts.add(f"{p.scheme}://{p.hostname}")
    for h in hosts:
        rules = ("Disallow: /Error\nDisallow: /Rss\nDisallow: /File\nDisallow: /Search\n"
                 if "pravo.gov.ru" in h else "Disallow:\n")
        server.add(h + "/robots.txt", Response(("User-agent: *\n" + rules).encode(),
                                               content_type="text/plain"))
    return meta


def no_empty(value, where: str) -> None:
    assert value not in (None, "", [], {}), f"{where}: empty expected value"
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("documentDate",):
                continue
            no_empty(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            no_empty(v, f"{where}[{i}]")


# ---------------------------------------------------------------------------------------------
# fixtures exist, are well-formed, and parse to the expected records

@pytest.mark.parametrize("source_id", SOURCE_IDS)
def test_source_has_fixture_and_expected_output(source_id):
    d = FIXTURES / source_id
    assert d.is_dir(), f"source {source_id!r} has no fixture directory {d} (every source needs one)"
    meta = read_meta(d)
    assert meta, f"{d}/meta.json lists no fixture"
    exp_file = d / f"{source_id}.json"
    assert exp_file.exists(), f"{exp_file} missing: run tests/fixtures/regenerate.py {source_id}"
    expected = json.loads(exp_file.read_text("utf-8"))
    pages = [n for n, m in meta.items() if m.get("role") != "notfound"]
    assert pages, f"{source_id}: no parseable fixture"
    for name, m in meta.items():
        mm = name_re(source_id).match(name)
        assert mm, f"{name}: expected {source_id}_[role_]YYYY_MM_DD.ext.gz"
        assert (d / name).exists(), f"{d / name} listed in meta.json but missing"
        assert m["url"].startswith(("http://", "https://")) and m["headers"].get("Content-Type")
        assert m["provenance"] in ("real", "reconstructed"), f"{name}: provenance"
        assert m.get("note"), f"{name}: a note on where it comes from is required"
        day = crawl_date(m)
        assert (mm.group("y"), mm.group("m"), mm.group("d")) == (
            f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"), f"{name}: date != crawl_date"
        v = version_name(SOURCES[source_id], day)
        assert name in expected.get(v, {}), f"{name}: no expected output under version {v}"
        no_empty(expected[v][name], f"{source_id}.json:{v}:{name}")


@pytest.mark.parametrize("source_id", SOURCE_IDS)
def test_fixture_parses_to_expected(source_id):
    d = FIXTURES / source_id
    expected = json.loads((d / f"{source_id}.json").read_text("utf-8"))
    for name, m in read_meta(d).items():
        v = version_name(SOURCES[source_id], crawl_date(m))   # version valid on capture date
        got = parse_file(SOURCES[source_id], d, name, m)
        assert got == expected[v][name], (f"{source_id}/{name} parsed differently from "
                                          f"{source_id}.json; if intended, run "
                                          f"tests/fixtures/regenerate.py {source_id} and review")


def test_reconstructed_pages_say_so():
    for d in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for name, m in read_meta(d).items():
            text = read_fixture(d, name)
            if m["provenance"] == "reconstructed":
                assert "reconstructed 2026-11-21 from" in text, f"{d.name}/{name}"
            else:
                assert "lawwatch-provenance" not in text, f"{d.name}/{name} is real"


# ---------------------------------------------------------------------------------------------
# collect() against the loopback server, through the real fetcher

def _expected_urls(source_id: str) -> set[str]:
    exp = json.loads((FIXTURES / source_id / f"{source_id}.json").read_text("utf-8"))
    meta = read_meta(FIXTURES / source_id)
    by_role: dict[str, set[str]] = {}
    for files in exp.values():
        for name, recs in files.items():
            if isinstance(recs, list):
                by_role.setdefault(meta[name]["role"], set()).update(
                    r["canonical_url"] for r in recs if isinstance(r, dict) and "canonical_url" in r)
    # article pages when the source reads them; feed items for feed-only sources
    return by_role.get("page") or by_role.get("feed", set())


@pytest.mark.parametrize("source_id", SOURCE_IDS)
def test_collect_over_loopback(loopback, source_id):
    src = SOURCES[source_id]
    serve_fixtures(loopback, source_id)
    if source_id == "pravo_gov":   # the real response answers every query URL the adapter builds
        real = read_fixture(FIXTURES / "pravo_gov", "pravo_gov_2026_01_17.json.gz").encode()
        for u in load_adapter("pravo_gov")(src).query_urls():
            loopback.add(u, Response(real, content_type="application/json; charset=utf-8"))
    recs, ctx = collect(src, resolve=loopback.resolve_map())
    assert recs, f"{source_id}: collect() yielded nothing; warnings: {ctx.warnings} errors: {ctx.errors}"
    assert not ctx.errors, ctx.errors
    for r in recs:
        assert r.source_id == source_id and r.title.strip() and r.body.strip()
    assert {r.canonical_url for r in recs} == _expected_urls(source_id)
    assert len({r.canonical_url for r in recs}) == len(recs), "duplicates"
    assert not [q for q in loopback.requests if "/File" in q.path], "requested /File"


# ---------------------------------------------------------------------------------------------
# adapter behaviour

def test_kg24_known_items_not_refetched_unless_feed_says_updated(loopback):
    src = SOURCES["kg24_en"]
    meta = serve_fixtures(loopback, "kg24_en")
    page_url = next(m["url"] for m in meta.values() if m["role"] == "page")
    recs, _ = collect(src, resolve=loopback.resolve_map(), known=[page_url])
    assert recs == [] and not loopback.hits(path="/english/268404__Improvement_of_social_security_"
                                                 "of_Kyrgyz_migrants_discussed_in_Moscow/")
    # the feed now says the item was updated: refetch
    feed = read_fixture(FIXTURES / "kg24_en", "kg24_en_feed_2026_11_21.xml.gz")
    feed = feed.replace("</pubDate>", "</pubDate><atom:updated>2023-06-20T08:00:00+06:00</atom:updated>")
    loopback.add("https://24.kg/english/rss/", Response(feed.encode(), content_type="application/rss+xml"))
    recs, _ = collect(src, resolve=loopback.resolve_map(), known=[page_url])
    assert [r.canonical_url for r in recs] == [page_url]


def test_kg24_strips_related_box_and_english_boilerplate():
    a = load_adapter("kg24")(SOURCES["kg24_en"])
    html = read_fixture(FIXTURES / "kg24_en", "kg24_en_2026_11_21.html.gz")
    # boilerplate lines and the related box *inside* the body must not reach the text
    html = html.replace('<div class="poTeme">', "<p>USD 87.44</p><p>link: https://24.kg/english/268404/</p>"
                        "<p>views: 1234</p><p>Print</p><p>Popular</p><div class=\"poTeme\">")
    rec = a.parse_page(html, "https://24.kg/english/268404/", dt.date(2026, 11, 21))
    for junk in ("USD 87.44", "link:", "views:", "Print", "Popular", "Related", "Kyrgyzstan sues"):
        assert junk not in rec.body, junk
    assert rec.authors == ["Baktygul OSMONALIEVA"]
    assert rec.published_at == dt.datetime(2023, 6, 19, 10, 29, tzinfo=dt.timezone(dt.timedelta(hours=6)))


@pytest.mark.parametrize("source_id,remove,field", [
    ("kg24_ru", 'class="newsTitle"', "title"),
    ("kg24_ru", 'itemprop="datePublished"', "published"),
    ("kg24_ru", 'class="cont"', "body"),
    ("moscowtimes_en", 'class="byline__datetime"', "datetime"),
    ("moscowtimes_en", '<header class="article__header">', "title"),
    ("eaeu_court", 'class="case-card__ttl"', "case-card fields"),
    ("sozd_duma", 'id="oz_name"', "name"),
])
def test_missing_required_field_is_selector_drift(source_id, remove, field):
    d = FIXTURES / source_id
    name, m = next((n, m) for n, m in read_meta(d).items() if m["role"] == "page")
    html = read_fixture(d, name).replace(remove, 'class="renamed-by-redesign"')
    if remove.startswith("<header"):
        html = html.replace("<header class=\"renamed-by-redesign\">", "<header class=\"x\">")
    a = load_adapter(SOURCES[source_id]["adapter"])(SOURCES[source_id])
    with pytest.raises(SelectorDrift) as e:
        a.parse_page(html, m["url"], crawl_date(m))
    assert field in str(e.value) and m["url"] in str(e.value)


def test_moscowtimes_strips_appeal_newsletter_sidebar():
    a = load_adapter("moscowtimes")(SOURCES["moscowtimes_en"])
    d = FIXTURES / "moscowtimes_en"
    rec = a.parse_page(read_fixture(d, "moscowtimes_en_2026_11_21.html.gz"),
                       read_meta(d)["moscowtimes_en_2026_11_21.html.gz"]["url"], dt.date(2026, 11, 21))
    for junk in ("A Message from The Moscow Times", "Dear readers", "Remind me later",
                 "Support The Moscow Times", "newsletter", "Most read"):
        assert junk not in rec.body, junk
    assert rec.body.startswith("Kyrgyzstan has filed a lawsuit")
    assert rec.updated_at - rec.published_at == dt.timedelta(hours=5)


def test_feed_parse_error_names_url(loopback):
    src = SOURCES["kg24_ru"]
    loopback.add("https://24.kg/robots.txt", Response(b"User-agent: *\nDisallow:\n", content_type="text/plain"))
    loopback.add("https://24.kg/rss/", Response(b"<html><body>502 Bad Gateway</body></html>"))
    with pytest.raises(ValueError) as e:
        collect(src, resolve=loopback.resolve_map())
    assert "https://24.kg/rss/" in str(e.value)


def test_pravo_gov_options_validated():
    from lawwatch.schema import ConfigError
    base = SOURCES["pravo_gov"]
    for bad in ({"page_size": 50}, {"blocks": ["regions"]}, {"search_field": "Text"},
                {"max_pages": 0}, {"terms": []}):
        s = {**base, "options": {**base["options"], **bad}}
        with pytest.raises(ConfigError) as e:
            load_adapter("pravo_gov")(s)
        assert f"options.{next(iter(bad))}" in str(e.value)
    a = load_adapter("pravo_gov")(base)
    u = a.query_url("government", "иностранных граждан", 2)
    assert u.startswith("http://publication.pravo.gov.ru/api/Documents?Block=government&Name=")
    assert "PageSize=30" in u and "Index=2" in u and "%20" in u


def test_pravo_gov_paging_is_one_based_and_bounded(loopback):
    src = {**SOURCES["pravo_gov"], "options": {**SOURCES["pravo_gov"]["options"],
                                               "blocks": ["president"], "terms": ["патент"],
                                               "max_pages": 3}}
    a = load_adapter("pravo_gov")(src)
    data = json.loads(read_fixture(FIXTURES / "pravo_gov", "pravo_gov_2026_01_17.json.gz"))
    items = data["items"]
    loopback.add("http://publication.pravo.gov.ru/robots.txt",
                 Response(b"User-agent: *\nDisallow: /File\n", content_type="text/plain"))
    for i in (1, 2, 3):
        page = {**data, "items": items[(i - 1) * 3: i * 3], "currentPage": i, "pagesTotalCount": 2}
        loopback.add(a.query_url("president", "патент", i),
                     Response(json.dumps(page).encode(), content_type="application/json"))
    recs, _ = collect(src, resolve=loopback.resolve_map())
    assert len(recs) == 6                           # pages 1 and 2; pagesTotalCount stops paging
    assert [q.path.rsplit("Index=", 1)[1] for q in loopback.requests if "Documents" in q.path] == ["1", "2"]
    r = recs[0]
    assert r.kind == "act" and r.canonical_url == f"http://publication.pravo.gov.ru/document/{items[0]['eoNumber']}"
    assert "<br" not in r.title and r.extra["pagesCount"] == items[0]["pagesCount"]


@pytest.mark.parametrize("status", [200, 404])
def test_pravo_gov_html_404_page_is_an_error(loopback, status):
    src = {**SOURCES["pravo_gov"], "options": {**SOURCES["pravo_gov"]["options"],
                                               "blocks": ["president"], "terms": ["патент"]}}
    a = load_adapter("pravo_gov")(src)
    page = read_fixture(FIXTURES / "pravo_gov", "pravo_gov_notfound_2026_01_17.html.gz").encode()
    loopback.add("http://publication.pravo.gov.ru/robots.txt", Response(b"User-agent: *\nDisallow: /File\n"))
    loopback.add(a.query_url("president", "патент", 1), Response(page, status=status))
    with pytest.raises(FetchFailed) as e:
        collect(src, resolve=loopback.resolve_map())
    assert "publication.pravo.gov.ru/api/Documents" in str(e.value)
    if status == 200:
        assert "Страница не найдена" in str(e.value)


def test_courteurasian_new_document_or_stage_is_a_new_version():
    a = load_adapter("courteurasian")(SOURCES["eaeu_court"])
    d = FIXTURES / "eaeu_court"
    m = read_meta(d)["eaeu_court_2026_11_21.html.gz"]
    html = read_fixture(d, "eaeu_court_2026_11_21.html.gz")
    base = a.parse_page(html, m["url"], dt.date(2026, 11, 21))
    assert base.extra["stage"] == "Вынесено консультативное заключение"
    assert base.extra["documents"][0]["date"] == "2026-03-04"
    more = html.replace("</tbody>", '<tr><td>20.03.2026</td><td><a href="/upload/iblock/x/new.pdf">'
                                    "Особое мнение судьи</a></td></tr></tbody>")
    staged = html.replace("Вынесено консультативное заключение", "Рассмотрение завершено")
    h = base.content_hash()
    assert a.parse_page(more, m["url"], dt.date(2026, 11, 21)).content_hash() != h
    assert a.parse_page(staged, m["url"], dt.date(2026, 11, 21)).content_hash() != h


def test_courteurasian_follows_keyword_matches_only(loopback):
    src = {**SOURCES["eaeu_court"], "options": {"follow_keywords": ["медицин"]}}
    serve_fixtures(loopback, "eaeu_court")
    other = "https://courteurasian.org/court_cases/eaeu/other-case/"
    loopback.add(other, Response(read_fixture(FIXTURES / "eaeu_court", "eaeu_court_2026_11_21.html.gz")
                                 .replace("медицин", "таможен").encode()))
    sm = read_fixture(FIXTURES / "eaeu_court", "eaeu_court_sitemap_2026_11_21.xml.gz")
    sm = sm.replace("</urlset>", f"<url><loc>{other}</loc></url></urlset>")
    loopback.add("https://courteurasian.org/sitemap-iblock-9.xml", Response(sm.encode(), content_type="application/xml"))
    recs, _ = collect(src, resolve=loopback.resolve_map())
    assert [r.canonical_url for r in recs] == [SOURCES["eaeu_court"]["options"]["follow_cases"][0]]


def test_mvd_idna_host_on_the_wire(loopback):
    serve_fixtures(loopback, "mvd")
    recs, _ = collect(SOURCES["mvd"], resolve=loopback.resolve_map())
    assert recs and all(r.canonical_url.startswith("https://xn--b1aew.xn--p1ai/") for r in recs)
    assert {q.host for q in loopback.requests} == {"xn--b1aew.xn--p1ai"}


def test_generic_listing_without_matching_links_is_drift(loopback):
    serve_fixtures(loopback, "mlsp_kg")
    loopback.add("https://mlsp.gov.kg/ru/", Response(b"<html><body><a href='/ru/about/'>x</a></body></html>"))
    with pytest.raises(SelectorDrift) as e:
        collect(SOURCES["mlsp_kg"], resolve=loopback.resolve_map())
    assert "https://mlsp.gov.kg/ru/" in str(e.value)


def test_sozd_requires_well_formed_bill_numbers():
    from lawwatch.schema import ConfigError
    s = {**SOURCES["sozd_duma"], "options": {"bills": ["956556"]}}
    with pytest.raises(ConfigError):
        load_adapter("sozd_duma")(s).bill_urls()


# ---------------------------------------------------------------------------------------------
# the bundled demo recording

def test_demo_recording_small_and_marked():
    from warcio.archiveiterator import ArchiveIterator
    assert DEMO_WARC.exists(), "run data/demo/build_recording.py"
    assert DEMO_WARC.stat().st_size < 5_000_000
    n = 0
    with open(DEMO_WARC, "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type != "response":
                continue
            n += 1
            body = rec.content_stream().read()
            ctype = rec.http_headers.get_header("Content-Type") or ""
            if ctype.startswith("text/html"):
                assert b'name="lawwatch-provenance" content="reconstructed 2026-11-21 from' in body, \
                    rec.rec_headers.get_header("WARC-Target-URI")
    assert n >= 20
    readme = (ROOT / "data" / "demo" / "README.md").read_text("utf-8")
    manifest = json.loads((ROOT / "data" / "demo" / "manifest.json").read_text("utf-8"))
    for m in manifest:
        assert m["url"] in readme


def test_demo_replay_covers_seeded_rules():
    texts: dict[str, list[str]] = {}
    for sid in ("kg24_ru", "kg24_en", "moscowtimes_en", "pravo_gov", "eaeu_court"):
        recs, ctx = collect(SOURCES[sid], replay=DEMO_WARC)
        assert recs, f"{sid}: nothing replayed from the demo recording ({ctx.errors})"
        assert not ctx.errors, ctx.errors
        texts[sid] = [f"{r.title}\n{r.body}" for r in recs]
    alltext = "\n".join(t for ts in texts.values() for t in ts).lower()
    for needle in ("амин", "fingerprint", "biometric", "реестр контролируемых лиц",
                   "register of controlled persons", "консультативное заключение"):
        assert needle in alltext, needle
    eaeu = [sid for sid, ts in texts.items()
            if any(("суд еаэс" in t.lower() or "eaeu court" in t.lower()
                    or "суда" in t.lower() and "разъясн" in t.lower()) for t in ts)]
    assert len(eaeu) >= 3, eaeu          # 24.kg ru + en, Moscow Times, the court's own card


def test_demo_build_is_deterministic(tmp_path):
    import subprocess
    import sys
    outs = []
    for i in (1, 2):
        out = tmp_path / str(i)
        subprocess.run([sys.executable, str(ROOT / "data" / "demo" / "build_recording.py"),
                        "--out", str(out)], check=True, cwd=ROOT, capture_output=True)
        outs.append((out / "recording.warc.gz").read_bytes())
    assert outs[0] == outs[1], "two builds from the same inputs differ"


def test_moscowtimes_full_text_feed_without_page_fetch(loopback):
    mt = read_meta(FIXTURES / "moscowtimes_en")
    page_url = next(m["url"] for m in mt.values() if m["role"] == "page")
    body = ("<p>First paragraph of the story.</p><p>Second paragraph.</p>"
            "<p>A Message from The Moscow Times:</p><p>Dear readers,</p><p>Remind me later.</p>")
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Story'
            f'</title><link>{page_url}</link><description><![CDATA[{body}]]></description>'
            f'<category>Article - News</category><pubDate>Tue, 27 Jan 2026 10:00:00 +0300</pubDate>'
            f'</item></channel></rss>')
    loopback.add("https://www.themoscowtimes.com/robots.txt", Response(b"User-agent: *\nDisallow:\n"))
    loopback.add("https://www.themoscowtimes.com/rss/all", Response(feed.encode(), content_type="application/rss+xml"))
    src = {**SOURCES["moscowtimes_en"], "feeds": ["https://www.themoscowtimes.com/rss/all"],
           "fetch_articles": False, "options": {"full_text": True}}
    recs, _ = collect(src, resolve=loopback.resolve_map())
    assert len(recs) == 1 and recs[0].body == "First paragraph of the story.\n\nSecond paragraph."
    assert recs[0].section == "Article - News"
    assert not loopback.hits(path=page_url.split("themoscowtimes.com", 1)[1])


def test_one_broken_item_is_reported_and_the_rest_collected(loopback):
    serve_fixtures(loopback, "kg24_ru")
    feed = read_fixture(FIXTURES / "kg24_ru", "kg24_ru_feed_2026_11_21.xml.gz")
    missing = "https://24.kg/obschestvo/1_missing_page/"
    extra = (f"<item><title>Missing</title><link>{missing}</link><description>x</description>"
             f"<pubDate>Wed, 04 Mar 2026 10:00:00 +0600</pubDate></item></channel>")
    loopback.add("https://24.kg/rss/", Response(feed.replace("</channel>", extra).encode(),
                                                content_type="application/rss+xml"))
    recs, ctx = collect(SOURCES["kg24_ru"], resolve=loopback.resolve_map())
    assert len(recs) == 1 and any(missing in w for w in ctx.warnings)


def test_moscowtimes_authors_link_and_older_span_markup():
    a = load_adapter("moscowtimes")(SOURCES["moscowtimes_en"])
    d = FIXTURES / "moscowtimes_en"
    html = read_fixture(d, "moscowtimes_en_2026_11_21.html.gz").replace(
        '<div class="byline__details">',
        '<div class="byline__details"><a class="byline__author__name" href="/author/x">Author One</a>'
        '<span class="byline__author__name">Author Two</span>')
    rec = a.parse_page(html, read_meta(d)["moscowtimes_en_2026_11_21.html.gz"]["url"], dt.date(2026, 11, 21))
    assert rec.authors == ["Author One", "Author Two"]
