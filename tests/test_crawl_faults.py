"""The whole crawl against a misbehaving server: one case per fault, over loopback.

Every case runs the real orchestrator (`crawler.run.crawl`) with the real adapters and a real
DuckDB store over three sources on three hosts:

- `kg24_en`  (kg24 adapter)      24.kg, the recorded feed + article fixtures;
- `faulty`   (generic adapter)   faulty.example, an RSS feed with two Russian articles, served
  like a real site does (ETags, 304s) -- most faults are applied here, to the feed or to one
  article page as fits the fault;
- `pravo`    (pravo_gov adapter) publication.pravo.gov.ru, the recorded JSON API fixture
  (malformed-JSON faults are applied here).

A case is: break one host, crawl (run 1), repair it, crawl again (run 2). It asserts

(a) run 1 finishes and the healthy sources are `ok` with all their articles stored;
(b) the fault is recorded against the faulty source: `source_runs.status/error`,
    `sources.last_error` / `consecutive_failures`, and the `fetches` row of the broken URL;
(c) nothing corrupt is stored: every stored article is *exactly* what a clean crawl of the
    same site stores (title, lead, body, hash; so no truncated or mis-decoded text, no error
    page stored as an article), ids/URLs unique, versions complete and consistent, one
    `source_runs` row per source per run, items_new adding up to the articles stored;
(d) run 2 recovers: the faulty source is `ok`, its missing articles arrive, every article is
    stored once with one version, and its failure counters reset.

Timeouts, delays and caps come from the `[crawl]` config (short here), so the whole file
runs in about 30-40 s. The single-fetch behaviour of each fault is in tests/test_fetch.py; this
file is about what the crawl and the store make of it.
"""
from __future__ import annotations

import gzip
import hashlib
import socket
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from crawler.config_schema import CRAWL, SOURCE
from crawler.run import crawl
from lawwatch.schema import validate
from store.db import Store
from tests.fixtures.regenerate import FIXTURES, read_meta
from tests.loopback import (
    LoopbackServer,
    Request,
    Response,
    reset_connection,
    trickle,
    truncated,
)

FAULTY = "https://faulty.example"
FEED = f"{FAULTY}/feed.xml"
ART = {1: f"{FAULTY}/news/1.html", 2: f"{FAULTY}/news/2.html"}
PRAVO_URL = read_meta(FIXTURES / "pravo_gov")["pravo_gov_2026_01_17.json.gz"]["url"]

CRAWL_SETTINGS = {
    "per_host_delay_s": 0.0, "retries": 1, "backoff_base_s": 0.01, "backoff_cap_s": 0.05,
    "timeout_s": 0.4, "total_timeout_s": 1.0, "max_bytes": 200_000, "max_redirects": 3,
    "max_retry_after_s": 2.0,
}

SOURCES = [
    {"id": "kg24_en", "name": "24.kg (English)", "adapter": "kg24", "kind": "news", "lang": "en",
     "feeds": ["https://24.kg/english/rss/"]},
    {"id": "faulty", "name": "Faulty News", "adapter": "generic", "kind": "news", "lang": "ru",
     "feeds": [FEED]},
    {"id": "pravo", "name": "pravo.gov.ru API", "adapter": "pravo_gov", "kind": "official",
     "lang": "ru", "fetch_articles": False,
     "options": {"api_base": "http://publication.pravo.gov.ru/api", "blocks": ["president"],
                 "terms": ["иностранных граждан"], "page_size": 30}},
]
SOURCE_IDS = [s["id"] for s in SOURCES]


# -- the sites -----------------------------------------------------------------------------------

def article_html(n: int, *, meta_charset: bool = True, article: bool = True) -> str:
    paras = "".join(
        f"<p>Абзац {i} новости {n}: иностранные граждане, прибывшие в Россию для работы, "
        f"обязаны пройти дактилоскопию и медицинское освидетельствование в течение "
        f"пятнадцати дней после въезда.</p>" for i in range(3))
    main = (f"<article><h1>Новость номер {n} о правилах для мигрантов</h1>"
            f"<time datetime=\"2026-01-1{n}T09:00:00+03:00\">1{n} января 2026</time>{paras}"
            f"</article>" if article else "<p>Страница временно недоступна.</p>")
    meta = '<meta charset="utf-8">' if meta_charset else ""
    return (f"<!doctype html><html lang=\"ru\"><head>{meta}<title>Новость {n} — Faulty News"
            f"</title></head><body><nav><a href=\"/\">Главная</a> <a href=\"/news/\">Новости</a>"
            f"</nav>{main}<footer>© Faulty News</footer></body></html>")


