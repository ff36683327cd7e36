"""CLI functions the lead wires into `lawwatch` (each returns the process exit code).

- `rules_check`: prints pending (open/acknowledged) rule-review alerts; exit 0 when none are
  pending, 3 when some are (so a guide's build can fail on stale rules).
- `rules_list`: the registry, one rule per line.
- `serve_api`: the REST API under uvicorn.
- `deliver`: sends due deliveries; exit 0, or 4 when some failed or went dead.
"""
from __future__ import annotations

import datetime as _dt
import sys
from typing import TextIO

from alerts.events import ALERT_COLS, row_to_alert

EXIT_PENDING_REVIEWS = 3
EXIT_DELIVERY_FAILED = 4


def _since_dt(since) -> _dt.datetime | None:
    if since is None or since == "":
        return None
    if isinstance(since, _dt.datetime):
        return since if since.tzinfo else since.replace(tzinfo=_dt.timezone.utc)
    if isinstance(since, _dt.date):
        return _dt.datetime.combine(since, _dt.time(), _dt.timezone.utc)
    try:
        d = _dt.datetime.fromisoformat(str(since))
    except ValueError:
        raise ValueError(f"--since {since!r}: expected a date or datetime like 2026-01-31") from None
    return d if d.tzinfo else d.replace(tzinfo=_dt.timezone.utc)


def pending_reviews(store, rule_id: str | None = None, since=None) -> list[dict]:
    sql = (f"SELECT {', '.join(ALERT_COLS)} FROM alerts WHERE kind = 'rule_review' AND "
           "state IN ('open', 'acknowledged')")
    params: list = []
    if rule_id:
        sql += " AND rule_id = ?"
        params.append(rule_id)
    s = _since_dt(since)
    if s is not None:
        sql += " AND updated_at >= ?"
        params.append(s)
    with store.read() as con:
        return [row_to_alert(r) for r in con.execute(sql + " ORDER BY rule_id, score DESC",
                                                     params).fetchall()]


def rules_check(cfg, store, rule_id: str | None = None, since=None, *,
                out: TextIO | None = None) -> int:
    """Print pending review alerts (optionally for one rule / changed since a date)."""
    out = out or sys.stdout
    if rule_id:
        from alerts.rules import get_rule
        get_rule(store, rule_id)          # RuleNotFound names an unknown id
    alerts = pending_reviews(store, rule_id, since)
    if not alerts:
        print("no rule reviews pending" + (f" for {rule_id}" if rule_id else ""), file=out)
        return 0
    print(f"{len(alerts)} rule review(s) pending:", file=out)
    for a in alerts:
        d = a["details"]
        dev = d.get("development") or {}
        print(f"  [{a['state']}] {a['rule_id']}  score {a['score'] or 0:.2f}  alert {a['id']}",
              file=out)
        print(f"      development: {dev.get('title')} (stage {d.get('stage') or '-'}; "
              f"effective {', '.join(d.get('effective_dates') or []) or '-'})", file=out)
        for ln in (d.get("links") or [])[:3]:
            print(f"      {ln.get('url')}", file=out)
    return EXIT_PENDING_REVIEWS


def rules_list(cfg, store, *, out: TextIO | None = None) -> int:
    from alerts.rules import list_rules
    out = out or sys.stdout
    for r in list_rules(store):
        flag = "" if r["active"] else " (inactive)"
        print(f"{r['id']}  v{r['version']}  [{', '.join(r['topics'])}]  reviewed "
              f"{r['last_reviewed'] or '-'}{flag}\n    {r['statement_en']}", file=out)
    return 0


def serve_api(cfg, store, host: str = "127.0.0.1", port: int = 8800) -> int:
    import uvicorn
    from alerts.api import create_app
    uvicorn.run(create_app(cfg, store), host=host, port=port, log_level="info")
    return 0


def deliver(cfg, store, *, force_digest: bool = False, out: TextIO | None = None) -> int:
    from alerts.deliver import deliver_pending
    out = out or sys.stdout
    rep = deliver_pending(store, cfg, force_digest=force_digest)
    print(rep.summary(), file=out)
    for r in rep.results:
        if r["status"] != "sent":
            print(f"  {r['status']}: {r['channel']} -> {r['target']}: {r['error']}", file=out)
    return 0 if rep.ok else EXIT_DELIVERY_FAILED
