"""Group articles about one event across outlets and languages into developments.

Incremental: each new tagged article joins the best-matching development seen within
[developments] window_days when the combined similarity reaches similarity_threshold, otherwise
it opens a development with id 'dev-' + its own article id. Reruns are idempotent: an article
already a member is not re-matched; development aggregates are recomputed from their members.

Similarity (pure, `match_score`):
    0.70 * cosine(article, development centroid)      -- multilingual USE, EN<->RU<->KY
  + 0.15 * overlap of shared "anchors" (numbers, dates, case numbers like P-7/25, Latin acronyms)
  + 0.15 * Jaccard of topic sets
and no join at all without at least one shared topic. Embeddings always use the `use` backend
(cross-lingual), whatever backend the topic classifier uses, through the embeddings-table cache.

Court proceedings (`decide`): a shared case number (P-7/25 = Р-7/25, "дело № ...", "case No. ...")
anywhere in the texts is strong evidence -- the article joins whatever the similarity, within
CASE_WINDOW_DAYS; two different case numbers never join. Without case numbers, articles sharing
a court topic (COURT_TOPICS) and the same topic set need COURT_RELAX less similarity (CASE_ONE_SIDED_RELAX
less again when only one side names a case number) and may be COURT_WINDOW_DAYS apart (a filing, the hearing and the opinion are months apart and the reports
are in different languages, so the cross-lingual cosine is lower).
"""
from __future__ import annotations

import re
from datetime import timezone
from typing import Any, Iterable, Sequence

import numpy as np

W_EMB, W_ANCHOR, W_TOPIC = 0.70, 0.15, 0.15
# Characters of the body embedded with the title: the lead says what happened.
LEAD_CHARS = 400
# Stage aggregation: the most advanced stage any member reports.
STAGE_RANK = {"proposed": 1, "pilot": 2, "court": 3, "adopted": 4, "signed": 5, "in_force": 6,
              "repealed": 7}

_NUM = re.compile(r"(?<!\w)[PР]-\d+/\d+|\d{1,3}(?:[ \u00a0,.]\d{3})+|\d+(?:[.,]\d+)?%?")
_ACR = re.compile(r"\b[A-ZА-ЯЁ]{2,6}\b")
_ACR_MAP = {"ЕАЭС": "EAEU", "ЕАЭБ": "EAEU", "EEU": "EAEU", "ОМС": "CHI", "МВД": "MVD", "ИИМ": "MVD",
            "МИД": "MFA", "ТИМ": "MFA", "РФ": "RU"}


def anchors(text: str) -> set[str]:
    """Language-neutral anchors: numbers (normalised), case numbers, acronyms (mapped EN/RU/KY)."""
    out: set[str] = set()
    for m in _NUM.finditer(text or ""):
        tok = re.sub(r"[ \u00a0,]", "", m.group(0)).replace("Р-", "P-")
        if tok.isdigit() and len(tok) == 1:
            continue  # single digits are noise
        out.add(tok)
    for m in _ACR.finditer(text or ""):
        a = m.group(0)
        out.add(_ACR_MAP.get(a, a))
    return out


# Case numbers: EAEU Court style P-7/25 (Cyrillic Р normalised to Latin P), and "дело № ..." / "case No. ...".
_CASE = re.compile(r"(?<!\w)([PР])-(\d+)/(\d{2,4})\b|(?:дел[оау]|case|іс)\s*(?:№|No\.?|#)\s*([A-ZА-Я]?\d+[\w-]*/\d{2,4})",
                   re.IGNORECASE)
# Topics that stand for a court's proceedings (see config/topics.toml).
COURT_TOPICS = frozenset({"eaeu_court"})
COURT_RELAX = 0.08
# ... and a further relaxation when only one side names a case number: the court's own case card
# (terse legal wording, numbered) embeds far from news prose that does not cite the number.
CASE_ONE_SIDED_RELAX = 0.05
COURT_WINDOW_DAYS = 120
CASE_WINDOW_DAYS = 365
# Characters of title + body searched for case numbers (a case card names it in its title; a report
# may name it further down).
CASE_CHARS = 6000


def case_numbers(text: str) -> set[str]:
    """Normalised case numbers in `text` ("Р-7/25" and "P-7/25" -> "P-7/25")."""
    out: set[str] = set()
    for m in _CASE.finditer((text or "")[:CASE_CHARS]):
        if m.group(1):
            out.add(f"P-{int(m.group(2))}/{m.group(3)}")
        else:
            out.add(m.group(4).upper().replace("А", "A").replace("Р", "P"))
    return out


def jaccard(a: Iterable, b: Iterable) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


