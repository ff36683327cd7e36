"""Delivery: a real SMTP server (aiosmtpd) and a real HTTP receiver on 127.0.0.1."""
import datetime as dt
import email
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from alert_helpers import (UTC, HashEmbedder, add_biometrics_development, add_development,
                           make_cfg, new_store, BIOMETRICS_ARTICLE)
from alerts.channels import Channel, ChannelConfigError, verify_signature
from alerts.deliver import deliver_pending, next_digest_time
from alerts.engine import process
from alerts.lifecycle import transition
from alerts.rules import sync_rules

REPO = Path(__file__).resolve().parents[1]
SECRET = "s3cret-for-tests"
RULE = "biometrics-workers-30-days"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content,
                                                                           policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=free_port())
    ctl.start()
    yield ctl.port, box
    ctl.stop()


class Receiver:
    """Loopback webhook receiver; answers with `statuses` in turn (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests = []
        rec = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                rec.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = rec.statuses.pop(0) if rec.statuses else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def settings(smtp_port, hook_url, mode="immediate", email_to="editor@example.org"):
    return {"smtp": {"host": "127.0.0.1", "port": smtp_port, "sender": "lawwatch@example.org"},
            "subscriber": [{"email": email_to, "mode": mode, "rules": [RULE]}],
            "webhook": [{"url": hook_url, "secret_env": "LAWWATCH_TEST_HOOK_SECRET",
                         "rules": [RULE], "max_attempts": 3}],
            "delivery": {"backoff_base_s": 30.0, "backoff_cap_s": 3600.0, "digest_hour_utc": 6}}


@pytest.fixture(autouse=True)
def secret_env(monkeypatch):
    monkeypatch.setenv("LAWWATCH_TEST_HOOK_SECRET", SECRET)


def raise_alert(store, cfg):
    sync_rules(store, cfg)
    add_biometrics_development(store)
    return process(store, cfg, embedder=HashEmbedder())


def delivery_rows(store):
    with store.read() as con:
        return con.execute("SELECT channel, target, status, attempts, last_error, response_code, "
                           "next_attempt_at FROM deliveries ORDER BY channel").fetchall()


def test_immediate_email_and_signed_webhook(tmp_path, smtp, receiver):
    port, box = smtp
    store, cfg = new_store(tmp_path), make_cfg(settings(port, receiver.url))
    raise_alert(store, cfg)
    rep = deliver_pending(store, cfg)
    assert rep.sent == 2 and rep.failed == rep.dead == 0, rep.results
    # email: one message to the subscriber, text + html
    assert len(box.messages) == 1
    rcpt, msg = box.messages[0]
    assert rcpt == ["editor@example.org"] and RULE in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert RULE in text and BIOMETRICS_ARTICLE["url"] in text
    assert "within 15 days" in html and BIOMETRICS_ARTICLE["url"] in html
    # webhook: verify the HMAC like a receiver would
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert headers["x-lawwatch-event"] == "alert.raised"
    assert headers["x-lawwatch-signature"].startswith("sha256=")
    assert verify_signature(SECRET, headers["x-lawwatch-timestamp"], body,
                            headers["x-lawwatch-signature"], tolerance_s=300)
    assert not verify_signature("wrong", headers["x-lawwatch-timestamp"], body,
                                headers["x-lawwatch-signature"])
    assert not verify_signature(SECRET, headers["x-lawwatch-timestamp"], body + b" ",
                                headers["x-lawwatch-signature"])
    assert not verify_signature(SECRET, headers["x-lawwatch-timestamp"], body,
                                headers["x-lawwatch-signature"], now=time.time() + 3600)
    p = json.loads(body)
    assert p["rule_id"] == RULE and p["development_id"] == "dev-bio" and p["stage"] == "adopted"
    assert p["event_id"] == headers["x-lawwatch-event-id"] and "biometrics" in p["topics"]
    assert p["evidence"][0]["article_id"] and p["links"][0]["url"] == BIOMETRICS_ARTICLE["url"]
    # nothing more to do; state changes go to the webhook, not the email subscriber
    assert deliver_pending(store, cfg).sent == 0
    transition(store, p["alert_id"], "acknowledged", "alice")
    rep = deliver_pending(store, cfg)
    assert rep.sent == 1 and len(receiver.requests) == 2 and len(box.messages) == 1
    assert json.loads(receiver.requests[1][1])["transition"]["to"] == "acknowledged"


def test_webhook_500_then_200_retried_with_backoff(tmp_path, smtp):
    port, _ = smtp
    rec = Receiver([500, 500])
    try:
        store, cfg = new_store(tmp_path), make_cfg(settings(port, rec.url))
        raise_alert(store, cfg)
        t0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
        rep = deliver_pending(store, cfg, now=t0)
        assert rep.sent == 1 and rep.failed == 1              # email ok, webhook 500
        hook = [r for r in delivery_rows(store) if r[0] == "webhook"][0]
        assert hook[2:4] == ("failed", 1) and hook[5] == 500 and "HTTP 500" in hook[4]
        assert hook[6] == t0 + dt.timedelta(seconds=30)
        # not yet due: nothing sent
        assert deliver_pending(store, cfg, now=t0 + dt.timedelta(seconds=10)).failed == 0
        assert len(rec.requests) == 1
        rep = deliver_pending(store, cfg, now=t0 + dt.timedelta(seconds=31))
        hook = [r for r in delivery_rows(store) if r[0] == "webhook"][0]
        assert hook[2:4] == ("failed", 2)
        assert hook[6] == t0 + dt.timedelta(seconds=31 + 60)  # doubled
        rep = deliver_pending(store, cfg, now=t0 + dt.timedelta(seconds=100))
        assert rep.sent == 1
        hook = [r for r in delivery_rows(store) if r[0] == "webhook"][0]
        assert hook[2:4] == ("sent", 3) and hook[5] == 200 and hook[4] is None
        bodies = {json.loads(b)["event_id"] for _, b in rec.requests}
        assert len(rec.requests) == 3 and len(bodies) == 1     # same event id each try
    finally:
        rec.close()


def test_dead_after_max_attempts(tmp_path, smtp):
    port, _ = smtp
    rec = Receiver([503] * 10)
    try:
        store, cfg = new_store(tmp_path), make_cfg(settings(port, rec.url))
        raise_alert(store, cfg)
        t = dt.datetime(2030, 1, 1, tzinfo=UTC)
        for i in range(4):
            deliver_pending(store, cfg, now=t + dt.timedelta(hours=i))
        hook = [r for r in delivery_rows(store) if r[0] == "webhook"][0]
        assert hook[2:4] == ("dead", 3) and len(rec.requests) == 3
    finally:
        rec.close()


def test_digest_collects_events_once_a_day(tmp_path, smtp, receiver):
    port, box = smtp
    s = settings(port, receiver.url, mode="digest")
    s["subscriber"][0]["rules"] = []
    s["subscriber"][0]["topics"] = ["biometrics"]
    s["alerts"] = {"relative_margin": 1.0}  # several reviews from one development: one digest
    store, cfg = new_store(tmp_path), make_cfg(s)
    ids = raise_alert(store, cfg)
    assert len(ids) >= 2
    created = dt.datetime.now(UTC)
    due = next_digest_time(created, 6)
    assert due.hour == 6 and due > created
    rep = deliver_pending(store, cfg, now=due - dt.timedelta(minutes=1))
    assert len(box.messages) == 0
    rep = deliver_pending(store, cfg, now=due + dt.timedelta(minutes=1))
    assert len(box.messages) == 1 and rep.sent == len(ids)     # all digest rows, one message
    _, msg = box.messages[0]
    assert "digest" in msg["Subject"].lower() and f"{len(ids)} alert change" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert all(r in text for r in ("biometrics-workers-30-days", "biometrics-non-workers-90-days"))
    assert deliver_pending(store, cfg, now=due + dt.timedelta(days=2)).sent == 0


def test_force_digest(tmp_path, smtp, receiver):
    port, box = smtp
    store, cfg = new_store(tmp_path), make_cfg(settings(port, receiver.url, mode="digest"))
    raise_alert(store, cfg)
    deliver_pending(store, cfg)
    assert box.messages == []
    deliver_pending(store, cfg, force_digest=True)
    assert len(box.messages) == 1


def test_null_target_dry_run_escapes_html(tmp_path, receiver):
    store, cfg = new_store(tmp_path), make_cfg(settings(1, receiver.url, email_to="null"))
    sync_rules(store, cfg)
    evil = {**BIOMETRICS_ARTICLE, "url": "https://example.org/evil",
            "title": "<script>alert(1)</script> fingerprinting"}
    add_development(store, "dev-evil", "<script>alert(1)</script> fingerprinting within 15 days",
                    ["biometrics"], effective_dates=["2026-03-01"], articles=[evil])
    cfg.settings["subscriber"][0]["rules"] = []
    process(store, cfg, embedder=HashEmbedder())
    rep = deliver_pending(store, cfg)
    dry = [r for r in rep.results if r["channel"] == "email"]
    assert dry and rep.dry_run == len(dry) and all(r["status"] == "sent" for r in dry)
    msg = email.message_from_string(dry[0]["rendered"], policy=policy.default)
    html = msg.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


def test_channel_registry_checks_keys():
    assert {"email", "webhook"} <= set(Channel.registry)
    with pytest.raises(ChannelConfigError, match="required key 'secret_env'"):
        Channel.from_config("webhook", {"url": "http://127.0.0.1/x"})
    with pytest.raises(ChannelConfigError, match="unknown key 'colour'.*supported keys"):
        Channel.from_config("email", {"email": "a@b", "colour": "red"})
    with pytest.raises(ChannelConfigError, match="unknown channel kind"):
        Channel.from_config("pigeon", {})


def test_missing_secret_is_a_recorded_failure(tmp_path, smtp, receiver, monkeypatch):
    port, _ = smtp
    store, cfg = new_store(tmp_path), make_cfg(settings(port, receiver.url))
    raise_alert(store, cfg)
    monkeypatch.delenv("LAWWATCH_TEST_HOOK_SECRET")
    rep = deliver_pending(store, cfg)
    err = [r for r in rep.results if r["channel"] == "webhook"][0]["error"]
    assert "LAWWATCH_TEST_HOOK_SECRET" in err and receiver.requests == []


CHILD = textwrap.dedent("""
    import json, os, sys
    from alert_helpers import make_cfg, HashEmbedder, add_biometrics_development
    from alerts.rules import sync_rules
    from alerts.engine import process
    from alerts.deliver import expand_outbox
    from store.db import Store
    settings = json.loads(sys.argv[2])
    store, cfg = Store(sys.argv[1]), make_cfg(settings)
    sync_rules(store, cfg)
    add_biometrics_development(store)
    process(store, cfg, embedder=HashEmbedder())
    if sys.argv[3] == "after-expand":
        expand_outbox(store, cfg)
    os._exit(9)        # killed before delivering anything
