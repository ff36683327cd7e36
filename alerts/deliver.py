"""At-least-once delivery from the transactional outbox.

1. Expand: outbox events not yet expanded become `deliveries` rows, one per channel target that
   wants the event (id = stable_id(event_id, channel, target)), together with an
   `outbox_dispatch` row, in ONE transaction — so an event is expanded exactly once.
2. Send: due deliveries (pending, or failed with next_attempt_at ≤ now) are sent with NO
   database connection open (SMTP/HTTP can take seconds).
3. Record: each result in its own short transaction — `sent`; `failed` with next_attempt_at by
   exponential backoff (delivery.backoff_base_s · 2^(attempt-1), capped at backoff_cap_s);
   `dead` after the channel's max attempts.

Crash safety: a crash after an alert was raised but before delivery loses nothing — the outbox
row committed with the alert, and the next run expands and sends it. A crash after sending but
before recording re-sends on the next run (at-least-once): receivers dedupe on the stable
`event_id` (webhook body and X-Lawwatch-Event-Id header; email Message-ID is derived from the
event ids and the recipient, so mail systems see the same id).

Digest subscribers: their deliveries are due at the next `delivery.digest_hour_utc` after the
event; each run sends one message per subscriber with all its due digest deliveries.
`force_digest=True` sends them now (tests, `lawwatch alerts deliver --digest`).
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
from dataclasses import dataclass, field

from alerts.channels import Channel, SendResult, build_channels
from alerts.config_schema import section
from store.db import stable_id, utcnow

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    events_expanded: int = 0
    deliveries_created: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    dry_run: int = 0
    results: list[dict] = field(default_factory=list)   # {delivery_ids, channel, target, status, error}

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.dead == 0

    def summary(self) -> str:
        return (f"expanded {self.events_expanded} event(s) into {self.deliveries_created} "
                f"delivery(ies); sent {self.sent}, failed {self.failed}, dead {self.dead}"
                + (f", dry-run {self.dry_run}" if self.dry_run else ""))


def delivery_id(event_id: str, channel: str, target: str) -> str:
    return stable_id(event_id, channel, target)


def next_digest_time(after: _dt.datetime, hour: int) -> _dt.datetime:
    after = after.astimezone(_dt.timezone.utc)
    t = after.replace(hour=hour, minute=0, second=0, microsecond=0)
    return t if t > after else t + _dt.timedelta(days=1)


def backoff_s(attempts: int, base: float, cap: float) -> float:
    """Delay after the `attempts`-th failed try: base, 2·base, 4·base ... capped."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


def expand_outbox(store, cfg, now: _dt.datetime | None = None,
                  channels: list[Channel] | None = None) -> tuple[int, int]:
    """Turn unexpanded outbox events into deliveries rows. Returns (events, deliveries)."""
    now = now or utcnow()
    channels = build_channels(cfg) if channels is None else channels
    hour = section(cfg, "delivery")["digest_hour_utc"]
    n_events = n_created = 0
    with store.write() as con:
        rows = con.execute("SELECT o.event_id, o.payload, o.created_at FROM outbox o "
                           "LEFT JOIN outbox_dispatch x ON x.event_id = o.event_id "
                           "WHERE x.event_id IS NULL ORDER BY o.created_at, o.event_id").fetchall()
        for event_id, payload, created_at in rows:
            p = json.loads(payload) if isinstance(payload, str) else payload
            n = 0
            for ch in channels:
                if not ch.wants(p):
                    continue
                due = next_digest_time(created_at, hour) if ch.batch else None
                con.execute("INSERT INTO deliveries (id, event_id, channel, target, status, "
                            "attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', "
                            "0, ?, ?) ON CONFLICT DO NOTHING",
                            [delivery_id(event_id, ch.channel, ch.target), event_id, ch.channel,
                             ch.target, due, now])
                n += 1
            con.execute("INSERT INTO outbox_dispatch (event_id, expanded_at, deliveries) "
                        "VALUES (?, ?, ?)", [event_id, now, n])
            n_events += 1
            n_created += n
    return n_events, n_created


