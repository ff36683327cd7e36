"""crawler.canonical: pure URL normalisation and article identity."""
import pytest

from crawler.canonical import canonicalize, host_key, normalize_url, punycode_host


@pytest.mark.parametrize("url,expected", [
    # scheme/host case, default port, fragment
    ("HTTPS://WWW.TheMoscowTimes.com:443/2025/01/14/x-a1#comments",
     "https://www.themoscowtimes.com/2025/01/14/x-a1"),
    ("http://24.kg:80/english/1/", "http://24.kg/english/1/"),
    ("https://24.kg:8443/english/1/", "https://24.kg:8443/english/1/"),
    # IDNA host: one stored spelling (punycode), from either form
    ("https://мвд.рф/news/item/123/", "https://xn--b1aew.xn--p1ai/news/item/123/"),
    ("https://xn--b1aew.xn--p1ai/news/item/123/", "https://xn--b1aew.xn--p1ai/news/item/123/"),
    ("https://51.МВД.РФ/news/rss", "https://51.xn--b1aew.xn--p1ai/news/rss"),
    # tracking parameters dropped, the rest sorted
    ("https://24.kg/rss/?utm_source=tg&utm_medium=social&b=2&a=1&fbclid=XYZ",
     "https://24.kg/rss/?a=1&b=2"),
    ("https://www.themoscowtimes.com/x-a1?from=main&ref=rss&gclid=1&yclid=2&_openstat=abc",
     "https://www.themoscowtimes.com/x-a1"),
    ("https://publication.pravo.gov.ru/api/Documents?PageSize=30&Block=president&Index=1",
     "https://publication.pravo.gov.ru/api/Documents?Block=president&Index=1&PageSize=30"),
    # AMP variants and the 24-kg.com mirror
    ("https://24-kg.com/amp/obschestvo/123_slug/", "https://24.kg/obschestvo/123_slug/"),
    ("https://24.kg/obschestvo/123_slug/amp", "https://24.kg/obschestvo/123_slug"),
    ("https://24.kg/obschestvo/123_slug/amp/", "https://24.kg/obschestvo/123_slug/"),
    ("https://www.themoscowtimes.com/2025/01/14/x-a1?amp", "https://www.themoscowtimes.com/2025/01/14/x-a1"),
    ("https://www.themoscowtimes.com/2025/01/14/x-a1?amp=1&utm_campaign=z",
     "https://www.themoscowtimes.com/2025/01/14/x-a1"),
    # path: empty -> "/", dot segments, escapes normalised, non-ASCII escaped
    ("https://24.kg", "https://24.kg/"),
    ("https://24.kg/a/./b/../c/", "https://24.kg/a/c/"),
    ("https://24.kg/%7euser/%d0%bf", "https://24.kg/~user/%D0%BF"),
    ("https://24.kg/п", "https://24.kg/%D0%BF"),
    # trailing slash kept as given (conservative), runs collapse
    ("https://24.kg/english/1", "https://24.kg/english/1"),
    ("https://24.kg/english/1//", "https://24.kg/english/1/"),
    # empty query dropped, blank values kept
    ("https://24.kg/x?", "https://24.kg/x"),
    ("https://24.kg/x?q=&a=1", "https://24.kg/x?a=1&q="),
])
def test_canonicalize(url, expected):
    assert canonicalize(url) == expected
    assert canonicalize(expected) == expected          # idempotent


def test_cyrillic_and_escaped_paths_agree():
    assert canonicalize("https://мвд.рф/новости") == canonicalize(
        "https://xn--b1aew.xn--p1ai/%d0%bd%d0%be%d0%b2%d0%be%d1%81%d1%82%d0%b8")


def test_normalize_url_is_syntactic_only():
    # tracking params, AMP and mirrors are different resources for the fetcher
    assert normalize_url("https://24-kg.com/amp/x/?utm_source=a&b=1") == \
        "https://24-kg.com/amp/x/?b=1&utm_source=a"
    assert normalize_url("HTTPS://мвд.рф:443/news?b=2&a=1#top") == \
        "https://xn--b1aew.xn--p1ai/news?a=1&b=2"


def test_query_values_with_reserved_characters_survive():
    u = canonicalize("https://publication.pravo.gov.ru/api/Documents?Name=%D0%BF%D0%B0%D1%82%D0%B5%D0%BD%D1%82&x=a%26b")
    assert "x=a%26b" in u and "Name=%D0%BF" in u
    assert canonicalize(u) == u


def test_host_helpers_and_errors():
    assert punycode_host("МВД.РФ.") == "xn--b1aew.xn--p1ai"
    assert host_key("https://24.kg:443/x") == "24.kg"
    assert host_key("http://127.0.0.1:8080/x") == "127.0.0.1:8080"
    with pytest.raises(ValueError, match="not an http"):
        canonicalize("ftp://24.kg/x")
    with pytest.raises(ValueError, match="no host"):
        canonicalize("https:///x")
