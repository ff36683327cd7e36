"""REST API latency on generated stores: p50/p95 per read endpoint, against the raw SQL.

    python -m bench.api_latency [--sizes 100000,1000000] [--repeat 30] [--store PATH]
                                [--no-write] [--fresh]

For each store (bench/genstore.py cached_store, shared with bench.dashboard_latency) this starts
the real API, `python -m lawwatch --db STORE api` (uvicorn, the app `lawwatch api` serves), on a
loopback port with a read token, and times every read endpoint with one keep-alive HTTP client,
requests one after another, after two warm-ups: rules, developments and alerts, listed (with
`since` cursors and filters) and fetched one by one, article versions, the Atom feed, health.

Peer column: the same SQL statements the endpoint runs, issued directly through duckdb over one
read-only connection held open for all runs (results fetched, no HTTP, no models). The
difference is the API's own cost: a fresh read connection per request (Store.read(): DuckDB
opens the file and its catalog), the app's in-process lock, FastAPI routing, pydantic
validation and JSON, HTTP on loopback. The API offers no text search (the dashboard's is in the
dashboard section). Results go to the `## API latency` section of bench/results.md, placed after
the dashboard section.
"""
from __future__ import annotations

import argparse
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

import duckdb
import httpx

from alerts.events import ALERT_COLS
from alerts.rules import _RULE_COLS, _VERSION_COLS
from bench.genstore import cached_store
from bench.results_md import generation_note, loads_line, publish

REPO = Path(__file__).resolve().parents[1]
HEADING = "## API latency"
AFTER = "## Dashboard query latency"
PAGE = 100                      # [api] page_size default: what a list returns without ?limit


@dataclass
class Case:
    name: str
    path: str
    params: dict
    sql: Callable[[duckdb.DuckDBPyConnection], object]     # the endpoint's statements


def _all(con, sql: str, params=()) -> list:
    return con.execute(sql, list(params)).fetchall()