def _record(store, ids: list[str], res: SendResult, attempts: dict[str, int], max_attempts: int,
            now: _dt.datetime, base: float, cap: float) -> str:
    with store.write() as con:
        status = "sent"
        for did in ids:
            n = attempts[did] + 1
            if res.ok:
                con.execute("UPDATE deliveries SET status = 'sent', attempts = ?, delivered_at = ?, "
                            "response_code = ?, last_error = NULL, next_attempt_at = NULL "
                            "WHERE id = ?", [n, now, res.response_code, did])
            elif n >= max_attempts:
                status = "dead"
                con.execute("UPDATE deliveries SET status = 'dead', attempts = ?, last_error = ?, "
                            "response_code = ?, next_attempt_at = NULL WHERE id = ?",
                            [n, res.error, res.response_code, did])
            else:
                status = "failed"
                nxt = now + _dt.timedelta(seconds=backoff_s(n, base, cap))
                con.execute("UPDATE deliveries SET status = 'failed', attempts = ?, last_error = ?, "
                            "response_code = ?, next_attempt_at = ? WHERE id = ?",
                            [n, res.error, res.response_code, nxt, did])
    return status


def deliver_pending(store, cfg, now: _dt.datetime | None = None, *, force_digest: bool = False,
                    channels: list[Channel] | None = None) -> DeliveryReport:
    """Expand new outbox events, then send every due delivery and record the outcome."""
    now = now or utcnow()
    channels = build_channels(cfg) if channels is None else channels
    d = section(cfg, "delivery")
    base, cap = d["backoff_base_s"], d["backoff_cap_s"]
    report = DeliveryReport()
    report.events_expanded, report.deliveries_created = expand_outbox(store, cfg, now, channels)
    by_key = {(ch.channel, ch.target): ch for ch in channels}

    with store.read() as con:
        rows = con.execute(
            "SELECT d.id, d.channel, d.target, d.attempts, o.payload FROM deliveries d "
            "JOIN outbox o ON o.event_id = d.event_id WHERE d.status IN ('pending', 'failed') AND "
            "(d.next_attempt_at IS NULL OR d.next_attempt_at <= ? OR (? AND d.channel = 'digest')) "
            "ORDER BY o.created_at, d.id", [now, force_digest]).fetchall()
    # Group: batch channels (digest) send all of a target's due deliveries in one message.
    groups: dict[tuple, list[tuple[str, dict]]] = {}
    attempts: dict[str, int] = {}
    for did, channel, target, n, payload in rows:
        attempts[did] = int(n)
        ch = by_key.get((channel, target))
        key = (channel, target) if ch is not None and ch.batch else (channel, target, did)
        groups.setdefault(key, []).append((did, json.loads(payload)))

    for key, items in groups.items():
        channel, target = key[0], key[1]
        ids = [i for i, _ in items]
        ch = by_key.get((channel, target))
        if ch is None:
            res, max_attempts = SendResult(False, error=f"{channel} target {target!r} is no longer "
                                                        "configured in settings.toml"), 1
        else:
            max_attempts = ch.max_attempts
            try:
                res = ch.send([p for _, p in items], utcnow())     # no DB connection open here
            except Exception as exc:  # noqa: BLE001 - recorded on the delivery, retried
                log.exception("delivery via %s to %s failed", channel, target)
                res = SendResult(False, error=f"{type(exc).__name__}: {exc}")
        status = _record(store, ids, res, attempts, max_attempts, now, base, cap)
        if res.dry_run:
            report.dry_run += len(ids)
        setattr(report, status, getattr(report, status) + len(ids))
        report.results.append({"delivery_ids": ids, "channel": channel, "target": target,
                               "status": status, "error": res.error,
                               "response_code": res.response_code,
                               "rendered": res.rendered if res.dry_run else None})
    return report


def delivery_status(store, alert_id: str) -> list[dict]:
    """Delivery rows for one alert's events (for the API/dashboard: failures are visible)."""
    with store.read() as con:
        rows = con.execute(
            "SELECT d.id, d.event_id, o.event_type, d.channel, d.target, d.status, d.attempts, "
            "d.last_error, d.response_code, d.next_attempt_at, d.delivered_at FROM deliveries d "
            "JOIN outbox o ON o.event_id = d.event_id WHERE o.alert_id = ? "
            "ORDER BY d.created_at, d.id", [alert_id]).fetchall()
    cols = ("id", "event_id", "event_type", "channel", "target", "status", "attempts",
            "last_error", "response_code", "next_attempt_at", "delivered_at")
    return [dict(zip(cols, r)) for r in rows]
