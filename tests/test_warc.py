"""WARC archive of live fetches and replay without network."""
import asyncio
import datetime as dt
import gzip

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.base import FetchFailed
from crawler.canonical import normalize_url
from crawler.config_schema import CRAWL
from crawler.fetch import Fetcher, Validators
from crawler.warc import (SERVER_NOT_MODIFIED_PROFILE, ReplayTransport, WarcWriter,
                          write_recording)
from lawwatch.schema import validate
from tests.loopback import Response


def _crawl(server, tmp_path, **over):
    raw = {"resolve": server.resolve_map() if server else {}, "per_host_delay_s": 0,
           "backoff_base_s": 0.01, "backoff_cap_s": 0.05, "retries": 1, "timeout_s": 2.0,
           "warc_dir": str(tmp_path / "warc"), **over}
    return validate(CRAWL, raw, "test", "crawl")


def _records(path):
    with open(path, "rb") as fh:
        out = []
        for rec in ArchiveIterator(fh):
            out.append((rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"),
                        rec.http_headers.get_statuscode() if rec.http_headers and rec.rec_type != "request" else None,
                        rec.rec_headers, rec.http_headers, rec.raw_stream.read()))
        return out


def test_live_fetches_are_archived_with_request_response_and_revisit(loopback, tmp_path):
    body = gzip.compress("<p>Патент</p>".encode())

    def route(req):
        if req.headers.get("if-none-match") == '"e1"':
            return Response(b"", 304, headers={"ETag": '"e1"'})
        return Response(body, headers={"ETag": '"e1"', "Content-Encoding": "gzip"})
    loopback.add("https://24.kg/a/", route)
    crawl = _crawl(loopback, tmp_path)
    warc = WarcWriter(crawl["warc_dir"], "run1", user_agent=crawl["user_agent"])

    async def go():
        async with Fetcher(crawl, warc=warc) as f:
            p1, r1 = await f.get("https://24.kg/a/")
            p2, r2 = await f.get("https://24.kg/a/", validators=Validators('"e1"'))
            return p1, r1, p2, r2
    p1, r1, p2, r2 = asyncio.run(go())
    warc.close()
    assert p1.text == "<p>Патент</p>" and p2.not_modified
    assert warc.path == tmp_path / "warc" / "lawwatch-run1.warc.gz"
    assert r1.warc_file == str(warc.path) and r1.warc_offset > 0
    recs = _records(warc.path)
    types = [(t, u) for t, u, *_ in recs]
    assert types[0][0] == "warcinfo"
    # robots.txt (404) + the page, then the 304 as a revisit
    assert ("response", "https://24.kg/robots.txt") in types
    resp = [r for r in recs if r[0] == "response" and r[1] == "https://24.kg/a/"]
    assert len(resp) == 1
    _, _, status, wh, hh, payload = resp[0]
    assert status == "200" and payload == body                   # bytes as received
    assert hh.get_header("Content-Encoding") == "gzip"
    date = dt.datetime.fromisoformat(wh.get_header("WARC-Date").replace("Z", "+00:00"))
    assert date == p1.fetched_at                                  # microsecond WARC-Date
    req = [r for r in recs if r[0] == "request" and r[1] == "https://24.kg/a/"]
    assert len(req) == 2 and req[0][4].get_header("User-Agent").startswith("lawwatch/")
    assert req[0][3].get_header("WARC-Concurrent-To") == wh.get_header("WARC-Record-ID")
    assert req[1][4].get_header("If-None-Match") == '"e1"'
    rev = [r for r in recs if r[0] == "revisit"]
    assert len(rev) == 1 and rev[0][2] == "304"
    assert rev[0][3].get_header("WARC-Profile") == SERVER_NOT_MODIFIED_PROFILE

    # replay decodes the archived gzip body exactly as the live fetch did
    async def replay():
        async with Fetcher(_crawl(None, tmp_path), replay=warc.path) as f:
            return (await f.get("https://24.kg/a/"))[0]
    rp = asyncio.run(replay())
    assert rp.text == p1.text and rp.fetched_at == p1.fetched_at


