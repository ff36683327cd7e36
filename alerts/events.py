"""Alert rows, their event history and the transactional outbox (shared by engine and lifecycle).

Every function here takes the caller's connection: an alert change, its `alert_events` row and
its `outbox` event are written in ONE transaction, so a crash can never leave an alert change
without the event that announces it (or an event for a change that did not happen).
"""
from __future__ import annotations

import datetime as _dt
import json
from typing import Any, Callable

from store.db import stable_id

STATES = ("open", "acknowledged", "resolved", "dismissed")
OPEN_STATES = ("open", "acknowledged")
CLOSED_STATES = ("resolved", "dismissed")
KINDS = ("rule_review", "source_silent", "needs_human")
ENGINE_ACTOR = "engine"

ALERT_COLS = ("id", "kind", "rule_id", "development_id", "source_id", "article_id", "state",
              "title", "score", "details", "created_at", "updated_at", "seq", "topics")


def _json_default(o: Any) -> Any:
    if isinstance(o, (_dt.datetime, _dt.date)):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, default=_json_default)


def row_to_alert(row: tuple) -> dict:
    a = dict(zip(ALERT_COLS, row))
    a["details"] = json.loads(a["details"]) if isinstance(a["details"], str) else (a["details"] or {})
    a["topics"] = list(a["topics"] or [])
    return a


def fetch_alert(con, alert_id: str) -> dict | None:
    row = con.execute(f"SELECT {', '.join(ALERT_COLS)} FROM alerts WHERE id = ?",
                      [alert_id]).fetchone()
    return row_to_alert(row) if row else None


def fetch_events(con, alert_id: str) -> list[dict]:
    rows = con.execute("SELECT seq, from_state, to_state, actor, occurred_at, note, rule_version "
                       "FROM alert_events WHERE alert_id = ? ORDER BY seq", [alert_id]).fetchall()
    return [dict(zip(("seq", "from_state", "to_state", "actor", "occurred_at", "note",
                      "rule_version"), r)) for r in rows]


def next_seq(con) -> int:
    return int(con.execute("SELECT nextval('alert_seq')").fetchone()[0])


