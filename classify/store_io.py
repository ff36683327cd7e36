"""Store side of classification: classify articles whose classified_hash is stale.

`classify_pending(store, cfg, article_ids=None) -> list[str]` (docs/contracts.md §2):
- picks articles whose ``classified_hash`` != content_hash + ":" + CLASSIFIER_VERSION (or the
  given ids that are stale);
- classifies them in batches with no DuckDB connection open while computing;
- per article, in one short write transaction per WRITE_EVERY articles (set-based statements
  over Arrow tables): replaces its ``tags`` and ``change_signals`` rows, sets
  ``articles.classified_hash``, clears a previous ``processing_errors`` row for stage 'classify';
- an article that raises gets a ``processing_errors`` row (stage 'classify') naming the error and
  is left unclassified (retried next run), never dropped silently.
Returns the ids of articles classified successfully.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Sequence

from classify import CLASSIFIER_VERSION
from classify.classifier import get_classifier
from classify.embed import fork_map, worker_count

log = logging.getLogger(__name__)


def classified_hash(content_hash: str) -> str:
    return f"{content_hash}:{CLASSIFIER_VERSION}"


def _item(row) -> dict:
    aid, url, title, lead, body, lang, published, content_hash = row
    text = body or ""
    if lead and lead.strip() and not text.startswith(lead.strip()[:50]):
        text = lead.strip() + "\n\n" + text
    return {"id": aid, "url": url, "title": title or "", "text": text, "lang": lang,
            "published": published.isoformat() if published is not None else None,
            "_hash": content_hash}


# Articles classified between two writes: one short write transaction per this many (plus the
# rest at the end). The classifier still runs in batches of its own batch_size; only the store
# writes are grouped, as set-based statements over Arrow tables instead of 5+ statements per
# article (each DuckDB statement costs ~0.3-1 ms, each transaction a connect and a commit).
# A kill loses at most this many articles' tags; the rerun classifies them again.
WRITE_EVERY = 256


def classify_pending(store, cfg: Any, article_ids: Sequence[str] | None = None,
                     batch_size: int | None = None, write_every: int | None = None) -> list[str]:
    clf = get_classifier(cfg)
    bs = batch_size or clf.batch_size
    every = max(1, write_every or WRITE_EVERY)
    sql = ("SELECT id, canonical_url, title, lead, body, lang, published_at, content_hash FROM articles "
           "WHERE (classified_hash IS NULL OR classified_hash <> content_hash || ':' || ?)")
    params: list[Any] = [CLASSIFIER_VERSION]
    if article_ids is not None:
        if not article_ids:
            return []
        sql += " AND id IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(article_ids))
    sql += " ORDER BY id"
    with store.read() as con:
        rows = con.execute(sql, params).fetchall()
    batches = [[_item(r) for r in rows[i:i + bs]] for i in range(0, len(rows), bs)]
    del rows
    done: list[str] = []
    results: list[tuple[dict, Any]] = []
    errors: list[tuple[dict, str]] = []
    # Batches are classified in worker processes when there are enough of them (the same
    # batches as in-process, so the same results); the writes stay here, in order.
    global _TASK_CLF
    _TASK_CLF = clf
    try:
        workers = worker_count() if len(batches) >= MIN_BATCHES_FOR_WORKERS else 1
        for k, (ok, failed) in enumerate(fork_map(_classify_task, batches, workers)):
            items = batches[k]
            results.extend((items[j], c) for j, c in ok)
            errors.extend((items[j], msg) for j, msg in failed)
            batches[k] = None  # type: ignore[call-overload]  # free the texts
            if len(results) + len(errors) >= every or k == len(batches) - 1:
                _write(store, results, errors)
                done.extend(it["id"] for it, _ in results)
                results, errors = [], []
    finally:
        _TASK_CLF = None
    return done


# Batches needed before classification uses worker processes (forking costs ~0.1 s).
MIN_BATCHES_FOR_WORKERS = 4
_TASK_CLF: Any = None


def _classify_task(items: list[dict]) -> tuple[list[tuple[int, Any]], list[tuple[int, str]]]:
    """Classify one batch: ([(index, Classification)], [(index, error message)])."""
    clf = _TASK_CLF
    try:
        return list(enumerate(clf.classify(items))), []
    except Exception:  # one bad item must not sink the batch: redo one by one
        ok, failed = [], []
        for j, it in enumerate(items):
            try:
                ok.append((j, clf.classify([it])[0]))
            except Exception as exc:
                log.warning("classify %s (%s) failed: %s", it["id"], it["url"], exc)
                failed.append((j, f"{type(exc).__name__}: {exc} (url {it['url']})"))
        return ok, failed


def _write(store, results: list[tuple[dict, Any]], errors: list[tuple[dict, str]]) -> None:
    """One write transaction for a group of classified articles (and failed ones)."""
    import pyarrow as pa

    from store.articles import register_table
    from store.db import utcnow

    if not results and not errors:
        return
    now = utcnow()
    ids, t_aid, t_topic, t_score, t_ev = [], [], [], [], []
    c_aid, c_is, c_stage, c_dates, c_ev, hashes = [], [], [], [], [], []
    for it, c in results:
        aid = it["id"]
        ids.append(aid)
        for t in c.topics:
            t_aid.append(aid)
            t_topic.append(t)
            t_score.append(c.scores[t])
            t_ev.append(json.dumps(c.evidence.get(t, []), ensure_ascii=False))
        ch = c.change
        c_aid.append(aid)
        c_is.append(bool(ch["is_change"]))
        c_stage.append(ch["stage"])
        c_dates.append(list(ch["effective_dates"]))
        c_ev.append(json.dumps({"evidence": ch.get("evidence", []), "scores": c.scores},
                               ensure_ascii=False))
        hashes.append(classified_hash(it["_hash"]))
    s = pa.string()
    tables = {
        "_lw_ids": pa.table({"id": pa.array(ids, s), "h": pa.array(hashes, s)}),
        "_lw_tags": pa.table({"article_id": pa.array(t_aid, s), "topic": pa.array(t_topic, s),
                              "score": pa.array(t_score, pa.float64()), "evidence": pa.array(t_ev, s)}),
        "_lw_signals": pa.table({"article_id": pa.array(c_aid, s), "is_change": pa.array(c_is, pa.bool_()),
                                 "stage": pa.array(c_stage, s),
                                 "effective_dates": pa.array(c_dates, pa.list_(s)),
                                 "evidence": pa.array(c_ev, s)}),
    }
    with store.write() as con:
        for name, tbl in tables.items():
            register_table(con, name, tbl)
        try:
            if ids:
                con.execute("DELETE FROM tags WHERE article_id IN (SELECT id FROM _lw_ids)")
                con.execute("DELETE FROM change_signals WHERE article_id IN (SELECT id FROM _lw_ids)")
                con.execute("INSERT INTO tags (article_id, topic, score, evidence, classifier_version, "
                            "created_at) SELECT article_id, topic, score, evidence, ?, ? FROM _lw_tags",
                            [CLASSIFIER_VERSION, now])
                con.execute("INSERT INTO change_signals (article_id, is_change, stage, effective_dates, "
                            "evidence, classifier_version, created_at) SELECT article_id, is_change, "
                            "stage, effective_dates, evidence, ?, ? FROM _lw_signals",
                            [CLASSIFIER_VERSION, now])
                con.execute("UPDATE articles SET classified_hash = u.h FROM _lw_ids u "
                            "WHERE articles.id = u.id")
                con.execute("DELETE FROM processing_errors WHERE stage = 'classify' AND "
                            "article_id IN (SELECT id FROM _lw_ids)")
        finally:
            for name in tables:
                con.unregister(name)
        for it, msg in errors:
            con.execute("INSERT INTO processing_errors (article_id, stage, error, occurred_at, resolved) "
                        "VALUES (?, 'classify', ?, ?, FALSE) ON CONFLICT (article_id, stage) DO UPDATE "
                        "SET error = excluded.error, occurred_at = excluded.occurred_at, resolved = FALSE",
                        [it["id"], msg, now])
