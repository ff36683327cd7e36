"""The crawl orchestrator: every enabled source, concurrently, each written in one transaction.

`crawl(cfg, store, run_id=..., replay=None, progress=False) -> CrawlResult` (docs/contracts.md):

- upserts the `sources` rows from config (name, adapter, kind, lang, enabled);
- one shared `Fetcher` for the run (hosts shared by several sources are paced together),
  live responses archived to `<warc_dir>/lawwatch-<run_id>.warc.gz`, or everything served
  from a recording when `replay` is given;
- per source: one short read (stored validators and known article URLs), the adapter runs
  against a `SourceContext` with records collected in memory, then ONE short write
  transaction: articles (`store.articles.upsert_article`), `fetches` rows, the `source_runs`
  row and the `sources` health columns. No DuckDB connection is open during network I/O.
- a source that fails (any exception) is recorded and never stops the others.

Source health, per run:
- `ok`: the adapter finished and every fetch succeeded (304s included);
- `partial`: items were collected but some fetch or item failed;
- `failed`: the adapter raised (FetchFailed, SelectorDrift, a bug), or nothing was
  collected and some fetch failed: `consecutive_failures += 1`, `last_error` set;
- `silent`: the adapter finished, at least one 2xx response came back and no item was seen:
  `silent_runs += 1`. A SelectorDrift also counts as a silent run. A run of only 304s is
  not silence (nothing changed) and leaves `silent_runs` as it was.
"Items seen" = records yielded plus known items the adapter skipped (it asked
`ctx.known(url)` and got True) plus item pages that answered 304 (`ctx.get(url, kind="page")`),
so a feed of already-stored or unchanged articles is not silence.
Writing the same run id twice (a rerun after a crash) overwrites its `source_runs` row and
does not count failures or silent runs twice.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from crawler.base import FetchFailed, Page, SelectorDrift
from crawler.canonical import canonicalize, normalize_url
from crawler.fetch import Counters, Fetcher, FetchRecord, Validators
from crawler.warc import WarcWriter
from store.articles import register_table, upsert_articles
from store.records import ArticleRecord

log = logging.getLogger(__name__)

__all__ = ["crawl", "crawl_async", "CrawlResult", "SourceStats", "SourceContext",
           "sync_sources"]

# How many characters of an error message go into sources.last_error / source_runs.error.
_ERROR_CHARS = 2000


@dataclass
class SourceStats:
    requests: int = 0
    not_modified: int = 0
    bytes: int = 0
    items_found: int = 0
    items_new: int = 0
    items_changed: int = 0
    errors: int = 0
    status: str = "ok"               # ok | partial | failed | silent
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    duration_s: float = 0.0


@dataclass
class CrawlResult:
    run_id: str
    changed_article_ids: list[str] = field(default_factory=list)   # new and changed, in order
    new_article_ids: list[str] = field(default_factory=list)
    sources: dict[str, SourceStats] = field(default_factory=dict)
    requests: int = 0
    not_modified: int = 0
    bytes: int = 0
    warc_file: str | None = None
    mode: str = "live"               # live | replay

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (for runs.stats)."""
        from dataclasses import asdict
        return asdict(self)

    @property
    def failed_sources(self) -> list[str]:
        return [s for s, st in self.sources.items() if st.status == "failed"]


