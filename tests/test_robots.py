"""robots.txt: parsing (RFC 9309 matching) and the fetcher's availability rules, over loopback."""
import asyncio

import pytest

from crawler.base import FetchFailed
from crawler.config_schema import CRAWL
from crawler.fetch import Counters, Fetcher
from crawler.robots import parse_robots, policy_from_response, product_token, RobotsDeferred
from lawwatch.schema import validate
from tests.loopback import Response

UA = "lawwatch/0.1 (+https://github.com/lawwatch/lawwatch; contact lawwatch@example.org)"

PRAVO = """User-agent: *
Disallow: /Error
Disallow: /Rss
Disallow: /File
Disallow: /Search
"""


def test_disallow_file_blocks_pdf_with_query():
    p = parse_robots(PRAVO, UA)
    assert not p.allowed("/File/pdf?eoNumber=0001202401010001")
    assert not p.allowed("http://publication.pravo.gov.ru/File/pdf?x=1")
    assert not p.allowed("/File")
    assert not p.allowed("/Files")           # prefix match, as the RFC says
    assert p.allowed("/api/Documents?Block=president")
    assert p.allowed("/document/0001202401010001")
    assert p.allowed("/file/pdf")            # paths are case-sensitive (RFC 9309)
    assert str(p.blocking_rule("/File/pdf?x=1")) == "Disallow: /File"


def test_longest_match_wins_and_allow_wins_ties():
    p = parse_robots("User-agent: *\nDisallow: /news/\nAllow: /news/item/\n"
                     "Disallow: /news/item/private\nAllow: /x\nDisallow: /x\n", UA)
    assert not p.allowed("/news/page/2")
    assert p.allowed("/news/item/1/")
    assert not p.allowed("/news/item/private/3")
    assert p.allowed("/x")


def test_wildcards_and_end_anchor():
    p = parse_robots("User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?print=\n", UA)
    assert not p.allowed("/docs/a.pdf")
    assert p.allowed("/docs/a.pdf?download=0")
    assert not p.allowed("/news/1?print=1")
    assert p.allowed("/news/1")


def test_group_selection_and_crawl_delay():
    text = ("User-agent: Googlebot\nDisallow: /\n\n"
            "User-agent: *\nDisallow: /private\nCrawl-delay: 3\n\n"
            "User-agent: LawWatch\nUser-agent: other\nDisallow: /only-us\nCrawl-delay: 7.5\n"
            "Sitemap: https://x/sitemap.xml\n")
    p = parse_robots(text, UA)
    assert product_token(UA) == "lawwatch"
    assert not p.allowed("/only-us")
    assert p.allowed("/private")             # our own group replaces '*'
    assert p.crawl_delay == 7.5
    assert p.sitemaps == ["https://x/sitemap.xml"]
    other = parse_robots(text, "otherbot/1.0")         # 'other' is not 'otherbot': no substring match
    assert other.allowed("/only-us") and not other.allowed("/private") and other.crawl_delay == 3
    star = parse_robots(text, "somebot/1.0")
    assert not star.allowed("/private") and star.crawl_delay == 3


def test_empty_disallow_and_no_groups_allow_all():
    assert parse_robots("User-agent: *\nDisallow:\n", UA).allowed("/anything")
    assert parse_robots("", UA).allowed("/anything")
    assert parse_robots("Disallow: /\n", UA).allowed("/x")   # rule outside any group: ignored


def test_cyrillic_paths_match_escaped():
    p = parse_robots("User-agent: *\nDisallow: /поиск\n", UA)
    assert not p.allowed("/%D0%BF%D0%BE%D0%B8%D1%81%D0%BA?q=1")
    assert not p.allowed("/%d0%bf%d0%be%d0%b8%d1%81%d0%ba")


def test_availability_rules():
    assert policy_from_response(404, b"", UA, "https://a").allowed("/x")
    assert policy_from_response(410, b"", UA, "https://a").allowed("/x")
    for status in (500, 503, 429, 401, 403):
        d = policy_from_response(status, b"", UA, "https://a")
        assert isinstance(d, RobotsDeferred) and d.status == status
        assert "deferred" in d.reason


