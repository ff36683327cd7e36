"""Pure scoring: per-topic features, the trained logistic head, calibration, evidence ranking.

No I/O and no model imports here: inputs are term matches (classify.patterns) and embedding
vectors (computed by classify.embed), outputs are numbers. classify.classifier wires them.

Signals per topic t (see classify/README.md for why each exists):
- term evidence: matches of t's patterns in the title and in the body, how many distinct
  patterns fired, how early the first body match is, and the share of sentences with a match;
- cross-topic term evidence: the same counts for the other topics (the Amina app implies a
  location-control registration regime; a court case about CHI is both topics), so the head
  can learn those couplings from data instead of hand rules;
- embedding similarity: max cosine of the title/chunks to t's prototype sentences, and cosine of
  the whole-item vector to the prototypes' centroid;
- the whole-item embedding itself (a dense summary that catches paraphrases with no term).

The head is one L2-regularised logistic regression per topic on [features ⊕ embedding], trained
by classify.train; its bias is shifted so the cross-validated best-F1 threshold maps to 0.5.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

# Character window that counts as the lead of the body (about two sentences of a news item).
LEAD_CHARS = 400

TERM_FEATURES = ("title_any", "title_hits", "body_hits", "distinct", "lead_hits", "sent_share",
                 "first_pos", "context")
SIM_FEATURES = ("proto_max", "proto_doc")
# Setting of the item (patterns.HOST_GROUPS counts): shared by all topics ...
SETTING_GROUPS = ("migrant", "russia", "eaeu", "origin", "other_host", "kg_host", "own_citizens", "regional_act")
SETTING_FEATURES = tuple(f"set.{g}" for g in SETTING_GROUPS) + (
    "set.migrant_any", "set.russia_any", "set.foreign_setting", "set.own_setting")
# ... and crossed with each topic's term evidence, so a head can learn "terms count only in the
# migrants-in-Russia setting" (a linear head cannot form that product itself).
CROSS_FEATURES = ("terms_x_migrant", "terms_x_nomigrant", "terms_x_foreign", "terms_x_own")


@dataclass(frozen=True)
class TermStats:
    """Term-match statistics of one topic in one item."""
    title_hits: int
    body_hits: int
    distinct: int
    lead_hits: int
    sent_share: float      # share of body sentences with at least one match
    first_pos: float       # offset of the first body match / body length (1.0 if none)
    context: int = 0       # matches of the topic's context patterns in title + text

    @property
    def total(self) -> int:
        return self.title_hits + self.body_hits


def term_stats(title_matches: Sequence, body_matches: Sequence, body_len: int,
               n_sentences: int, sentences_hit: int, context_hits: int = 0) -> TermStats:
    pats = {m.pattern for m in title_matches} | {m.pattern for m in body_matches}
    first = min((m.start for m in body_matches), default=None)
    return TermStats(
        title_hits=len(title_matches),
        body_hits=len(body_matches),
        distinct=len(pats),
        lead_hits=sum(1 for m in body_matches if m.start < LEAD_CHARS),
        sent_share=(sentences_hit / n_sentences) if n_sentences else 0.0,
        first_pos=1.0 if first is None or body_len <= 0 else first / body_len,
        context=context_hits,
    )


def term_vector(s: TermStats) -> list[float]:
    return [1.0 if s.title_hits else 0.0, math.log1p(s.title_hits), math.log1p(s.body_hits),
            math.log1p(s.distinct), math.log1p(s.lead_hits), s.sent_share, s.first_pos,
            math.log1p(s.context)]


def prototype_sims(unit_vecs: np.ndarray, doc_vec: np.ndarray,
                   protos: np.ndarray) -> tuple[float, float]:
    """(max cosine of any title/chunk vector to any prototype, cosine of doc to centroid)."""
    if protos.size == 0 or unit_vecs.size == 0:
        return 0.0, 0.0
    mx = float((unit_vecs @ protos.T).max())
    c = protos.mean(axis=0)
    c = c / (np.linalg.norm(c) or 1.0)
    return mx, float(doc_vec @ c)


def doc_vector(unit_vecs: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Weighted mean of title/chunk vectors, L2-normalised."""
    if unit_vecs.size == 0:
        raise ValueError("doc_vector needs at least one vector")
    w = np.asarray(weights, dtype=np.float32)[:, None]
    v = (unit_vecs * w).sum(axis=0)
    return v / (np.linalg.norm(v) or 1.0)