class SourceContext:
    """What an adapter sees (crawler.base.CrawlContext), plus bookkeeping for the write."""

    def __init__(self, source: dict[str, Any], fetcher: Fetcher, settings: dict[str, Any],
                 validators: dict[str, Validators], known_urls: set[str], run_id: str):
        self.source = source
        self.settings = settings
        self.run_id = run_id
        self._fetcher = fetcher
        self._validators = validators
        self._known = known_urls
        self.counters = Counters()
        self.fetch_rows: dict[str, FetchRecord] = {}
        self.kinds: dict[str, str] = {}          # fetch key -> kind ("feed", "page", ...)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.known_hits: set[str] = set()
        self._page_times: dict[str, dt.datetime] = {}
        self.latest_fetch: dt.datetime | None = None

    async def get(self, url: str, *, conditional: bool = True, kind: str = "page",
                  params: dict[str, Any] | None = None) -> Page:
        full = url
        try:
            if params:
                full = str(httpx.URL(url).copy_merge_params(params))
            key = normalize_url(full)
        except (httpx.InvalidURL, ValueError) as exc:
            self.errors.append(f"{full}: {exc}")
            raise FetchFailed(full, f"bad URL: {exc}") from None
        validators = self._validators.get(key) if conditional else None
        self.kinds[key] = kind
        try:
            page, rec = await self._fetcher.get(full, validators=validators,
                                                counters=self.counters)
        except FetchFailed as exc:
            self.errors.append(str(exc))
            rec = getattr(exc, "record", None)
            if rec is not None:      # also robots-refused URLs: the row says why (attempts 0)
                old = self._validators.get(key)
                rec.etag = old.etag if old else None
                rec.last_modified = old.last_modified if old else None
                self.fetch_rows[key] = rec
            raise
        self.fetch_rows[key] = rec
        if page.not_modified and kind == "page":
            # An item page that did not change is an item seen (not silence).
            try:
                self.known_hits.add(canonicalize(full))
            except ValueError:
                pass
        for u in (full, page.url):
            try:
                self._page_times[canonicalize(u)] = page.fetched_at
            except ValueError:
                pass
        if self.latest_fetch is None or page.fetched_at > self.latest_fetch:
            self.latest_fetch = page.fetched_at
        return page

    def known(self, canonical_url: str) -> bool:
        try:
            c = canonicalize(canonical_url)
        except ValueError:
            return False
        if c in self._known:
            self.known_hits.add(c)
            return True
        return False

    def warn(self, message: str) -> None:
        log.warning("source_warning source=%s message=%r", self.source["id"], message)
        self.warnings.append(str(message))

    def fetched_at_for(self, rec: ArticleRecord) -> dt.datetime:
        """When the record's content was fetched: its own page, else the latest fetch so far."""
        t = self._page_times.get(rec.canonical_url)
        if t is None:
            t = self.latest_fetch or dt.datetime.now(dt.timezone.utc)
        return t


def sync_sources(store, sources: list[dict[str, Any]]) -> None:
    """Upsert the `sources` rows from config (health columns untouched)."""
    with store.write() as con:
        for s in sources:
            con.execute(
                "INSERT INTO sources (id, name, adapter, kind, lang, enabled) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, adapter = excluded.adapter, "
                "kind = excluded.kind, lang = excluded.lang, enabled = excluded.enabled",
                [s["id"], s.get("name") or s["id"], s["adapter"], s.get("kind", "news"),
                 s.get("lang"), bool(s.get("enabled", True))])


def _read_state(store, source_id: str) -> tuple[dict[str, Validators], set[str]]:
    with store.read() as con:
        rows = con.execute("SELECT url, etag, last_modified FROM fetches WHERE source_id = ? "
                           "AND (etag IS NOT NULL OR last_modified IS NOT NULL)",
                           [source_id]).fetchall()
        known = con.execute("SELECT canonical_url FROM articles WHERE source_id = ?",
                            [source_id]).fetchall()
    return ({u: Validators(e, lm) for u, e, lm in rows}, {r[0] for r in known})


def _clip(s: str | None) -> str | None:
    return None if s is None else (s if len(s) <= _ERROR_CHARS else s[:_ERROR_CHARS - 1] + "…")


_FETCH_SQL = """
INSERT INTO fetches (url, source_id, status, etag, last_modified, content_type, encoding,
                     encoding_by, bytes, sha256, fetched_at, error, attempts, warc_file, warc_offset)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (url) DO UPDATE SET
    source_id = excluded.source_id, status = excluded.status,
    etag = excluded.etag, last_modified = excluded.last_modified,
    content_type = COALESCE(excluded.content_type, fetches.content_type),
    encoding = COALESCE(excluded.encoding, fetches.encoding),
    encoding_by = COALESCE(excluded.encoding_by, fetches.encoding_by),
    bytes = COALESCE(excluded.bytes, fetches.bytes),
    sha256 = COALESCE(excluded.sha256, fetches.sha256),
    fetched_at = excluded.fetched_at, error = excluded.error, attempts = excluded.attempts,
    warc_file = COALESCE(excluded.warc_file, fetches.warc_file),
    warc_offset = COALESCE(excluded.warc_offset, fetches.warc_offset)
"""


