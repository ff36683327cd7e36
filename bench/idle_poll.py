"""Idle poll cost: the first crawl vs a poll cycle with nothing new, over loopback HTTP.

    python -m bench.idle_poll [--no-write]

A loopback server (tests/loopback.py, in its own process so its CPU is not counted) serves the
24.kg responses of the demo recording (data/demo/recording.warc.gz: robots.txt, both RSS feeds,
the article pages) with a strong ETag (sha1 of the body) and Last-Modified (the WARC date), and
answers 304 to a matching If-None-Match / If-Modified-Since, like a real server. The crawler
(`crawler.run.crawl`, sources kg24_ru + kg24_en from config/, `crawl.resolve` from
`server.resolve_map()`, per_host_delay_s = 0) crawls into a fresh store twice. Measured per
crawl: HTTP requests and response body bytes (server side), 304s, articles written, wall and
CPU seconds of the crawler process (user + system, DuckDB threads included).
"""
from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
SECTION = "## Idle poll"
RECORDING = ROOT / "data" / "demo" / "recording.warc.gz"
SOURCES = ("kg24_ru", "kg24_en")


def recorded_24kg(path: Path = RECORDING) -> list[tuple[str, bytes, str, str]]:
    """(url, body, content type, Last-Modified) of every 24.kg response in the recording."""
    from urllib.parse import urlsplit
    from warcio.archiveiterator import ArchiveIterator
    from crawler.warc import parse_warc_date

    out = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type != "response":
                continue
            url = rec.rec_headers.get_header("WARC-Target-URI")
            if urlsplit(url).hostname != "24.kg":
                continue
            ctype = rec.http_headers.get_header("Content-Type") or "text/html; charset=utf-8"
            when = parse_warc_date(rec.rec_headers.get_header("WARC-Date"))
            out.append((url, rec.content_stream().read(), ctype, format_datetime(when, usegmt=True)))
    return out


def _serve(conn) -> None:
    """Child process: a LoopbackServer with conditional routes; answers 'stats' / 'stop'."""
    sys.path.insert(0, str(ROOT))
    from tests.loopback import LoopbackServer, Response

    counters = {"requests": 0, "not_modified": 0, "bytes": 0}
    full: list[str] = []   # paths answered with a full 200 body

    def conditional(body: bytes, ctype: str, last_modified: str):
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'

        def route(req):
            counters["requests"] += 1
            inm, ims = req.headers.get("if-none-match"), req.headers.get("if-modified-since")
            if (inm is not None and inm == etag) or (inm is None and ims == last_modified):
                counters["not_modified"] += 1
                return Response(b"", 304, headers={"ETag": etag, "Last-Modified": last_modified})
            counters["bytes"] += len(body)
            full.append(req.path)
            return Response(body, headers={"ETag": etag, "Last-Modified": last_modified},
                            content_type=ctype)
        return route

    with LoopbackServer() as server:
        for url, body, ctype, lm in recorded_24kg():
            server.add(url, conditional(body, ctype, lm))
        conn.send({"resolve": server.resolve_map(), "routes": len(server.routes)})
        while True:
            cmd = conn.recv()
            if cmd == "stats":
                conn.send(dict(counters, unrouted=len(server.requests) - counters["requests"],
                               full=list(full)))
            elif cmd == "stop":
                conn.send("bye")
                return


