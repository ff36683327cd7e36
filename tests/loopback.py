"""A real HTTP server on 127.0.0.1 that serves recorded responses, virtual-hosted.

Routes are keyed by (host, path-with-query): the crawler keeps real URLs
(https://24.kg/english/rss/) and is pointed at this server with the `crawl.resolve` setting
(like curl --resolve), so the Host header says which site is asked for. A route is either a
`Response` or a callable `(request) -> Response` for dynamic behaviour (faults, 304s).
Every request is logged in `server.requests` for assertions.
"""
from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Union
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


Route = Union[Response, Callable[[Request], Response]]


class LoopbackServer:
    def __init__(self) -> None:
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
                req = Request(self.command, host, self.path, {k.lower(): v for k, v in self.headers.items()})
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
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

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
