"""Alert lifecycle: open → acknowledged → resolved | dismissed.

An editor may also resolve or dismiss an open alert directly (acknowledging first is optional).
Dismissing needs a reason. Resolving may carry `rule_changes`: the rule is updated in the SAME
transaction (a new rule version with a diff, linked to the alert), and the version number is
recorded on the alert's history event and in the outbox event. Reopening is the engine's
decision only (alerts.engine: the development's stage advanced / the source failed again).
Resolving a needs_human alert marks its processing_errors row resolved.
"""
from __future__ import annotations

import datetime as _dt
from typing import Iterable

from alerts.events import fetch_alert, set_state
from alerts.rules import update_rule_con
from store.db import utcnow

TRANSITIONS = {
    "open": ("acknowledged", "resolved", "dismissed"),
    "acknowledged": ("resolved", "dismissed"),
    "resolved": (),
    "dismissed": (),
}
ACTIONS = {"acknowledge": "acknowledged", "resolve": "resolved", "dismiss": "dismissed"}


class AlertNotFound(KeyError):
    def __init__(self, alert_id: str):
        self.alert_id = alert_id
        super().__init__(f"no alert with id {alert_id!r}")

    def __str__(self) -> str:
        return self.args[0]


class InvalidTransition(ValueError):
    """The requested state change is not allowed (message says what is)."""


def transition(store, alert_id: str, to_state: str, actor: str, note: str | None = None, *,
               rule_changes: dict | None = None, known_topics: Iterable[str] | None = None,
               now: _dt.datetime | None = None) -> dict:
    """Move an alert to `to_state`; returns the updated alert (with `rule_version` when a rule
    changed). Raises AlertNotFound, InvalidTransition, or RuleError for bad rule_changes."""
    to_state = ACTIONS.get(to_state, to_state)
    if to_state not in TRANSITIONS:
        raise InvalidTransition(f"unknown state {to_state!r}; states: {', '.join(TRANSITIONS)}")
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidTransition("actor: who makes the change must be named")
    note = (note or "").strip() or None
    if to_state == "dismissed" and not note:
        raise InvalidTransition(f"alert {alert_id}: dismissing needs a reason (note)")
    if rule_changes and to_state != "resolved":
        raise InvalidTransition(f"alert {alert_id}: rule_changes are only accepted when resolving")
    now = now or utcnow()
    with store.write() as con:
        alert = fetch_alert(con, alert_id)
        if alert is None:
            raise AlertNotFound(alert_id)
        allowed = TRANSITIONS[alert["state"]]
        if to_state not in allowed:
            raise InvalidTransition(
                f"alert {alert_id} is {alert['state']}; it can go to "
                f"{', '.join(allowed) if allowed else 'no other state (closed)'}, not {to_state}")
        rule_version = None
        if rule_changes:
            if not alert.get("rule_id"):
                raise InvalidTransition(f"alert {alert_id} ({alert['kind']}) concerns no rule; "
                                        "rule_changes cannot apply")
            rule_version = update_rule_con(
                con, alert["rule_id"], rule_changes, actor,
                f"resolves alert {alert_id}" + (f": {note}" if note else ""),
                known_topics=known_topics, alert_id=alert_id, at=now)
        new = set_state(con, alert, to_state, actor.strip(), now, note, rule_version)
        if to_state == "resolved" and alert["kind"] == "needs_human":
            stage = (alert["details"] or {}).get("stage")
            con.execute("UPDATE processing_errors SET resolved = TRUE WHERE article_id = ? "
                        "AND stage = ?", [alert["article_id"], stage])
    new["rule_version"] = rule_version
    return new
