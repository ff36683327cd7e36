"""Shingle-based text-extraction metric of the Scrapinghub article-extraction-benchmark.

Re-implemented (pure functions, no I/O) from the benchmark's description:
texts are split into ``\\w+`` tokens, 4-token shingles are counted, per page
the tp/fp/fn shingle counts are normalised to sum to 1 (so long pages do not
weigh more), precision and recall are averaged over pages and F1 is computed
from those two means.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

__all__ = [
    "tokenize",
    "shingles",
    "shingle_matching",
    "precision_score",
    "recall_score",
    "aggregate",
    "shingle_f1",
    "Scores",
]

_TOKEN_RE = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)

TpFpFn = tuple[float, float, float]


def tokenize(text: str | None) -> list[str]:
    return _TOKEN_RE.findall(text or "")


def shingles(text: str | None, n: int = 4) -> Counter:
    """Counter of n-token shingles; a text shorter than n gives one short shingle."""
    tokens = tokenize(text)
    out: Counter = Counter()
    for i in range(0, max(1, len(tokens) - n + 1)):
        sh = tuple(tokens[i : i + n])
        if sh:
            out[sh] += 1
    return out


def shingle_matching(true: str | None, pred: str | None, n: int = 4) -> TpFpFn:
    """Normalised (tp, fp, fn) over shingles of a single page."""
    t = shingles(true, n)
    p = shingles(pred, n)
    tp = fp = fn = 0.0
    for key in t.keys() | p.keys():
        tc = t.get(key, 0)
        pc = p.get(key, 0)
        tp += min(tc, pc)
        fp += max(0, pc - tc)
        fn += max(0, tc - pc)
    s = tp + fp + fn
    if s > 0:
        return (tp / s, fp / s, fn / s)
    return (tp, fp, fn)


def precision_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def recall_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    n: int


def aggregate(tp_fp_fns: Sequence[TpFpFn]) -> Scores:
    """Mean precision (pages with tp+fp>0), mean recall (tp+fn>0), F1 of the means."""
    precs = [precision_score(*x) for x in tp_fp_fns if x[0] + x[1] > 0]
    recs = [recall_score(*x) for x in tp_fp_fns if x[0] + x[2] > 0]
    p = sum(precs) / len(precs) if precs else 0.0
    r = sum(recs) / len(recs) if recs else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return Scores(precision=p, recall=r, f1=f1, n=len(tp_fp_fns))


def shingle_f1(true: str | None, pred: str | None, n: int = 4) -> float:
    """F1 of a single page (convenience for tests)."""
    return aggregate([shingle_matching(true, pred, n)]).f1


def score_pairs(pairs: Iterable[tuple[str | None, str | None]]) -> Scores:
    """Score (true, pred) pairs with the benchmark metric."""
    return aggregate([shingle_matching(t, p) for t, p in pairs])