def rss(items=(1, 2)) -> str:
    entries = "".join(
        f"<item><title>Новость {n}</title><link>{ART[n]}</link>"
        f"<pubDate>Mon, 1{n} Jan 2026 09:00:00 +0300</pubDate></item>" for n in items)
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>"
            f"<title>Faulty News</title><link>{FAULTY}/</link><description>d</description>"
            f"{entries}</channel></rss>")


def atom() -> str:
    entries = "".join(
        f"<entry><title>Новость {n}</title><link href=\"{ART[n]}\"/><id>urn:faulty:{n}</id>"
        f"<updated>2026-01-1{n}T09:00:00Z</updated></entry>" for n in (1, 2))
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"
            "<title>Faulty News</title><id>urn:faulty</id><updated>2026-01-12T09:00:00Z</updated>"
            f"{entries}</feed>")


def conditional(body: bytes | str, content_type: str = "text/html; charset=utf-8",
                headers: dict[str, str] | None = None) -> Callable[[Request], Response]:
    """Like a real server: an ETag derived from the content, 304 when it still matches."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = '"' + hashlib.sha1(data).hexdigest()[:12] + '"'

    def route(req: Request) -> Response:
        if req.headers.get("if-none-match") == etag:
            return Response(b"", 304, headers={"ETag": etag})
        return Response(data, headers={"ETag": etag, **(headers or {})}, content_type=content_type)
    return route


def serve_healthy(server: LoopbackServer, *, feed_format: str = "rss") -> None:
    """All three sites, working."""
    for src in ("kg24_en", "pravo_gov"):
        d = FIXTURES / src
        for name, m in read_meta(d).items():
            if m.get("role") == "notfound":
                continue
            server.add(m["url"], conditional(gzip.decompress((d / name).read_bytes()),
                                             m["headers"]["Content-Type"]))
    server.add("https://24.kg/robots.txt", Response(b"User-agent: *\nDisallow:\n",
                                                    content_type="text/plain"))
    server.add("http://publication.pravo.gov.ru/robots.txt",
               Response(b"User-agent: *\nDisallow: /File\n", content_type="text/plain"))
    server.add(f"{FAULTY}/robots.txt", Response(b"User-agent: *\nDisallow: /private/\n",
                                                content_type="text/plain"))
    if feed_format == "atom":
        server.add(FEED, conditional(atom(), "application/atom+xml; charset=utf-8"))
    else:
        server.add(FEED, conditional(rss(), "application/rss+xml; charset=utf-8"))
    for n, url in ART.items():
        server.add(url, conditional(article_html(n)))


def make_cfg(server: LoopbackServer, tmp_path, *, resolve: dict | None = None, **over):
    raw = {"resolve": resolve if resolve is not None else server.resolve_map(),
           "warc_dir": str(tmp_path / "warc"), **CRAWL_SETTINGS, **over}
    sources = []
    for s in SOURCES:
        v = validate(SOURCE, dict(s), "test", f"source[{s['id']}]")
        sources.append({k: (x() if x in (list, dict) else x) for k, x in v.items()})
    return SimpleNamespace(settings={"crawl": validate(CRAWL, raw, "test", "crawl")},
                           sources=sources)


def rows(store: Store, sql: str, params=()) -> list[tuple]:
    with store.read() as con:
        return con.execute(sql, list(params)).fetchall()


ARTICLE_COLS = "canonical_url, source_id, kind, title, lead, body, lang, published_at, content_hash"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, tuple]:
    """canonical_url -> the article row a clean crawl stores (the oracle for 'not corrupt')."""
    tmp = tmp_path_factory.mktemp("reference")
    store = Store(tmp / "ref.duckdb")
    with LoopbackServer(poll_interval=0.02) as server:
        serve_healthy(server)
        res = crawl(make_cfg(server, tmp), store, run_id="ref")
    assert {k: v.status for k, v in res.sources.items()} == dict.fromkeys(SOURCE_IDS, "ok")
    ref = {r[0]: r for r in rows(store, f"SELECT {ARTICLE_COLS} FROM articles")}
    by_source = {sid: sum(1 for r in ref.values() if r[1] == sid) for sid in SOURCE_IDS}
    assert by_source == {"kg24_en": 1, "faulty": 2, "pravo": 10}, by_source
    return ref


# -- the faults ----------------------------------------------------------------------------------

def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _half(data: bytes) -> bytes:
    return data[:len(data) // 2]


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Case:
    """One fault. `apply(server, ctx)` breaks one host after the healthy sites are served
    (ctx: per-case settings such as `resolve`); for run 2 the healthy sites are served again.
    Expected after run 1: the `target` source's `status`, an `error` substring in its
    source_runs/sources error (None: no error at all), the faulty site's articles `stored`
    (by number), optionally a `fetch_error` (url, substring) on the broken URL's fetches row,
    whether the run counts as `silent`, and an extra `check(server, result)`."""

    def __init__(self, id: str, apply: Callable, *, target: str = "faulty",
                 status: str = "failed", error: str, stored: tuple[int, ...] = (),
                 fetch_error: tuple[str, str] | None = None, silent: bool = False,
                 feed_format: str = "rss", check: Callable | None = None):
        self.id, self.apply, self.target, self.status = id, apply, target, status
        self.error, self.stored, self.fetch_error = error, stored, fetch_error
        self.silent, self.feed_format, self.check = silent, feed_format, check


def _waited_retry_after(server, result):
    """The retry came after the server's Retry-After (1 s), and no other host waited."""
    hits = [t for t, r in server.timed if r.host == "faulty.example" and r.path == "/news/2.html"]
    assert len(hits) == 2 and hits[1] - hits[0] >= 0.95, hits
    assert result.sources["kg24_en"].duration_s < 0.9