def test_replay_serves_recording_without_network(loopback, tmp_path):
    loopback.add("https://24.kg/rss/?b=2&a=1", "<rss>feed</rss>", headers={"ETag": '"f"'})
    loopback.add("https://мвд.рф/news/", Response("<p>Новости министерства внутренних дел о мигрантах</p>".encode("cp1251"),
                                                   content_type="text/html"))
    loopback.add("https://24.kg/moved", Response(b"", 301, headers={"Location": "/rss/?b=2&a=1"}))
    crawl = _crawl(loopback, tmp_path)
    warc = WarcWriter(crawl["warc_dir"], "live", user_agent="x")

    async def live():
        async with Fetcher(crawl, warc=warc) as f:
            return [await f.get(u) for u in ("https://24.kg/rss/?b=2&a=1", "https://мвд.рф/news/",
                                             "https://24.kg/moved")]
    live_pages = asyncio.run(live())
    warc.close()
    n_live = len(loopback.requests)

    async def replay(src):
        async with Fetcher(_crawl(None, tmp_path), replay=src) as f:
            out = [await f.get(u) for u in ("https://24.kg/rss/?a=1&b=2",    # query order differs
                                            "https://мвд.рф/news/", "https://24.kg/moved")]
            with pytest.raises(FetchFailed, match="not in recording") as ei:
                await f.get("https://24.kg/never-fetched")
            assert ei.value.status is None
            # conditional replay: the recorded ETag answers 304, like the server would
            p304, _ = await f.get("https://24.kg/rss/?b=2&a=1", validators=Validators('"f"'))
            assert p304.not_modified
            return out
    for src in (warc.path, warc.path.parent):           # a file or a directory
        pages = asyncio.run(replay(src))
        for (lp, lr), (rp, rr) in zip(live_pages, pages):
            assert normalize_url(rp.url) == normalize_url(lp.url)
            assert (rp.status, rp.text, rp.content) == (lp.status, lp.text, lp.content)
            assert rp.fetched_at == lp.fetched_at                      # WARC-Date, not now
            assert rr.sha256 == lr.sha256 and rr.encoding == lr.encoding
            assert rr.warc_file and rr.warc_offset is not None              # provenance
    assert pages[1][0].encoding == "cp1251" and "Новости" in pages[1][0].text
    assert len(loopback.requests) == n_live                           # nothing went to the network


def test_write_recording_roundtrip(tmp_path):
    path = write_recording(tmp_path / "demo" / "demo.warc.gz", [
        ("https://24.kg/english/rss/", 200, {"Content-Type": "application/rss+xml; charset=utf-8"},
         "<rss><channel><title>24</title></channel></rss>", "2026-01-14T08:00:00Z"),
        ("https://мвд.рф/news/item/1/", 200, [("Content-Type", "text/html; charset=utf-8")],
         "<p>МВД</p>".encode(), dt.datetime(2026, 1, 14, 9, 30, tzinfo=dt.timezone.utc)),
        ("https://24.kg/gone", 404, {}, b"", None),
    ])
    t = ReplayTransport(path)
    assert len(t) == 3 and "https://xn--b1aew.xn--p1ai/news/item/1/" in t.urls()

    async def go():
        async with Fetcher(_crawl(None, tmp_path), replay=path) as f:
            p, _ = await f.get("https://24.kg/english/rss/")
            q, _ = await f.get("https://мвд.рф/news/item/1/")
            with pytest.raises(FetchFailed, match="HTTP 404"):
                await f.get("https://24.kg/gone")
            return p, q
    p, q = asyncio.run(go())
    assert p.text.startswith("<rss>") and p.fetched_at == dt.datetime(2026, 1, 14, 8, tzinfo=dt.timezone.utc)
    assert q.text == "<p>МВД</p>" and q.fetched_at.hour == 9
    with pytest.raises(ValueError, match=r"responses\[0\]"):
        write_recording(tmp_path / "bad.warc.gz", [("https://x/", 200)])


def test_replay_missing_recording_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ReplayTransport(tmp_path / "nope.warc.gz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no \\*.warc.gz"):
        ReplayTransport(tmp_path / "empty")


def test_last_recorded_response_wins(tmp_path):
    d = tmp_path / "rec"
    write_recording(d / "a.warc.gz", [("https://24.kg/x", 200, {}, "old", "2026-01-01T00:00:00Z")])
    write_recording(d / "b.warc.gz", [("https://24.kg/x", 200, {}, "new", "2026-01-02T00:00:00Z")])

    async def go():
        async with Fetcher(_crawl(None, tmp_path), replay=d) as f:
            return (await f.get("https://24.kg/x"))[0]
    assert asyncio.run(go()).text == "new"
