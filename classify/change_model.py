"""The learned legal-change decision: does an item report a change in rules, and at which stage.

The cue rules (classify.legal_change) find stage phrases and dates with offsets — the evidence an
editor reads — but their decision (the stage with the largest weighted cue total) cannot weigh
context: "a bill was submitted" inside a story about a law in force, a court's name in an
unrelated case, a pilot mentioned in passing. This model makes the decision from the rules' own
cue totals (legal_change.rule_features) plus character 3-5-grams of the title (twice) and the lead
(the first 1,500 characters), with one multinomial logistic regression over "none" and the seven
stages, trained on the labelled `change` objects of classify/data/dev.jsonl. The rules still give
the dates and the evidence: the served signal is legal_change.with_stage(rules, model's stage).

Nested 5-fold CV on dev (800 change items of 1402, 2026-11-22): is_change F1 0.824 -> 0.85,
stage accuracy 0.573 -> 0.62 (the rules' numbers are on the data they were written on, so the
real gain is larger); numbers of the shipped model in its file's meta and classify/README.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from classify import legal_change
from classify.lexical import _Space, fit_space
from classify.scoring import fold_of, item_key

CLASSES = ("none",) + tuple(legal_change.STAGES)
LEAD = 1500
DEFAULT_C = 4.0
FORMAT = "lawwatch-change-1"
N_RULE = 2 * len(legal_change.STAGES) + 1


def change_text(title: str, text: str) -> str:
    """What the model reads: the title twice (it carries the news) and the lead; lower-cased, ё folded."""
    t = title or ""
    return (t + "\n" + t + "\n" + (text or "")[:LEAD]).lower().replace("ё", "е")


def label_of(change: Mapping) -> str:
    """The class of a gold `change` object: its stage, or "none" when it reports no change."""
    if not change.get("is_change"):
        return "none"
    st = change.get("stage")
    if st not in legal_change.STAGES:
        raise ValueError(f"change.stage {st!r} is not one of {legal_change.STAGES}")
    return st


def decide(probs: np.ndarray) -> str | None:
    """Pure: the stage with the highest probability, None when "none" wins."""
    c = CLASSES[int(np.argmax(probs))]
    return None if c == "none" else c


@dataclass
class ChangeModel(_Space):
    vocabulary: list[str]
    idf: np.ndarray
    W: np.ndarray            # (classes, V + N_RULE)
    b: np.ndarray            # (classes,)
    meta: dict = field(default_factory=dict)
    _vec: object = field(default=None, repr=False, compare=False)

    def design(self, titles: Sequence[str], texts: Sequence[str],
               signals: Sequence[legal_change.ChangeSignal]):
        import scipy.sparse as sp
        X = self.transform([change_text(a, b) for a, b in zip(titles, texts)])
        R = sp.csr_matrix(np.array([legal_change.rule_features(s) for s in signals], dtype=np.float64)
                          .reshape(len(signals), N_RULE))
        return sp.hstack([X, R]).tocsr()

    def probs(self, titles: Sequence[str], texts: Sequence[str],
              signals: Sequence[legal_change.ChangeSignal]) -> np.ndarray:
        """(n, classes) class probabilities (softmax)."""
        if not len(signals):
            return np.zeros((0, len(CLASSES)))
        Z = np.asarray(self.design(titles, texts, signals) @ self.W.T) + self.b
        Z -= Z.max(axis=1, keepdims=True)
        E = np.exp(Z)
        return E / E.sum(axis=1, keepdims=True)

    def refine(self, titles: Sequence[str], texts: Sequence[str],
               signals: Sequence[legal_change.ChangeSignal]) -> list[legal_change.ChangeSignal]:
        """The rules' signals with the model's decision (legal_change.with_stage)."""
        return [legal_change.with_stage(s, decide(p))
                for s, p in zip(signals, self.probs(titles, texts, signals))]

    def save(self, path: Path) -> str:
        """Write the model (npz, deterministic bytes); returns its sha256."""
        return self._write(path, dict(self.meta, format=FORMAT, classes=list(CLASSES), lead=LEAD,
                                      n_rule=N_RULE))

    @classmethod
    def load(cls, path: Path) -> "ChangeModel":
        meta, vocab, idf, W, b = cls._read(path, FORMAT)
        if (tuple(meta.get("classes", ())) != CLASSES or meta.get("lead") != LEAD
                or meta.get("n_rule") != N_RULE):
            raise ValueError(f"{path}: trained for classes {meta.get('classes')}, lead "
                             f"{meta.get('lead')}, {meta.get('n_rule')} rule features; this code "
                             f"has {list(CLASSES)}, {LEAD}, {N_RULE}; retrain")
        return cls(vocab, idf, W, b, meta)


def fit_change(titles: Sequence[str], texts: Sequence[str], signals: Sequence[legal_change.ChangeSignal],
               labels: Sequence[str], C: float = DEFAULT_C) -> ChangeModel:
    """Multinomial balanced logistic regression over CLASSES."""
    from sklearn.linear_model import LogisticRegression
    docs = [change_text(a, b) for a, b in zip(titles, texts)]
    vocab, idf, _ = fit_space(docs)
    m = ChangeModel(vocab, idf, np.zeros((len(CLASSES), len(vocab) + N_RULE)), np.zeros(len(CLASSES)))
    X = m.design(titles, texts, signals)
    y = np.array([CLASSES.index(lb) for lb in labels])
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(X, y)
    W = np.zeros((len(CLASSES), X.shape[1]))
    b = np.full(len(CLASSES), -30.0)          # a class absent from training is never chosen
    if len(lr.classes_) == 2:                 # sklearn's binary form: one row for classes_[1]
        W[lr.classes_[1]], b[lr.classes_[1]] = lr.coef_[0], lr.intercept_[0]
        b[lr.classes_[0]] = 0.0
    else:
        for k, c in enumerate(lr.classes_):
            W[c], b[c] = lr.coef_[k], lr.intercept_[k]
    m.W, m.b = W, b
    m.meta = {"C": C, "n_train": len(labels), "vocabulary_size": len(vocab),
              "class_counts": {c: int((y == i).sum()) for i, c in enumerate(CLASSES)}}
    return m


def signals_of(rows: Sequence[Mapping]) -> list[legal_change.ChangeSignal]:
    return [legal_change.detect(r.get("text") or "", title=r.get("title") or "",
                                published=r.get("published"), lang=r.get("lang")) for r in rows]


def cross_validate(rows: Sequence[Mapping], k: int = 5, C: float = DEFAULT_C
                   ) -> list[legal_change.ChangeSignal]:
    """Out-of-fold served signals for labelled rows (each fold's model never saw its items)."""
    rows = list(rows)
    sigs = signals_of(rows)
    f = fold_of([item_key(r) for r in rows], k)
    out: list[legal_change.ChangeSignal | None] = [None] * len(rows)
    for j in range(k):
        tr = [i for i in range(len(rows)) if f[i] != j]
        te = [i for i in range(len(rows)) if f[i] == j]
        if not te:
            continue
        m = fit_change([rows[i].get("title") or "" for i in tr], [rows[i].get("text") or "" for i in tr],
                       [sigs[i] for i in tr], [label_of(rows[i]["change"]) for i in tr], C)
        for i, s in zip(te, m.refine([rows[i].get("title") or "" for i in te],
                                     [rows[i].get("text") or "" for i in te], [sigs[i] for i in te])):
            out[i] = s
    return out  # type: ignore[return-value]

