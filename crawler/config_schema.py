"""Config schema for [crawl] in settings.toml and [[source]] entries in sources.toml."""
from lawwatch.schema import Field, ListOf, Table, duration, http_url, non_negative, positive

CRAWL = Table({
    "user_agent": Field(str, "lawwatch/0.1 (+https://github.com/lawwatch/lawwatch; "
                             "legal-change monitor for migrant guides; contact lawwatch@example.org)"),
    "timeout_s": Field(float, 20.0, check=positive, help="connect+read timeout per request"),
    "total_timeout_s": Field(float, 120.0, check=positive,
                             help="wall-clock cap on one attempt including the body download "
                                  "(a trickling server can keep each read under timeout_s)"),
    "per_host_delay_s": Field(float, 2.0, check=non_negative,
                              help="minimum gap between requests to one host; robots.txt "
                                   "Crawl-delay wins when larger"),
    "per_host_concurrency": Field(int, 1, check=positive),
    "max_concurrency": Field(int, 8, check=positive),
    "max_bytes": Field(int, 10_000_000, check=positive, help="response body cap (decoded)"),
    "max_redirects": Field(int, 5, check=non_negative),
    "retries": Field(int, 3, check=non_negative, help="extra tries on timeout/429/5xx"),
    "backoff_base_s": Field(float, 1.0, check=positive),
    "backoff_cap_s": Field(float, 60.0, check=positive),
    "max_retry_after_s": Field(float, 300.0, check=positive,
                               help="a longer Retry-After defers the URL to the next run"),
    "respect_robots": Field(bool, True),
    "warc_dir": Field(str, "data/warc"),
    "max_items_per_feed": Field(int, 100, check=positive),
    "silent_after_runs": Field(int, 3, check=positive,
                               help="consecutive empty runs before a 'source went silent' alert"),
    "failures_before_alert": Field(int, 3, check=positive),
})

SOURCE = Table({
    "id": Field(str),
    "name": Field(str),
    "adapter": Field(str, help="module under crawler/sources/"),
    "kind": Field(str, "news", choices=("news", "official", "court", "bills", "drafts")),
    "lang": Field(str, "ru"),
    "enabled": Field(bool, True),
    "feeds": ListOf(Field(str, check=http_url), default=list),
    "pages": ListOf(Field(str, check=http_url), default=list,
                    help="listing or seed pages the adapter reads for article links"),
    "fetch_articles": Field(bool, True, help="fetch each item's page (False: feed text only)"),
    "poll_every": Field(str, "30m", check=duration),
    "options": Table({}, open=True, default=dict, help="adapter-specific options"),
})

CRAWL.fields["resolve"] = Table(
    {}, open=True, default=dict, values=Field(str),
    help="host -> 'ip:port' overrides, like curl --resolve (the Host header and URLs stay "
         "the same); for staging mirrors and for the loopback test server")