def setting_flags(counts: Mapping[str, int]) -> tuple[float, float, float, float]:
    """(migrants/EAEU workers named, Russia named, another host country dominates, own-citizens/regional-act setting dominates)."""
    c = {g: int(counts.get(g, 0)) for g in SETTING_GROUPS}
    migrant = 1.0 if c["migrant"] + c["eaeu"] > 0 else 0.0
    # the EAEU (its treaty, court, workers' regime) places an item in the union whose host for
    # our migrants is Russia: a court case card naming only the Treaty and Kyrgyzstan is in
    # setting (CV on 1214 items: 0.899/7.8 % -> 0.900/7.6 %); it does not offset another host
    # country for the gate (that variant raised false alarms to 8.2 %)
    russia = 1.0 if c["russia"] + c["eaeu"] > 0 else 0.0
    foreign = 1.0 if c["other_host"] + c["kg_host"] > c["russia"] else 0.0
    own = 1.0 if c["own_citizens"] + 2 * c["regional_act"] > c["migrant"] + c["eaeu"] else 0.0
    return migrant, russia, foreign, own


def setting_gate(counts: Mapping[str, int], needs_foreigners: bool = False) -> str | None:
    """Why an item is outside the migrants-in-Russia setting a gated topic is about, or None.

    A hard rule on top of the learned head: the head sees the same flags as features, but with a
    few dozen such items in training it still tags, say, the EU's border biometrics or Russians'
    Gosuslugi biometrics; the rule generalises to settings the training data never showed.
    ``needs_foreigners``: the topic is only about foreigners (biometrics), so an item naming no
    migrants/foreigners and no entry into a country is out of setting too."""
    _, _, foreign, own = setting_flags(counts)
    if foreign:
        return "another host country dominates the item"
    if own:
        return "the item is about a country's own citizens or a regional act"
    if needs_foreigners and int(counts.get("migrant", 0)) + int(counts.get("eaeu", 0)) == 0 \
            and int(counts.get("entry", 0)) == 0:
        return "no migrants, foreigners or entry into a country are named"
    return None


# A tag on meaning alone (no term of the topic in title or text, after exclusions) needs a
# confident head: its score is multiplied by this factor, so at the default threshold 0.5 it
# needs 0.8. Chosen on dev CV (589 items): no rule 0.891 macro-F1 / 10.5% false alarms;
# "terms required" 0.873 / 7.0%; factor 0.625 0.901 / 7.0% (2 true tags lost, 16 false removed).
MEANING_ONLY_FACTOR = 0.625


def final_scores(P: np.ndarray, gated: np.ndarray, no_terms: np.ndarray,
                 meaning_only_factor: float = MEANING_ONLY_FACTOR) -> np.ndarray:
    """The served scores from the head's: gated topics 0, evidence-less topics discounted."""
    S = np.array(P, dtype=float, copy=True)
    S[no_terms] *= meaning_only_factor
    S[gated] = 0.0
    return S


# Weight of the head in the blend with the lexical member (classify.lexical), on the logit
# scale; chosen by nested 5-fold CV on dev (1402 items, 2026-11-22): 0.5 0.914 / 5.8 %,
# 0.6 0.912 / 6.0 %, 0.7 0.904 / 6.3 %, 0.8 0.904 / 6.5 %, head alone 0.903 / 6.9 %.
DEFAULT_HEAD_WEIGHT = 0.5


def blend(P_head: np.ndarray, P_lex: np.ndarray | None, head_weight: float = DEFAULT_HEAD_WEIGHT
          ) -> np.ndarray:
    """Combine two calibrated score matrices (each with its threshold at 0.5) on the logit scale:
    sigmoid(w * logit(head) + (1 - w) * logit(lexical)). 0.5 stays the operating point: a topic
    passes when the weighted log-odds of the two members sum above 0. P_lex None: the head's."""
    if P_lex is None:
        return np.asarray(P_head, dtype=float)
    eps = 1e-9
    h = np.clip(np.asarray(P_head, dtype=float), eps, 1 - eps)
    lx = np.clip(np.asarray(P_lex, dtype=float), eps, 1 - eps)
    z = head_weight * np.log(h / (1 - h)) + (1 - head_weight) * np.log(lx / (1 - lx))
    return sigmoid(z)


def setting_vector(counts: Mapping[str, int]) -> list[float]:
    return [math.log1p(int(counts.get(g, 0))) for g in SETTING_GROUPS] + list(setting_flags(counts))


def cross_vector(term_total: int, counts: Mapping[str, int]) -> list[float]:
    lt = math.log1p(max(term_total, 0))
    migrant, _, foreign, own = setting_flags(counts)
    return [lt * migrant, lt * (1.0 - migrant), lt * foreign, lt * own]


