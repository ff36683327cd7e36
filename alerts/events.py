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


def upsert_alert(con, *, alert_id: str, kind: str, title: str, score: float | None,
                 details: dict, topics: list[str], at: _dt.datetime, rule_id: str | None = None,
                 development_id: str | None = None, source_id: str | None = None,
                 article_id: str | None = None, reopen_note: str | None = None,
                 fingerprint: Callable[[dict], Any] | None = None) -> str | None:
    """Raise, update or reopen one alert; returns "raised" / "updated" / "reopened" / None.

    - no row: insert it `open`, history event, outbox `alert.raised`;
    - open/acknowledged: when title/score/details/topics (or `fingerprint(details)`) changed,
      update them with a new seq and an outbox `alert.updated`; else nothing;
    - resolved/dismissed: untouched unless `reopen_note` is given; then it is updated, set
      `open`, with a history event and an outbox `alert.state_changed`.
    """
    details = json.loads(dumps(details))           # normalise (dates -> strings)
    cur = fetch_alert(con, alert_id)
    if cur is None:
        seq = next_seq(con)
        con.execute(f"INSERT INTO alerts ({', '.join(ALERT_COLS)}) VALUES "
                    f"({', '.join('?' * len(ALERT_COLS))})",
                    [alert_id, kind, rule_id, development_id, source_id, article_id, "open",
                     title, score, dumps(details), at, at, seq, topics])
        add_event(con, alert_id, None, "open", ENGINE_ACTOR, at, "raised")
        write_outbox(con, fetch_alert(con, alert_id), "alert.raised", at)
        return "raised"
    if cur["state"] in CLOSED_STATES:
        if not reopen_note:
            return None
        seq = next_seq(con)
        con.execute("UPDATE alerts SET state = 'open', title = ?, score = ?, details = ?, "
                    "topics = ?, updated_at = ?, seq = ? WHERE id = ?",
                    [title, score, dumps(details), topics, at, seq, alert_id])
        add_event(con, alert_id, cur["state"], "open", ENGINE_ACTOR, at, reopen_note)
        write_outbox(con, fetch_alert(con, alert_id), "alert.state_changed", at,
                     {"from": cur["state"], "to": "open", "actor": ENGINE_ACTOR,
                      "note": reopen_note, "rule_version": None})
        return "reopened"
    if fingerprint is not None:
        unchanged = _same(fingerprint(cur["details"]), fingerprint(details)) and cur["title"] == title
    else:
        unchanged = (cur["title"] == title and _same(cur["score"], score)
                     and _same(cur["details"], details) and sorted(cur["topics"]) == sorted(topics))
    if unchanged:
        return None
    seq = next_seq(con)
    con.execute("UPDATE alerts SET title = ?, score = ?, details = ?, topics = ?, updated_at = ?, "
                "seq = ? WHERE id = ?", [title, score, dumps(details), topics, at, seq, alert_id])
    write_outbox(con, fetch_alert(con, alert_id), "alert.updated", at)
    return "updated"


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
