"""The polite async fetcher: robots.txt, per-host pacing, conditional GET, retries, caps, WARC.

One `Fetcher` serves a whole run (all sources), so hosts shared by several sources (24.kg's
Russian and English feeds) are paced together. Every `get()`:

1. checks robots.txt for each hop (redirects are followed by hand: robots, pacing and loop
   detection apply to every hop; at most `max_redirects`);
2. waits its turn on the host: at most `per_host_concurrency` requests in flight, requests
   started at least max(`per_host_delay_s`, robots Crawl-delay) apart; and at most
   `max_concurrency` requests in flight overall;
3. sends If-None-Match / If-Modified-Since when the caller passes stored validators; a 304
   comes back as `Page(not_modified=True)`;
4. retries timeouts, connection errors, 429 and 5xx (not 501) up to `retries` times with
   exponential backoff and full jitter (sleep = U(0, min(cap, base * 2**attempt))), waiting
   at least Retry-After (seconds or HTTP date); a Retry-After longer than
   `max_retry_after_s` defers the URL to the next run (FetchFailed, no waiting);
5. streams the body and aborts past `max_bytes` counting both the bytes on the wire and the
   bytes after Content-Encoding decoding (decompression bombs: decoding is incremental with
   an output bound, so a bomb never expands in memory beyond the cap);
6. archives request and response in the run's WARC (crawler/warc.py), then decodes text with
   crawler/charset.py.

`crawl.resolve` (host -> "ip:port") is a transport that connects to the override address
while the URL and Host header stay those of the real site; resolved hosts are spoken to over
plain HTTP (https:// URLs included: the overrides serve staging mirrors and the loopback test
server, neither of which has the site's certificate).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import hashlib
import logging
import random
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx

from crawler.base import FetchFailed, Page
from crawler.canonical import host_key, normalize_url, punycode_host
from crawler.charset import decode_html
from crawler.robots import RobotsCache, RobotsDeferred, RobotsPolicy, policy_from_response
from crawler.warc import NotInRecording, ReplayTransport, WarcWriter, parse_warc_date

log = logging.getLogger(__name__)
# httpx logs every request at INFO in its own format; our key=value lines say the same. Quiet
# it unless the application configured the "httpx" logger itself.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

__all__ = ["Fetcher", "Validators", "Counters", "FetchRecord", "ResolvingTransport",
           "parse_retry_after", "backoff_delay"]

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# Content types we decode to text; anything else (PDF, images) is handed over as bytes only.
_TEXT_TYPES = ("text/", "xml", "json", "javascript", "rss", "atom")


@dataclass(frozen=True)
class Validators:
    """Conditional-GET state of one URL, from the `fetches` table."""
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        h = {}
        if self.etag:
            h["If-None-Match"] = self.etag
        if self.last_modified:
            h["If-Modified-Since"] = self.last_modified
        return h


@dataclass
class Counters:
    """Per-source tallies the orchestrator reports (every HTTP request sent counts)."""
    requests: int = 0
    not_modified: int = 0
    bytes: int = 0
    ok_responses: int = 0         # 2xx final responses (used for "went silent")


@dataclass
class FetchRecord:
    """One `fetches` row: the last outcome and validators of a URL (keyed by normalize_url)."""
    url: str
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    encoding: str | None = None
    encoding_by: str | None = None
    bytes: int | None = None
    sha256: str | None = None
    fetched_at: dt.datetime | None = None
    error: str | None = None
    attempts: int = 0
    warc_file: str | None = None
    warc_offset: int | None = None
    final_url: str | None = None


class _BodyTooLarge(Exception):
    pass


class _RetryableStatus(Exception):
    pass


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): U(0, min(cap, base*2^n))."""
    return (rng or random).uniform(0, min(cap, base * (2 ** attempt)))


