"""Raise alerts: rule reviews from developments, silent/failing sources, items needing a human.

`process(store, cfg, development_ids=None)` runs three passes:

1. rule_review — every (active rule, development) pair is scored by `alerts.match.match_rule`;
   a match raises ONE alert per pair (id = stable_id("rule_review", rule, development)). More
   articles on the development update that alert (details, score, seq); a rerun with nothing
   new changes nothing. A resolved/dismissed alert stays closed unless the development's stage
   advances (alerts.match.stage_advanced): then it is reopened, because a bill that was
   "proposed" when an editor dismissed it is a different question once it is "signed".
   Matching one development that raises an exception writes a `processing_errors` row (stage
   "match") for each of its articles — flagged for a human, never dropped — and goes on.
2. source_silent — from `sources` health (silent_runs ≥ crawl.silent_after_runs or
   consecutive_failures ≥ crawl.failures_before_alert). A recovered source auto-resolves its
   open alert (actor "engine"); a closed alert is reopened when the source fails again after
   it recovered (auto-resolved, or a success recorded after the alert was last touched).
3. needs_human — one alert per unresolved `processing_errors` row; reopened when the same item
   fails again later; auto-resolved when the row is marked resolved.

Database work is short transactions; embeddings are computed with no connection open.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from alerts import match as M
from alerts.config_schema import section
from alerts.events import (CLOSED_STATES, ENGINE_ACTOR, OPEN_STATES, fetch_alert, row_to_alert,
                           ALERT_COLS, set_state, upsert_alert, upsert_alerts)
from alerts.rules import list_rules
from store.db import stable_id, utcnow

log = logging.getLogger(__name__)


# -- embedder ------------------------------------------------------------------------------
def get_embedder(cfg, store=None) -> Any:
    """The embedder for matching: `classify.embed.get_embedder(<alerts.embed_backend>)` (default
    "use", multilingual: rules are matched in en and ru; cached per process by classify.embed),
    wrapped with the `embeddings` table cache when a store is given."""
    from classify import embed as _embed  # the one module that imports embedding models
    base = _embed.get_embedder(section(cfg, "alerts")["embed_backend"])
    # workers=None: a big batch of snippets is encoded in worker processes, one call per
    # development as in-process (classify.embed.encode_many)
    return _embed.CachedEmbedder(store, base, workers=None) if store is not None else base


def _resolve_embedder(store, cfg, embedder):
    """Explicit embedder, else the configured one; None (fail open) when it cannot be loaded."""
    if embedder is not None:
        return embedder, None
    try:
        return get_embedder(cfg, store), None
    except Exception as exc:  # noqa: BLE001 - reported in every alert's reasons
        log.warning("alerts: no embedder (%s); matching on topics alone", exc)
        return None, f"{type(exc).__name__}: {exc}"


def _encode(embedder, texts: list[str]) -> np.ndarray:
    vecs = np.asarray(embedder.encode(texts), dtype=np.float32)
    if vecs.ndim != 2 or vecs.shape[0] != len(texts):
        raise ValueError(f"embedder returned shape {vecs.shape} for {len(texts)} texts")
    return vecs


# -- loading -------------------------------------------------------------------------------
@dataclass
class Development:
    id: str
    title: str
    first_seen: Any
    last_seen: Any
    topics: list[str]
    stage: str | None
    effective_dates: list[str]
    n_articles: int
    members: list[dict] = field(default_factory=list)     # article_id, url, title, ...
    snippets: list[dict] = field(default_factory=list)    # article_id, topic, text, score
    any_change_signal: bool = False

    def texts(self) -> list[str]:
        return [self.title] + [s["text"] for s in self.snippets]


def _load_developments(con, development_ids: Sequence[str] | None, since=None,
                       max_snippets: int = 60) -> list[Development]:
    sql = ("SELECT id, title, first_seen, last_seen, topics, stage, effective_dates, n_articles "
           "FROM developments")
    where, params = [], []
    if development_ids is not None:
        if not development_ids:
            return []
        where.append("list_contains(?::VARCHAR[], id)")
        params.append(list(development_ids))
    if since is not None:
        where.append("last_seen >= ?")
        params.append(since)
    if where:
        sql += " WHERE " + " AND ".join(where)
    devs = [Development(r[0], r[1], r[2], r[3], list(r[4] or []), r[5], list(r[6] or []),
                        int(r[7] or 0)) for r in con.execute(sql + " ORDER BY id", params).fetchall()]
    if not devs:
        return devs
    by_id = {d.id: d for d in devs}
    ids = list(by_id)
    for r in con.execute(
            "SELECT m.development_id, a.id, a.canonical_url, a.title, a.source_id, a.published_at, "
            "a.first_seen_at FROM development_members m JOIN articles a ON a.id = m.article_id "
            "WHERE list_contains(?::VARCHAR[], m.development_id) "
            "ORDER BY coalesce(a.published_at, a.first_seen_at), a.id", [ids]).fetchall():
        by_id[r[0]].members.append({"article_id": r[1], "url": r[2], "title": r[3],
                                    "source_id": r[4], "published_at": r[5] or r[6]})
    for r in con.execute(
            "SELECT m.development_id, t.article_id, t.topic, t.evidence FROM development_members m "
            "JOIN tags t ON t.article_id = m.article_id "
            "WHERE list_contains(?::VARCHAR[], m.development_id) ORDER BY t.article_id, t.topic",
            [ids]).fetchall():
        try:
            items = json.loads(r[3]) if isinstance(r[3], str) else (r[3] or [])
        except json.JSONDecodeError:
            items = []
        for ev in items if isinstance(items, list) else []:
            text = (ev.get("text") or "").strip() if isinstance(ev, dict) else ""
            if text:
                by_id[r[0]].snippets.append({"article_id": r[1], "topic": r[2], "text": text,
                                             "score": float(ev.get("score") or 0.0)})
    for r in con.execute(
            "SELECT DISTINCT m.development_id FROM development_members m JOIN change_signals c "
            "ON c.article_id = m.article_id WHERE c.is_change AND "
            "list_contains(?::VARCHAR[], m.development_id)", [ids]).fetchall():
        by_id[r[0]].any_change_signal = True
    for d in devs:
        seen, uniq = set(), []
        for s in sorted(d.snippets, key=lambda s: (-s["score"], s["article_id"], s["text"])):
            if s["text"] not in seen:
                seen.add(s["text"])
                uniq.append(s)
        d.snippets = uniq[:max_snippets]
    return devs


# -- rule_review -----------------------------------------------------------------------------
def _rule_texts(rule: dict) -> list[str]:
    return [t for t in (rule["statement_en"], rule.get("statement_ru") or "") if t.strip()]


def _details(rule: dict, dev: Development, res: M.MatchResult, threshold: float,
             max_evidence: int, embed_error: str | None) -> dict:
    url_of = {m["article_id"]: m["url"] for m in dev.members}
    snippets = list(enumerate(dev.snippets))
    if res.snippet_scores:
        # snippet_scores[0] is the title; snippets start at 1
        snippets.sort(key=lambda p: -res.snippet_scores[p[0] + 1])
    evidence = []
    for i, s in snippets[:max_evidence]:
        evidence.append({"article_id": s["article_id"], "url": url_of.get(s["article_id"]),
                         "topic": s["topic"], "text": s["text"],
                         "similarity": (round(res.snippet_scores[i + 1], 4)
                                        if res.snippet_scores else None)})
    return {
        "rule": {"id": rule["id"], "version": rule["version"], "statement_en": rule["statement_en"],
                 "statement_ru": rule.get("statement_ru") or "", "topics": rule["topics"],
                 "last_reviewed": rule.get("last_reviewed")},
        "development": {"id": dev.id, "title": dev.title, "topics": dev.topics,
                        "first_seen": dev.first_seen, "last_seen": dev.last_seen,
                        "n_articles": dev.n_articles or len(dev.members)},
        "stage": dev.stage,
        "effective_dates": dev.effective_dates,
        "matched_topics": res.topics,
        "score": round(res.score, 4),
        "similarity": None if res.similarity is None else round(res.similarity, 4),
        "threshold": threshold,
        "reasons": res.reasons,
        "embedding_error": embed_error,
        "evidence": evidence,
        "links": [{"article_id": m["article_id"], "url": m["url"], "title": m["title"],
                   "source_id": m["source_id"], "published_at": m["published_at"]}
                  for m in dev.members],
    }


def _flag_match_failure(con, dev: Development, exc: BaseException, at) -> None:
    ids = [m["article_id"] for m in dev.members] or [dev.id]
    msg = f"matching development {dev.id} against rules failed: {type(exc).__name__}: {exc}"
    for aid in ids:
        con.execute("INSERT INTO processing_errors (article_id, stage, error, occurred_at, resolved) "
                    "VALUES (?, 'match', ?, ?, FALSE) ON CONFLICT (article_id, stage) DO UPDATE "
                    "SET error = excluded.error, occurred_at = excluded.occurred_at, "
                    "resolved = FALSE", [aid, msg[:2000], at])


# Developments whose alerts are written in one transaction (see _match_developments).
WRITE_DEVELOPMENTS = 256


def _dev_vectors(embedder, devs: list[Development], need: list[bool]) -> dict[str, Any]:
    """Vectors of each development's texts (title + snippets), or the exception encoding them
    raised. Only developments with `need` are encoded: one no rule can match needs none.

    With a caching embedder (`encode_groups`) all of them go through ONE cache read and ONE
    cache write, each development's misses still encoded on their own (same vectors as one
    call per development); if that fails, one call per development isolates the culprit."""
    out: dict[str, Any] = {}
    todo = [d for d, n in zip(devs, need) if n]
    if embedder is None or not todo:
        return out
    groups = getattr(embedder, "encode_groups", None)
    if groups is not None:
        try:
            texts = [d.texts() for d in todo]
            for d, t, v in zip(todo, texts, groups(texts)):
                v = np.asarray(v, dtype=np.float32)
                if v.ndim != 2 or v.shape[0] != len(t):
                    raise ValueError(f"embedder returned shape {v.shape} for {len(t)} texts")
                out[d.id] = v
            return out
        except Exception:  # noqa: BLE001 - find which development fails, below
            out = {}
    for d in todo:
        try:
            out[d.id] = _encode(embedder, d.texts())
        except Exception as exc:  # noqa: BLE001 - flagged for a human by the caller
            out[d.id] = exc
    return out


def _match_developments(store, cfg, devs: list[Development], rules: list[dict], embedder,
                        embed_error: str | None, now) -> list[str]:
    st = section(cfg, "alerts")
    threshold, require_change = st["match_threshold"], st["require_change"]
    rule_vecs: dict[str, np.ndarray | None] = {}
    if embedder is not None and rules:
        try:
            texts = [t for r in rules for t in _rule_texts(r)]
            allv = _encode(embedder, texts)
            k = 0
            for r in rules:
                n = len(_rule_texts(r))
                rule_vecs[r["id"]] = allv[k:k + n]
                k += n
        except Exception as exc:  # noqa: BLE001 - fail open, said in each alert
            log.warning("alerts: encoding rule statements failed: %s", exc)
            embed_error, embedder = f"{type(exc).__name__}: {exc}", None
    changed: list[str] = []
    need = [any(M.needs_similarity(rule_topics=r["topics"], dev_topics=d.topics,
                                   stage=d.stage, effective_dates=d.effective_dates,
                                   any_change_signal=d.any_change_signal,
                                   require_change=require_change,
                                   last_reviewed=r.get("last_reviewed"),
                                   last_seen=d.last_seen) for r in rules) for d in devs]
    vectors = _dev_vectors(embedder, devs, need)
    # The writes of a group of developments share one transaction (the alerts of a
    # development are computed with no connection open, exactly as before; the group is
    # written in the same order, so alert seq numbers are the same).
    for k in range(0, len(devs), WRITE_DEVELOPMENTS):
        group = devs[k:k + WRITE_DEVELOPMENTS]
        outcomes: list[tuple[Development, list, BaseException | None]] = []
        for dev in group:
            matches: list[tuple[dict, M.MatchResult]] = []
            failure: BaseException | None = None
            try:
                dev_vecs = vectors.get(dev.id) if embedder is not None else None
                if isinstance(dev_vecs, BaseException):
                    raise dev_vecs
                for r in rules:
                    res = M.match_rule(rule_topics=r["topics"], dev_topics=dev.topics,
                                       rule_vecs=rule_vecs.get(r["id"]), snippet_vecs=dev_vecs,
                                       threshold=threshold, stage=dev.stage,
                                       effective_dates=dev.effective_dates,
                                       any_change_signal=dev.any_change_signal,
                                       require_change=require_change,
                                       last_reviewed=r.get("last_reviewed"), last_seen=dev.last_seen)
                    if res.matched:
                        matches.append((r, res))
            except Exception as exc:  # noqa: BLE001 - flagged for a human below, never dropped
                log.exception("alerts: matching development %s failed", dev.id)
                failure = exc
            if failure is None and matches:
                keep = set(M.select_matches([(r["id"], res.score) for r, res in matches],
                                            margin=st["relative_margin"],
                                            max_rules=st["max_rules_per_development"]))
                matches = [(r, res) for r, res in matches if r["id"] in keep]
            details = [(r, res, _details(r, dev, res, threshold, st["max_evidence"], embed_error))
                       for r, res in matches] if failure is None else []
            outcomes.append((dev, details, failure))
        with store.write() as con:
            # the current rows of the alerts this group may touch, in one query
            ids = [stable_id("rule_review", r["id"], dev.id)
                   for dev, details, _ in outcomes for r, _, _ in details]
            current = {row[0]: row_to_alert(row) for row in con.execute(
                f"SELECT {', '.join(ALERT_COLS)} FROM alerts WHERE id IN "
                "(SELECT unnest(?::VARCHAR[]))", [ids]).fetchall()} if ids else {}
            # matching worked for these developments: their members' 'match' errors are
            # resolved (one statement; an article belongs to one development, so this touches
            # no row a failure below flags)
            resolved = [aid for dev, _, failure in outcomes if failure is None
                        for aid in ([m["article_id"] for m in dev.members] or [dev.id])]
            if resolved:
                con.execute("UPDATE processing_errors SET resolved = TRUE WHERE stage = 'match' AND "
                            "NOT resolved AND list_contains(?::VARCHAR[], article_id)", [resolved])
            specs: list[dict] = []
            for dev, details, failure in outcomes:
                if failure is not None:
                    _flag_match_failure(con, dev, failure, now)
                    continue
                for r, res, det in details:
                    aid = stable_id("rule_review", r["id"], dev.id)
                    reopen = None
                    cur = current.get(aid)
                    if cur is not None and cur["state"] in CLOSED_STATES:
                        old_stage = (cur["details"] or {}).get("stage")
                        if M.stage_advanced(old_stage, dev.stage):
                            reopen = f"development stage advanced: {old_stage or '(none)'} → {dev.stage}"
                    title = f"Rule may need review: {r['id']} — {dev.title}"[:300]
                    specs.append(dict(alert_id=aid, kind="rule_review", title=title,
                                      score=round(res.score, 4), details=det,
                                      topics=sorted(r["topics"]), at=now, rule_id=r["id"],
                                      development_id=dev.id, reopen_note=reopen, current=cur))
            # in order, as one upsert_alert per spec would (new alerts in set-based statements)
            for spec, outcome in zip(specs, upsert_alerts(con, specs)):
                if outcome:
                    changed.append(spec["alert_id"])
    return changed


# -- source_silent ---------------------------------------------------------------------------
def _source_pass(store, cfg, now) -> list[str]:
    crawl = section(cfg, "crawl")
    silent_after, fail_after = crawl["silent_after_runs"], crawl["failures_before_alert"]
    changed: list[str] = []
    with store.write() as con:
        rows = con.execute("SELECT id, name, adapter, kind, enabled, last_run_at, last_success_at, "
                           "consecutive_failures, last_error, last_items, silent_runs FROM sources "
                           "ORDER BY id").fetchall()
        for (sid, name, adapter, kind, enabled, last_run, last_ok, fails, last_error, last_items,
             silent) in rows:
            aid = stable_id("source_silent", sid)
            cur = fetch_alert(con, aid)
            reasons = []
            if silent >= silent_after:
                reasons.append(f"silent for {silent} runs (threshold {silent_after})")
            if fails >= fail_after:
                reasons.append(f"{fails} consecutive failures (threshold {fail_after})")
            if not reasons or not enabled:
                if cur is not None and cur["state"] in OPEN_STATES:
                    set_state(con, cur, "resolved", ENGINE_ACTOR, now,
                              "source recovered" if enabled else "source disabled")
                    changed.append(aid)
                continue
            details = {"source": {"id": sid, "name": name, "adapter": adapter, "kind": kind},
                       "reasons": reasons, "silent_runs": silent, "consecutive_failures": fails,
                       "silent_after_runs": silent_after, "failures_before_alert": fail_after,
                       "last_error": last_error, "last_run_at": last_run,
                       "last_success_at": last_ok, "last_items": last_items}
            reopen = None
            if cur is not None and cur["state"] in CLOSED_STATES:
                last = con.execute("SELECT actor FROM alert_events WHERE alert_id = ? "
                                   "ORDER BY seq DESC LIMIT 1", [aid]).fetchone()
                if (last and last[0] == ENGINE_ACTOR) or (last_ok is not None
                                                          and last_ok > cur["updated_at"]):
                    reopen = "source went silent/failing again after recovering"
            kinds = [("silent" if "silent" in r else "failing") for r in reasons]
            title = f"Source {'silent' if 'silent' in kinds else 'failing'}: {name} ({sid})"
            outcome = upsert_alert(
                con, alert_id=aid, kind="source_silent", title=title, score=None, details=details,
                topics=[], at=now, source_id=sid, reopen_note=reopen,
                fingerprint=lambda d: ([("silent" if "silent" in r else "failing")
                                        for r in d.get("reasons", [])], d.get("last_error")))
            if outcome:
                changed.append(aid)
    return changed


# -- needs_human -----------------------------------------------------------------------------
def _needs_human_pass(store, cfg, now) -> list[str]:
    changed: list[str] = []
    with store.write() as con:
        rows = con.execute(
            "SELECT p.article_id, p.stage, p.error, p.occurred_at, p.resolved, a.canonical_url, "
            "a.title, a.source_id, (SELECT list(t.topic ORDER BY t.topic) FROM tags t "
            "WHERE t.article_id = p.article_id) FROM processing_errors p "
            "LEFT JOIN articles a ON a.id = p.article_id ORDER BY p.article_id, p.stage").fetchall()
        for art, stage, error, occurred, resolved, url, title, source_id, topics in rows:
            aid = stable_id("needs_human", art, stage)
            cur = fetch_alert(con, aid)
            if resolved:
                if cur is not None and cur["state"] in OPEN_STATES:
                    set_state(con, cur, "resolved", ENGINE_ACTOR, now,
                              "processing error marked resolved")
                    changed.append(aid)
                continue
            details = {"article": {"id": art, "url": url, "title": title, "source_id": source_id},
                       "stage": stage, "error": error, "occurred_at": occurred,
                       "links": [{"article_id": art, "url": url, "title": title,
                                  "source_id": source_id}] if url else []}
            reopen = None
            if cur is not None and cur["state"] in CLOSED_STATES and occurred > cur["updated_at"]:
                reopen = f"{stage} failed again at {occurred.isoformat()}"
            label = title or url or art
            outcome = upsert_alert(
                con, alert_id=aid, kind="needs_human",
                title=f"Needs a human: {stage} failed for {label}"[:300], score=None,
                details=details, topics=list(topics or []), at=now, article_id=art,
                reopen_note=reopen,
                fingerprint=lambda d: (d.get("stage"), d.get("error"), d.get("occurred_at")))
            if outcome:
                changed.append(aid)
    return changed


# -- entry points ----------------------------------------------------------------------------
def process(store, cfg, development_ids: Iterable[str] | None = None, *, embedder=None,
            now: _dt.datetime | None = None) -> list[str]:
    """Raise/update alerts; returns the ids of alerts raised, updated, reopened or resolved."""
    now = now or utcnow()
    st = section(cfg, "alerts")
    ids = None if development_ids is None else list(dict.fromkeys(development_ids))
    with store.read() as con:
        rules = list_rules(con, active_only=True)
        devs = _load_developments(con, ids, max_snippets=st["max_snippets"])
    changed: list[str] = []
    if devs and rules:
        emb, err = _resolve_embedder(store, cfg, embedder)
        changed += _match_developments(store, cfg, devs, rules, emb, err, now)
    changed += _source_pass(store, cfg, now)
    changed += _needs_human_pass(store, cfg, now)
    return list(dict.fromkeys(changed))


def review_rule(store, cfg, rule_id: str, since=None, *, embedder=None,
                now: _dt.datetime | None = None) -> list[dict]:
    """Re-match developments seen since `since` (default: the later of the rule's last_reviewed
    and alerts.review_window_days ago) against one rule now. Returns that rule's alerts for
    those developments (raised, updated, or already there), newest change first."""
    from alerts.rules import get_rule
    now = now or utcnow()
    st = section(cfg, "alerts")
    with store.read() as con:
        rule = get_rule(con, rule_id)
    if since is None:
        since = now - _dt.timedelta(days=st["review_window_days"])
        lr = rule.get("last_reviewed")
        if lr is not None:
            lr_dt = _dt.datetime.combine(lr, _dt.time(), _dt.timezone.utc)
            since = max(since, lr_dt)
    elif isinstance(since, _dt.date) and not isinstance(since, _dt.datetime):
        since = _dt.datetime.combine(since, _dt.time(), _dt.timezone.utc)
    with store.read() as con:
        devs = _load_developments(con, None, since=since, max_snippets=st["max_snippets"])
    if devs:
        emb, err = _resolve_embedder(store, cfg, embedder)
        _match_developments(store, cfg, devs, [rule], emb, err, now)
    with store.read() as con:
        rows = con.execute(f"SELECT {', '.join(ALERT_COLS)} FROM alerts WHERE kind = 'rule_review' "
                           "AND rule_id = ? AND list_contains(?::VARCHAR[], development_id) "
                           "ORDER BY seq DESC", [rule_id, [d.id for d in devs]]).fetchall()
    return [row_to_alert(r) for r in rows]