_FETCH_COLS = ("url", "source_id", "status", "etag", "last_modified", "content_type", "encoding",
               "encoding_by", "bytes", "sha256", "fetched_at", "error", "attempts", "warc_file",
               "warc_offset")


def _write_fetches(con, rows: list[list[Any]]) -> None:
    """_FETCH_SQL for every row (unique urls): one INSERT ... SELECT from an Arrow table when
    the rows allow it (a statement per row cost ~1-3 ms), else row by row."""
    if not rows:
        return
    stamps = [r[10] for r in rows if r[10] is not None]
    if len(rows) < 8 or any(t.tzinfo is None or t.utcoffset() is None for t in stamps):
        con.executemany(_FETCH_SQL, rows)
        return
    import pyarrow as pa
    s = pa.string()
    types = dict.fromkeys(_FETCH_COLS, s)
    types.update(status=pa.int32(), bytes=pa.int64(), attempts=pa.int32(),
                 warc_offset=pa.int64(), fetched_at=pa.timestamp("us", tz="UTC"))
    cols = {}
    for j, c in enumerate(_FETCH_COLS):
        vals = [r[j] for r in rows]
        if c == "fetched_at":
            vals = [None if v is None else v.astimezone(dt.timezone.utc) for v in vals]
        cols[c] = pa.array(vals, types[c])
    register_table(con, "_lw_fetches", pa.table(cols))
    try:
        con.execute(_FETCH_SQL.replace(
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            f"SELECT {', '.join(_FETCH_COLS)} FROM _lw_fetches"))
    finally:
        con.unregister("_lw_fetches")


