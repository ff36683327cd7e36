"""A real HTTP server on 127.0.0.1 that serves recorded responses, virtual-hosted.

Routes are keyed by (host, path-with-query): the crawler keeps real URLs
(https://24.kg/english/rss/) and is pointed at this server with the `crawl.resolve` setting
(like curl --resolve), so the Host header says which site is asked for. A route is either a
`Response` or a callable `(request) -> Response` for dynamic behaviour (faults, 304s).
Every request is logged in `server.requests` for assertions.

Faults below the HTTP layer (a connection reset, a body that trickles in, a body cut short)
need the socket: a route returns None after handling `request.handler` itself; the helpers
`reset_connection`, `trickle` and `truncated` at the end of this module do exactly that.
"""
from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union
from urllib.parse import urlsplit


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"


@dataclass
class Request:
    method: str
    host: str
    path: str
    headers: dict[str, str]
    # The BaseHTTPRequestHandler serving this request, for routes that take over the socket.
    handler: Any = field(default=None, repr=False, compare=False)


Route = Union[Response, Callable[[Request], Response]]


class LoopbackServer:
    def __init__(self, poll_interval: float = 0.5) -> None:
        """`poll_interval`: how often serve_forever looks for shutdown (what `__exit__` waits)."""
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def _serve(self, head_only: bool) -> None:
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                req = Request(self.command, host, self.path, {k.lower(): v for k, v in self.headers.items()},
                              handler=self)
                with server._lock:
                    server.requests.append(req)
                    route = server.routes.get((host, self.path)) or server.routes.get(("*", self.path))
                if route is None:
                    resp = Response(b"not found", 404, content_type="text/plain")
                else:
                    resp = route(req) if callable(route) else route
                    if resp is None:  # handler took over the socket (e.g. reset)
                        return
                self.send_response(resp.status)
                hdrs = {"Content-Type": resp.content_type, **resp.headers}
                if "Content-Length" not in hdrs and "Transfer-Encoding" not in hdrs:
                    hdrs["Content-Length"] = str(len(resp.body))
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.end_headers()
                if not head_only and resp.status not in (204, 304):
                    self.wfile.write(resp.body)

            def do_GET(self):
                self._serve(False)

            def do_HEAD(self):
                self._serve(True)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self._serve(False)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(poll_interval,),
                                        daemon=True)

    # -- setup -----------------------------------------------------------------------
    def add(self, url: str, route: Route | bytes | str, **kw) -> None:
        """Serve `url` (absolute, real host) with a Response, a handler, or a body."""
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host = (parts.hostname or "*").encode("idna").decode("ascii") if parts.hostname else "*"
        if isinstance(route, str):
            route = route.encode("utf-8")
        if isinstance(route, bytes):
            route = Response(route, **kw)
        self.routes[(host.lower(), path)] = route

    def add_file(self, url: str, path, content_type: str = "text/html; charset=utf-8", **kw) -> None:
        data = open(path, "rb").read()
        if str(path).endswith(".gz"):
            data = gzip.decompress(data)
        self.add(url, Response(data, content_type=content_type, **kw))

    def resolve_map(self) -> dict[str, str]:
        """The `crawl.resolve` setting that points every routed host at this server."""
        hosts = {h for h, _ in self.routes if h != "*"}
        return {h: f"127.0.0.1:{self.port}" for h in hosts}

    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hits(self, host: str | None = None, path: str | None = None) -> list[Request]:
        return [r for r in self.requests
                if (host is None or r.host == host) and (path is None or r.path == path)]

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- socket-level faults (routes that take over the connection and return None) -------------
def reset_connection(req: Request) -> None:
    """Abort the connection with a TCP RST before any response byte (SO_LINGER 0 + close)."""
    h = req.handler
    h.close_connection = True
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()


def _send_head(req: Request, content_type: str, length: int,
               headers: dict[str, str] | None = None):
    """Send a 200 head announcing `length` body bytes on a connection that closes after the
    response; return the handler for the route to write (part of) the body."""
    h = req.handler
    h.close_connection = True
    h.send_response(200)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(length))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    return h


def trickle(body: bytes, *, chunk: int = 1, delay_s: float = 0.1, max_s: float = 10.0,
            content_type: str = "text/html; charset=utf-8") -> Callable[[Request], None]:
    """A route that sends a correct 200 head (with Content-Length) and then the body `chunk`
    bytes every `delay_s`: each read is quick, the whole body takes forever. Gives up when the
    client goes away or after `max_s`."""
    def route(req: Request) -> None:
        h = _send_head(req, content_type, len(body))
        end = time.monotonic() + max_s
        try:
            h.wfile.flush()
            for i in range(0, len(body), chunk):
                if time.monotonic() > end:
                    break
                h.wfile.write(body[i:i + chunk])
                h.wfile.flush()
                time.sleep(delay_s)
        except OSError:          # the client gave up (timeout): that is the point
            pass
    return route


def truncated(body: bytes, send: int, *, content_type: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> Callable[[Request], None]:
    """A route that announces the whole body (Content-Length) but sends only `send` bytes of
    it and closes the connection: a response cut short on the wire."""
    def route(req: Request) -> None:
        h = _send_head(req, content_type, len(body), headers)
        try:
            h.wfile.write(body[:send])
            h.wfile.flush()
        except OSError:
            pass
    return route