def cases(con: duckdb.DuckDBPyConnection) -> list[Case]:
    """Endpoints with realistic arguments taken from the store; each with its SQL."""
    now = _all(con, "SELECT max(last_seen) FROM developments")[0][0]
    rule, topic = _all(con, """SELECT v.rule_id, r.topics[1] FROM rule_versions v
                               JOIN rules r ON r.id = v.rule_id
                               GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1""")[0]
    stage = _all(con, "SELECT stage FROM developments WHERE stage IS NOT NULL "
                      "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]
    dev = _all(con, "SELECT id FROM developments ORDER BY n_articles DESC, id LIMIT 1")[0][0]
    max_seq = _all(con, "SELECT max(seq) FROM alerts")[0][0]
    alert = _all(con, "SELECT id FROM alerts WHERE state <> 'open' ORDER BY seq DESC LIMIT 1")[0][0]
    article = _all(con, "SELECT article_id FROM article_versions GROUP BY 1 "
                        "ORDER BY max(version) DESC, 1 LIMIT 1")[0][0]
    week, quarter = now - timedelta(days=7), now - timedelta(days=90)

    rule_sql = f"SELECT {', '.join(_RULE_COLS)} FROM rules"
    dev_sql = ("SELECT id, title, first_seen, last_seen, topics, stage, effective_dates, "
               "n_articles FROM developments")
    alert_sql = f"SELECT {', '.join(ALERT_COLS)} FROM alerts"

    def dev_detail(c):
        _all(c, dev_sql + " WHERE id = ?", [dev])
        ids = [m[0] for m in _all(c, "SELECT a.id, a.canonical_url, a.title, a.source_id, "
                                     "a.published_at, m.similarity FROM development_members m "
                                     "JOIN articles a ON a.id = m.article_id WHERE "
                                     "m.development_id = ? ORDER BY a.published_at, a.id", [dev])]
        _all(c, "SELECT article_id, topic, evidence FROM tags WHERE "
                "list_contains(?::VARCHAR[], article_id) ORDER BY topic", [ids])
        _all(c, "SELECT article_id, is_change, stage, effective_dates FROM change_signals "
                "WHERE list_contains(?::VARCHAR[], article_id)", [ids])

    def alert_detail(c):
        _all(c, alert_sql + " WHERE id = ?", [alert])
        _all(c, "SELECT seq, from_state, to_state, actor, occurred_at, note, rule_version "
                "FROM alert_events WHERE alert_id = ? ORDER BY seq", [alert])
        _all(c, "SELECT d.id, d.event_id, o.event_type, d.channel, d.target, d.status, "
                "d.attempts, d.last_error, d.response_code, d.next_attempt_at, d.delivered_at "
                "FROM deliveries d JOIN outbox o ON o.event_id = d.event_id "
                "WHERE o.alert_id = ? ORDER BY d.created_at, d.id", [alert])

    def health(c):
        _all(c, "SELECT count(*) FROM alerts WHERE state IN ('open', 'acknowledged')")
        _all(c, "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'failed')")
        _all(c, "SELECT count(*) FROM deliveries WHERE status = 'dead'")
        _all(c, "SELECT max(version) FROM schema_version")

    return [
        Case("health", "/health", {}, health),
        Case("rules", "/rules", {}, lambda c: _all(c, rule_sql + " ORDER BY id")),
        Case("rules?topic&active_only", "/rules", {"topic": topic, "active_only": "true"},
             lambda c: _all(c, rule_sql + " WHERE active AND list_contains(topics, ?) "
                                          "ORDER BY id", [topic])),
        Case("rules/{id}", f"/rules/{rule}", {},
             lambda c: (_all(c, rule_sql + " WHERE id = ?", [rule]),
                        _all(c, f"SELECT {', '.join(_VERSION_COLS)} FROM rule_versions "
                                "WHERE rule_id = ? ORDER BY version", [rule]))),
        Case("developments", "/developments", {},
             lambda c: _all(c, dev_sql + " ORDER BY last_seen DESC, id LIMIT ?", [PAGE])),
        Case("developments?since=7d", "/developments", {"since": week.isoformat()},
             lambda c: _all(c, dev_sql + " WHERE last_seen >= ? ORDER BY last_seen DESC, id "
                                         "LIMIT ?", [week, PAGE])),
        Case("developments?since=90d&topic&stage", "/developments",
             {"since": quarter.isoformat(), "topic": topic, "stage": stage},
             lambda c: _all(c, dev_sql + " WHERE last_seen >= ? AND list_contains(topics, ?) "
                                         "AND stage = ? ORDER BY last_seen DESC, id LIMIT ?",
                            [quarter, topic, stage, PAGE])),
        Case("developments/{id}", f"/developments/{dev}", {}, dev_detail),
        Case("alerts?since=0", "/alerts", {"since": 0},
             lambda c: _all(c, alert_sql + " WHERE seq > ? ORDER BY seq LIMIT ?", [0, PAGE + 1])),
        Case("alerts?since=cursor", "/alerts", {"since": max_seq - 20},
             lambda c: _all(c, alert_sql + " WHERE seq > ? ORDER BY seq LIMIT ?",
                            [max_seq - 20, PAGE + 1])),
        Case("alerts?state=open&since", "/alerts", {"state": "open", "since": max_seq // 2},
             lambda c: _all(c, alert_sql + " WHERE seq > ? AND state = ? ORDER BY seq LIMIT ?",
                            [max_seq // 2, "open", PAGE + 1])),
        Case("alerts?kind&state=acknowledged", "/alerts",
             {"kind": "rule_review", "state": "acknowledged"},
             lambda c: _all(c, alert_sql + " WHERE seq > ? AND state = ? AND kind = ? "
                                           "ORDER BY seq LIMIT ?",
                            [0, "acknowledged", "rule_review", PAGE + 1])),
        Case("alerts/{id}", f"/alerts/{alert}", {}, alert_detail),
        Case("articles/{id}/versions", f"/articles/{article}/versions", {},
             lambda c: (_all(c, "SELECT canonical_url FROM articles WHERE id = ?", [article]),
                        _all(c, "SELECT version, title, body, content_hash, fetched_at FROM "
                                "article_versions WHERE article_id = ? ORDER BY version",
                             [article]))),
        Case("feeds/alerts.atom", "/feeds/alerts.atom", {},
             lambda c: _all(c, alert_sql + " ORDER BY updated_at DESC, seq DESC LIMIT ?",
                            [PAGE])),
    ]


def _pcts(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiServer:
    """`python -m lawwatch --db STORE api` on a free loopback port, with a fresh read token."""

    def __init__(self, store: Path):
        self.store, self.port = store, _free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="lw-api-", suffix=".log", delete=False)
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "ApiServer":
        env = {**os.environ, "LAWWATCH_READ_TOKENS": self.token, "LAWWATCH_WRITE_TOKENS": ""}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lawwatch", "--db", str(self.store), "api",
             "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(self.base + "/health", headers=self.headers, timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = Path(self.log.name).read_text(errors="replace")[-2000:]
                self.__exit__(None, None, None)
                raise RuntimeError(f"the API did not come up; its log ends:\n{tail}")
            time.sleep(0.2)

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def measure(store: Path, repeat: int) -> dict[str, tuple]:
    """name -> (API p50, API p95, SQL p50, SQL p95) in ms."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        cs = cases(con)
        sql_times = {}
        for c in cs:
            for _ in range(2):
                c.sql(con)
            ts = []
            for _ in range(repeat):
                t = time.perf_counter()
                c.sql(con)
                ts.append((time.perf_counter() - t) * 1000)
            sql_times[c.name] = _pcts(ts)
    finally:
        con.close()
    out = {}
    with ApiServer(store) as api, httpx.Client(base_url=api.base, headers=api.headers,
                                               timeout=60) as client:
        for c in cs:
            for _ in range(2):
                r = client.get(c.path, params=c.params)
                r.raise_for_status()
            ts = []
            for _ in range(repeat):
                t = time.perf_counter()
                client.get(c.path, params=c.params).raise_for_status()
                ts.append((time.perf_counter() - t) * 1000)
            out[c.name] = (*_pcts(ts), *sql_times[c.name])
    return out


def table(results: dict[int, dict[str, tuple]]) -> str:
    sizes = sorted(results)
    head = ("| endpoint | " + " | ".join(f"{n:,}: API p50 / p95 ms | {n:,}: SQL p50 / p95 ms"
                                         for n in sizes) + " |")
    rows = [head, "|---|" + "---:|---:|" * len(sizes)]
    for name in next(iter(results.values())):
        cells = []
        for n in sizes:
            a50, a95, s50, s95 = results[n][name]
            cells.append(f"{a50:.1f} / {a95:.1f} | {s50:.1f} / {s95:.1f}")
        rows.append(f"| `GET /{name}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000",
                    help="comma-separated store sizes in articles (default 100000,1000000)")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--store", help="measure this existing store instead")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/results.md")
    ap.add_argument("--fresh", action="store_true", help="regenerate the stores even if cached")
    a = ap.parse_args(argv)

    results: dict[int, dict] = {}
    loads: dict[int, tuple[float, float]] = {}
    gen_secs: dict[int, float] = {}
    if a.store:
        with duckdb.connect(a.store, read_only=True) as con:
            n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        stores = [(n, Path(a.store))]
    else:
        stores = []
        for n in [int(x) for x in a.sizes.split(",") if x.strip()]:
            path, secs = cached_store(n, fresh=a.fresh)
            if secs is not None:
                gen_secs[n] = secs
                print(f"generated {n:,} articles in {secs:.1f} s ({path})", file=sys.stderr)
            stores.append((n, path))
    for n, path in stores:
        l0 = os.getloadavg()[0]
        results[n] = measure(path, a.repeat)
        loads[n] = (l0, os.getloadavg()[0])
        for name, (a50, a95, s50, s95) in results[n].items():
            print(f"{n:>9,}  GET /{name:36s} API p50 {a50:7.1f} p95 {a95:7.1f} ms   "
                  f"SQL p50 {s50:7.1f} p95 {s95:7.1f} ms")

    worst = max((r[name][1], n, name) for n, r in results.items() for name in r)
    body = (
        "`python -m bench.api_latency` (`make bench`) — the real API (`python -m lawwatch --db "
        "STORE api`: uvicorn, the app `lawwatch api` serves) on loopback against the stores of "
        "the dashboard section, one keep-alive client, requests one after another, "
        f"{a.repeat} per endpoint after two warm-ups. Peer: the same SQL statements the "
        "endpoint runs, through duckdb over one read-only connection held open (no HTTP, no "
        "models, no per-request connection); API minus SQL is the API's own cost, mostly "
        "opening a read connection per request (DuckDB reads the file's catalog) plus FastAPI, "
        "pydantic and JSON. Lists return the default page (100). The API has no text search. "
        f"Machine: {os.cpu_count()} cores {platform.machine()}, Python "
        f"{platform.python_version()}; 1-min load average before/after: "
        + loads_line(loads)
        + " (shared machine).\n\n" + table(results)
        + f"\n\nWorst API p95: {worst[0]:.1f} ms (`GET /{worst[2]}`, {worst[1]:,} articles)."
        + generation_note(gen_secs)
    )
    publish(HEADING, body, write=not a.no_write, after=AFTER)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