def _write_source(store, src: dict[str, Any], ctx: SourceContext, records: list[ArticleRecord],
                  stats: SourceStats, *, run_id: str, started: dt.datetime,
                  fatal: BaseException | None, result: CrawlResult) -> None:
    """The one write transaction for a source's run."""
    sid = src["id"]
    finished = dt.datetime.now(dt.timezone.utc)
    # Last record per canonical URL wins (a feed listing an item twice is one item).
    unique: dict[str, ArticleRecord] = {}
    for rec in records:
        unique.pop(rec.canonical_url, None)
        unique[rec.canonical_url] = rec
    new_ids: list[str] = []
    changed_ids: list[str] = []
    item_errors: list[str] = []
    with store.write() as con:
        # one batch (store.articles.upsert_articles): a few set-based statements, not 3+ per item
        batch = [(rec, ctx.fetched_at_for(rec)) for rec in unique.values()]
        for res in upsert_articles(con, batch):
            if isinstance(res, ValueError):  # e.g. empty body: refused, never stored silently
                item_errors.append(str(res))
                continue
            if res.status == "new":
                new_ids.append(res.article_id)
            elif res.status == "changed":
                changed_ids.append(res.article_id)
        # A run that lost items (an item page failed, was refused or did not parse, or the
        # adapter stopped half-way) must not store the validators of its index documents
        # (feeds, listings, API pages, sitemaps): the next run would get a 304 for the
        # unchanged feed and never ask for the lost items again, so a one-off 503 on an
        # article page would lose that article for good. Without validators the next run
        # re-reads the index and retries exactly the items not stored (tests/test_crawl_faults.py).
        lost_items = bool(fatal is not None or ctx.errors or item_errors or ctx.warnings)
        fetch_rows = []
        for key, fr in ctx.fetch_rows.items():
            if lost_items and ctx.kinds.get(key, "page") != "page":
                fr.etag = fr.last_modified = None
            fetch_rows.append([key, sid, fr.status, fr.etag, fr.last_modified,
                               fr.content_type, fr.encoding, fr.encoding_by, fr.bytes,
                               fr.sha256, fr.fetched_at, _clip(fr.error), fr.attempts,
                               fr.warc_file, fr.warc_offset])
        _write_fetches(con, fetch_rows)

        # -- stats and status
        stats.items_found = len(unique) + len(ctx.known_hits - set(unique))
        stats.items_new, stats.items_changed = len(new_ids), len(changed_ids)
        # A FetchFailed the adapter let through is already in ctx.errors: count it once.
        fatal_counted = fatal is not None and str(fatal) in ctx.errors
        stats.errors = (len(ctx.errors) + len(item_errors)
                        + (1 if fatal is not None and not fatal_counted else 0))
        drift = isinstance(fatal, SelectorDrift)
        if fatal is not None:
            stats.status = "partial" if unique else "failed"
            stats.error = _describe(fatal)
        elif stats.errors and not stats.items_found:
            stats.status = "failed"
            stats.error = (ctx.errors + item_errors)[0]
        elif stats.errors:
            stats.status = "partial"
            stats.error = (ctx.errors + item_errors)[0]
        elif stats.items_found == 0 and ctx.counters.ok_responses > 0:
            stats.status = "silent"
            stats.error = ("no items found although the source answered 200 "
                           f"({ctx.counters.ok_responses} response(s))")
        else:
            stats.status = "ok"
        if stats.error is None and ctx.warnings:
            stats.error = "warning: " + "; ".join(ctx.warnings)
        stats.warnings = list(ctx.warnings)
        failed = stats.status == "failed"
        silent = stats.status == "silent" or drift
        if stats.items_found > 0:
            silent_expr = "0"
        elif silent:
            silent_expr = "silent_runs + 1"
        else:
            silent_expr = "silent_runs"           # e.g. all 304: nothing new is not silence

        already = con.execute("SELECT 1 FROM source_runs WHERE run_id = ? AND source_id = ?",
                              [run_id, sid]).fetchone() is not None
        if already:                                # rerun of the same run: do not count twice
            silent_expr = "0" if stats.items_found > 0 else "silent_runs"
        con.execute(
            "INSERT INTO source_runs (run_id, source_id, started_at, finished_at, requests, "
            "not_modified, bytes, items_found, items_new, items_changed, errors, status, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, source_id) DO UPDATE SET "
            "started_at = excluded.started_at, finished_at = excluded.finished_at, "
            "requests = excluded.requests, not_modified = excluded.not_modified, "
            "bytes = excluded.bytes, items_found = excluded.items_found, "
            "items_new = excluded.items_new, items_changed = excluded.items_changed, "
            "errors = excluded.errors, status = excluded.status, error = excluded.error",
            [run_id, sid, started, finished, ctx.counters.requests, ctx.counters.not_modified,
             ctx.counters.bytes, stats.items_found, stats.items_new, stats.items_changed,
             stats.errors, stats.status, _clip(stats.error)])
        if failed:
            fail_expr = "consecutive_failures" if already else "consecutive_failures + 1"
            success_expr = "last_success_at"
        else:
            fail_expr, success_expr = "0", "?"
        params: list[Any] = [finished]
        if success_expr == "?":
            params.append(finished)
        params += [_clip(stats.error), stats.items_found, sid]
        con.execute(
            f"UPDATE sources SET last_run_at = ?, last_success_at = {success_expr}, "
            f"consecutive_failures = {fail_expr}, last_error = ?, last_items = ?, "
            f"silent_runs = {silent_expr} WHERE id = ?", params)
    if item_errors:
        for e in item_errors:
            log.warning("item_refused source=%s error=%r", sid, e)
    result.new_article_ids.extend(new_ids)
    result.changed_article_ids.extend(new_ids + changed_ids)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (FetchFailed, SelectorDrift)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