class _Decoder:
    """Incremental Content-Encoding decoder with an output bound (decompression-bomb guard)."""

    def __init__(self, encoding: str | None, limit: int, url: str):
        enc = (encoding or "identity").strip().lower()
        if "," in enc:
            raise FetchFailed(url, f"unsupported stacked Content-Encoding {encoding!r}")
        if enc not in ("identity", "gzip", "x-gzip", "deflate", ""):
            raise FetchFailed(url, f"unsupported Content-Encoding {encoding!r} "
                                   f"(we only send Accept-Encoding: gzip, deflate)")
        self.enc, self.limit, self.url = enc, limit, url
        self.parts: list[bytes] = []
        self.size = 0
        self.fed = 0                 # encoded bytes received
        self._d = None
        if enc in ("gzip", "x-gzip"):
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._deflate_probe = enc == "deflate"

    def _emit(self, out: bytes) -> None:
        self.size += len(out)
        if self.size > self.limit:
            raise _BodyTooLarge(f"decoded body exceeds max_bytes={self.limit} "
                                f"(Content-Encoding {self.enc}; aborted while streaming)")
        self.parts.append(out)

    def feed(self, chunk: bytes) -> None:
        self.fed += len(chunk)
        if self.enc in ("identity", ""):
            self._emit(chunk)
            return
        if self._deflate_probe:
            # "deflate" is zlib-wrapped per RFC 9110, but some servers send raw deflate.
            self._d = zlib.decompressobj(zlib.MAX_WBITS if (len(chunk) >= 2 and (chunk[0] * 256 + chunk[1]) % 31 == 0
                                                          and chunk[0] & 0x0F == 8) else -zlib.MAX_WBITS)
            self._deflate_probe = False
        data = chunk
        try:
            while data:
                out = self._d.decompress(data, self.limit - self.size + 1)
                self._emit(out)
                data = self._d.unconsumed_tail
                if not data and self._d.eof and self._d.unused_data and self.enc != "deflate":
                    data = self._d.unused_data          # concatenated gzip members
                    self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        except zlib.error as exc:
            raise FetchFailed(self.url, f"corrupt {self.enc} body: {exc}") from None

    def finish(self) -> bytes:
        if self._d is not None:
            try:
                self._emit(self._d.flush())
            except zlib.error as exc:
                raise FetchFailed(self.url, f"corrupt {self.enc} body: {exc}") from None
            # zlib does not complain about a stream that simply stops: a gzip/deflate body cut
            # short (by the server, or with a Content-Length that matches the cut) decodes to
            # a prefix of the page, which would be stored as a truncated article. A complete
            # stream ends with its end-of-stream marker (and, for gzip, CRC and length). An
            # empty body (304, redirect) with a Content-Encoding header is no stream at all.
            if self.fed and not self._d.eof:
                raise FetchFailed(self.url, f"truncated {self.enc} body: the compressed stream "
                                            f"ends before its end marker ({self.size} bytes "
                                            f"decoded)")
        return b"".join(self.parts)


class ResolvingTransport(httpx.AsyncHTTPTransport):
    """`crawl.resolve`: connect resolved hosts to 'ip:port' over plain HTTP, keep URL and Host."""

    def __init__(self, resolve: dict[str, str] | None = None, **kw: Any):
        super().__init__(**kw)
        self.resolve: dict[str, tuple[str, int]] = {}
        for host, target in (resolve or {}).items():
            ip, sep, port = str(target).rpartition(":")
            if not sep or not port.isdigit() or not ip:
                raise ValueError(f"crawl.resolve.{host}: expected 'ip:port', got {target!r}")
            self.resolve[punycode_host(host)] = (ip.strip("[]"), int(port))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.raw_host.decode("ascii").lower()
        target = self.resolve.get(host)
        if target is not None:
            # The Host header was set from the original URL when the request was built.
            request.url = request.url.copy_with(scheme="http", host=target[0], port=target[1])
        return await super().handle_async_request(request)


@dataclass
class _HostState:
    sem: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _Raw:
    """One HTTP exchange, body read and decoded from Content-Encoding."""
    url: str
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    wire_bytes: int
    fetched_at: dt.datetime
    warc_file: str | None
    warc_offset: int | None