def overlap(a: set, b: set) -> float:
    """Share of the smaller anchor set found in the other (a short item vs a long one)."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def match_score(vec: np.ndarray, centroid: np.ndarray, art_anchors: set, dev_anchors: set,
                art_topics: Sequence[str], dev_topics: Sequence[str]) -> float:
    if not set(art_topics) & set(dev_topics):
        return 0.0
    cos = float(np.dot(vec, centroid) / ((np.linalg.norm(vec) * np.linalg.norm(centroid)) or 1.0))
    return W_EMB * cos + W_ANCHOR * overlap(art_anchors, dev_anchors) + W_TOPIC * jaccard(art_topics, dev_topics)


def decide(score: float, art_topics: Sequence[str], dev_topics: Sequence[str], art_cases: set,
           dev_cases: set, threshold: float, days_apart: float | None, window_days: float) -> tuple[bool, float]:
    """(join?, effective score) for one candidate; see the module docstring (court proceedings)."""
    if not set(art_topics) & set(dev_topics):
        return False, 0.0
    gap = abs(days_apart) if days_apart is not None else 0.0
    if art_cases and dev_cases:
        if art_cases & dev_cases:
            return gap <= CASE_WINDOW_DAYS, max(score, threshold)
        return False, score          # two different proceedings
    court = set(art_topics) & set(dev_topics) & COURT_TOPICS
    if court and set(art_topics) == set(dev_topics):
        relax = COURT_RELAX + (CASE_ONE_SIDED_RELAX if bool(art_cases) != bool(dev_cases) else 0.0)
        return (gap <= max(window_days, COURT_WINDOW_DAYS) and score >= threshold - relax), score
    return (gap <= window_days and score >= threshold), score


def best_match(vec, art_anchors, art_topics, candidates: Sequence[dict], threshold: float,
               art_cases: set | None = None, pub=None, window_days: float = 30.0):
    """(development id, score) of the best joinable candidate, else (None, best score seen).

    A candidate may carry "cases" (case numbers of its members) and "last" (datetime of its latest
    member); without them only the similarity threshold applies."""
    best_id, best, seen = None, 0.0, 0.0
    for d in sorted(candidates, key=lambda d: d["id"]):
        s = match_score(vec, d["centroid"], art_anchors, d["anchors"], art_topics, d["topics"])
        last = d.get("last")
        days = (pub - last).total_seconds() / 86400.0 if pub is not None and last is not None else None
        ok, eff = decide(s, art_topics, d["topics"], set(art_cases or ()), set(d.get("cases") or ()),
                         threshold, days, window_days)
        seen = max(seen, s)
        if ok and eff > best:
            best_id, best = d["id"], eff
    return (best_id, best) if best_id is not None else (None, seen)


def most_advanced(stages: Iterable[str | None]) -> str | None:
    st = [s for s in stages if s in STAGE_RANK]
    return max(st, key=lambda s: STAGE_RANK[s]) if st else None


def embed_text(title: str, body: str) -> str:
    return " ".join(f"{title or ''}. {(body or '')[:LEAD_CHARS]}".split())


def _aware(ts):
    if ts is None:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def update_developments(store, cfg: Any, article_ids: Sequence[str] | None) -> list[str]:
    """Assign the given (or all unassigned tagged) articles to developments; returns touched ids."""
    from classify.embed import CachedEmbedder, get_embedder
    from store.db import utcnow

    dset = (getattr(cfg, "settings", None) or {}).get("developments", {}) if cfg is not None else {}
    threshold = float(dset.get("similarity_threshold", 0.55))
    window_days = float(dset.get("window_days", 30))
    emb = CachedEmbedder(store, get_embedder("use"))

    with store.read() as con:
        q = ("SELECT a.id, a.title, coalesce(a.lead, ''), a.body, coalesce(a.published_at, a.first_seen_at), "
             "list(t.topic ORDER BY t.topic), c.stage, c.effective_dates FROM articles a "
             "JOIN tags t ON t.article_id = a.id LEFT JOIN change_signals c ON c.article_id = a.id "
             "WHERE a.id NOT IN (SELECT article_id FROM development_members)")
        params: list[Any] = []
        if article_ids is not None:
            q += " AND a.id IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(article_ids))
        q += " GROUP BY ALL ORDER BY 5, 1"
        new = con.execute(q, params).fetchall() if article_ids is None or article_ids else []
        # Developments whose aggregate row is missing or stale: a run killed between the
        # members write and the aggregates write, or members re-tagged since. Recomputed
        # below, so a rerun repairs what a crash left half-done.
        stale = [r[0] for r in con.execute(
            "SELECT m.development_id FROM development_members m "
            "LEFT JOIN developments d ON d.id = m.development_id "
            "LEFT JOIN tags t ON t.article_id = m.article_id "
            "GROUP BY m.development_id, d.n_articles, d.updated_at "
            "HAVING d.n_articles IS NULL OR d.n_articles <> count(DISTINCT m.article_id) "
            "    OR max(t.created_at) > d.updated_at ORDER BY 1").fetchall()]
        devs = con.execute("SELECT id, first_seen, last_seen, topics, centroid FROM developments").fetchall()
        members = con.execute(
            "SELECT m.development_id, a.title, coalesce(a.lead,''), a.body FROM development_members m "
            "JOIN articles a ON a.id = m.article_id").fetchall()
    if not new and not stale:
        return []
    dev_anchor: dict[str, set] = {}
    dev_cases: dict[str, set] = {}
    for did, title, lead, body in members:
        dev_anchor.setdefault(did, set()).update(anchors(embed_text(title, lead + " " + body)))
        dev_cases.setdefault(did, set()).update(case_numbers(f"{title or ''}\n{lead} {body}"))
    cands = {d[0]: {"id": d[0], "first": _aware(d[1]), "last": _aware(d[2]), "topics": list(d[3] or []),
                    "centroid": np.asarray(d[4], dtype=np.float32), "anchors": dev_anchor.get(d[0], set()),
                    "cases": dev_cases.get(d[0], set()), "n": None} for d in devs if d[4] is not None}
    texts = [embed_text(r[1], (r[2] + " " + r[3]).strip()) for r in new]
    vecs = emb.encode(texts) if texts else []
    touched: list[str] = list(stale)
    assignments: list[tuple[str, str, float]] = []
    for (aid, title, lead, body, pub, topics, stage, dates), text, v in zip(new, texts, vecs):
        pub = _aware(pub)
        a_anc = anchors(text)
        a_cases = case_numbers(f"{title or ''}\n{lead} {body}")
        did, score = best_match(v, a_anc, topics, list(cands.values()), threshold, a_cases, pub, window_days)
        if did is None:
            did, score = f"dev-{aid}", 1.0
            cands[did] = {"id": did, "first": pub, "last": pub, "topics": list(topics), "centroid": v.copy(),
                          "anchors": set(a_anc), "cases": set(a_cases), "n": 1}
        else:
            c = cands[did]
            c["anchors"] |= a_anc
            c["cases"] = set(c.get("cases") or ()) | a_cases
            c["topics"] = sorted(set(c["topics"]) | set(topics))
            c["last"] = max(filter(None, [c["last"], pub]), default=None)
            c["centroid"] = c["centroid"] + (v - c["centroid"]) / 2.0  # refreshed from members below
        assignments.append((aid, did, float(score)))
        if did not in touched:
            touched.append(did)

    now = utcnow()
    if assignments:
        with store.write() as con:
            for aid, did, score in assignments:
                con.execute("INSERT INTO development_members (article_id, development_id, similarity, "
                            "joined_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            [aid, did, score, now])
    # Aggregates are recomputed from the members (read, compute with no connection open, write).
    agg = {}
    with store.read() as con:
        for did in touched:
            rows = con.execute(
                "SELECT a.id, a.title, coalesce(a.lead,''), a.body, coalesce(a.published_at, a.first_seen_at), "
                "c.stage, c.effective_dates FROM development_members m JOIN articles a ON a.id = m.article_id "
                "LEFT JOIN change_signals c ON c.article_id = a.id WHERE m.development_id = ? ORDER BY 5, 1",
                [did]).fetchall()
            tags = con.execute("SELECT t.topic, count(*) FROM tags t JOIN development_members m ON m.article_id = "
                               "t.article_id WHERE m.development_id = ? GROUP BY 1 ORDER BY 1", [did]).fetchall()
            founder_topics = {t for (t,) in con.execute("SELECT topic FROM tags WHERE article_id = ?",
                                                        [did[len("dev-"):]]).fetchall()}
            agg[did] = (rows, tags, founder_topics)
    out_rows = []
    for did in touched:
        rows, tags, founder_topics = agg[did]
        founder = did[len("dev-"):]
        title = next((r[1] for r in rows if r[0] == founder), rows[0][1]) or ""
        mv = emb.encode([embed_text(r[1], (r[2] + " " + r[3]).strip()) for r in rows])
        cen = mv.mean(axis=0)
        cen = cen / (np.linalg.norm(cen) or 1.0)
        # topics: every topic tagged on at least half the members, plus the founder's
        topics = sorted({t for t, n in tags if n >= len(rows) / 2.0} | founder_topics)
        stage = most_advanced(r[5] for r in rows)
        dates = sorted({d for r in rows for d in (r[6] or [])})
        seen = [r[4] for r in rows if r[4] is not None]
        out_rows.append([did, title, min(seen) if seen else now, max(seen) if seen else now, topics,
                         stage, dates, len(rows), cen.astype(float).tolist(), emb.model_id, now])
    with store.write() as con:
        for r in out_rows:
            con.execute("DELETE FROM developments WHERE id = ?", [r[0]])
            con.execute("INSERT INTO developments (id, title, first_seen, last_seen, topics, stage, effective_dates, "
                        "n_articles, centroid, model_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", r)
    return touched
