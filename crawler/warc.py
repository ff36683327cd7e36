"""WARC archive of every live exchange, and replay of a recording without network.

Writing (`WarcWriter`): one gzip WARC/1.1 file per run, `<warc_dir>/lawwatch-<run_id>.warc.gz`,
created on the first record (a run without live fetches leaves no file) and opened in append
mode (a rerun with the same run id adds members; every record is its own gzip member, so the
file stays valid). Per exchange: a `request` record (the headers we sent) and a `response`
record (status line, headers as received minus Transfer-Encoding, and the body bytes as
received, still Content-Encoded), linked by WARC-Concurrent-To. WARC-Date is the fetch time
with microseconds, so a replay stamps articles with the same `fetched_at`.
A 304 is written as a `revisit` record (profile .../revisit/server-not-modified, headers
only): it proves we asked, and replay never serves it as a body. Responses aborted by the
size cap are not archived (their bodies were never complete).

Replay (`ReplayTransport`): an httpx transport over a WARC file or a directory of
`*.warc.gz`/`*.warc`. It indexes `response` records by `normalize_url(WARC-Target-URI)`
(so an exact URL matches, and so does one that differs only in query order, host case,
IDNA spelling or default port). Responses for a URL are served in recorded
order, one per request, the last one repeating (so a live 503-then-200 or a URL fetched twice
replays exactly); with a directory, the last file (in name order) holding the URL wins, so a
directory of runs replays the newest state. Conditional requests are
answered with a 304 when the recorded response carries the same ETag / Last-Modified, as
the live server would. A URL that is not in the recording raises `NotInRecording` (the
fetcher turns it into FetchFailed("not in recording")); nothing touches the network.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import httpx
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.canonical import normalize_url

__all__ = ["WarcWriter", "ReplayTransport", "NotInRecording", "write_recording",
           "warc_date", "parse_warc_date", "SERVER_NOT_MODIFIED_PROFILE"]

SERVER_NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
_HOP_BY_HOP = {"transfer-encoding", "connection", "keep-alive"}


def warc_date(t: dt.datetime) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_warc_date(s: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(s.strip().replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _header_list(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k), str(v)) for k, v in items if str(k).lower() not in _HOP_BY_HOP]


class WarcWriter:
    """Append-only WARC for one run. Not thread-safe; call from the event-loop thread."""

    def __init__(self, warc_dir: str | Path, run_id: str, *, software: str = "lawwatch",
                 user_agent: str = ""):
        self.path = Path(warc_dir) / f"lawwatch-{run_id}.warc.gz"
        self.run_id, self.software, self.user_agent = run_id, software, user_agent
        self._fh = None
        self._writer: WARCWriter | None = None

    def _open(self) -> WARCWriter:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "ab")
            self._writer = WARCWriter(self._fh, gzip=True, warc_version="WARC/1.1")
            info = self._writer.create_warcinfo_record(self.path.name, {
                "software": self.software, "format": "WARC File Format 1.1",
                "isPartOf": f"lawwatch run {self.run_id}", "http-header-user-agent": self.user_agent,
            })
            self._writer.write_record(info)
        return self._writer

    def write_exchange(self, *, url: str, method: str, request_headers: Iterable[tuple[str, str]],
                       status: int, reason: str, http_version: str,
                       response_headers: Iterable[tuple[str, str]], body: bytes,
                       fetched_at: dt.datetime) -> tuple[str, int]:
        """Write request + response (or revisit for 304). Returns (file, offset of response)."""
        w = self._open()
        date = warc_date(fetched_at)
        protocol = http_version if http_version.startswith("HTTP/") else "HTTP/1.1"
        resp_headers = StatusAndHeaders(f"{status} {reason or ''}".strip(),
                                        _header_list(response_headers), protocol=protocol)
        offset = self._fh.tell()
        if status == 304:
            rec = w.create_warc_record(url, "revisit", http_headers=resp_headers,
                                       warc_headers_dict={
                                           "WARC-Date": date,
                                           "WARC-Profile": SERVER_NOT_MODIFIED_PROFILE,
                                           "WARC-Refers-To-Target-URI": url,
                                       })
        else:
            rec = w.create_warc_record(url, "response", payload=io.BytesIO(body),
                                       length=len(body), http_headers=resp_headers,
                                       warc_headers_dict={"WARC-Date": date})
        w.write_record(rec)
        split = httpx.URL(url)
        target = split.raw_path.decode("ascii")
        req_headers = StatusAndHeaders(f"{method} {target} HTTP/1.1",
                                       _header_list(request_headers), protocol="",
                                       is_http_request=True)
        req = w.create_warc_record(url, "request", http_headers=req_headers,
                                   warc_headers_dict={
                                       "WARC-Date": date,
                                       "WARC-Concurrent-To": rec.rec_headers.get_header("WARC-Record-ID"),
                                   })
        w.write_record(req)
        self._fh.flush()
        return str(self.path), offset

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._writer = None


def write_recording(path: str | Path,
                    responses: Iterable[tuple[str, int, Mapping[str, str] | list, bytes | str,
                                              dt.datetime | str | None]]) -> Path:
    """Build a WARC from `(url, status, headers, body, date)` tuples (for demo/test recordings).

    `body` is the payload as a server would send it (encode it and set Content-Encoding
    yourself if you want compressed records); `date` is a datetime or ISO string (UTC when
    naive), or None for now. Overwrites `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=str(path).endswith(".gz"), warc_version="WARC/1.1")
        w.write_record(w.create_warcinfo_record(path.name, {"software": "lawwatch write_recording"}))
        for i, item in enumerate(responses):
            try:
                url, status, headers, body, date = item
            except (TypeError, ValueError):
                raise ValueError(f"{path}: responses[{i}] must be (url, status, headers, body, "
                                 f"date), got {item!r:.120}") from None
            if isinstance(body, str):
                body = body.encode("utf-8")
            if date is None:
                when = dt.datetime.now(dt.timezone.utc)
            elif isinstance(date, str):
                when = parse_warc_date(date)
            else:
                when = date
            url = str(httpx.URL(url))       # IDNA hosts as punycode, like live records
            hdrs = StatusAndHeaders(f"{int(status)} {_reason(int(status))}", _header_list(headers),
                                    protocol="HTTP/1.1")
            rec = w.create_warc_record(url, "response", payload=io.BytesIO(body),
                                       length=len(body), http_headers=hdrs,
                                       warc_headers_dict={"WARC-Date": warc_date(when)})
            w.write_record(rec)
    return path


def _reason(status: int) -> str:
    from http import HTTPStatus
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class NotInRecording(Exception):
    """Replay mode: the recording has no response for this URL."""

    def __init__(self, url: str, source: str):
        self.url, self.source = url, source
        super().__init__(f"{url}: not in recording {source} (replay mode: no network)")


@dataclass(frozen=True)
class _Entry:
    file: str
    offset: int
    date: str


class ReplayTransport(httpx.AsyncBaseTransport):
    """Serve requests from WARC response records (see module docstring)."""

    def __init__(self, source: str | Path):
        self.source = Path(source)
        if self.source.is_dir():
            files = sorted([*self.source.glob("*.warc.gz"), *self.source.glob("*.warc")])
            if not files:
                raise FileNotFoundError(f"{self.source}: no *.warc.gz or *.warc files to replay")
        elif self.source.is_file():
            files = [self.source]
        else:
            raise FileNotFoundError(f"{self.source}: replay recording does not exist")
        self.files = files
        # normalized URL -> its recorded responses, from the last file (in name order) having it.
        self._exact: dict[str, list[_Entry]] = {}
        self._normal: dict[str, list[_Entry]] = {}
        self._cursor: dict[int, int] = {}
        for f in files:
            self._index(f)
        self.served: list[str] = []

    def _index(self, f: Path) -> None:
        exact: dict[str, list[_Entry]] = {}
        normal: dict[str, list[_Entry]] = {}
        with open(f, "rb") as fh:
            it = ArchiveIterator(fh)
            for rec in it:
                if rec.rec_type != "response":
                    continue
                uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
                entry = _Entry(str(f), it.get_record_offset(),
                               rec.rec_headers.get_header("WARC-Date") or "")
                try:
                    normal.setdefault(normalize_url(uri), []).append(entry)
                except ValueError:
                    exact.setdefault(uri, []).append(entry)
        self._exact.update(exact)
        self._normal.update(normal)

    def __len__(self) -> int:
        return len(self._normal) + len(self._exact)

    def urls(self) -> list[str]:
        return sorted([*self._normal, *self._exact])

    def lookup(self, url: str) -> _Entry | None:
        """The next recorded response for `url`: in recorded order, the last one repeating."""
        try:
            entries = self._normal.get(normalize_url(url))
        except ValueError:
            entries = self._exact.get(url)
        if not entries:
            return None
        pos = self._cursor.get(id(entries), 0)
        self._cursor[id(entries)] = pos + 1
        return entries[min(pos, len(entries) - 1)]

    def _load(self, e: _Entry) -> tuple[int, str, list[tuple[str, str]], bytes]:
        with open(e.file, "rb") as fh:
            fh.seek(e.offset)
            rec = next(iter(ArchiveIterator(fh)))
            sh = rec.http_headers
            status = int(sh.get_statuscode())
            reason = sh.statusline.split(" ", 1)[1] if " " in sh.statusline else ""
            body = rec.raw_stream.read()
            return status, reason, list(sh.headers), body

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        e = self.lookup(url)
        if e is None:
            raise NotInRecording(url, str(self.source))
        status, reason, headers, body = self._load(e)
        self.served.append(url)
        lower = {k.lower(): v for k, v in headers}
        inm, ims = request.headers.get("if-none-match"), request.headers.get("if-modified-since")
        if 200 <= status < 300 and ((inm and lower.get("etag") == inm)
                                    or (ims and not inm and lower.get("last-modified") == ims)):
            keep = [(k, v) for k, v in headers
                    if k.lower() in ("etag", "last-modified", "date", "cache-control")]
            status, body, headers = 304, b"", keep
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        if body:
            headers.append(("Content-Length", str(len(body))))
        # A stream, not `content=`: the fetcher reads raw bytes as from a socket.
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body),
                              request=request,
                              extensions={"warc_date": e.date, "warc_file": e.file,
                                          "warc_offset": e.offset,
                                          "reason_phrase": reason.encode("latin-1", "replace")})
