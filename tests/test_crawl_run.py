"""crawler.run.crawl end to end over loopback: store writes, source health, WARC + replay.

The adapters here are tiny test doubles (the real ones live in crawler/sources/): they talk
to the network only through ctx.get, exactly as the contract in crawler/base.py says.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

import crawler.sources
from crawler.base import BaseAdapter, SelectorDrift
from crawler.canonical import canonicalize
from crawler.config_schema import CRAWL
from crawler.run import crawl
from lawwatch.schema import validate
from store.db import Store
from store.records import ArticleRecord
from tests.loopback import Response

LINK_RE = re.compile(r"<link>(.*?)</link>")
TITLE_RE = re.compile(r"<h1>(.*?)</h1>", re.S)
BODY_RE = re.compile(r"<div class=\"body\">(.*?)</div>", re.S)


class FeedAdapter(BaseAdapter):
    """Feed of <link>s; each article page has <h1> and <div class="body">."""
    name = "tiny"

    async def collect(self, ctx):
        for feed in self.source["feeds"]:
            page = await ctx.get(feed, kind="feed")
            if page.not_modified:
                continue
            for link in LINK_RE.findall(page.text):
                url = canonicalize(link)
                if ctx.known(url):
                    continue
                art = await ctx.get(link)
                if art.not_modified:
                    continue
                title, body = TITLE_RE.search(art.text), BODY_RE.search(art.text)
                if not title or not body:
                    raise SelectorDrift(self.source["id"], "V1", "title" if not title else "body", link)
                yield ArticleRecord(canonical_url=url, source_id=self.source["id"],
                                    title=title.group(1).strip(), body=body.group(1).strip(),
                                    lang=self.source.get("lang"))


class BoomAdapter(BaseAdapter):
    name = "boom"

    async def collect(self, ctx):
        await ctx.get(self.source["feeds"][0])
        raise RuntimeError("adapter bug: list index out of range")
        yield  # pragma: no cover


ADAPTERS = {"tiny": FeedAdapter, "boom": BoomAdapter}


@pytest.fixture(autouse=True)
def test_adapters(monkeypatch):
    monkeypatch.setattr(crawler.sources, "load_adapter", lambda name: ADAPTERS[name])


def make_cfg(server, tmp_path, sources, **crawl_over):
    raw = {"resolve": server.resolve_map(), "per_host_delay_s": 0, "backoff_base_s": 0.01,
           "backoff_cap_s": 0.05, "retries": 1, "timeout_s": 2.0,
           "warc_dir": str(tmp_path / "warc"), **crawl_over}
    srcs = [{"name": s["id"], "kind": "news", "lang": "ru", "enabled": True, "options": {}, **s}
            for s in sources]
    return SimpleNamespace(settings={"crawl": validate(CRAWL, raw, "test", "crawl")}, sources=srcs)


def conditional(body: bytes, etag: str, last_modified: str = "Mon, 12 Jan 2026 08:00:00 GMT",
                content_type: str = "text/html; charset=utf-8"):
    """A route that honours If-None-Match / If-Modified-Since like a real server."""
    def route(req):
        if req.headers.get("if-none-match") == etag or (
                "if-none-match" not in req.headers and req.headers.get("if-modified-since") == last_modified):
            return Response(b"", 304, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag, "Last-Modified": last_modified},
                        content_type=content_type)
    return route


def article(title: str, body: str) -> str:
    return f"<html><body><h1>{title}</h1><div class=\"body\">{body}</div></body></html>"


def add_kg24(server):
    feed = ("<rss><item><link>https://24.kg/english/1_Patent/?utm_source=rss</link></item>"
            "<item><link>https://24.kg/english/2_Biometrics/</link></item></rss>").encode()
    server.add("https://24.kg/english/rss/", conditional(feed, '"feed1"'))
    server.add("https://24.kg/english/1_Patent/?utm_source=rss",
               conditional(article("Patent price rises", "The patent for migrants costs more.").encode(), '"a1"'))
    server.add("https://24.kg/english/2_Biometrics/",
               conditional(article("Biometrics", "Fingerprinting at the border.").encode(), '"a2"'))


def add_mvd(server):
    """IDNA host, cp1251 page with no charset anywhere."""
    server.add("https://мвд.рф/news/rss", "<rss><item><link>https://мвд.рф/news/item/77/</link></item></rss>",
               content_type="application/rss+xml; charset=utf-8")
    html = article("Новые правила регистрации",
                   "Иностранные граждане обязаны встать на миграционный учёт в течение семи рабочих дней "
                   "после прибытия, сообщает министерство внутренних дел.")
    server.add("https://мвд.рф/news/item/77/", Response(html.encode("cp1251"), content_type="text/html"))


def rows(store, sql, params=()):
    with store.read() as con:
        return con.execute(sql, list(params)).fetchall()


def test_first_run_stores_articles_second_run_is_all_304(loopback, tmp_path, tmp_store):
    add_kg24(loopback)
    cfg = make_cfg(loopback, tmp_path, [{"id": "kg24_en", "adapter": "tiny",
                                         "feeds": ["https://24.kg/english/rss/"]}])
    r1 = crawl(cfg, tmp_store, run_id="run-1")
    st = r1.sources["kg24_en"]
    assert (st.status, st.items_found, st.items_new, st.errors) == ("ok", 2, 2, 0)
    assert st.requests == 4 and r1.requests == 4          # robots.txt + feed + 2 articles
    assert len(r1.changed_article_ids) == 2
    arts = rows(tmp_store, "SELECT canonical_url, title, version FROM articles ORDER BY 1")
    assert arts == [("https://24.kg/english/1_Patent/", "Patent price rises", 1),
                    ("https://24.kg/english/2_Biometrics/", "Biometrics", 1)]
    f = dict(rows(tmp_store, "SELECT url, etag FROM fetches"))
    assert f["https://24.kg/english/rss/"] == '"feed1"'
    assert f["https://24.kg/english/1_Patent/?utm_source=rss"] == '"a1"'   # fetch key: not canonical

    # Second run: a new adapter that does not skip known items, to prove the validators work.
    ADAPTERS["tiny_noskip"] = type("NoSkip", (FeedAdapter,), {})
    ADAPTERS["tiny_noskip"].collect = _collect_without_known
    cfg2 = make_cfg(loopback, tmp_path, [{"id": "kg24_en", "adapter": "tiny",
                                          "feeds": ["https://24.kg/english/rss/"]}])
    n_before = len(loopback.requests)
    r2 = crawl(cfg2, tmp_store, run_id="run-2")
    st2 = r2.sources["kg24_en"]
    assert st2.status == "ok" and st2.not_modified == 1 and st2.items_new == 0
    assert r2.changed_article_ids == [] and r2.not_modified == 1
    feed_req = [r for r in loopback.requests[n_before:] if r.path == "/english/rss/"][0]
    assert feed_req.headers["if-none-match"] == '"feed1"'
    assert feed_req.headers["if-modified-since"] == "Mon, 12 Jan 2026 08:00:00 GMT"

    # Third run: the feed changed (new ETag) but the articles did not: article 304s.
    cfg3 = make_cfg(loopback, tmp_path, [{"id": "kg24_en", "adapter": "tiny_noskip",
                                          "feeds": ["https://24.kg/english/rss/"]}])
    loopback.add("https://24.kg/english/rss/", conditional(
        b"<rss><item><link>https://24.kg/english/1_Patent/?utm_source=rss</link></item>"
        b"<item><link>https://24.kg/english/2_Biometrics/</link></item><!-- v2 --></rss>", '"feed2"'))
    r3 = crawl(cfg3, tmp_store, run_id="run-3")
    st3 = r3.sources["kg24_en"]
    assert st3.not_modified == 2 and st3.items_new == 0 and r3.changed_article_ids == []
    assert rows(tmp_store, "SELECT count(*) FROM article_versions") == [(2,)]
    health = rows(tmp_store, "SELECT last_items, silent_runs, consecutive_failures, last_error, "
                             "last_success_at IS NOT NULL FROM sources WHERE id = 'kg24_en'")
    assert health == [(2, 0, 0, None, True)]     # unchanged (304) item pages are items seen, not silence
    runs = rows(tmp_store, "SELECT run_id, status, requests, not_modified FROM source_runs ORDER BY 1")
    assert [r[:2] for r in runs] == [("run-1", "ok"), ("run-2", "ok"), ("run-3", "ok")]


async def _collect_without_known(self, ctx):
    page = await ctx.get(self.source["feeds"][0], kind="feed")
    if page.not_modified:
        return
    for link in LINK_RE.findall(page.text):
        art = await ctx.get(link)
        if art.not_modified:
            continue
        yield ArticleRecord(canonical_url=canonicalize(link), source_id=self.source["id"],
                            title=TITLE_RE.search(art.text).group(1), body=BODY_RE.search(art.text).group(1))


def test_failing_sources_do_not_stop_others_and_health_is_recorded(loopback, tmp_path, tmp_store):
    add_kg24(loopback)
    add_mvd(loopback)
    loopback.add("https://broken.example/robots.txt", Response(b"down", 503, content_type="text/plain"))
    loopback.add("https://broken.example/rss", "<rss/>")
    loopback.add("https://bug.example/feed", "<rss/>")
    loopback.add("https://drift.example/feed", "<rss><item><link>https://drift.example/a</link></item></rss>")
    loopback.add("https://drift.example/a", "<html><p>redesigned page</p></html>")
    loopback.add("https://quiet.example/feed", "<rss></rss>")
    loopback.add("http://publication.pravo.gov.ru/robots.txt", "User-agent: *\nDisallow: /File\n",
                 content_type="text/plain")
    loopback.add("http://publication.pravo.gov.ru/feed",
                 "<rss><item><link>http://publication.pravo.gov.ru/File/pdf?eo=1</link></item></rss>")
    cfg = make_cfg(loopback, tmp_path, [
        {"id": "kg24_en", "adapter": "tiny", "feeds": ["https://24.kg/english/rss/"]},
        {"id": "mvd", "adapter": "tiny", "feeds": ["https://мвд.рф/news/rss"]},
        {"id": "robots_down", "adapter": "tiny", "feeds": ["https://broken.example/rss"]},
        {"id": "buggy", "adapter": "boom", "feeds": ["https://bug.example/feed"]},
        {"id": "drifted", "adapter": "tiny", "feeds": ["https://drift.example/feed"]},
        {"id": "quiet", "adapter": "tiny", "feeds": ["https://quiet.example/feed"]},
        {"id": "pdf", "adapter": "tiny", "feeds": ["http://publication.pravo.gov.ru/feed"]},
        {"id": "off", "adapter": "tiny", "enabled": False, "feeds": ["https://off.example/feed"]},
        {"id": "missing_adapter", "adapter": "no_such_adapter", "feeds": ["https://24.kg/x"]},
    ])
    r = crawl(cfg, tmp_store, run_id="run-1", progress=True)
    status = {k: v.status for k, v in r.sources.items()}
    assert status == {"kg24_en": "ok", "mvd": "ok", "robots_down": "failed", "buggy": "failed",
                      "drifted": "failed", "quiet": "silent", "missing_adapter": "failed",
                      "pdf": "failed"}
    assert "disallowed by http://publication.pravo.gov.ru/robots.txt (Disallow: /File)" in r.sources["pdf"].error
    assert loopback.hits(path="/File/pdf?eo=1") == []
    assert rows(tmp_store, "SELECT status, attempts, error LIKE '%disallowed%' FROM fetches "
                           "WHERE url = 'http://publication.pravo.gov.ru/File/pdf?eo=1'") == [(None, 0, True)]
    assert "off" not in r.sources
    assert "robots.txt unavailable (HTTP 503" in r.sources["robots_down"].error
    assert r.sources["robots_down"].errors == 1
    assert "deferred" in r.sources["robots_down"].error
    assert r.sources["buggy"].error == "RuntimeError: adapter bug: list index out of range"
    assert "required field 'title' not found at https://drift.example/a" in r.sources["drifted"].error
    assert "KeyError" in r.sources["missing_adapter"].error
    assert loopback.hits(host="broken.example", path="/rss") == []

    # IDNA host + cp1251 without charset: stored once, punycode, decoded correctly
    mvd = rows(tmp_store, "SELECT canonical_url, title, body FROM articles WHERE source_id = 'mvd'")
    assert mvd[0][0] == "https://xn--b1aew.xn--p1ai/news/item/77/"
    assert mvd[0][1] == "Новые правила регистрации" and "миграционный учёт" in mvd[0][2]
    assert rows(tmp_store, "SELECT encoding, encoding_by FROM fetches WHERE url = "
                           "'https://xn--b1aew.xn--p1ai/news/item/77/'") == [("cp1251", "detection")]

    health = {r[0]: r[1:] for r in rows(tmp_store, "SELECT id, enabled, consecutive_failures, silent_runs, "
                                                   "last_error IS NOT NULL, last_items FROM sources")}
    assert health["kg24_en"] == (True, 0, 0, False, 2)
    assert health["robots_down"] == (True, 1, 0, True, 0)
    assert health["buggy"] == (True, 1, 0, True, 0)
    assert health["drifted"] == (True, 1, 1, True, 0)           # drift counts as silent too
    assert health["quiet"] == (True, 0, 1, True, 0)
    assert health["off"] == (False, 0, 0, False, None)

    # Rerunning the same run id (crash recovery) neither duplicates nor double counts.
    crawl(cfg, tmp_store, run_id="run-1")
    health2 = {r[0]: r[1:] for r in rows(tmp_store, "SELECT id, enabled, consecutive_failures, silent_runs, "
                                                    "last_error IS NOT NULL, last_items FROM sources")}
    # counters unchanged (last_items may differ: kg24's feed answers 304 this time)
    assert {k: v[:3] for k, v in health2.items()} == {k: v[:3] for k, v in health.items()}
    assert rows(tmp_store, "SELECT count(*) FROM source_runs") == [(8,)]
    assert rows(tmp_store, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(3, 3)]
    # A new run counts again.
    crawl(cfg, tmp_store, run_id="run-2")
    assert rows(tmp_store, "SELECT consecutive_failures, silent_runs FROM sources WHERE id = 'quiet'") == [(0, 2)]
    assert rows(tmp_store, "SELECT consecutive_failures FROM sources WHERE id = 'buggy'") == [(2,)]
    # kg24: the feed is 304 now, and mvd's feed is 200 but every item is known: not silent
    assert rows(tmp_store, "SELECT silent_runs FROM sources WHERE id IN ('kg24_en', 'mvd')") == [(0,), (0,)]
    assert rows(tmp_store, "SELECT status, items_found FROM source_runs WHERE run_id = 'run-2' "
                           "AND source_id = 'mvd'") == [("ok", 1)]


def test_warc_written_and_replay_reproduces_the_database(loopback, tmp_path, tmp_store):
    add_kg24(loopback)
    add_mvd(loopback)
    loopback.add("https://24.kg/english/2_Biometrics/", Response(b"", 503))   # fails even after retry
    srcs = [{"id": "kg24_en", "adapter": "tiny", "feeds": ["https://24.kg/english/rss/"]},
            {"id": "mvd", "adapter": "tiny", "feeds": ["https://мвд.рф/news/rss"]}]
    live = crawl(make_cfg(loopback, tmp_path, srcs), tmp_store, run_id="live-1")
    assert live.warc_file and live.warc_file.endswith("lawwatch-live-1.warc.gz")
    # article 2 failed after its retry and the adapter let FetchFailed through: partial
    assert live.sources["kg24_en"].status == "partial"
    assert "HTTP 503" in live.sources["kg24_en"].error
    n_live = len(loopback.requests)

    fresh = Store(tmp_path / "replayed.duckdb")
    replayed = crawl(make_cfg(loopback, tmp_path / "other", srcs), fresh, run_id="replay-1",
                     replay=live.warc_file)
    assert len(loopback.requests) == n_live                     # no network in replay
    assert replayed.warc_file is None and not (tmp_path / "other" / "warc").exists()
    assert sorted(replayed.changed_article_ids) == sorted(live.changed_article_ids)
    q = "SELECT * EXCLUDE (classified_hash) FROM articles ORDER BY id"
    assert rows(fresh, q) == rows(tmp_store, q) and len(rows(fresh, q)) == 2
    q = "SELECT * FROM article_versions ORDER BY article_id, version"
    assert rows(fresh, q) == rows(tmp_store, q)
    assert ({k: v.status for k, v in replayed.sources.items()}
            == {k: v.status for k, v in live.sources.items()})
    # replaying into the same DB again is idempotent
    crawl(make_cfg(loopback, tmp_path / "other", srcs), fresh, run_id="replay-2", replay=live.warc_file)
    assert rows(fresh, "SELECT count(*) FROM article_versions") == [(2,)]