def add_event(con, alert_id: str, from_state: str | None, to_state: str, actor: str,
              at: _dt.datetime, note: str | None = None, rule_version: int | None = None) -> int:
    n = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM alert_events WHERE alert_id = ?",
                    [alert_id]).fetchone()[0]
    con.execute("INSERT INTO alert_events (alert_id, seq, from_state, to_state, actor, "
                "occurred_at, note, rule_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [alert_id, n, from_state, to_state, actor, at, note, rule_version])
    return int(n)


def event_id_for(alert_id: str, seq: int) -> str:
    """Stable id of the event announcing the alert change that got change-cursor `seq`."""
    return stable_id("alert-event", alert_id, seq, length=24)


def build_payload(alert: dict, event_type: str, event_id: str, at: _dt.datetime,
                  transition: dict | None = None) -> dict:
    d = alert.get("details") or {}
    return {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": at.isoformat(),
        "alert_id": alert["id"],
        "kind": alert["kind"],
        "state": alert["state"],
        "title": alert["title"],
        "score": alert.get("score"),
        "seq": alert["seq"],
        "rule_id": alert.get("rule_id"),
        "development_id": alert.get("development_id"),
        "source_id": alert.get("source_id"),
        "article_id": alert.get("article_id"),
        "topics": list(alert.get("topics") or []),
        "stage": d.get("stage"),
        "effective_dates": d.get("effective_dates") or [],
        "evidence": d.get("evidence") or [],
        "links": d.get("links") or [],
        "details": d,
        "transition": transition,
    }


def write_outbox(con, alert: dict, event_type: str, at: _dt.datetime,
                 transition: dict | None = None) -> str:
    eid = event_id_for(alert["id"], alert["seq"])
    payload = build_payload(alert, event_type, eid, at, transition)
    con.execute("INSERT INTO outbox (event_id, alert_id, event_type, payload, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [eid, alert["id"], event_type, dumps(payload), at])
    return eid


def _same(a: Any, b: Any) -> bool:
    return dumps(a) == dumps(b)


_FETCH: Any = object()     # upsert_alert(current=...) default: read the current row


def upsert_alert(con, *, alert_id: str, kind: str, title: str, score: float | None,
                 details: dict, topics: list[str], at: _dt.datetime, rule_id: str | None = None,
                 development_id: str | None = None, source_id: str | None = None,
                 article_id: str | None = None, reopen_note: str | None = None,
                 fingerprint: Callable[[dict], Any] | None = None,
                 current: Any = _FETCH, seq: int | None = None) -> str | None:
    """Raise, update or reopen one alert; returns "raised" / "updated" / "reopened" / None.

    - no row: insert it `open`, history event, outbox `alert.raised`;
    - open/acknowledged: when title/score/details/topics (or `fingerprint(details)`) changed,
      update them with a new seq and an outbox `alert.updated`; else nothing;
    - resolved/dismissed: untouched unless `reopen_note` is given; then it is updated, set
      `open`, with a history event and an outbox `alert.state_changed`.
    `current`: the alert's row as `fetch_alert` returns it (None: no row), when the caller has
    already read it in this transaction; `seq`: the change cursor to use if it changes (taken
    from the sequence by the caller, see upsert_alerts).
    """
    details = json.loads(dumps(details))           # normalise (dates -> strings)
    cur = fetch_alert(con, alert_id) if current is _FETCH else current
    action = _decide(cur, title, score, details, topics, reopen_note, fingerprint)
    if action is None:
        return None
    seq = next_seq(con) if seq is None else seq
    if action == "raise":
        con.execute(f"INSERT INTO alerts ({', '.join(ALERT_COLS)}) VALUES "
                    f"({', '.join('?' * len(ALERT_COLS))})",
                    _new_row(alert_id, kind, rule_id, development_id, source_id, article_id,
                             title, score, details, at, seq, topics))
        add_event(con, alert_id, None, "open", ENGINE_ACTOR, at, "raised")
        write_outbox(con, fetch_alert(con, alert_id), "alert.raised", at)
        return "raised"
    if action == "reopen":
        con.execute("UPDATE alerts SET state = 'open', title = ?, score = ?, details = ?, "
                    "topics = ?, updated_at = ?, seq = ? WHERE id = ?",
                    [title, score, dumps(details), topics, at, seq, alert_id])
        add_event(con, alert_id, cur["state"], "open", ENGINE_ACTOR, at, reopen_note)
        write_outbox(con, fetch_alert(con, alert_id), "alert.state_changed", at,
                     {"from": cur["state"], "to": "open", "actor": ENGINE_ACTOR,
                      "note": reopen_note, "rule_version": None})
        return "reopened"
    con.execute("UPDATE alerts SET title = ?, score = ?, details = ?, topics = ?, updated_at = ?, "
                "seq = ? WHERE id = ?", [title, score, dumps(details), topics, at, seq, alert_id])
    write_outbox(con, fetch_alert(con, alert_id), "alert.updated", at)
    return "updated"


def _decide(cur: dict | None, title: str, score: float | None, details: dict, topics: list[str],
            reopen_note: str | None = None, fingerprint: Callable[[dict], Any] | None = None
            ) -> str | None:
    """What upsert_alert does, given the current row `cur` (None: no row) and the normalised
    `details`: "raise" / "reopen" / "update" / None (nothing changes). Pure."""
    if cur is None:
        return "raise"
    if cur["state"] in CLOSED_STATES:
        return "reopen" if reopen_note else None
    if fingerprint is not None:
        unchanged = _same(fingerprint(cur["details"]), fingerprint(details)) and cur["title"] == title
    else:
        unchanged = (cur["title"] == title and _same(cur["score"], score)
                     and _same(cur["details"], details) and sorted(cur["topics"]) == sorted(topics))
    return None if unchanged else "update"


def _new_row(alert_id: str, kind: str, rule_id, development_id, source_id, article_id, title: str,
             score: float | None, details: dict, at: _dt.datetime, seq: int, topics) -> list:
    """A new alert's row in ALERT_COLS order (state open, created = updated = `at`); the score as
    the DOUBLE column stores it, so a payload built from this row equals one built from a read."""
    return [alert_id, kind, rule_id, development_id, source_id, article_id, "open", title,
            None if score is None else float(score), dumps(details), at, at, seq, list(topics)]


def upsert_alerts(con, specs: list[dict]) -> list[str | None]:
    """``[upsert_alert(con, **s) for s in specs]`` with the same database result, for specs that
    each carry `current` (their row read in this transaction) and name distinct alerts.

    The change cursors are taken from the sequence in one statement and handed out in spec order
    (the values sequential calls would get); new alerts — most of them on a first crawl — are
    then inserted with three set-based statements (alerts, their `raised` history events, their
    outbox events) instead of ~6 statements each; updates and reopens go through upsert_alert."""
    import pyarrow as pa

    from store.articles import register_table

    decisions = [_decide(s["current"], s["title"], s["score"], json.loads(dumps(s["details"])),
                         s["topics"], s.get("reopen_note"), s.get("fingerprint")) for s in specs]
    k = sum(1 for d in decisions if d)
    if not k:
        return [None] * len(specs)
    seqs = sorted(int(r[0]) for r in con.execute(
        "SELECT nextval('alert_seq') FROM range(?)", [k]).fetchall())
    out: list[str | None] = []
    raised: list[tuple[dict, int]] = []
    it = iter(seqs)
    for spec, d in zip(specs, decisions):
        if d is None:
            out.append(None)
        elif d == "raise":
            raised.append((spec, next(it)))
            out.append("raised")
        else:
            out.append(upsert_alert(con, **{**spec, "seq": next(it)}))
    if not raised:
        return out
    rows = [_new_row(spec["alert_id"], spec["kind"], spec.get("rule_id"), spec.get("development_id"),
                     spec.get("source_id"), spec.get("article_id"), spec["title"], spec["score"],
                     json.loads(dumps(spec["details"])), spec["at"], seq, spec["topics"])
            for spec, seq in raised]
    ts = pa.timestamp("us", tz="UTC")
    utc = _dt.timezone.utc
    col = list(zip(*rows))
    alerts = pa.table({
        "id": pa.array(col[0], pa.string()), "kind": pa.array(col[1], pa.string()),
        "rule_id": pa.array(col[2], pa.string()), "development_id": pa.array(col[3], pa.string()),
        "source_id": pa.array(col[4], pa.string()), "article_id": pa.array(col[5], pa.string()),
        "state": pa.array(col[6], pa.string()), "title": pa.array(col[7], pa.string()),
        "score": pa.array(col[8], pa.float64()), "details": pa.array(col[9], pa.string()),
        "created_at": pa.array([a.astimezone(utc) for a in col[10]], ts),
        "updated_at": pa.array([a.astimezone(utc) for a in col[11]], ts),
        "seq": pa.array(col[12], pa.int64()), "topics": pa.array(col[13], pa.list_(pa.string())),
    })
    # the events and payloads exactly as upsert_alert writes them for a new alert (its first
    # history event has seq 1: alert rows are never deleted, so no event can exist before it)
    events = pa.table({
        "alert_id": pa.array(col[0], pa.string()),
        "occurred_at": pa.array([a.astimezone(utc) for a in col[10]], ts),
    })
    eids, payloads = [], []
    for row in rows:
        alert = row_to_alert(tuple(row))
        eid = event_id_for(alert["id"], alert["seq"])
        eids.append(eid)
        payloads.append(dumps(build_payload(alert, "alert.raised", eid, row[10])))
    outbox = pa.table({
        "event_id": pa.array(eids, pa.string()), "alert_id": pa.array(col[0], pa.string()),
        "payload": pa.array(payloads, pa.string()),
        "created_at": pa.array([a.astimezone(utc) for a in col[10]], ts),
    })
    register_table(con, "_lw_new_alerts", alerts)
    register_table(con, "_lw_new_events", events)
    register_table(con, "_lw_new_outbox", outbox)
    try:
        con.execute(f"INSERT INTO alerts ({', '.join(ALERT_COLS)}) "
                    f"SELECT {', '.join(ALERT_COLS)} FROM _lw_new_alerts")
        con.execute("INSERT INTO alert_events (alert_id, seq, from_state, to_state, actor, "
                    "occurred_at, note, rule_version) SELECT alert_id, 1, NULL, 'open', ?, "
                    "occurred_at, 'raised', NULL FROM _lw_new_events", [ENGINE_ACTOR])
        con.execute("INSERT INTO outbox (event_id, alert_id, event_type, payload, created_at) "
                    "SELECT event_id, alert_id, 'alert.raised', payload, created_at "
                    "FROM _lw_new_outbox ON CONFLICT DO NOTHING")
    finally:
        for name in ("_lw_new_alerts", "_lw_new_events", "_lw_new_outbox"):
            con.unregister(name)
    return out


def set_state(con, alert: dict, to_state: str, actor: str, at: _dt.datetime,
              note: str | None = None, rule_version: int | None = None) -> dict:
    """Move `alert` to `to_state` (no transition check: callers validate), with history event and
    outbox `alert.state_changed`. Returns the updated alert."""
    seq = next_seq(con)
    con.execute("UPDATE alerts SET state = ?, updated_at = ?, seq = ? WHERE id = ?",
                [to_state, at, seq, alert["id"]])
    add_event(con, alert["id"], alert["state"], to_state, actor, at, note, rule_version)
    new = fetch_alert(con, alert["id"])
    write_outbox(con, new, "alert.state_changed", at,
                 {"from": alert["state"], "to": to_state, "actor": actor, "note": note,
                  "rule_version": rule_version})
    return new