async def _crawl_source(src: dict[str, Any], cfg, store, fetcher: Fetcher, run_id: str,
                        result: CrawlResult) -> SourceStats:
    sid = src["id"]
    stats = SourceStats()
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    records: list[ArticleRecord] = []
    fatal: BaseException | None = None
    ctx: SourceContext | None = None
    try:
        validators, known = _read_state(store, sid)
        ctx = SourceContext(src, fetcher, cfg.settings["crawl"], validators, known, run_id)
        from crawler.sources import load_adapter
        adapter = load_adapter(src["adapter"])(src)
        async for rec in adapter.collect(ctx):
            if not isinstance(rec, ArticleRecord):
                raise TypeError(f"adapter {src['adapter']!r} yielded {type(rec).__name__}, "
                                f"expected store.records.ArticleRecord")
            records.append(rec)
    except Exception as exc:  # noqa: BLE001 - one source never stops the others
        fatal = exc
        if not isinstance(exc, (FetchFailed, SelectorDrift)):
            log.error("source_crashed source=%s error=%r\n%s", sid, _describe(exc),
                      "".join(traceback.format_exception(exc)))
    if ctx is None:   # could not even read state / build the context
        ctx = SourceContext(src, fetcher, cfg.settings["crawl"], {}, set(), run_id)
    try:
        _write_source(store, src, ctx, records, stats, run_id=run_id, started=started,
                      fatal=fatal, result=result)
    except Exception as exc:  # noqa: BLE001 - the write itself failed (locked DB, bad record)
        stats.status, stats.error = "failed", f"writing results failed: {_describe(exc)}"
        stats.errors += 1
        log.error("source_write_failed source=%s error=%r", sid, stats.error)
    stats.requests = ctx.counters.requests
    stats.not_modified = ctx.counters.not_modified
    stats.bytes = ctx.counters.bytes
    stats.duration_s = round(time.monotonic() - t0, 3)
    return stats


async def crawl_async(cfg, store, *, run_id: str, replay: str | Path | None = None,
                      progress: bool = False) -> CrawlResult:
    crawl_cfg = cfg.settings["crawl"]
    sources = list(cfg.sources)
    sync_sources(store, sources)
    enabled = [s for s in sources if s.get("enabled", True)]
    result = CrawlResult(run_id=run_id, mode="replay" if replay is not None else "live")
    warc = None
    if replay is None:
        warc = WarcWriter(crawl_cfg["warc_dir"], run_id, user_agent=crawl_cfg["user_agent"])
    show_bar = progress and sys.stderr.isatty()
    bar = None
    if show_bar:
        from tqdm import tqdm
        bar = tqdm(total=len(enabled), unit="source", desc="crawl", file=sys.stderr)
    try:
        async with Fetcher(crawl_cfg, warc=warc, replay=replay) as fetcher:
            async def one(src: dict[str, Any]) -> None:
                stats = await _crawl_source(src, cfg, store, fetcher, run_id, result)
                result.sources[src["id"]] = stats
                line = (f"source_done run={run_id} source={src['id']} status={stats.status} "
                        f"requests={stats.requests} not_modified={stats.not_modified} "
                        f"bytes={stats.bytes} items={stats.items_found} new={stats.items_new} "
                        f"changed={stats.items_changed} errors={stats.errors} "
                        f"duration_s={stats.duration_s}")
                if stats.error and stats.status != "ok":
                    line += f" error={stats.error!r}"
                if bar is not None:
                    bar.set_postfix_str(f"{src['id']}={stats.status}")
                    bar.update(1)
                    if stats.status in ("failed", "partial", "silent"):
                        log.warning(line)
                elif stats.status in ("failed", "partial", "silent"):
                    log.warning(line)
                else:
                    log.info(line)

            await asyncio.gather(*(one(s) for s in enabled))
    finally:
        if bar is not None:
            bar.close()
        if warc is not None:
            warc.close()
            if warc.path.exists():
                result.warc_file = str(warc.path)
    # Deterministic order for callers (sources finish in network order).
    result.sources = {s["id"]: result.sources[s["id"]] for s in enabled if s["id"] in result.sources}
    result.changed_article_ids = list(dict.fromkeys(result.changed_article_ids))
    result.new_article_ids = list(dict.fromkeys(result.new_article_ids))
    for st in result.sources.values():
        result.requests += st.requests
        result.not_modified += st.not_modified
        result.bytes += st.bytes
    log.info("crawl_done run=%s mode=%s sources=%d requests=%d not_modified=%d bytes=%d "
             "changed=%d failed=%d", run_id, result.mode, len(result.sources), result.requests,
             result.not_modified, result.bytes, len(result.changed_article_ids),
             len(result.failed_sources))
    return result


def crawl(cfg, store, *, run_id: str, replay: str | Path | None = None,
          progress: bool = False) -> CrawlResult:
    """Crawl every enabled source (sync wrapper; see module docstring)."""
    return asyncio.run(crawl_async(cfg, store, run_id=run_id, replay=replay, progress=progress))