def feature_matrix(term_vecs: Mapping[str, Sequence[float]], sims: Mapping[str, tuple[float, float]],
                   topic_ids: Sequence[str], setting: Mapping[str, int] | None = None,
                   term_totals: Mapping[str, int] | None = None) -> np.ndarray:
    """One row of shared features for an item: [terms(t) for t in topics] + [sims(t) ...]
    + [terms(t) x setting flags ...] + setting."""
    row: list[float] = []
    setting = setting or {}
    for t in topic_ids:
        row.extend(term_vecs[t])
    for t in topic_ids:
        row.extend(sims[t])
    for t in topic_ids:
        row.extend(cross_vector((term_totals or {}).get(t, 0), setting))
    row.extend(setting_vector(setting))
    return np.asarray(row, dtype=np.float32)


def feature_names(topic_ids: Sequence[str]) -> list[str]:
    return ([f"{t}.{f}" for t in topic_ids for f in TERM_FEATURES]
            + [f"{t}.{f}" for t in topic_ids for f in SIM_FEATURES]
            + [f"{t}.{f}" for t in topic_ids for f in CROSS_FEATURES]
            + list(SETTING_FEATURES))


# -- logistic head -----------------------------------------------------------------------
def item_key(row: Mapping) -> str:
    """The stable key of a labelled item (its id, else its URL): what folds are dealt by."""
    return str(row.get("id") or row.get("url"))


def fold_of(keys: Sequence[str], k: int) -> np.ndarray:
    """Deterministic k folds: keys (stable item ids) sorted by their sha1, dealt round-robin."""
    order = sorted(range(len(keys)), key=lambda i: hashlib.sha1(str(keys[i]).encode()).hexdigest())
    f = np.zeros(len(keys), dtype=int)
    for pos, i in enumerate(order):
        f[i] = pos % k
    return f


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def fit_logreg(X: np.ndarray, y: np.ndarray, l2: float = 1.0, sample_weight: np.ndarray | None = None,
               iters: int = 60) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (bias unpenalised).

    Deterministic (no random init); X is expected standardised. Returns (w, b).
    """
    n, d = X.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    Xb = np.hstack([X.astype(np.float64), np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 1e-6
    for _ in range(iters):
        p = sigmoid(Xb @ w)
        g = Xb.T @ (sw * (p - y)) + reg * w
        s = sw * p * (1 - p)
        if n < d + 1:
            # fewer items than columns: solve the Newton system in item space (Woodbury),
            # (D + Xb' S Xb)^-1 g = D^-1 g - D^-1 Xb' S^1/2 (I + S^1/2 Xb D^-1 Xb' S^1/2)^-1 S^1/2 Xb D^-1 g
            dinv = 1.0 / reg
            rs = np.sqrt(s)
            A = rs[:, None] * Xb                       # S^1/2 Xb
            dg = dinv * g
            M = np.eye(n) + (A * dinv) @ A.T
            try:
                step = dg - dinv * (A.T @ np.linalg.solve(M, A @ dg))
            except np.linalg.LinAlgError:
                h = (Xb * s[:, None]).T @ Xb + np.diag(reg)
                step = np.linalg.lstsq(h, g, rcond=None)[0]
        else:
            h = (Xb * s[:, None]).T @ Xb + np.diag(reg)
            try:
                step = np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(h, g, rcond=None)[0]
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w[:-1], float(w[-1])


def best_threshold(y: np.ndarray, p: np.ndarray, lo: float = 0.2, hi: float = 0.8) -> float:
    """Threshold in [lo, hi] maximising F1 of (p >= thr) against y; ties -> middle of the plateau.

    Bounded so a tiny fold cannot push the operating point to an extreme.
    """
    grid = np.round(np.arange(lo, hi + 1e-9, 0.01), 2)
    f1s = []
    for t in grid:
        pred = p >= t
        tp = float((pred & (y == 1)).sum())
        fp = float((pred & (y == 0)).sum())
        fn = float((~pred & (y == 1)).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    f1s = np.asarray(f1s)
    best = np.flatnonzero(f1s >= f1s.max() - 1e-9)
    # the longest run of best values containing the first best; take its middle
    run = [best[0]]
    for i in best[1:]:
        if i == run[-1] + 1:
            run.append(i)
        else:
            break
    return float(grid[run[len(run) // 2]])


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass
class Head:
    """Per-topic logistic regressions on standardised [features ⊕ embedding]."""
    topic_ids: list[str]
    mu: np.ndarray          # (d,)
    sd: np.ndarray          # (d,)
    W: np.ndarray           # (topics, d)
    b: np.ndarray           # (topics,) bias already shifted: calibrated threshold -> 0.5

    def scores(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.mu) / self.sd
        return sigmoid(Z @ self.W.T + self.b)


def design(features: np.ndarray, embeddings: np.ndarray | None, emb_scale: float) -> np.ndarray:
    """Concatenate features with the embedding; emb_scale 0 drops the embedding.

    The head standardises the feature columns only and multiplies the embedding columns by
    emb_scale (standardise_fit), so under the shared L2 penalty emb_scale sets how much the
    embedding may contribute.
    """
    if embeddings is None or emb_scale == 0:
        return features
    return np.hstack([features, embeddings])


def standardise_fit(X: np.ndarray, n_features: int | None = None,
                    emb_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Column mean/sd for the first n_features columns; the rest (embedding) get mu=0 and
    sd=1/emb_scale, i.e. a fixed scale instead of per-dimension standardisation."""
    n_features = X.shape[1] if n_features is None else n_features
    mu = np.zeros(X.shape[1])
    sd = np.ones(X.shape[1])
    mu[:n_features] = X[:, :n_features].mean(axis=0)
    s = X[:, :n_features].std(axis=0)
    s[s < 1e-6] = 1.0
    sd[:n_features] = s
    if X.shape[1] > n_features:
        sd[n_features:] = 1.0 / max(emb_scale, 1e-9)
    return mu, sd


