"""One lawwatch run: crawl -> classify -> developments -> alerts -> deliveries.

Each stage reads what it needs from the store and writes its results in short transactions,
so a run that dies anywhere can simply be run again: every stage is idempotent (deterministic
ids, "pending" selection by content hash), and the outbox makes delivery at-least-once.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lawwatch.config import Config
from store import Store, stable_id, utcnow

log = logging.getLogger("lawwatch.pipeline")


@dataclass
class RunReport:
    run_id: str
    mode: str
    crawled: dict[str, Any] = field(default_factory=dict)
    changed_articles: int = 0
    classified: int = 0
    developments: int = 0
    alerts: int = 0
    deliveries: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # CPU seconds per stage, this process and its (joined) worker processes together
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    status: str = "ok"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_once(cfg: Config, store: Store, *, replay: str | Path | None = None,
             mode: str | None = None, progress: bool = False, deliver: bool = True) -> RunReport:
    from alerts.rules import sync_rules

    mode = mode or ("replay" if replay else "live")
    started = utcnow()
    run_id = stable_id("run", started.isoformat(), mode)
    report = RunReport(run_id=run_id, mode=mode)
    owner = {"pid": os.getpid(), "host": socket.gethostname()}
    with store.write() as con:
        _mark_interrupted(con)
        con.execute("INSERT INTO runs (id, started_at, mode, status, stats) "
                    "VALUES (?, ?, ?, 'running', ?)", [run_id, started, mode, json.dumps(owner)])
    try:
        t, c = time.perf_counter(), _cpu()
        sync_rules(store, cfg)
        _stage(report, "rules", t, c)

        from crawler.run import crawl
        t, c = time.perf_counter(), _cpu()
        result = crawl(cfg, store, run_id=run_id, replay=str(replay) if replay else None,
                       progress=progress)
        _stage(report, "crawl", t, c)
        report.crawled = {sid: _plain(s) for sid, s in result.sources.items()}
        report.changed_articles = len(result.changed_article_ids)

        from classify.store_io import classify_pending
        t, c = time.perf_counter(), _cpu()
        # Classify everything pending, not only this run's changes: a run that died after the
        # crawl left stored-but-unclassified articles, and a new classifier version re-tags.
        classified = classify_pending(store, cfg)
        report.classified = len(classified)
        _stage(report, "classify", t, c)

        from classify.developments import update_developments
        t, c = time.perf_counter(), _cpu()
        # None: every tagged article not yet in a development, not only this run's — a run
        # killed after classifying left such articles, and the rerun classifies nothing new.
        devs = update_developments(store, cfg, None)
        report.developments = len(devs)
        _stage(report, "developments", t, c)

        from alerts.engine import process
        t, c = time.perf_counter(), _cpu()
        alerts = process(store, cfg, development_ids=None)
        report.alerts = len(alerts)
        _stage(report, "alerts", t, c)

        if deliver:
            from alerts.deliver import deliver_pending
            t, c = time.perf_counter(), _cpu()
            report.deliveries = _plain(deliver_pending(store, cfg))
            _stage(report, "deliver", t, c)
    except BaseException as exc:
        report.status = "failed"
        _finish(store, run_id, report, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(store, run_id, report)
    return report


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished worker processes."""
    import resource
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _stage(report: RunReport, name: str, t: float, c: float) -> None:
    report.seconds[name] = time.perf_counter() - t
    report.cpu_seconds[name] = _cpu() - c


def _mark_interrupted(con) -> None:
    """Runs still 'running' whose process is gone (killed, machine restarted) become
    'interrupted', so the dashboard does not show them as in progress forever. A run of a live
    process on this host, or of another host, is left alone."""
    host = socket.gethostname()
    for run_id, stats in con.execute("SELECT id, stats FROM runs WHERE status = 'running'").fetchall():
        try:
            owner = json.loads(stats) if stats else {}
        except ValueError:
            owner = {}
        pid = owner.get("pid")
        if owner.get("host") != host or not isinstance(pid, int):
            continue
        try:
            os.kill(pid, 0)
            continue  # still alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, owned by someone else
        con.execute("UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ?",
                    [utcnow(), run_id])


def _finish(store: Store, run_id: str, report: RunReport, error: str | None = None) -> None:
    stats = report.to_json()
    if error:
        stats["error"] = error
    try:
        with store.write() as con:
            con.execute("UPDATE runs SET finished_at = ?, status = ?, stats = ? WHERE id = ?",
                        [utcnow(), report.status, json.dumps(stats, default=str), run_id])
    except Exception:  # never mask the original failure
        log.exception("could not record the end of run %s", run_id)


def _plain(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    if hasattr(obj, "_asdict"):
        return obj._asdict()
    if isinstance(obj, dict):
        return obj
    return getattr(obj, "__dict__", str(obj))


def stats(store: Store) -> dict[str, Any]:
    """Counts for `lawwatch stats`."""
    with store.read() as con:
        def one(sql: str) -> int:
            return int(con.execute(sql).fetchone()[0])
        out: dict[str, Any] = {
            "sources": one("SELECT count(*) FROM sources"),
            "articles": one("SELECT count(*) FROM articles"),
            "article_versions": one("SELECT count(*) FROM article_versions"),
            "tags": one("SELECT count(*) FROM tags"),
            "developments": one("SELECT count(*) FROM developments"),
            "rules": one("SELECT count(*) FROM rules"),
            "alerts": {s: n for s, n in con.execute(
                "SELECT state, count(*) FROM alerts GROUP BY state ORDER BY state").fetchall()},
            "deliveries": {s: n for s, n in con.execute(
                "SELECT status, count(*) FROM deliveries GROUP BY status ORDER BY status").fetchall()},
            "runs": one("SELECT count(*) FROM runs"),
        }
        out["alerts_total"] = sum(out["alerts"].values())
        out["deliveries_total"] = sum(out["deliveries"].values())
    return out
