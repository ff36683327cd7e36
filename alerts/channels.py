"""Delivery channels, registered by kind (urlwatch's TrackSubClasses pattern).

Each subclass declares `__kind__`, `__required__` (keys that must be present) and
`__optional__` (key -> default). `Channel.from_config(kind, conf, context)` files the config
under its kind, raises on a missing key and names unknown keys beside the supported ones.

- `email`: SMTP (smtplib); `mode = "immediate"` sends one message per event, `"digest"` one
  daily message with all that subscriber's undelivered events. Text + HTML parts; every piece
  of text from the web is HTML-escaped in the HTML part. A target `null` / `null:...` is a dry
  run: nothing is sent and the result carries the message that would have been.
- `webhook`: POST of a JSON payload (stable `event_id`, alert/rule/development ids, topics,
  stage, evidence, links) signed with HMAC-SHA256: header
  `X-Lawwatch-Signature: sha256=<hex of HMAC(secret, "{timestamp}.{body}")>` and
  `X-Lawwatch-Timestamp`. Receivers check it with `verify_signature` and dedupe on event_id
  (delivery is at-least-once).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import html
import json
import os
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, ClassVar

import httpx

EMAIL_EVENTS = ("alert.raised", "alert.updated")       # + state_changed back to open (reopen)


class ChannelConfigError(ValueError):
    pass


@dataclass
class SendResult:
    ok: bool
    response_code: int | None = None
    error: str | None = None
    dry_run: bool = False
    rendered: Any = None               # what was (or, dry run, would have been) sent


class Channel:
    """Base of all channel kinds. Subclasses register themselves by `__kind__`."""
    __kind__: ClassVar[str | None] = None
    __required__: ClassVar[tuple[str, ...]] = ()
    __optional__: ClassVar[dict[str, Any]] = {}
    registry: ClassVar[dict[str, type["Channel"]]] = {}

    channel: str = ""                  # value of deliveries.channel
    target: str = ""                   # value of deliveries.target
    max_attempts: int = 8
    batch: bool = False                # True: all due deliveries of a target go in one send

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.__kind__:
            if cls.__kind__ in Channel.registry:
                raise TypeError(f"channel kind {cls.__kind__!r} registered twice")
            Channel.registry[cls.__kind__] = cls

    def __init__(self, conf: dict, context: dict):
        self.conf = conf
        self.context = context

    @classmethod
    def from_config(cls, kind: str, conf: dict, context: dict | None = None) -> "Channel":
        if kind not in Channel.registry:
            raise ChannelConfigError(f"unknown channel kind {kind!r}; known kinds: "
                                     f"{', '.join(sorted(Channel.registry))}")
        sub = Channel.registry[kind]
        supported = set(sub.__required__) | set(sub.__optional__)
        missing = [k for k in sub.__required__ if k not in conf]
        if missing:
            raise ChannelConfigError(f"{kind} channel: required key {missing[0]!r} is missing "
                                     f"(required: {', '.join(sub.__required__)})")
        unknown = sorted(k for k in conf if k not in supported)
        if unknown:
            raise ChannelConfigError(f"{kind} channel: unknown key {unknown[0]!r}; supported keys: "
                                     f"{', '.join(sorted(supported))}")
        full = {**{k: (v() if callable(v) else v) for k, v in sub.__optional__.items()}, **conf}
        return sub(full, context or {})

    @classmethod
    def help(cls) -> dict[str, str]:
        return {k: (c.__doc__ or "").strip().splitlines()[0] for k, c in Channel.registry.items()}

    # -- filtering -----------------------------------------------------------------------
    def wants(self, payload: dict) -> bool:
        if payload.get("kind") not in self.conf.get("kinds", ()):
            return False
        if payload.get("kind") == "rule_review":
            topics, rules = self.conf.get("topics") or [], self.conf.get("rules") or []
            if topics or rules:
                return bool(set(topics) & set(payload.get("topics") or [])) or \
                    payload.get("rule_id") in rules
        return True

    def send(self, payloads: list[dict], now: _dt.datetime) -> SendResult:
        raise NotImplementedError


# -- rendering helpers -------------------------------------------------------------------------
def alert_url(context: dict, alert_id: str) -> str:
    return f"{context.get('public_base_url', '').rstrip('/')}/alerts/{alert_id}"


_EVENT_LABEL = {"alert.raised": "New", "alert.updated": "Updated", "alert.state_changed": "Changed"}


def _event_label(p: dict) -> str:
    t = p.get("transition") or {}
    if p.get("event_type") == "alert.state_changed" and t.get("to") == "open":
        return "Reopened"
    return _EVENT_LABEL.get(p.get("event_type"), p.get("event_type") or "")


def _text_section(p: dict, context: dict) -> str:
    d = p.get("details") or {}
    lines = [f"{_event_label(p)}: {p['title']}", f"Kind: {p['kind']}   State: {p['state']}"]
    if p.get("transition"):
        t = p["transition"]
        lines.append(f"Transition: {t.get('from')} -> {t.get('to')} by {t.get('actor')}"
                     + (f" ({t.get('note')})" if t.get("note") else ""))
    if d.get("rule"):
        lines.append(f"Rule {d['rule']['id']} (v{d['rule'].get('version')}): "
                     f"{d['rule'].get('statement_en')}")
    if d.get("development"):
        lines.append(f"Development {d['development']['id']}: {d['development'].get('title')}")
    if p.get("stage") or p.get("effective_dates"):
        lines.append(f"Stage: {p.get('stage') or '-'}   Effective: "
                     f"{', '.join(p.get('effective_dates') or []) or '-'}")
    if p.get("topics"):
        lines.append(f"Topics: {', '.join(p['topics'])}")
    if p.get("score") is not None:
        lines.append(f"Score: {p['score']:.2f}")
    for r in d.get("reasons") or []:
        lines.append(f"  - {r}")
    if d.get("error"):
        lines.append(f"Error: {d['error']}")
    if p.get("evidence"):
        lines.append("Evidence:")
        for e in p["evidence"]:
            lines.append(f"  \"{e.get('text')}\" [{e.get('article_id')}] {e.get('url') or ''}")
    if p.get("links"):
        lines.append("Sources:")
        for ln in p["links"]:
            lines.append(f"  {ln.get('title') or ''} <{ln.get('url')}>")
    lines.append(f"Alert: {alert_url(context, p['alert_id'])}")
    return "\n".join(lines)


def _safe_href(url: str | None) -> str:
    u = url or ""
    return html.escape(u, quote=True) if u.startswith(("http://", "https://")) else "#"


def _html_section(p: dict, context: dict) -> str:
    e = html.escape
    d = p.get("details") or {}
    out = [f"<h3>{e(_event_label(p))}: {e(p['title'])}</h3>",
           f"<p>Kind: {e(p['kind'])} &middot; State: {e(p['state'])}</p>"]
    if p.get("transition"):
        t = p["transition"]
        out.append(f"<p>Transition: {e(str(t.get('from')))} &rarr; {e(str(t.get('to')))} by "
                   f"{e(str(t.get('actor')))}{(' (' + e(t['note']) + ')') if t.get('note') else ''}</p>")
    if d.get("rule"):
        out.append(f"<p><b>Rule {e(d['rule']['id'])}</b> (v{e(str(d['rule'].get('version')))}): "
                   f"{e(d['rule'].get('statement_en') or '')}</p>")
    if d.get("development"):
        out.append(f"<p><b>Development</b> {e(d['development']['id'])}: "
                   f"{e(d['development'].get('title') or '')}</p>")
    if p.get("stage") or p.get("effective_dates"):
        out.append(f"<p>Stage: {e(p.get('stage') or '-')} &middot; Effective: "
                   f"{e(', '.join(p.get('effective_dates') or []) or '-')}</p>")
    if d.get("reasons"):
        out.append("<ul>" + "".join(f"<li>{e(r)}</li>" for r in d["reasons"]) + "</ul>")
    if d.get("error"):
        out.append(f"<p>Error: <code>{e(d['error'])}</code></p>")
    if p.get("evidence"):
        out.append("<p>Evidence:</p><ul>" + "".join(
            f"<li>&ldquo;{e(x.get('text') or '')}&rdquo; "
            f"<a href=\"{_safe_href(x.get('url'))}\">{e(x.get('article_id') or '')}</a></li>"
            for x in p["evidence"]) + "</ul>")
    if p.get("links"):
        out.append("<p>Sources:</p><ul>" + "".join(
            f"<li><a href=\"{_safe_href(ln.get('url'))}\">{e(ln.get('title') or ln.get('url') or '')}"
            f"</a></li>" for ln in p["links"]) + "</ul>")
    out.append(f"<p><a href=\"{_safe_href(alert_url(context, p['alert_id']))}\">Open the alert</a></p>")
    return "\n".join(out)


# -- email ---------------------------------------------------------------------------------------
def _listify():
    return []


class EmailChannel(Channel):
    """Email to a subscriber over SMTP: immediately per event, or a daily digest."""
    __kind__ = "email"
    __required__ = ("email",)
    __optional__ = {"mode": "immediate", "topics": _listify, "rules": _listify,
                    "kinds": lambda: ["rule_review", "source_silent", "needs_human"]}

    def __init__(self, conf, context):
        super().__init__(conf, context)
        if conf["mode"] not in ("immediate", "digest"):
            raise ChannelConfigError(f"email channel {conf['email']}: mode must be immediate or "
                                     f"digest, not {conf['mode']!r}")
        self.target = conf["email"]
        self.channel = "digest" if conf["mode"] == "digest" else "email"
        self.batch = conf["mode"] == "digest"
        self.max_attempts = int(context.get("delivery", {}).get("max_attempts", 8))

    @property
    def dry(self) -> bool:
        return self.target == "null" or self.target.startswith("null:")

    def wants(self, payload: dict) -> bool:
        et = payload.get("event_type")
        t = payload.get("transition") or {}
        if et not in EMAIL_EVENTS and not (et == "alert.state_changed" and t.get("to") == "open"):
            return False
        return super().wants(payload)

    def render(self, payloads: list[dict], now: _dt.datetime) -> EmailMessage:
        smtp = self.context.get("smtp", {})
        msg = EmailMessage()
        msg["From"] = smtp.get("sender", "lawwatch@localhost")
        msg["To"] = self.target
        msg["Date"] = formatdate(now.timestamp(), usegmt=True)
        ids = sorted(p["event_id"] for p in payloads)
        key = hashlib.sha1(("|".join(ids) + self.target).encode()).hexdigest()[:20]
        msg["Message-ID"] = f"<{key}@lawwatch>"
        msg["X-Lawwatch-Event-Ids"] = ", ".join(ids)
        if self.batch:
            msg["Subject"] = (f"[lawwatch] Daily digest {now.date().isoformat()}: "
                              f"{len(payloads)} alert change(s)")
            text = "\n\n-----\n\n".join(_text_section(p, self.context) for p in payloads)
            body_html = "<hr>".join(_html_section(p, self.context) for p in payloads)
            head = f"<h2>lawwatch digest: {len(payloads)} alert change(s)</h2>"
        else:
            p = payloads[0]
            msg["Subject"] = f"[lawwatch] {_event_label(p)}: {p['title']}"[:250]
            text = _text_section(p, self.context)
            body_html = _html_section(p, self.context)
            head = ""
        msg.set_content(text)
        msg.add_alternative(f"<!doctype html><html><body>{head}{body_html}</body></html>",
                            subtype="html")
        return msg

    def send(self, payloads: list[dict], now: _dt.datetime) -> SendResult:
        msg = self.render(payloads, now)
        if self.dry:
            return SendResult(True, dry_run=True, rendered=msg.as_string())
        smtp = self.context.get("smtp", {})
        try:
            with smtplib.SMTP(smtp.get("host", "localhost"), int(smtp.get("port", 25)),
                              timeout=float(smtp.get("timeout_s", 15.0))) as s:
                if smtp.get("starttls"):
                    s.starttls()
                if smtp.get("username"):
                    env = smtp.get("password_env") or ""
                    if not env or env not in os.environ:
                        return SendResult(False, error=f"smtp.password_env: environment variable "
                                                       f"{env or '(unset)'} is not set")
                    s.login(smtp["username"], os.environ[env])
                refused = s.send_message(msg, from_addr=smtp.get("sender"), to_addrs=[self.target])
        except smtplib.SMTPResponseException as exc:
            return SendResult(False, response_code=exc.smtp_code,
                              error=f"SMTP {smtp.get('host')}:{smtp.get('port')}: {exc.smtp_code} "
                                    f"{exc.smtp_error!r}")
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult(False, error=f"SMTP {smtp.get('host')}:{smtp.get('port')}: "
                                           f"{type(exc).__name__}: {exc}")
        if refused:
            return SendResult(False, error=f"SMTP refused recipient(s): {refused}")
        return SendResult(True, response_code=250, rendered=msg.as_string())


# -- webhook -------------------------------------------------------------------------------------
def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes | str, header: str | None,
                     tolerance_s: float = 300.0, now: float | None = None) -> bool:
    """For receivers: True when `header` (X-Lawwatch-Signature) is the HMAC-SHA256 of
    "{timestamp}.{body}" under `secret` and `timestamp` (X-Lawwatch-Timestamp, unix seconds) is
    within `tolerance_s` of now (replay protection). Constant-time comparison."""
    if not header or not timestamp:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - ts) > tolerance_s:
        return False
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hmac.compare_digest(sign(secret, str(ts), body), header.strip())


def webhook_body(p: dict, context: dict) -> bytes:
    obj = {k: p.get(k) for k in ("event_id", "event_type", "occurred_at", "alert_id", "kind",
                                 "state", "title", "score", "seq", "rule_id", "development_id",
                                 "source_id", "article_id", "topics", "stage", "effective_dates",
                                 "evidence", "links", "transition")}
    d = p.get("details") or {}
    obj["reasons"] = d.get("reasons") or []
    obj["rule"] = d.get("rule")
    obj["development"] = d.get("development")
    obj["alert_url"] = alert_url(context, p["alert_id"])
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class WebhookChannel(Channel):
    """Signed JSON POST to a URL (HMAC-SHA256, secret from an environment variable)."""
    __kind__ = "webhook"
    __required__ = ("url", "secret_env")
    __optional__ = {"topics": _listify, "rules": _listify, "max_attempts": 8, "timeout_s": 10.0,
                    "kinds": lambda: ["rule_review", "source_silent", "needs_human"]}

    def __init__(self, conf, context):
        super().__init__(conf, context)
        self.target = conf["url"]
        self.channel = "webhook"
        self.max_attempts = int(conf["max_attempts"])

    def render(self, p: dict, now: _dt.datetime) -> tuple[bytes, dict[str, str]]:
        secret = os.environ.get(self.conf["secret_env"])
        if not secret:
            raise ChannelConfigError(f"webhook {self.target}: environment variable "
                                     f"{self.conf['secret_env']!r} (secret_env) is not set")
        body = webhook_body(p, self.context)
        ts = str(int(now.timestamp()))
        headers = {"Content-Type": "application/json", "User-Agent": "lawwatch-webhook/1",
                   "X-Lawwatch-Event": p["event_type"], "X-Lawwatch-Event-Id": p["event_id"],
                   "X-Lawwatch-Timestamp": ts, "X-Lawwatch-Signature": sign(secret, ts, body)}
        return body, headers

    def send(self, payloads: list[dict], now: _dt.datetime) -> SendResult:
        (p,) = payloads
        try:
            body, headers = self.render(p, now)
        except ChannelConfigError as exc:
            return SendResult(False, error=str(exc))
        try:
            r = httpx.post(self.target, content=body, headers=headers,
                           timeout=float(self.conf["timeout_s"]), follow_redirects=False)
        except httpx.HTTPError as exc:
            return SendResult(False, error=f"POST {self.target}: {type(exc).__name__}: {exc}")
        if 200 <= r.status_code < 300:
            return SendResult(True, response_code=r.status_code)
        return SendResult(False, response_code=r.status_code,
                          error=f"POST {self.target}: HTTP {r.status_code} {r.text[:200]!r}")


# -- from config -----------------------------------------------------------------------------------
def build_channels(cfg) -> list[Channel]:
    """One channel per [[subscriber]] (email) and [[webhook]] in settings."""
    from alerts.config_schema import entries, section
    context = {"smtp": section(cfg, "smtp"), "delivery": section(cfg, "delivery"),
               "public_base_url": section(cfg, "api")["public_base_url"]}
    out: list[Channel] = []
    for s in entries(cfg, "subscriber"):
        out.append(Channel.from_config("email", {k: s[k] for k in ("email", "mode", "topics",
                                                                    "rules", "kinds") if k in s},
                                       context))
    for w in entries(cfg, "webhook"):
        out.append(Channel.from_config("webhook", dict(w), context))
    return out
