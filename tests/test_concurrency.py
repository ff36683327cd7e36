"""Dashboard, API and a pipeline run at the same time: no request may fail on a DuckDB lock.

DuckDB lets one process hold a read-write handle and locks every other process out, readers
included; the store copes with short connections and bounded lock retries (store/db.py,
docs/design.md "Store"). This test puts four real processes on one database file at once:

- `lawwatch api` (uvicorn, real HTTP on a free loopback port), hammered from this process by
  a few client threads with reads (/health, /rules, /developments, /alerts, one alert,
  one rule) and writes with the write token (PATCH a rule, POST a new rule, acknowledge
  alerts as they appear);
- two more processes running every dashboard query (`dashboard.queries.benchmark_cases`: the
  exact functions and arguments the pages use) in a loop, each call on its own short read
  connection as the Streamlit app does (driving Streamlit over HTTP would not run the queries:
  pages render over its websocket);
- `lawwatch run --replay data/demo` (the bundled recording) on top of a database seeded by a
  smaller run of the same recording, so the concurrent run stores, classifies, groups and
  raises alerts for the rest.

It asserts: the run exits 0 and its `runs` row says ok; not one API request failed (no 5xx,
no connection error, no unexpected 4xx) and not one dashboard query raised; both hammers did
real work during the run; every write the API acknowledged is in the database afterwards.

Before store/db.py's turnstile, `lawwatch run` could not even open the database here: two
processes reading in a loop leave DuckDB's lock no gap for a writer, and the run died with
StoreLocked after its ~20 s retry budget.

Cost: a seed run (~10 s) + the concurrent run (~20-30 s under load), ~45 s in all.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from store import Store

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"
DEMO_CONFIG = DEMO / "config"
READ, WRITE = "conc-read-token", "conc-write-token"
RUN_TIMEOUT = 300
N_DASHBOARDS = 2

# Sources the seed run leaves out (on top of those the demo overlay disables); the concurrent
# run crawls them, so it has real work to do while the API and the dashboard read and write.
SEED_OVERLAY = "".join(f'[[source]]\nid = "{s}"\nenabled = false\n\n' for s in (
    "moscowtimes_ru", "regulation_gov", "sozd_duma", "mvd", "mlsp_kg",        # as the demo
    "kg24_ru", "kg24_en", "moscowtimes_en"))                                   # left for later

# The dashboard's query layer in a process of its own: every case the dashboard benchmark knows,
# over and over, until the stop file appears. Each call opens its own short read connection.
DASHBOARD_HAMMER = r"""
import json, sys, time, traceback
from pathlib import Path
from dashboard import queries
from store.db import Store
db, stop, out = sys.argv[1:4]
store = Store(db, migrate=False)
calls, errors, rounds = 0, [], 0
while not Path(stop).exists():
    try:
        cases = queries.benchmark_cases(store)
        calls += 1
    except Exception as exc:
        errors.append(f"benchmark_cases: {type(exc).__name__}: {exc}")
        continue
    for name, (fn, kwargs) in cases.items():
        try:
            fn(store, **kwargs)
            calls += 1
        except Exception as exc:
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
    rounds += 1
Path(out).write_text(json.dumps({"calls": calls, "rounds": rounds, "errors": errors[:50],
                                 "n_errors": len(errors)}))
