"""The source-adapter contract.

An adapter reads one kind of source. It never talks to the network itself: `collect()` asks
the crawl context for URLs (`await ctx.get(url)`), which applies robots.txt, per-host delay,
conditional GET, retries, size caps and WARC archiving, and yields `ArticleRecord`s.
Parsing is done by dated parser versions (fundus style): selectors as class constants, one
method per field, `valid_until` the day before a layout change; the version valid at the
page's crawl date is used. A missing required field raises `SelectorDrift` (never an empty
article); the crawl records it against the source, which feeds source health.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, AsyncIterator, ClassVar, Protocol

from store.records import ArticleRecord


class SelectorDrift(Exception):
    """A required field was not found: the outlet's markup probably changed."""

    def __init__(self, source: str, version: str, field_name: str, url: str):
        self.source, self.version, self.field, self.url = source, version, field_name, url
        super().__init__(f"{source} parser {version}: required field {field_name!r} "
                         f"not found at {url} (selectors may be out of date)")


class FetchFailed(Exception):
    """A URL could not be fetched after retries (or robots.txt forbids it)."""

    def __init__(self, url: str, reason: str, status: int | None = None):
        self.url, self.reason, self.status = url, reason, status
        super().__init__(f"{url}: {reason}")


@dataclass
class Page:
    """A fetched response as adapters see it."""
    url: str                      # final URL after redirects
    status: int                   # 200, or 304 when not_modified
    text: str                     # decoded body ('' when not_modified)
    content: bytes
    headers: dict[str, str]
    fetched_at: dt.datetime
    not_modified: bool = False
    encoding: str | None = None


class CrawlContext(Protocol):
    source: dict[str, Any]        # the validated [[source]] entry

    async def get(self, url: str, *, conditional: bool = True, kind: str = "page",
                  params: dict[str, Any] | None = None) -> Page:
        """Fetch politely. Raises FetchFailed. With conditional=True a 304 returns
        Page(not_modified=True): nothing changed since the last fetch."""

    def known(self, canonical_url: str) -> bool:
        """True when this article is already stored (adapters may skip refetching it)."""

    def warn(self, message: str) -> None:
        """Record a non-fatal problem against the source (shown on the Sources page)."""


class ParserVersion:
    """Base for dated parser versions. Subclass per layout: V1, V1_1(V1), V2..."""
    valid_until: ClassVar[dt.date] = dt.date.max
    name: ClassVar[str] = "V1"


def pick_version(versions: list[type[ParserVersion]], crawl_date: dt.date) -> type[ParserVersion]:
    """The version valid at `crawl_date`: the first whose valid_until is on or after it."""
    dates = [v.valid_until for v in versions]
    if len(set(dates)) != len(dates):
        raise ValueError(f"parser versions share a valid_until date: {dates}")
    for v in sorted(versions, key=lambda v: v.valid_until):
        if crawl_date <= v.valid_until:
            return v
    raise ValueError(f"no parser version valid at {crawl_date}")


class BaseAdapter:
    """Subclass as `Adapter` in crawler/sources/<name>.py."""
    name: ClassVar[str] = ""
    required_options: ClassVar[tuple[str, ...]] = ()
    optional_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, source: dict[str, Any]):
        self.source = source
        opts = source.get("options", {})
        missing = [k for k in self.required_options if k not in opts]
        unknown = [k for k in opts if k not in self.required_options + self.optional_options]
        from lawwatch.schema import ConfigError
        if missing:
            raise ConfigError("sources.toml", f"source[{source['id']}].options.{missing[0]}",
                              f"required by adapter {self.name!r}")
        if unknown:
            supported = ", ".join(self.required_options + self.optional_options) or "(none)"
            raise ConfigError("sources.toml", f"source[{source['id']}].options.{unknown[0]}",
                              f"unknown option for adapter {self.name!r}; supported: {supported}")

    async def collect(self, ctx: CrawlContext) -> AsyncIterator[ArticleRecord]:
        raise NotImplementedError
        yield  # pragma: no cover

    def parse_page(self, html: str, url: str, crawl_date: dt.date | None = None) -> ArticleRecord:
        """Parse one stored page (used by `lawwatch extract` for known hosts)."""
        raise NotImplementedError
