"""Store side of classification: classify articles whose classified_hash is stale.

`classify_pending(store, cfg, article_ids=None) -> list[str]` (docs/contracts.md §2):
- picks articles whose ``classified_hash`` != content_hash + ":" + CLASSIFIER_VERSION (or the
  given ids that are stale);
- classifies them in batches with no DuckDB connection open while computing;
- per article, in one short write transaction per batch: replaces its ``tags`` and
  ``change_signals`` rows, sets ``articles.classified_hash``, clears a previous
  ``processing_errors`` row for stage 'classify';
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


def classify_pending(store, cfg: Any, article_ids: Sequence[str] | None = None,
                     batch_size: int | None = None) -> list[str]:
    from store.db import utcnow

    clf = get_classifier(cfg)
    bs = batch_size or clf.batch_size
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
    done: list[str] = []
    for i in range(0, len(rows), bs):
        items = [_item(r) for r in rows[i:i + bs]]
        results: list[tuple[dict, Any]] = []
        errors: list[tuple[dict, str]] = []
        try:
            cls = clf.classify(items)
            results = list(zip(items, cls))
        except Exception:  # one bad item must not sink the batch: redo one by one
            for it in items:
                try:
                    results.append((it, clf.classify([it])[0]))
                except Exception as exc:
                    log.warning("classify %s (%s) failed: %s", it["id"], it["url"], exc)
                    errors.append((it, f"{type(exc).__name__}: {exc} (url {it['url']})"))
        now = utcnow()
        with store.write() as con:
            for it, c in results:
                aid = it["id"]
                con.execute("DELETE FROM tags WHERE article_id = ?", [aid])
                con.execute("DELETE FROM change_signals WHERE article_id = ?", [aid])
                for t in c.topics:
                    con.execute("INSERT INTO tags (article_id, topic, score, evidence, classifier_version, "
                                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                [aid, t, c.scores[t], json.dumps(c.evidence.get(t, []), ensure_ascii=False),
                                 CLASSIFIER_VERSION, now])
                ch = c.change
                con.execute("INSERT INTO change_signals (article_id, is_change, stage, effective_dates, "
                            "evidence, classifier_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [aid, bool(ch["is_change"]), ch["stage"], list(ch["effective_dates"]),
                             json.dumps({"evidence": ch.get("evidence", []), "scores": c.scores},
                                        ensure_ascii=False), CLASSIFIER_VERSION, now])
                con.execute("UPDATE articles SET classified_hash = ? WHERE id = ?",
                            [classified_hash(it["_hash"]), aid])
                con.execute("DELETE FROM processing_errors WHERE article_id = ? AND stage = 'classify'", [aid])
                done.append(aid)
            for it, msg in errors:
                con.execute("INSERT INTO processing_errors (article_id, stage, error, occurred_at, resolved) "
                            "VALUES (?, 'classify', ?, ?, FALSE) ON CONFLICT (article_id, stage) DO UPDATE "
                            "SET error = excluded.error, occurred_at = excluded.occurred_at, resolved = FALSE",
                            [it["id"], msg, now])
    return done