def run() -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child,), daemon=True)
    proc.start()
    try:
        info = parent.recv()
        from crawler.config_schema import CRAWL
        from crawler.run import crawl
        import crawler.sources.kg24  # noqa: F401 - imported before timing
        from lawwatch.config import load_config
        from lawwatch.schema import validate
        from store import Store

        base = load_config(None)
        sources = [s for s in base.sources if s["id"] in SOURCES]
        res = {"routes": info["routes"], "crawls": []}
        with tempfile.TemporaryDirectory(prefix="bench-idle-") as td:
            crawl_cfg = validate(CRAWL, {**base.settings["crawl"], "resolve": info["resolve"],
                                         "per_host_delay_s": 0.0,
                                         "warc_dir": str(Path(td) / "warc")}, "bench", "crawl")
            cfg = SimpleNamespace(settings={**base.settings, "crawl": crawl_cfg}, sources=sources)
            store = Store(Path(td) / "idle.duckdb")
            for i, name in enumerate(("first crawl", "idle poll (nothing new)")):
                parent.send("stats")
                before = parent.recv()
                c0, w0 = time.process_time(), time.perf_counter()
                r = crawl(cfg, store, run_id=f"idle-{i}")
                cpu, wall = time.process_time() - c0, time.perf_counter() - w0
                parent.send("stats")
                after = parent.recv()
                warc_bytes = Path(r.warc_file).stat().st_size if r.warc_file else 0
                res["crawls"].append({
                    "name": name, "requests": after["requests"] - before["requests"],
                    "not_modified": after["not_modified"] - before["not_modified"],
                    "bytes": after["bytes"] - before["bytes"],
                    "unrouted": after["unrouted"] - before["unrouted"],
                    "full_200": after["full"][len(before["full"]):],
                    "crawler_requests": r.requests, "crawler_bytes": r.bytes,
                    "changed": len(r.changed_article_ids), "cpu_s": cpu, "wall_s": wall,
                    "warc_bytes": warc_bytes,
                    "statuses": {sid: s.status for sid, s in r.sources.items()}})
        parent.send("stop")
        parent.recv()
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.terminate()
    res["load"] = os.getloadavg()
    return res


def format_table(res: dict) -> str:
    out = ["| crawl | HTTP requests | 304s | body bytes | articles new/changed | CPU s | wall s | "
           "WARC bytes | source status |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for c in res["crawls"]:
        st = ", ".join(f"{k} {v}" for k, v in c["statuses"].items())
        out.append(f"| {c['name']} | {c['requests']} | {c['not_modified']} | {c['bytes']:,} | "
                   f"{c['changed']} | {c['cpu_s']:.2f} | {c['wall_s']:.2f} | {c['warc_bytes']:,} | {st} |")
    return "\n".join(out)


def section(res: dict) -> str:
    first, idle = res["crawls"]
    ratio = lambda a, b: f"{a / b:.0f}×" if b else "∞"  # noqa: E731
    return (f"{SECTION}\n\n"
            f"`python -m bench.idle_poll` — `crawler.run.crawl` of the two 24.kg sources against "
            f"a loopback server (tests/loopback.py, own process) serving the demo recording's "
            f"{res['routes']} 24.kg responses with ETag/Last-Modified and 304 on a match; fresh "
            f"store, then the same crawl again with nothing new. Body bytes = response bodies "
            f"sent by the server; CPU = user+system of the crawler process. Machine: "
            f"{os.cpu_count()} cores {platform.machine()}, Python {platform.python_version()}; "
            f"1-min load average {res['load'][0]:.1f} (shared).\n\n"
            f"{format_table(res)}\n\n"
            f"The idle poll sends {idle['requests']} requests ({ratio(first['requests'], idle['requests'])} "
            f"fewer), transfers {idle['bytes']:,} body bytes ({first['bytes']:,} on the first crawl) "
            f"and uses {idle['cpu_s']:.2f} CPU s ({first['cpu_s']:.2f} s first). Full (200) "
            f"answers in the idle poll: {', '.join(idle['full_200']) or 'none'} — robots.txt is "
            f"fetched without validators on every run; the feeds answer 304 and no article page "
            f"is requested.\n")


def write_section(text: str, path=None) -> None:
    from bench.results_md import RESULTS, write_section as _write
    _write(SECTION, text, path or RESULTS)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.idle_poll", description=__doc__.split("\n")[0])
    ap.add_argument("--no-write", action="store_true", help="do not write bench/results.md")
    a = ap.parse_args(argv)
    res = run()
    print(format_table(res))
    if not a.no_write:
        write_section(section(res))
        print(f"wrote {SECTION!r} to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
