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
a court topic (COURT_TOPICS) and the same topic set (or one side's topics a subset of the other's)
need COURT_RELAX less similarity (CASE_ONE_SIDED_RELAX
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
    text = (text or "")[:CASE_CHARS]
    if "/" not in text:          # every case number pattern has one: skip the regex
        return out
    for m in _CASE.finditer(text):
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


def topic_score(art_topics: Iterable, dev_topics: Iterable) -> float:
    """Jaccard of the topic sets; for court proceedings (a shared court topic) the share of the
    smaller set found in the other: the court's terse case card may carry only the court topic
    while the reports of the case also carry its subject (chi)."""
    a, d = set(art_topics), set(dev_topics)
    if a & d & COURT_TOPICS:
        return len(a & d) / min(len(a), len(d))
    return jaccard(a, d)


def match_score(vec: np.ndarray, centroid: np.ndarray, art_anchors: set, dev_anchors: set,
                art_topics: Sequence[str], dev_topics: Sequence[str]) -> float:
    if not set(art_topics) & set(dev_topics):
        return 0.0
    cos = float(np.dot(vec, centroid) / ((np.linalg.norm(vec) * np.linalg.norm(centroid)) or 1.0))
    return W_EMB * cos + W_ANCHOR * overlap(art_anchors, dev_anchors) + W_TOPIC * topic_score(art_topics, dev_topics)


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
    a, d = set(art_topics), set(dev_topics)
    # same topics, or one side's a subset: the court's terse case card may carry only the court
    # topic while the reports of the case also carry its subject (chi)
    if court and (a <= d or d <= a):
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


# Texts per encoder call when embedding new articles (the calls run in worker processes; the
# vectors depend on this, not on the number of workers).
ENCODE_PIECE = 64
# Longest gap (days) at which any rule of `decide` can still join an article to a development.
_MAX_WINDOW_DAYS = max(COURT_WINDOW_DAYS, CASE_WINDOW_DAYS)
# The most `decide` ever lowers the threshold (court topics, one-sided case number).
_MAX_RELAX = COURT_RELAX + CASE_ONE_SIDED_RELAX
# Slack of the vectorised screen against match_score (float32 cosines summed in another order
# differ in the 7th digit; this is three orders of magnitude wider).
_SCREEN_EPS = 1e-4


class CandidateIndex:
    """The developments an article may join, as arrays, to screen them all at once.

    `best_match` scores one candidate at a time in Python, which is quadratic over a run (every
    article against every development). `screen` computes the same similarity for all of them
    with a few array operations (centroid matrix @ vector, topic incidence matrix, an inverted
    anchor index) and keeps only those `decide` could accept: sharing a topic, within the window
    and scoring at least the threshold -- the longest window and the threshold less the largest
    relaxation when the article has a court topic or a case number -- or both naming a case
    number. `best_match` then decides exactly as before on that short list: a candidate left
    out could never have been joined, so the result is the same as over all candidates.
    """

    def __init__(self, dim: int, cap: int = 256):
        self.dim = dim
        self.n = 0
        self.ids: list[str] = []
        self.dicts: list[dict] = []
        self.row: dict[str, int] = {}
        self.C = np.zeros((cap, dim), dtype=np.float32)
        self.norm = np.zeros(cap, dtype=np.float32)
        self.topic_col: dict[str, int] = {}
        self.T = np.zeros((cap, 16), dtype=np.int32)
        self.ntop = np.zeros(cap, dtype=np.int64)
        self.nanc = np.zeros(cap, dtype=np.int64)
        self.cases = np.zeros(cap, dtype=bool)
        self.last = np.full(cap, np.nan)
        self.postings: dict[str, list[int]] = {}

    def _grow(self) -> None:
        cap = self.C.shape[0] * 2
        def grow(a, fill=0):
            b = np.full((cap,) + a.shape[1:], fill, dtype=a.dtype)
            b[:a.shape[0]] = a
            return b
        self.C, self.norm, self.T = grow(self.C), grow(self.norm), grow(self.T)
        self.ntop, self.nanc, self.cases = grow(self.ntop), grow(self.nanc), grow(self.cases)
        self.last = grow(self.last, np.nan)

    def _col(self, topic: str) -> int:
        c = self.topic_col.get(topic)
        if c is None:
            c = self.topic_col[topic] = len(self.topic_col)
            if c >= self.T.shape[1]:
                T = np.zeros((self.T.shape[0], self.T.shape[1] * 2), dtype=self.T.dtype)
                T[:, :self.T.shape[1]] = self.T
                self.T = T
        return c

    def add(self, d: dict) -> None:
        if self.n == self.C.shape[0]:
            self._grow()
        i = self.n
        self.n += 1
        self.ids.append(d["id"])
        self.dicts.append(d)
        self.row[d["id"]] = i
        for a in d["anchors"]:
            self.postings.setdefault(a, []).append(i)
        self.refresh(d, ())

    def refresh(self, d: dict, new_anchors: Iterable[str]) -> None:
        """Re-read a candidate after it changed (`new_anchors`: anchors it did not have)."""
        i = self.row[d["id"]]
        for a in new_anchors:
            self.postings.setdefault(a, []).append(i)
        c = np.asarray(d["centroid"], dtype=np.float32)
        self.C[i] = c
        self.norm[i] = np.linalg.norm(c)
        self.T[i] = 0
        tops = set(d["topics"])
        for t in tops:
            self.T[i, self._col(t)] = 1
        self.ntop[i] = len(tops)
        self.nanc[i] = len(d["anchors"])
        self.cases[i] = bool(d.get("cases"))
        last = d.get("last")
        self.last[i] = last.timestamp() if last is not None else np.nan

    def screen(self, vec: np.ndarray, art_anchors: set, art_topics: Sequence[str], art_cases: set,
               pub, threshold: float, window_days: float = _MAX_WINDOW_DAYS) -> list[dict]:
        n = self.n
        tops = {t for t in art_topics if t in self.topic_col}
        if not n or not tops:
            return []
        inter = self.T[:n, [self.topic_col[t] for t in tops]].sum(axis=1)
        idx = np.flatnonzero(inter)
        if not idx.size:
            return []
        # `decide` relaxes threshold and window only for an article with a court topic (court
        # proceedings) or a case number (same case): any other needs the plain ones
        relaxed = bool(art_cases) or bool(set(art_topics) & COURT_TOPICS)
        if pub is not None:
            window = max(window_days, _MAX_WINDOW_DAYS) if relaxed else window_days
            gap = np.abs(pub.timestamp() - self.last[idx]) / 86400.0
            idx = idx[~(gap > window + 1.0)]        # NaN (no date) stays
            if not idx.size:
                return []
        inter = inter[idx].astype(np.float64)
        na_top = len(set(art_topics))
        jac = inter / (na_top + self.ntop[idx] - inter)
        court = [self.topic_col[t] for t in tops if t in COURT_TOPICS]
        if court:       # topic_score: a shared court topic scores the smaller set's share
            shared = self.T[idx][:, court].sum(axis=1) > 0
            jac = np.where(shared, inter / np.minimum(na_top, self.ntop[idx]), jac)
        ov = np.zeros(len(idx))
        if art_anchors:
            cnt = np.zeros(n)
            for a in art_anchors:
                rows = self.postings.get(a)
                if rows:
                    cnt[rows] += 1.0
            na = self.nanc[idx]
            ov = np.where(na > 0, cnt[idx] / np.maximum(np.minimum(na, len(art_anchors)), 1), 0.0)
        v = np.asarray(vec, dtype=np.float32)
        den = self.norm[idx].astype(np.float64) * float(np.linalg.norm(v))
        cos = (self.C[idx] @ v).astype(np.float64) / np.where(den == 0, 1.0, den)
        score = W_EMB * cos + W_ANCHOR * ov + W_TOPIC * jac
        keep = score >= threshold - (_MAX_RELAX if relaxed else 0.0) - _SCREEN_EPS
        if art_cases:
            keep |= self.cases[idx]
        return [self.dicts[i] for i in idx[keep]]


def update_developments(store, cfg: Any, article_ids: Sequence[str] | None) -> list[str]:
    """Assign the given (or all unassigned tagged) articles to developments; returns touched ids."""
    import pyarrow as pa

    from classify.embed import CachedEmbedder, get_embedder
    from store.articles import register_table
    from store.db import utcnow

    dset = (getattr(cfg, "settings", None) or {}).get("developments", {}) if cfg is not None else {}
    threshold = float(dset.get("similarity_threshold", 0.55))
    window_days = float(dset.get("window_days", 30))
    # workers=None: misses are encoded in worker processes (classify.embed.worker_count)
    emb = CachedEmbedder(store, get_embedder("use"), workers=None)

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
        if not new and not stale:
            return []
        devs = con.execute("SELECT id, first_seen, last_seen, topics, centroid FROM developments").fetchall()
        members = con.execute(
            "SELECT m.development_id, a.title, coalesce(a.lead,''), a.body FROM development_members m "
            "JOIN articles a ON a.id = m.article_id").fetchall()
    dev_anchor: dict[str, set] = {}
    dev_cases: dict[str, set] = {}
    for did, title, lead, body in members:
        dev_anchor.setdefault(did, set()).update(anchors(embed_text(title, lead + " " + body)))
        dev_cases.setdefault(did, set()).update(case_numbers(f"{title or ''}\n{lead} {body}"))
    del members
    cands = {d[0]: {"id": d[0], "first": _aware(d[1]), "last": _aware(d[2]), "topics": list(d[3] or []),
                    "centroid": np.asarray(d[4], dtype=np.float32), "anchors": dev_anchor.get(d[0], set()),
                    "cases": dev_cases.get(d[0], set()), "n": None} for d in devs if d[4] is not None}
    index = CandidateIndex(emb.dim)
    for c in cands.values():
        index.add(c)
    texts = [embed_text(r[1], (r[2] + " " + r[3]).strip()) for r in new]
    vecs = emb.encode(texts, piece=ENCODE_PIECE) if texts else []
    touched: list[str] = list(stale)
    touched_set = set(touched)
    assignments: list[tuple[str, str, float]] = []
    for (aid, title, lead, body, pub, topics, stage, dates), text, v in zip(new, texts, vecs):
        pub = _aware(pub)
        a_anc = anchors(text)
        a_cases = case_numbers(f"{title or ''}\n{lead} {body}")
        short = index.screen(v, a_anc, topics, a_cases, pub, threshold, window_days)
        did, score = best_match(v, a_anc, topics, short, threshold, a_cases, pub, window_days)
        if did is None:
            did, score = f"dev-{aid}", 1.0
            cands[did] = {"id": did, "first": pub, "last": pub, "topics": list(topics), "centroid": v.copy(),
                          "anchors": set(a_anc), "cases": set(a_cases), "n": 1}
            index.add(cands[did])
        else:
            c = cands[did]
            added = a_anc - c["anchors"]
            c["anchors"] |= a_anc
            c["cases"] = set(c.get("cases") or ()) | a_cases
            c["topics"] = sorted(set(c["topics"]) | set(topics))
            c["last"] = max(filter(None, [c["last"], pub]), default=None)
            c["centroid"] = c["centroid"] + (v - c["centroid"]) / 2.0  # refreshed from members below
            index.refresh(c, added)
        assignments.append((aid, did, float(score)))
        if did not in touched_set:
            touched.append(did)
            touched_set.add(did)
    del index, cands

    now = utcnow()
    if assignments:
        tbl = pa.table({"article_id": pa.array([a[0] for a in assignments], pa.string()),
                        "development_id": pa.array([a[1] for a in assignments], pa.string()),
                        "similarity": pa.array([a[2] for a in assignments], pa.float64())})
        with store.write() as con:
            register_table(con, "_lw_members", tbl)
            try:
                con.execute("INSERT INTO development_members (article_id, development_id, similarity, "
                            "joined_at) SELECT article_id, development_id, similarity, ? "
                            "FROM _lw_members ON CONFLICT DO NOTHING", [now])
            finally:
                con.unregister("_lw_members")
    # Aggregates are recomputed from the members (read, compute with no connection open, write),
    # with set-based queries over all touched developments at once.
    rows_of: dict[str, list] = {did: [] for did in touched}
    tags_of: dict[str, list] = {did: [] for did in touched}
    founder_topics: dict[str, set] = {did: set() for did in touched}
    founder_of = {did[len("dev-"):]: did for did in touched}
    with store.read() as con:
        for r in con.execute(
                "SELECT m.development_id, a.id, a.title, coalesce(a.lead,''), a.body, "
                "coalesce(a.published_at, a.first_seen_at) AS seen, c.stage, c.effective_dates "
                "FROM development_members m JOIN articles a ON a.id = m.article_id "
                "LEFT JOIN change_signals c ON c.article_id = a.id "
                "WHERE m.development_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1, seen, a.id",
                [touched]).fetchall():
            rows_of[r[0]].append(r[1:])
        for did, topic, cnt in con.execute(
                "SELECT m.development_id, t.topic, count(*) FROM tags t JOIN development_members m "
                "ON m.article_id = t.article_id WHERE m.development_id IN (SELECT unnest(?::VARCHAR[])) "
                "GROUP BY 1, 2 ORDER BY 1, 2", [touched]).fetchall():
            tags_of[did].append((topic, cnt))
        for aid, topic in con.execute("SELECT article_id, topic FROM tags WHERE article_id IN "
                                      "(SELECT unnest(?::VARCHAR[]))", [list(founder_of)]).fetchall():
            founder_topics[founder_of[aid]].add(topic)
    groups = [[embed_text(r[1], (r[2] + " " + r[3]).strip()) for r in rows_of[did]] for did in touched]
    member_vecs = emb.encode_groups(groups)
    out_rows = []
    for did, mv in zip(touched, member_vecs):
        rows, tags = rows_of[did], tags_of[did]
        founder = did[len("dev-"):]
        title = next((r[1] for r in rows if r[0] == founder), rows[0][1]) or ""
        cen = mv.mean(axis=0)
        cen = cen / (np.linalg.norm(cen) or 1.0)
        # topics: every topic tagged on at least half the members, plus the founder's
        topics = sorted({t for t, n in tags if n >= len(rows) / 2.0} | founder_topics[did])
        stage = most_advanced(r[5] for r in rows)
        dates = sorted({d for r in rows for d in (r[6] or [])})
        seen = [r[4] for r in rows if r[4] is not None]
        out_rows.append((did, title, min(seen) if seen else now, max(seen) if seen else now, topics,
                         stage, dates, len(rows), np.asarray(cen, dtype=np.float32)))
    if out_rows:
        _write_developments(store, out_rows, emb.model_id, now)
    return touched


def _write_developments(store, out_rows: list[tuple], model_id: str, now) -> None:
    """Replace the aggregate rows of `out_rows` (one write transaction, one Arrow INSERT)."""
    import pyarrow as pa

    from store.articles import register_table

    utc = timezone.utc
    ts = pa.timestamp("us", tz="UTC")
    s = pa.string()
    dim = len(out_rows[0][8])
    cen = np.concatenate([r[8] for r in out_rows]).astype(np.float32)
    if cen.size == dim * len(out_rows):
        centroids = pa.ListArray.from_arrays(
            pa.array(np.arange(0, cen.size + 1, dim, dtype=np.int32)), pa.array(cen))
    else:  # pragma: no cover - centroids of different lengths
        centroids = pa.array([r[8].tolist() for r in out_rows], pa.list_(pa.float32()))
    tbl = pa.table({
        "id": pa.array([r[0] for r in out_rows], s),
        "title": pa.array([r[1] for r in out_rows], s),
        "first_seen": pa.array([_aware(r[2]).astimezone(utc) for r in out_rows], ts),
        "last_seen": pa.array([_aware(r[3]).astimezone(utc) for r in out_rows], ts),
        "topics": pa.array([list(r[4]) for r in out_rows], pa.list_(s)),
        "stage": pa.array([r[5] for r in out_rows], s),
        "effective_dates": pa.array([list(r[6]) for r in out_rows], pa.list_(s)),
        "n_articles": pa.array([r[7] for r in out_rows], pa.int32()),
        "centroid": centroids,
    })
    with store.write() as con:
        register_table(con, "_lw_devs", tbl)
        try:
            con.execute("DELETE FROM developments WHERE id IN (SELECT id FROM _lw_devs)")
            con.execute("INSERT INTO developments (id, title, first_seen, last_seen, topics, stage, "
                        "effective_dates, n_articles, centroid, model_id, updated_at) SELECT id, title, "
                        "first_seen, last_seen, topics, stage, effective_dates, n_articles, centroid, ?, ? "
                        "FROM _lw_devs", [model_id, now])
        finally:
            con.unregister("_lw_devs")