def _asked_once(server, result):
    """A Retry-After beyond max_retry_after_s defers at once: no retry, no waiting."""
    assert len(server.hits("faulty.example", "/feed.xml")) == 1


def _never_asked(server, result):
    """robots.txt forbids the feed: it is never requested."""
    assert server.hits("faulty.example", "/feed.xml") == []


def _slow(req):
    time.sleep(1.0)
    return Response(article_html(2).encode())


def _redirect_loop(server, ctx):
    server.add(ART[2], Response(b"", 302, headers={"Location": "/news/2b.html"}))
    server.add(f"{FAULTY}/news/2b.html", Response(b"", 302, headers={"Location": "/news/2.html"}))


def _dns_failure(server, ctx):
    ctx["resolve"] = {h: a for h, a in server.resolve_map().items() if h != "faulty.example"}
    ctx["dns_fail"] = "faulty.example"


def _cp1251(n: int, **kw) -> bytes:
    return article_html(n, **kw).encode("cp1251")


CASES = [
    # -- HTTP errors
    Case("http_500_feed", lambda s, c: s.add(FEED, Response(b"Internal Server Error", 500)),
         error="HTTP 500", fetch_error=(FEED, "HTTP 500 Internal Server Error after 2 attempts")),
    Case("http_503_article", lambda s, c: s.add(ART[2], Response(b"busy", 503)),
         status="partial", stored=(1,), error="HTTP 503",
         fetch_error=(ART[2], "HTTP 503 Service Unavailable after 2 attempts")),
    Case("http_429_retry_after_too_long",
         lambda s, c: s.add(FEED, Response(b"", 429, headers={"Retry-After": "3600"})),
         error="Retry-After 3600s > max_retry_after_s=2; deferred to the next run",
         fetch_error=(FEED, "deferred"),
         check=_asked_once),
    Case("http_429_retry_after_honoured",
         lambda s, c: s.add(ART[2], Response(b"", 429, headers={"Retry-After": "1"})),
         status="partial", stored=(1,), error="HTTP 429",
         fetch_error=(ART[2], "HTTP 429 Too Many Requests after 2 attempts"),
         check=_waited_retry_after),
    # -- slow, broken and cut-off connections
    Case("timeout", lambda s, c: s.add(ART[2], _slow), status="partial", stored=(1,),
         error="timed out", fetch_error=(ART[2], "timed out")),
    Case("trickle", lambda s, c: s.add(ART[2], trickle(article_html(2).encode(), delay_s=0.1)),
         status="partial", stored=(1,), error="total_timeout_s=1.0",
         fetch_error=(ART[2], "timed out")),
    Case("connection_reset_feed", lambda s, c: s.add(FEED, reset_connection),
         error="connection error", fetch_error=(FEED, "connection error")),
    Case("truncated_body",
         lambda s, c: s.add(ART[2], truncated(article_html(2).encode(), 400)),
         status="partial", stored=(1,), error="connection error",
         fetch_error=(ART[2], "connection error")),
    Case("truncated_gzip_body",
         lambda s, c: s.add(ART[2], Response(_half(_gzip(article_html(2).encode())),
                                             headers={"Content-Encoding": "gzip"})),
         status="partial", stored=(1,), error="truncated gzip body",
         fetch_error=(ART[2], "truncated gzip body")),
    # -- too big
    Case("oversized_body",
         lambda s, c: s.add(ART[2], article_html(2) + "<!--" + "x" * 300_000 + "-->"),
         status="partial", stored=(1,), error="exceeds max_bytes=200000",
         fetch_error=(ART[2], "Content-Length")),
    Case("gzip_bomb",
         lambda s, c: s.add(ART[2], Response(_gzip(article_html(2).encode() + b" " * 5_000_000),
                                             headers={"Content-Encoding": "gzip"})),
         status="partial", stored=(1,), error="decoded body exceeds max_bytes=200000",
         fetch_error=(ART[2], "decoded body exceeds")),
    # -- charsets: nothing to report as an error, but the text must come out right
    Case("charset_wrong_header",
         lambda s, c: [s.add(ART[n], conditional(_cp1251(n), "text/html; charset=utf-8"))
                       for n in ART],
         status="ok", stored=(1, 2), error=None),
    Case("charset_missing",
         lambda s, c: [s.add(ART[n], conditional(_cp1251(n, meta_charset=False), "text/html"))
                       for n in ART],
         status="ok", stored=(1, 2), error=None),
    Case("charset_mislabelled_utf8",
         lambda s, c: [s.add(ART[n], conditional(article_html(n, meta_charset=False),
                                                 "text/html; charset=windows-1251"))
                       for n in ART],
         status="ok", stored=(1, 2), error=None),
    # -- malformed documents
    Case("rss_truncated",
         lambda s, c: s.add(FEED, conditional(rss()[:rss().index("<item>", 200) + 30],
                                              "application/rss+xml")),
         status="ok", stored=(1,), error="not well-formed"),
    Case("atom_malformed",
         lambda s, c: s.add(FEED, conditional(atom().replace("</title>", "</titel>", 1),
                                              "application/atom+xml")),
         status="ok", stored=(2,), error="not well-formed", feed_format="atom"),
    Case("feed_is_an_html_error_page",
         lambda s, c: s.add(FEED, "<html><body><h1>Сайт на обслуживании</h1></body></html>"),
         error="no RSS/Atom root element"),
    Case("json_malformed", target="pravo",
         apply=lambda s, c: s.add(PRAVO_URL, Response(
             gzip.decompress((FIXTURES / "pravo_gov" / "pravo_gov_2026_01_17.json.gz")
                             .read_bytes())[:3000], content_type="application/json")),
         error="response is not valid JSON"),
    Case("html_without_article_one_page",
         lambda s, c: s.add(ART[2], conditional(article_html(2, article=False))),
         status="ok", stored=(1,), error="required field 'text"),
    Case("html_without_article_every_page",
         lambda s, c: [s.add(ART[n], conditional(article_html(n, article=False))) for n in ART],
         error="required field 'text", silent=True),
    # -- redirects, robots, hosts that are gone
    Case("redirect_loop", _redirect_loop, status="partial", stored=(1,), error="redirect loop",
         fetch_error=(ART[2], ("redirect loop: https://faulty.example/news/2.html -> "
                               "https://faulty.example/news/2b.html -> "
                               "https://faulty.example/news/2.html"))),
    Case("robots_disallow",
         lambda s, c: s.add(f"{FAULTY}/robots.txt", Response(b"User-agent: *\nDisallow: /\n",
                                                            content_type="text/plain")),
         error="disallowed by https://faulty.example/robots.txt (Disallow: /)",
         fetch_error=(FEED, "disallowed"),
         check=_never_asked),
    Case("connection_refused",
         lambda s, c: c.update(resolve={**s.resolve_map(),
                                        "faulty.example": f"127.0.0.1:{_closed_port()}"}),
         error="robots.txt unreachable (connection error (ConnectError",
         fetch_error=(FEED, "host deferred")),
    Case("dns_failure", _dns_failure, error="robots.txt unreachable (connection error",
         fetch_error=(FEED, "host deferred")),
]