""")


@pytest.mark.parametrize("crash_point", ["after-raise", "after-expand"])
def test_crash_before_delivery_loses_nothing(tmp_path, smtp, receiver, crash_point):
    port, box = smtp
    db = tmp_path / "crash.duckdb"
    s = settings(port, receiver.url)
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'tests'}{os.pathsep}{REPO}"}
    r = subprocess.run([sys.executable, "-c", CHILD, str(db), json.dumps(s), crash_point],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 9, r.stderr
    # a fresh process-equivalent: new Store and Config objects
    from store.db import Store
    store, cfg = Store(db), make_cfg(s)
    rep = deliver_pending(store, cfg)
    assert rep.sent == 2
    assert len(box.messages) == 1 and len(receiver.requests) == 1
    assert deliver_pending(store, cfg).sent == 0          # exactly once per target
    assert len(box.messages) == 1 and len(receiver.requests) == 1


def test_crash_after_send_before_record_resends_same_event_id(tmp_path, smtp, receiver,
                                                             monkeypatch):
    """At-least-once: the receiver may see an event twice and dedupes on event_id."""
    import alerts.deliver as D
    port, _ = smtp
    s = settings(port, receiver.url)
    s["subscriber"] = []                     # only the webhook target
    store, cfg = new_store(tmp_path), make_cfg(s)
    raise_alert(store, cfg)
    real = D._record

    def crash(*a, **k):
        raise SystemExit("killed after sending")
    monkeypatch.setattr(D, "_record", crash)
    with pytest.raises(SystemExit):
        deliver_pending(store, cfg)
    monkeypatch.setattr(D, "_record", real)
    deliver_pending(store, cfg)
    ids = [json.loads(b)["event_id"] for _, b in receiver.requests]
    assert len(ids) == 2 and len(set(ids)) == 1
