"""Atom 1.0 (RFC 4287) feeds of alerts: all, per topic, per rule.

Entry id is a tag URI per alert (stable across updates); `updated` is the alert's last change,
so a feed reader shows an updated alert again. Content is type="html": the HTML is built with
every piece of web text escaped, and the XML serialiser escapes that HTML once more.
"""
from __future__ import annotations

import datetime as _dt
import html
import xml.etree.ElementTree as ET

from alerts.events import ALERT_COLS, row_to_alert
from alerts.config_schema import section

ATOM_NS = "http://www.w3.org/2005/Atom"
TAG_BASE = "tag:lawwatch,2025:"


def _iso(t) -> str:
    if isinstance(t, str):
        return t
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_html(a: dict) -> str:
    e = html.escape
    d = a.get("details") or {}
    parts = [f"<p><b>{e(a['kind'])}</b> &middot; state: {e(a['state'])}"
             + (f" &middot; score {a['score']:.2f}" if a.get("score") is not None else "") + "</p>"]
    if d.get("rule"):
        parts.append(f"<p>Rule <b>{e(d['rule']['id'])}</b>: {e(d['rule'].get('statement_en') or '')}</p>")
    if d.get("development"):
        parts.append(f"<p>Development: {e(d['development'].get('title') or '')}</p>")
    if d.get("stage") or d.get("effective_dates"):
        parts.append(f"<p>Stage: {e(d.get('stage') or '-')}; effective: "
                     f"{e(', '.join(d.get('effective_dates') or []) or '-')}</p>")
    if d.get("reasons"):
        parts.append("<ul>" + "".join(f"<li>{e(r)}</li>" for r in d["reasons"]) + "</ul>")
    if d.get("error"):
        parts.append(f"<p>Error: {e(d['error'])}</p>")
    for ev in d.get("evidence") or []:
        parts.append(f"<blockquote>{e(ev.get('text') or '')}</blockquote>")
    links = d.get("links") or []
    if links:
        parts.append("<ul>" + "".join(
            f"<li><a href=\"{e(ln.get('url') or '')}\">{e(ln.get('title') or ln.get('url') or '')}</a></li>"
            for ln in links if (ln.get("url") or "").startswith(("http://", "https://"))) + "</ul>")
    return "\n".join(parts)


def render_feed(alerts: list[dict], *, feed_id: str, title: str, self_url: str, base_url: str,
                now: _dt.datetime | None = None) -> str:
    """Pure: alerts (dicts as stored) -> Atom XML text."""
    ET.register_namespace("", ATOM_NS)
    q = lambda t: f"{{{ATOM_NS}}}{t}"  # noqa: E731
    feed = ET.Element(q("feed"))
    ET.SubElement(feed, q("id")).text = TAG_BASE + feed_id
    ET.SubElement(feed, q("title")).text = title
    newest = max((a["updated_at"] for a in alerts), default=None)
    ET.SubElement(feed, q("updated")).text = _iso(newest or now or _dt.datetime.now(_dt.timezone.utc))
    ET.SubElement(feed, q("link"), rel="self", href=self_url, type="application/atom+xml")
    ET.SubElement(feed, q("link"), rel="alternate", href=base_url.rstrip("/") + "/alerts")
    author = ET.SubElement(feed, q("author"))
    ET.SubElement(author, q("name")).text = "lawwatch"
    ET.SubElement(feed, q("generator")).text = "lawwatch"
    for a in alerts:
        en = ET.SubElement(feed, q("entry"))
        ET.SubElement(en, q("id")).text = f"{TAG_BASE}alert/{a['id']}"
        ET.SubElement(en, q("title")).text = f"[{a['state']}] {a['title']}"
        ET.SubElement(en, q("updated")).text = _iso(a["updated_at"])
        ET.SubElement(en, q("published")).text = _iso(a["created_at"])
        ET.SubElement(en, q("link"), rel="alternate",
                      href=f"{base_url.rstrip('/')}/alerts/{a['id']}")
        for t in a.get("topics") or []:
            ET.SubElement(en, q("category"), term=t)
        ET.SubElement(en, q("summary")).text = a["title"]
        content = ET.SubElement(en, q("content"), type="html")
        content.text = entry_html(a)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode")


def alerts_feed(store, cfg, *, topic: str | None = None, rule_id: str | None = None,
                limit: int = 100) -> str:
    """Read the newest alerts (optionally one topic's or one rule's) and render the feed."""
    base = section(cfg, "api")["public_base_url"].rstrip("/")
    sql = f"SELECT {', '.join(ALERT_COLS)} FROM alerts"
    where, params = [], []
    if topic:
        where.append("list_contains(topics, ?)")
        params.append(topic)
    if rule_id:
        where.append("rule_id = ?")
        params.append(rule_id)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY updated_at DESC, seq DESC LIMIT ?"
    params.append(int(limit))
    with store.read() as con:
        alerts = [row_to_alert(r) for r in con.execute(sql, params).fetchall()]
    if topic:
        fid, title, path = f"feed/topics/{topic}", f"lawwatch alerts: topic {topic}", \
            f"/feeds/topics/{topic}.atom"
    elif rule_id:
        fid, title, path = f"feed/rules/{rule_id}", f"lawwatch alerts: rule {rule_id}", \
            f"/feeds/rules/{rule_id}.atom"
    else:
        fid, title, path = "feed/alerts", "lawwatch alerts", "/feeds/alerts.atom"
    return render_feed(alerts, feed_id=fid, title=title, self_url=base + path, base_url=base)