# -- through the fetcher, over loopback ------------------------------------------------
def _crawl(server, **over):
    raw = {"resolve": server.resolve_map(), "per_host_delay_s": 0, "backoff_base_s": 0.01,
           "backoff_cap_s": 0.05, "retries": 1, "timeout_s": 2.0, **over}
    return validate(CRAWL, raw, "test", "crawl")


def test_fetcher_refuses_disallowed_url_without_requesting_it(loopback):
    loopback.add("http://publication.pravo.gov.ru/robots.txt", PRAVO, content_type="text/plain")
    loopback.add("http://publication.pravo.gov.ru/File/pdf?eoNumber=1", b"%PDF", content_type="application/pdf")
    loopback.add("http://publication.pravo.gov.ru/api/Documents?Index=1", b'{"items": []}',
                 content_type="application/json")

    async def go():
        async with Fetcher(_crawl(loopback)) as f:
            with pytest.raises(FetchFailed, match=r"disallowed by .*robots.txt \(Disallow: /File\)"):
                await f.get("http://publication.pravo.gov.ru/File/pdf?eoNumber=1")
            page, _ = await f.get("http://publication.pravo.gov.ru/api/Documents?Index=1")
            assert page.status == 200
    asyncio.run(go())
    assert loopback.hits(path="/File/pdf?eoNumber=1") == []
    assert len(loopback.hits(path="/robots.txt")) == 1      # cached for the run


def test_robots_5xx_defers_the_host(loopback):
    loopback.add("https://24.kg/robots.txt", Response(b"oops", 503, content_type="text/plain"))
    loopback.add("https://24.kg/rss/", "<rss/>")

    async def go():
        async with Fetcher(_crawl(loopback)) as f:
            c = Counters()
            with pytest.raises(FetchFailed) as ei:
                await f.get("https://24.kg/rss/", counters=c)
            assert "robots.txt" in ei.value.reason and "deferred" in ei.value.reason
            assert ei.value.status == 503
            # second URL on the same host: fails fast, no new robots fetch
            with pytest.raises(FetchFailed, match="deferred"):
                await f.get("https://24.kg/other/")
            return c
    c = asyncio.run(go())
    assert loopback.hits(path="/rss/") == []
    assert len(loopback.hits(path="/robots.txt")) == 2      # 1 try + 1 retry, then cached
    assert c.requests == 2


def test_robots_unreachable_defers_the_host():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                                   # nothing listens there
    crawl = validate(CRAWL, {"resolve": {"dead.example": f"127.0.0.1:{port}"}, "retries": 0,
                             "per_host_delay_s": 0, "backoff_base_s": 0.01}, "t", "crawl")

    async def go():
        async with Fetcher(crawl) as f:
            with pytest.raises(FetchFailed, match=r"robots.txt unreachable .*connection error.*deferred"):
                await f.get("https://dead.example/page")
    asyncio.run(go())


def test_robots_404_allows_and_crawl_delay_paces(loopback):
    import time
    loopback.add("https://slow.example/robots.txt", "User-agent: *\nCrawl-delay: 0.3\n",
                 content_type="text/plain")
    loopback.add("https://slow.example/a", "a")
    loopback.add("https://slow.example/b", "b")
    loopback.add("https://open.example/a", "a")            # no robots.txt route: 404

    async def go():
        async with Fetcher(_crawl(loopback)) as f:
            page, _ = await f.get("https://open.example/a")
            assert page.text == "a"
            await f.get("https://slow.example/a")
            t = time.monotonic()
            await f.get("https://slow.example/b")
            return time.monotonic() - t
    gap = asyncio.run(go())
    assert gap >= 0.25


def test_respect_robots_false_skips_robots(loopback):
    loopback.add("https://24.kg/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    loopback.add("https://24.kg/x", "x")

    async def go():
        async with Fetcher(_crawl(loopback, respect_robots=False)) as f:
            return (await f.get("https://24.kg/x"))[0]
    assert asyncio.run(go()).text == "x"
    assert loopback.hits(path="/robots.txt") == []