class Fetcher:
    """Polite HTTP for one run. Use as `async with Fetcher(settings["crawl"], ...) as f:`."""

    def __init__(self, crawl: dict[str, Any], *, warc: WarcWriter | None = None,
                 replay: str | Path | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None):
        self.cfg = crawl
        self.user_agent: str = crawl["user_agent"]
        self.max_bytes: int = int(crawl["max_bytes"])
        self.max_redirects: int = int(crawl["max_redirects"])
        self.retries: int = int(crawl["retries"])
        self.backoff_base: float = float(crawl["backoff_base_s"])
        self.backoff_cap: float = float(crawl["backoff_cap_s"])
        self.max_retry_after: float = float(crawl["max_retry_after_s"])
        self.respect_robots: bool = bool(crawl["respect_robots"])
        self.per_host_delay: float = float(crawl["per_host_delay_s"])
        self.per_host_concurrency: int = int(crawl["per_host_concurrency"])
        self.timeout_s: float = float(crawl["timeout_s"])
        # A trickling server can keep every read under timeout_s forever; this caps one attempt.
        self.total_timeout_s: float = float(crawl.get("total_timeout_s") or 120.0)
        self.replay: ReplayTransport | None = None
        if replay is not None:
            self.replay = ReplayTransport(replay)
            transport = self.replay
            # No network: pacing and backoff would only slow the replay down.
            self.per_host_delay = 0.0
            self.backoff_base = self.backoff_cap = 0.0
            warc = None
        elif transport is None:
            resolve = crawl.get("resolve")
            transport = ResolvingTransport(resolve if isinstance(resolve, dict) else {})
        self.warc = warc
        self._sleep = sleep or asyncio.sleep
        self._global = asyncio.Semaphore(int(crawl["max_concurrency"]))
        self._hosts: dict[str, _HostState] = {}
        self.robots = RobotsCache()
        self.client = httpx.AsyncClient(
            transport=transport, follow_redirects=False, trust_env=False,
            timeout=httpx.Timeout(self.timeout_s),
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate",
                     "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,"
                               "application/rss+xml,application/json;q=0.9,*/*;q=0.8"})

    async def __aenter__(self) -> "Fetcher":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- public --------------------------------------------------------------------------
    async def get(self, url: str, *, validators: Validators | None = None,
                  params: dict[str, Any] | None = None,
                  counters: Counters | None = None) -> tuple[Page, FetchRecord]:
        """Fetch `url` politely. Returns the page and its `fetches` row; raises FetchFailed
        (with `.record`, the row to store, when a request was attempted)."""
        counters = counters if counters is not None else Counters()
        try:
            u = httpx.URL(url)
            url = str(u.copy_merge_params(params) if params else u)
            key = normalize_url(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchFailed(url, f"bad URL: {exc}") from None
        record = FetchRecord(url=key)
        try:
            return await self._get(url, validators, counters, record)
        except FetchFailed as exc:
            record.error = exc.reason
            record.status = exc.status if exc.status is not None else record.status
            if record.fetched_at is None:
                record.fetched_at = dt.datetime.now(dt.timezone.utc)
            exc.record = record  # type: ignore[attr-defined]
            raise

    # -- internals -----------------------------------------------------------------------
    async def _get(self, url: str, validators: Validators | None, counters: Counters,
                   record: FetchRecord) -> tuple[Page, FetchRecord]:
        cond = validators.headers() if validators else {}
        chain = [url]
        seen = {normalize_url(url)}
        current = url
        for hop in range(self.max_redirects + 1):
            await self._check_robots(current, counters)
            raw = await self._request(current, cond, counters, record)
            if raw.status in REDIRECT_STATUSES and raw.headers.get("location"):
                try:
                    nxt = str(httpx.URL(current).join(raw.headers["location"]))
                except (httpx.InvalidURL, ValueError) as exc:
                    raise FetchFailed(url, f"bad redirect Location {raw.headers['location']!r} "
                                           f"at {current}: {exc}", raw.status) from None
                chain.append(nxt)
                if not nxt.startswith(("http://", "https://")):
                    raise FetchFailed(url, f"redirect to a non-http URL {nxt!r}", raw.status)
                nkey = normalize_url(nxt)
                if nkey in seen:
                    raise FetchFailed(url, "redirect loop: " + " -> ".join(chain), raw.status)
                seen.add(nkey)
                current = nxt
                continue
            break
        else:
            raise FetchFailed(url, f"too many redirects (max_redirects={self.max_redirects}): "
                                   + " -> ".join(chain), raw.status)
        return self._finish(url, raw, validators, counters, record)

    def _finish(self, url: str, raw: _Raw, validators: Validators | None, counters: Counters,
                record: FetchRecord) -> tuple[Page, FetchRecord]:
        headers = {k.lower(): v for k, v in raw.headers.items()}
        record.status = raw.status
        record.fetched_at = raw.fetched_at
        record.final_url = raw.url
        record.warc_file, record.warc_offset = raw.warc_file, raw.warc_offset
        if raw.status == 304:
            counters.not_modified += 1
            # Keep the stored validators unless the 304 carries fresh ones (RFC 9110 15.4.5).
            record.etag = headers.get("etag") or (validators.etag if validators else None)
            record.last_modified = (headers.get("last-modified")
                                    or (validators.last_modified if validators else None))
            return Page(url=raw.url, status=304, text="", content=b"", headers=headers,
                        fetched_at=raw.fetched_at, not_modified=True), record
        if not 200 <= raw.status < 300:
            reason = f"HTTP {raw.status} {raw.reason}".strip()
            if raw.url != url:
                reason += f" (at {raw.url})"
            raise FetchFailed(url, reason, raw.status)
        counters.ok_responses += 1
        ctype = headers.get("content-type")
        text, encoding, decided_by = "", None, None
        if ctype is None or any(t in ctype.lower() for t in _TEXT_TYPES):
            decoded = decode_html(raw.body, ctype)
            text, encoding, decided_by = decoded.text, decoded.encoding, decoded.decided_by
        record.etag = headers.get("etag")
        record.last_modified = headers.get("last-modified")
        record.content_type = ctype
        record.encoding, record.encoding_by = encoding, decided_by
        record.bytes = len(raw.body)
        record.sha256 = hashlib.sha256(raw.body).hexdigest()
        return Page(url=raw.url, status=raw.status, text=text, content=raw.body, headers=headers,
                    fetched_at=raw.fetched_at, encoding=encoding), record

    def _host(self, url: str) -> _HostState:
        key = host_key(url)
        st = self._hosts.get(key)
        if st is None:
            st = self._hosts[key] = _HostState(asyncio.Semaphore(self.per_host_concurrency),
                                               self.per_host_delay)
        return st

    @staticmethod
    def _origin(url: str) -> str:
        u = httpx.URL(url)
        port = f":{u.port}" if u.port else ""
        return f"{u.scheme}://{u.raw_host.decode('ascii').lower()}{port}"

    async def _check_robots(self, url: str, counters: Counters) -> None:
        if not self.respect_robots:
            return
        origin = self._origin(url)
        policy = await self.robots.get(origin, lambda: self._load_robots(origin, counters))
        if isinstance(policy, RobotsDeferred):
            raise FetchFailed(url, policy.reason, policy.status)
        if policy.crawl_delay is not None and self.replay is None:
            st = self._host(url)
            st.delay = max(self.per_host_delay, policy.crawl_delay)
        u = httpx.URL(url)
        rule = policy.blocking_rule(u.raw_path.decode("ascii"))
        if rule is not None:
            raise FetchFailed(url, f"disallowed by {origin}/robots.txt ({rule})")

    async def _load_robots(self, origin: str, counters: Counters) -> RobotsPolicy | RobotsDeferred:
        url = origin + "/robots.txt"
        rec = FetchRecord(url=url)
        current, seen = url, {url}
        try:
            for _ in range(5):          # RFC 9309 2.3.1.2: follow at least five redirect hops
                raw = await self._request(current, {}, counters, rec)
                loc = raw.headers.get("location")
                if raw.status in REDIRECT_STATUSES and loc:
                    current = str(httpx.URL(current).join(loc))
                    if current in seen or not current.startswith(("http://", "https://")):
                        break
                    seen.add(current)
                    continue
                break
        except FetchFailed as exc:
            if self.replay is not None and "not in recording" in exc.reason:
                # The recording was made under robots.txt; without one recorded, allow.
                return RobotsPolicy(note=f"{url}: not in recording; replay allows all")
            what = "unavailable" if exc.status is not None else "unreachable"
            return RobotsDeferred(f"{url} {what} ({exc.reason}); host deferred to the next run",
                                  exc.status)
        if raw.status in REDIRECT_STATUSES:
            return RobotsPolicy(note=f"{url}: redirect loop or too many redirects; allow all")
        policy = policy_from_response(raw.status, raw.body, self.user_agent, origin)
        if isinstance(policy, RobotsDeferred):
            log.warning("robots_deferred origin=%s reason=%r", origin, policy.reason)
        return policy

    async def _request(self, url: str, extra_headers: dict[str, str], counters: Counters,
                       record: FetchRecord) -> _Raw:
        """One URL, with retries. Returns the final non-retryable response."""
        host = self._host(url)
        last_err = ""
        for attempt in range(self.retries + 1):
            record.attempts += 1
            retry_after: float | None = None
            try:
                async with host.sem:
                    await self._wait_turn(host)
                    async with self._global:
                        counters.requests += 1
                        raw = await asyncio.wait_for(self._once(url, extra_headers, counters),
                                                     self.total_timeout_s)
            except NotInRecording as exc:
                raise FetchFailed(url, str(exc).split(": ", 1)[1]) from None
            except _BodyTooLarge as exc:
                raise FetchFailed(url, str(exc)) from None
            except (httpx.TimeoutException, asyncio.TimeoutError) as exc:
                kind = type(exc).__name__
                last_err = (f"timed out ({kind}, timeout_s={self.timeout_s}, "
                            f"total_timeout_s={self.total_timeout_s})")
            except httpx.TransportError as exc:
                last_err = f"connection error ({type(exc).__name__}: {exc or 'no detail'})"
            else:
                if raw.status == 429 or (raw.status >= 500 and raw.status != 501):
                    retry_after = parse_retry_after(raw.headers.get("retry-after"))
                    last_err = f"HTTP {raw.status} {raw.reason}".strip()
                    if retry_after is not None and retry_after > self.max_retry_after:
                        raise FetchFailed(url, f"{last_err} with Retry-After {retry_after:.0f}s "
                                               f"> max_retry_after_s={self.max_retry_after:.0f}; "
                                               f"deferred to the next run", raw.status)
                    if retry_after is not None:
                        # Everyone asking this host waits, not only this request.
                        host.next_start = max(host.next_start, time.monotonic() + retry_after)
                    if attempt == self.retries:
                        raise FetchFailed(url, f"{last_err} after {attempt + 1} attempts",
                                          raw.status)
                    record.status = raw.status
                else:
                    return raw
            if attempt == self.retries:
                raise FetchFailed(url, f"{last_err} after {attempt + 1} attempts")
            wait = backoff_delay(attempt, self.backoff_base, self.backoff_cap)
            if retry_after is not None:
                wait = max(wait, retry_after)
            log.info("retry url=%s attempt=%d wait_s=%.2f reason=%r", url, attempt + 1, wait, last_err)
            await self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _wait_turn(self, host: _HostState) -> None:
        async with host.lock:
            now = time.monotonic()
            start = max(now, host.next_start)
            host.next_start = start + host.delay
        if start > now:
            await self._sleep(start - now)

    async def _once(self, url: str, extra_headers: dict[str, str], counters: Counters) -> _Raw:
        request = self.client.build_request("GET", url, headers=extra_headers)
        fetched_at = dt.datetime.now(dt.timezone.utc)
        response = await self.client.send(request, stream=True)
        try:
            ext = response.extensions
            if "warc_date" in ext:                     # replay: the recorded fetch time
                fetched_at = parse_warc_date(ext["warc_date"])
            reason = response.reason_phrase
            clen = response.headers.get("content-length")
            if (clen and clen.isdigit() and int(clen) > self.max_bytes
                    and response.status_code not in (204, 304)):
                raise _BodyTooLarge(f"Content-Length {clen} exceeds max_bytes={self.max_bytes}")
            decoder = _Decoder(response.headers.get("content-encoding"), self.max_bytes, url)
            raw = bytearray()
            async for chunk in response.aiter_raw():
                raw += chunk
                counters.bytes += len(chunk)
                if len(raw) > self.max_bytes:
                    raise _BodyTooLarge(f"body exceeds max_bytes={self.max_bytes} "
                                        f"(aborted while streaming)")
                decoder.feed(chunk)
            body = decoder.finish()
        finally:
            await response.aclose()
        warc_file = warc_offset = None
        if self.replay is not None:
            warc_file, warc_offset = ext.get("warc_file"), ext.get("warc_offset")
        elif self.warc is not None:
            warc_file, warc_offset = self.warc.write_exchange(
                url=url, method="GET", request_headers=request.headers.items(),
                status=response.status_code, reason=reason, http_version=response.http_version,
                response_headers=response.headers.multi_items(), body=bytes(raw),
                fetched_at=fetched_at)
        return _Raw(url=url, status=response.status_code, reason=reason, headers=response.headers,
                    body=body, wire_bytes=len(raw), fetched_at=fetched_at,
                    warc_file=warc_file, warc_offset=warc_offset)