"""


def _env(**extra: str) -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
                PYTHONPATH=str(REPO), LAWWATCH_READ_TOKENS=READ, LAWWATCH_WRITE_TOKENS=WRITE,
                **extra)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lawwatch(*args: str) -> list[str]:
    return [sys.executable, "-m", "lawwatch", *args]


class ApiHammer:
    """Client threads against the API; every response is checked, every failure kept."""

    def __init__(self, base: str, seeded_alert: str):
        self.base = base
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.counts = {"read": 0, "write": 0}
        self.slowest = 0.0                    # seconds, the slowest answer
        self.patches: list[str] = []          # owners the API confirmed, in order
        self.acked: dict[str, str] = {}       # alert id -> actor of our acknowledgement
        self.created: list[str] = []
        self.ack_queue = [seeded_alert]
        self._queued = {seeded_alert}          # queued once, acknowledged once
        self._lock = threading.Lock()

    def _call(self, client: httpx.Client, method: str, path: str, *, write: bool = False,
              ok=(200,), **kw) -> httpx.Response | None:
        hdr = {"Authorization": f"Bearer {WRITE if write else READ}"}
        t0 = time.monotonic()
        try:
            r = client.request(method, self.base + path, headers=hdr, **kw)
        except httpx.HTTPError as exc:
            with self._lock:
                self.failures.append(f"{method} {path}: {type(exc).__name__}: {exc}")
            return None
        with self._lock:
            self.counts["write" if write else "read"] += 1
            self.slowest = max(self.slowest, time.monotonic() - t0)
            if r.status_code not in ok:
                self.failures.append(f"{method} {path}: HTTP {r.status_code} {r.text[:300]}")
                return None
        return r

    def reader(self) -> None:
        with httpx.Client(timeout=60) as c:
            while not self.stop.is_set():
                self._call(c, "GET", "/health")
                self._call(c, "GET", "/rules")
                self._call(c, "GET", "/rules/registration-duration")
                self._call(c, "GET", "/developments", params={"limit": 50})
                r = self._call(c, "GET", "/alerts", params={"limit": 200})
                if r is not None:
                    alerts = r.json()["alerts"]
                    if alerts:
                        self._call(c, "GET", f"/alerts/{alerts[-1]['id']}")
                    with self._lock:
                        for a in alerts:
                            if a["state"] == "open" and a["id"] not in self._queued:
                                self._queued.add(a["id"])
                                self.ack_queue.append(a["id"])

    def writer(self) -> None:
        n = 0
        with httpx.Client(timeout=60) as c:
            r = self._call(c, "POST", "/rules", write=True, ok=(201,), json={
                "id": "concurrency-test-rule", "statement_en": "Written while a run is going.",
                "topics": ["work_permit"], "actor": "concurrency-test"})
            if r is not None:
                self.created.append(r.json()["id"])
            while not self.stop.is_set():
                n += 1
                owner = f"editor-{n}"
                r = self._call(c, "PATCH", "/rules/registration-duration", write=True,
                               json={"owner": owner, "note": f"concurrent edit {n}",
                                     "actor": "concurrency-test"})
                if r is not None:
                    if r.json()["owner"] != owner:
                        self.failures.append(f"PATCH answered owner {r.json()['owner']!r}, "
                                             f"expected {owner!r}")
                    self.patches.append(owner)
                with self._lock:
                    todo = self.ack_queue[:]
                    self.ack_queue.clear()
                for aid in todo:
                    actor = f"concurrency-ack-{aid[:6]}"
                    r = self._call(c, "POST", f"/alerts/{aid}/acknowledge", write=True,
                                   json={"actor": actor, "note": "seen during a run"})
                    if r is not None:
                        if r.json()["state"] != "acknowledged":
                            self.failures.append(f"acknowledge {aid} answered {r.json()}")
                        self.acked[aid] = actor
                time.sleep(0.05)


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"API exited early (rc {proc.returncode}): "
                                 f"{proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"API did not answer {url} within {timeout}s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_api_dashboard_and_run_share_the_database(tmp_path):
    db = tmp_path / "concurrent.duckdb"
    seed_cfg = tmp_path / "seed-config"
    seed_cfg.mkdir()
    (seed_cfg / "sources.toml").write_text(SEED_OVERLAY, encoding="utf-8")

    # 1. seed: a smaller run of the recording, so there is an open alert to acknowledge
    seed = subprocess.run(_lawwatch("--db", str(db), "--config", str(seed_cfg), "run",
                                    "--replay", str(DEMO), "--no-deliver"),
                          cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT, check=False)
    assert seed.returncode == 0, seed.stderr[-3000:]
    with Store(db).read() as con:
        seeded = con.execute("SELECT id FROM alerts WHERE state = 'open' ORDER BY seq "
                             "LIMIT 1").fetchone()
        n_articles_seed = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert seeded, "the seed run raised no alert to acknowledge"

    # 2. the API and the dashboard query loops, all on the same file
    port = _free_port()
    api = subprocess.Popen(_lawwatch("--db", str(db), "--config", str(DEMO_CONFIG), "api",
                                     "--host", "127.0.0.1", "--port", str(port)),
                           cwd=REPO, env=_env(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    procs = [api]
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/health", api)
        # Two dashboard processes: e.g. the Streamlit server and a second one (or the
        # dashboard benchmark) on the same file. Readers in two processes overlap almost all
        # the time, which is exactly what can starve a writer.
        stop_file = tmp_path / "stop-dashboard"
        dash_outs = [tmp_path / f"dashboard-{i}.json" for i in range(N_DASHBOARDS)]
        dashes = [subprocess.Popen([sys.executable, "-c", DASHBOARD_HAMMER, str(db),
                                    str(stop_file), str(out)],
                                   cwd=REPO, env=_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True) for out in dash_outs]
        procs += dashes
        hammer = ApiHammer(base, seeded[0])
        threads = [threading.Thread(target=hammer.reader, daemon=True) for _ in range(2)]
        threads.append(threading.Thread(target=hammer.writer, daemon=True))
        for t in threads:
            t.start()
        time.sleep(0.5)              # both hammers are going before the run starts

        # 3. the run, while both hammer away
        t0 = time.monotonic()
        run = subprocess.run(_lawwatch("-v", "--db", str(db), "--config", str(DEMO_CONFIG),
                                       "run", "--replay", str(DEMO)),
                             cwd=REPO, env=_env(), capture_output=True, text=True,
                             timeout=RUN_TIMEOUT, check=False)
        run_s = time.monotonic() - t0
        print(f"concurrent run took {run_s:.1f}s")
        counts_during_run = dict(hammer.counts)
        time.sleep(0.5)              # writes queued just before the run ended (new alerts)
        hammer.stop.set()
        for t in threads:
            t.join(90)
        stop_file.touch()
        dash_reports = []
        for d, out in zip(dashes, dash_outs):
            d.wait(90)
            err = d.stderr.read()
            assert d.returncode == 0, err[-3000:]
            dash_reports.append(json.loads(out.read_text()))
    finally:
        for p in procs:
            _stop(p)
    api_err = api.stderr.read() if api.stderr else ""

    # the run
    assert run.returncode == 0, f"run failed after {run_s:.1f}s:\n{run.stderr[-4000:]}"
    assert "database is locked" not in run.stderr.lower()
    # the API and the dashboard
    assert hammer.failures == [], (f"{len(hammer.failures)} API request(s) failed, e.g.\n"
                                   + "\n".join(hammer.failures[:10]) + "\n" + api_err[-3000:])
    for rep in dash_reports:
        assert rep["n_errors"] == 0, "dashboard queries failed:\n" + "\n".join(rep["errors"][:10])
    assert "Traceback" not in api_err, api_err[-3000:]
    # both did real work while the run went on
    assert counts_during_run["read"] >= 30 and counts_during_run["write"] >= 5, counts_during_run
    assert all(rep["rounds"] >= 3 for rep in dash_reports), dash_reports
    print(f"API: {counts_during_run} requests during the run, slowest answer "
          f"{hammer.slowest:.2f}s; dashboard: {[r['calls'] for r in dash_reports]} queries")

    # the run did its work and recorded it
    with Store(db).read() as con:
        runs = con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()
        n_articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        rule = con.execute("SELECT owner, version FROM rules WHERE id = 'registration-duration'"
                           ).fetchone()
        versions = con.execute("SELECT version, owner, changed_by FROM rule_versions WHERE "
                               "rule_id = 'registration-duration' ORDER BY version").fetchall()
        created = con.execute("SELECT id FROM rules WHERE id = 'concurrency-test-rule'"
                              ).fetchall()
        states = dict(con.execute("SELECT id, state FROM alerts").fetchall())
        ack_events = dict(con.execute("SELECT alert_id, actor FROM alert_events WHERE "
                                      "to_state = 'acknowledged'").fetchall())
    assert runs == [("ok",), ("ok",)]
    assert n_articles > n_articles_seed

    # every write the API confirmed is in the database
    assert hammer.patches, "no rule edit went through"
    assert rule[0] == hammer.patches[-1]
    ours = [v for v in versions if v[2] == "concurrency-test"]
    assert [v[1] for v in ours] == hammer.patches            # one version per edit, in order
    assert rule[1] == versions[-1][0] == len(versions)
    assert created == [("concurrency-test-rule",)] and hammer.created
    assert seeded[0] in hammer.acked
    for aid, actor in hammer.acked.items():
        assert states[aid] == "acknowledged", (aid, states[aid])
        assert ack_events[aid] == actor
