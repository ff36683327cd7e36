"""Shared helpers for the alerts tests: config, a deterministic test embedder, and direct
inserts of the rows the classifier/developments stages would write (articles, tags,
change_signals, developments, development_members, sources, processing_errors)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from pathlib import Path

import numpy as np

from lawwatch.config import DEFAULT_CONFIG_DIR, SETTINGS, Config
from lawwatch.schema import validate
from alerts.config_schema import RULE
from classify.config_schema import TOPIC
from store.db import Store, stable_id

UTC = dt.timezone.utc


def make_cfg(settings: dict | None = None, rules: list[dict] | None = None) -> Config:
    """A validated Config: repo topics and rules, settings from the repo file overlaid with
    `settings` (every table given explicitly, so loader defaults do not matter)."""
    raw = tomllib.loads((DEFAULT_CONFIG_DIR / "settings.toml").read_text(encoding="utf-8"))
    for k in ("smtp", "api", "delivery", "alerts", "crawl", "classify", "developments",
              "dashboard", "store"):
        raw.setdefault(k, {})
    raw.setdefault("subscriber", [])
    raw.setdefault("webhook", [])
    for k, v in (settings or {}).items():
        if isinstance(v, dict) and isinstance(raw.get(k), dict):
            raw[k] = {**raw[k], **v}
        else:
            raw[k] = v
    s = validate(SETTINGS, raw, "settings.toml", "")
    topics = [validate(TOPIC, t, "topics.toml", "topic") for t in
              tomllib.loads((DEFAULT_CONFIG_DIR / "topics.toml").read_text("utf-8"))["topic"]]
    if rules is None:
        rules = tomllib.loads((DEFAULT_CONFIG_DIR / "rules.toml").read_text("utf-8"))["rule"]
    rules = [validate(RULE, r, "rules.toml", "rule") for r in rules]
    return Config(s, [], topics, rules, [DEFAULT_CONFIG_DIR])


def new_store(tmp_path: Path) -> Store:
    return Store(tmp_path / "alerts-test.duckdb")


_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """Deterministic bag-of-word-stems embedder with the classify.embed interface
    (`encode(texts) -> normalised vectors`). Stems = first 5 letters of words ≥ 4 letters,
    so "fingerprinting"/"fingerprints" meet. Only for tests."""
    model_id = "test-hash-256"

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in _WORD.findall(t.lower()):
                if len(w) < 4:
                    continue
                h = int(hashlib.md5(w[:5].encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            n = np.linalg.norm(out[i])
            if n:
                out[i] /= n
        return out


class BrokenEmbedder(HashEmbedder):
    """Fails on texts containing `poison` (to test that a failing item is flagged)."""

    def __init__(self, poison: str = "POISON"):
        super().__init__()
        self.poison = poison

    def encode(self, texts):
        if any(self.poison in t for t in texts):
            raise RuntimeError("embedding backend crashed on this text")
        return super().encode(texts)


def ts(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def add_article(con, url: str, title: str, body: str, *, source_id: str = "test-src",
                published: str = "2026-01-10T09:00:00", evidence: dict[str, list[str]] | None = None,
                change: tuple[bool, str | None, list[str]] | None = None) -> str:
    aid = stable_id(url)
    when = ts(published)
    con.execute("INSERT INTO articles (id, canonical_url, source_id, title, body, lang, "
                "published_at, first_seen_at, fetched_at, content_hash) VALUES "
                "(?, ?, ?, ?, ?, 'en', ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [aid, url, source_id, title, body, when, when, when,
                 hashlib.sha256(body.encode()).hexdigest()])
    for topic, texts in (evidence or {}).items():
        ev = [{"text": t, "start": body.find(t), "end": body.find(t) + len(t), "terms": [],
               "score": 0.9 - 0.01 * i} for i, t in enumerate(texts)]
        con.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?, 'test', ?)",
                    [aid, topic, 0.9, json.dumps(ev, ensure_ascii=False), when])
    if change is not None:
        con.execute("INSERT OR REPLACE INTO change_signals VALUES (?, ?, ?, ?, NULL, 'test', ?)",
                    [aid, change[0], change[1], change[2], when])
    return aid


def add_development(store: Store, dev_id: str, title: str, topics: list[str], *,
                    stage: str | None = "adopted", effective_dates: list[str] | None = None,
                    articles: list[dict], first_seen: str = "2026-01-10T09:00:00",
                    last_seen: str | None = None) -> list[str]:
    """Insert/replace a development with member articles. Each article dict: url, title, body,
    optional evidence {topic: [snippet...]}, change (is_change, stage, dates), published."""
    ids = []
    with store.write() as con:
        for a in articles:
            aid = add_article(con, a["url"], a["title"], a["body"],
                              published=a.get("published", first_seen),
                              evidence=a.get("evidence"), change=a.get("change"),
                              source_id=a.get("source_id", "test-src"))
            ids.append(aid)
            con.execute("INSERT OR REPLACE INTO development_members VALUES (?, ?, 0.8, ?)",
                        [aid, dev_id, ts(a.get("published", first_seen))])
        con.execute("DELETE FROM developments WHERE id = ?", [dev_id])
        n = con.execute("SELECT count(*) FROM development_members WHERE development_id = ?",
                        [dev_id]).fetchone()[0]
        con.execute("INSERT INTO developments (id, title, first_seen, last_seen, topics, stage, "
                    "effective_dates, n_articles, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [dev_id, title, ts(first_seen), ts(last_seen or first_seen), topics, stage,
                     effective_dates or [], n, ts(last_seen or first_seen)])
    return ids


BIOMETRICS_ARTICLE = {
    "url": "https://example.org/news/biometrics-15-days",
    "title": "Duma adopts law cutting the fingerprinting deadline for migrant workers",
    "body": ("The State Duma adopted a law under which foreign citizens arriving in Russia to work "
             "must undergo fingerprinting, photographing and a medical examination within 15 days "
             "of entry instead of 30 days. The law enters into force on 1 March 2026."),
    "evidence": {"biometrics": [
        "foreign citizens arriving in Russia to work must undergo fingerprinting, photographing "
        "and a medical examination within 15 days of entry instead of 30 days"]},
    "change": (True, "adopted", ["2026-03-01"]),
}


def add_biometrics_development(store: Store, *, stage: str = "adopted", extra_articles: int = 0,
                               last_seen: str = "2026-01-10T09:00:00") -> str:
    arts = [BIOMETRICS_ARTICLE]
    for i in range(extra_articles):
        arts.append({"url": f"https://example.org/news/biometrics-follow-{i}",
                     "title": f"Migrants must be fingerprinted within 15 days ({i})",
                     "body": f"Follow-up {i}: the fingerprinting and medical examination deadline "
                             "for foreign workers is cut to 15 days.",
                     "evidence": {"biometrics": [
                         f"fingerprinting and medical examination deadline for foreign workers is "
                         f"cut to 15 days ({i})"]},
                     "change": (True, stage, ["2026-03-01"]),
                     "published": last_seen})
    add_development(store, "dev-bio", "Fingerprinting deadline for migrant workers cut to 15 days",
                    ["biometrics"], stage=stage, effective_dates=["2026-03-01"], articles=arts,
                    last_seen=last_seen)
    return "dev-bio"


def add_source(store: Store, sid: str, *, silent_runs: int = 0, failures: int = 0,
               last_error: str | None = None, last_success_at: dt.datetime | None = None) -> None:
    with store.write() as con:
        con.execute("INSERT OR REPLACE INTO sources (id, name, adapter, kind, lang, enabled, "
                    "last_run_at, last_success_at, consecutive_failures, last_error, last_items, "
                    "silent_runs) VALUES (?, ?, 'kg24', 'news', 'ru', TRUE, ?, ?, ?, ?, 0, ?)",
                    [sid, f"Source {sid}", dt.datetime.now(UTC), last_success_at, failures,
                     last_error, silent_runs])


def alerts_rows(store: Store, kind: str | None = None) -> list[dict]:
    from alerts.events import ALERT_COLS, row_to_alert
    with store.read() as con:
        sql = f"SELECT {', '.join(ALERT_COLS)} FROM alerts"
        rows = con.execute(sql + (" WHERE kind = ?" if kind else "") + " ORDER BY seq",
                           [kind] if kind else []).fetchall()
    return [row_to_alert(r) for r in rows]


def outbox_rows(store: Store) -> list[dict]:
    with store.read() as con:
        rows = con.execute("SELECT event_id, alert_id, event_type, payload FROM outbox "
                           "ORDER BY created_at, event_id").fetchall()
    return [{"event_id": r[0], "alert_id": r[1], "event_type": r[2], "payload": json.loads(r[3])}
            for r in rows]