# -- the test ------------------------------------------------------------------------------------

def check_store(store: Store, reference: dict[str, tuple], runs: list[str]) -> dict[str, tuple]:
    """(c): nothing corrupt, partial or duplicated; returns the stored articles by URL."""
    with store.read() as con:
        def q(sql: str, params=()) -> list[tuple]:
            return con.execute(sql, list(params)).fetchall()
        arts = {r[0]: r for r in q(f"SELECT {ARTICLE_COLS} FROM articles")}
        counts = q("SELECT count(*), count(DISTINCT id), count(DISTINCT canonical_url) "
                   "FROM articles")
        # versions: 1..version per article, the last one is the article's current hash
        bad_versions = q("""
            WITH v AS (SELECT article_id, count(*) AS n, max(version) AS top,
                              arg_max(content_hash, version) AS top_hash
                       FROM article_versions GROUP BY 1)
            SELECT a.canonical_url, a.version, v.n, v.top
            FROM articles a LEFT JOIN v ON v.article_id = a.id
            WHERE v.n IS NULL OR v.n <> a.version OR v.top <> a.version
               OR v.top_hash <> a.content_hash""")
        orphan_versions = q("SELECT count(*) FROM article_versions WHERE article_id NOT IN "
                            "(SELECT id FROM articles)")
        source_runs = q("SELECT run_id, source_id FROM source_runs ORDER BY ALL")
        new = dict(q("SELECT source_id, sum(items_new) FROM source_runs GROUP BY 1"))
        have = dict(q("SELECT source_id, count(*) FROM articles GROUP BY 1"))
        stray_fetches = q("SELECT count(*) FROM fetches WHERE source_id IS NULL OR source_id "
                          f"NOT IN ({', '.join(repr(s) for s in SOURCE_IDS)})")
    assert counts == [(len(arts),) * 3]
    for url, row in arts.items():
        assert url in reference, f"stored something a clean crawl does not: {url} {row[3]!r}"
        assert row == reference[url], f"{url}: stored text differs from a clean crawl's"
        body = row[5]
        assert body.strip() and "\ufffd" not in body and "\x00" not in body and row[3]
    assert bad_versions == [] and orphan_versions == [(0,)], (bad_versions, orphan_versions)
    # bookkeeping: one source_runs row per source per run; new items add up to what is stored
    assert source_runs == sorted((r, s) for r in runs for s in SOURCE_IDS)
    assert {s: new.get(s) or 0 for s in SOURCE_IDS} == {s: have.get(s, 0) for s in SOURCE_IDS}
    assert stray_fetches == [(0,)]
    return arts


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault_is_contained_recorded_and_recovered(case, reference, tmp_path, monkeypatch):
    store = Store(tmp_path / "lawwatch.duckdb")
    ctx: dict = {}
    with LoopbackServer(poll_interval=0.02) as server:
        server.timed = []
        _log_times(server)
        serve_healthy(server, feed_format=case.feed_format)
        case.apply(server, ctx)
        if ctx.get("dns_fail"):
            _fail_dns(monkeypatch, ctx["dns_fail"])

        # -- run 1: the fault
        t0 = time.monotonic()
        r1 = crawl(make_cfg(server, tmp_path, resolve=ctx.get("resolve")), store, run_id="run-1")
        run1_s = time.monotonic() - t0
        monkeypatch.undo()

        # (a) finished, healthy sources untouched
        status = {k: v.status for k, v in r1.sources.items()}
        healthy = [s for s in SOURCE_IDS if s != case.target]
        assert status == {**dict.fromkeys(healthy, "ok"), case.target: case.status}, \
            (status, {k: v.error for k, v in r1.sources.items()})
        arts = check_store(store, reference, ["run-1"])                            # (c)
        for sid in healthy:
            want = {u for u, r in reference.items() if r[1] == sid}
            assert {u for u, r in arts.items() if r[1] == sid} == want, sid
        if case.target == "faulty":
            assert {u for u, r in arts.items() if r[1] == "faulty"} == {ART[n] for n in case.stored}
        else:
            assert not [u for u, r in arts.items() if r[1] == case.target]
        assert run1_s < 8, f"run 1 took {run1_s:.1f}s"
        stored_after_run1 = set(arts)

        # (b) recorded against the faulty source
        st = r1.sources[case.target]
        (sr_status, sr_error, sr_errors), = rows(
            store, "SELECT status, error, errors FROM source_runs WHERE run_id = 'run-1' "
                   "AND source_id = ?", [case.target])
        (last_error, failures, silent), = rows(
            store, "SELECT last_error, consecutive_failures, silent_runs FROM sources "
                   "WHERE id = ?", [case.target])
        assert sr_status == case.status
        if case.error is None:
            assert sr_error is None and last_error is None and sr_errors == 0
        else:
            assert case.error in st.error and case.error in sr_error, sr_error
            assert case.error in last_error, last_error
            if case.status != "ok":
                assert sr_errors >= 1
        assert failures == (1 if case.status == "failed" else 0)
        assert silent == (1 if case.silent else 0)
        for sid in healthy:
            assert rows(store, "SELECT last_error, consecutive_failures FROM sources "
                               "WHERE id = ?", [sid]) == [(None, 0)], sid
        if case.fetch_error:
            url, what = case.fetch_error
            fe = rows(store, "SELECT error FROM fetches WHERE url = ?", [url])
            assert fe and fe[0][0] and what in fe[0][0], (url, fe)
        if case.id.startswith("charset"):
            enc = rows(store, "SELECT url, encoding, encoding_by FROM fetches WHERE url LIKE "
                              "'https://faulty.example/news/%' ORDER BY 1")
            want = "utf-8" if case.id == "charset_mislabelled_utf8" else "cp1251"
            assert enc == [(ART[1], want, "detection"), (ART[2], want, "detection")], enc
        if case.check:
            case.check(server, r1)

        # -- run 2: the fault is gone
        serve_healthy(server, feed_format=case.feed_format)
        r2 = crawl(make_cfg(server, tmp_path), store, run_id="run-2")

    # (d) recovered: everything a clean crawl has, once, with one version each
    assert {k: v.status for k, v in r2.sources.items()} == dict.fromkeys(SOURCE_IDS, "ok"), \
        {k: v.error for k, v in r2.sources.items()}
    arts = check_store(store, reference, ["run-1", "run-2"])
    assert set(arts) == set(reference)
    assert rows(store, "SELECT DISTINCT version FROM articles") == [(1,)]
    assert rows(store, "SELECT count(*) FROM article_versions") == [(len(reference),)]
    assert rows(store, "SELECT id, consecutive_failures, silent_runs, last_error FROM sources "
                       "ORDER BY id") == [(s, 0, 0, None) for s in sorted(SOURCE_IDS)]
    # run 2 stored exactly what run 1 missed
    assert set(r2.changed_article_ids) == set(_ids(store, set(reference) - stored_after_run1))


def _ids(store: Store, urls: set[str]) -> list[str]:
    if not urls:
        return []
    return [r[0] for r in rows(store, "SELECT id FROM articles WHERE list_contains(?, "
                                      "canonical_url)", [sorted(urls)])]


def _log_times(server: LoopbackServer) -> None:
    """Keep (monotonic time, request) per request (the Retry-After case checks the gap)."""
    orig = server.requests

    class Timed(list):
        def append(self, req):
            server.timed.append((time.monotonic(), req))
            super().append(req)
    server.requests = Timed(orig)


def _fail_dns(monkeypatch, host: str) -> None:
    """The host's name no longer resolves (the source's domain is gone)."""
    real = socket.getaddrinfo

    def getaddrinfo(name, *a, **kw):
        if isinstance(name, (str, bytes)) and (name.decode() if isinstance(name, bytes)
                                               else name).lower() == host:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(name, *a, **kw)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