def train_head(X: np.ndarray, Y: np.ndarray, topic_ids: Sequence[str], l2: float,
               thresholds: Sequence[float] | None = None, n_features: int | None = None,
               emb_scale: float = 1.0) -> Head:
    """Fit one logistic regression per topic; shift each bias so `thresholds[t]` maps to 0.5."""
    mu, sd = standardise_fit(X, n_features, emb_scale)
    Z = (X - mu) / sd
    W, b = [], []
    for j, _ in enumerate(topic_ids):
        y = Y[:, j].astype(np.float64)
        pos = max(y.sum(), 1.0)
        neg = max(len(y) - y.sum(), 1.0)
        # balance classes: positives of a rare topic weigh as much as all negatives together
        sw = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
        w, bias = fit_logreg(Z, y, l2=l2, sample_weight=sw)
        if thresholds is not None:
            bias -= logit(thresholds[j])
        W.append(w)
        b.append(bias)
    return Head(list(topic_ids), mu, sd, np.vstack(W), np.asarray(b))


def evidence_score(n_terms: int, topic_score: float) -> float:
    """Strength of one evidence sentence: saturating in its term count, capped by the topic score."""
    return round(float(topic_score) * (1.0 - math.exp(-1.0 * max(n_terms, 0))), 4) if n_terms \
        else round(float(topic_score) * 0.5, 4)


def bootstrap_interval(Y: np.ndarray, pred: np.ndarray, reps: int = 2000, seed: int = 0,
                       level: float = 0.95) -> dict[str, list[float] | None]:
    """Percentile bootstrap interval (items resampled with replacement, seeded) of macro-F1 over
    the topics with gold positives in the resample, and of the false-alarm rate (share of
    none-items given any tag). A held-out set of ~120 items measures macro-F1 only to a few
    points; the interval says how many, so two models are not ranked on noise."""
    Y = np.asarray(Y, dtype=bool)
    pred = np.asarray(pred, dtype=bool)
    n = len(Y)
    if n == 0:
        return {"macro_f1": None, "false_alarm_rate": None}
    rng = np.random.default_rng(seed)
    W = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(reps)]).astype(float)
    tp, fp, fn = W @ (Y & pred), W @ (~Y & pred), W @ (Y & ~pred)
    has_gold = (tp + fn) > 0                          # topics without gold positives do not count
    f1 = np.where(has_gold, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    macro = f1.sum(axis=1) / np.maximum(has_gold.sum(axis=1), 1)
    none = ~Y.any(axis=1)
    out: dict[str, list[float] | None] = {}
    a = (1 - level) / 2
    out["macro_f1"] = [round(float(v), 4) for v in np.quantile(macro, [a, 1 - a])]
    if none.any():
        alarms = W[:, none] @ pred[none].any(axis=1).astype(float)
        fa = alarms / np.maximum(W[:, none].sum(axis=1), 1)
        out["false_alarm_rate"] = [round(float(v), 4) for v in np.quantile(fa, [a, 1 - a])]
    else:
        out["false_alarm_rate"] = None
    return out
