"""The lexical member of the topic classifier: character n-gram TF-IDF + one logistic regression
per topic, calibrated like the head (its cross-validated best-F1 threshold maps to 0.5).

Why a second model: the head sees the item through the curated term patterns and one dense
USE/MiniLM vector. Both summarise; neither sees the item's own wording beyond the terms someone
wrote down. Character n-grams inside words (3-5 characters, `char_wb`) see all of it, in any
language and inflection (Russian case endings, Kyrgyz suffixes, transliterations) without a
tokenizer, and learn from the labelled data which wording marks a topic and which marks a
look-alike (a Kazakh social-insurance story, Russians' own biometrics). Alone it is weaker than
the head (dev CV macro-F1 0.86 vs 0.90), but its errors are different ones: the two blended
(scoring.blend) beat either (README "Lexical member").

The model is plain arrays: the n-gram vocabulary, its idf, the weights, the biases. Training
uses scikit-learn; scoring rebuilds the same TF-IDF transform from the stored vocabulary, so a
saved model does not depend on pickled library objects.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from classify.scoring import best_threshold, fold_of, logit, sigmoid

# Characters of title + text the lexical model reads. Long items are also scored window by
# window (TopicClassifier._long_items), each window with the title, like the news-sized
# excerpts it is trained on.
LEX_CHARS = 6000
NGRAMS = (3, 5)
MAX_FEATURES = 50_000
MIN_DF = 2
# Inverse regularisation. Chosen by nested 5-fold CV on dev (1402 items, 2026-11-22), blend
# weight 0.5: C 1 0.905 / 6.0 %, 4 0.911 / 6.4 %, 16 0.914 / 5.8 %, 64 0.912 / 5.8 %
# (macro-F1 / false alarms of the blend); vocabulary 20k 0.910, 50k 0.914, 200k 0.914.
DEFAULT_C = 16.0
FORMAT = "lawwatch-lexical-1"


def lexical_text(title: str, text: str) -> str:
    """What the lexical model reads: title and the start of the text, lower-cased, ё folded."""
    s = (title or "") + "\n" + (text or "")[:LEX_CHARS]
    return s.lower().replace("ё", "е")


def _tfidf(counts, idf: np.ndarray):
    """Sublinear tf x idf, rows L2-normalised (sklearn's TfidfVectorizer(sublinear_tf=True))."""
    X = counts.tocsr().astype(np.float64)
    X.data = 1.0 + np.log(X.data)
    X = X.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    inv = 1.0 / norms
    return X.multiply(inv[:, None]).tocsr()


def fit_space(texts: Sequence[str]):
    """(vocabulary, idf, X): the n-gram vocabulary (MAX_FEATURES most frequent with df >= MIN_DF,
    column order), its smoothed idf and the texts' TF-IDF matrix, as sklearn's
    TfidfVectorizer(analyzer="char_wb", sublinear_tf=True) computes them."""
    from sklearn.feature_extraction.text import CountVectorizer
    vec = CountVectorizer(analyzer="char_wb", ngram_range=NGRAMS, lowercase=False, min_df=MIN_DF,
                          max_features=MAX_FEATURES, dtype=np.float64)
    counts = vec.fit_transform(list(texts))
    vocab = [g for g, _ in sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])]
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    idf = np.log((1.0 + counts.shape[0]) / (1.0 + df)) + 1.0          # smooth_idf, as sklearn
    return vocab, idf, _tfidf(counts, idf)


def word_ngrams(word: str) -> list[str]:
    """sklearn's `char_wb` n-grams of one whitespace-free word: padded with a space each side,
    every n-gram of each size in NGRAMS; a padded word shorter than n gives itself, once."""
    w = " " + word + " "
    out = []
    for n in range(NGRAMS[0], NGRAMS[1] + 1):
        if len(w) <= n:
            out.append(w)
            break
        out.extend(w[i:i + n] for i in range(len(w) - n + 1))
    return out


# Words whose vocabulary columns are remembered per model (news text repeats its words: a word
# is split and looked up once, not at every occurrence); cleared when it grows past this.
WORD_CACHE = 200_000


class _Space:
    """TF-IDF transform from a stored vocabulary and idf (shared by the lexical models). Counts
    the same n-grams as sklearn's CountVectorizer(analyzer="char_wb") (tests/test_lexical.py),
    about 3x faster: each distinct word's columns are computed once and remembered."""
    vocabulary: list[str]
    idf: np.ndarray
    _vec: object

    def transform(self, texts: Sequence[str]):
        import scipy.sparse as sp
        if self._vec is None:
            self._vec = ({g: i for i, g in enumerate(self.vocabulary)}, {})
        vocab, words = self._vec
        if len(words) > WORD_CACHE:
            words.clear()
        indices: list[int] = []
        indptr = [0]
        for t in texts:
            for w in t.split():
                cols = words.get(w)
                if cols is None:
                    cols = words[w] = [j for j in map(vocab.get, word_ngrams(w)) if j is not None]
                indices.extend(cols)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        m = sp.csr_matrix((data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
                          shape=(len(indptr) - 1, len(self.vocabulary)))
        m.sum_duplicates()
        return _tfidf(m, self.idf)

    # -- files: npz of meta (JSON) + vocabulary, idf, W, b; deterministic bytes ----------
    def _write(self, path: Path, meta: dict) -> str:
        """Write meta and the arrays; returns the file's sha256."""
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.array(json.dumps(meta, sort_keys=True, ensure_ascii=False)),
                            vocabulary=np.array(self.vocabulary), idf=self.idf.astype(np.float32),
                            W=self.W.astype(np.float32), b=self.b.astype(np.float64))
        data = buf.getvalue()
        path.write_bytes(data)
        return hashlib.sha256(data).hexdigest()

    @staticmethod
    def _read(path: Path, fmt: str) -> tuple[dict, list[str], np.ndarray, np.ndarray, np.ndarray]:
        """(meta, vocabulary, idf, W, b) of a file written by _write with format `fmt`."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != fmt:
                raise ValueError(f"{path}: not a {fmt} file (format {meta.get('format')!r})")
            return (meta, [str(g) for g in z["vocabulary"]], z["idf"].astype(np.float64),
                    z["W"].astype(np.float64), z["b"].astype(np.float64))


@dataclass
class LexicalModel(_Space):
    topic_ids: list[str]
    vocabulary: list[str]     # n-gram strings, column order
    idf: np.ndarray           # (V,)
    W: np.ndarray             # (topics, V)
    b: np.ndarray             # (topics,), shifted: calibrated threshold -> 0.5
    meta: dict = field(default_factory=dict)
    _vec: object = field(default=None, repr=False, compare=False)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated per-topic scores (n, topics) of lexical_text()s."""
        if not len(texts):
            return np.zeros((0, len(self.topic_ids)))
        X = self.transform(texts)
        return sigmoid(np.asarray(X @ self.W.T) + self.b)

    # -- files -------------------------------------------------------------------------
    def save(self, path: Path) -> str:
        """Write the model (npz, deterministic bytes); returns its sha256."""
        return self._write(path, dict(self.meta, format=FORMAT, topic_ids=self.topic_ids,
                                      ngrams=list(NGRAMS), lex_chars=LEX_CHARS))

    @classmethod
    def load(cls, path: Path) -> "LexicalModel":
        meta, vocab, idf, W, b = cls._read(path, FORMAT)
        if tuple(meta.get("ngrams", ())) != NGRAMS or meta.get("lex_chars") != LEX_CHARS:
            raise ValueError(f"{path}: trained with n-grams {meta.get('ngrams')} / "
                             f"{meta.get('lex_chars')} characters, this code reads "
                             f"{list(NGRAMS)} / {LEX_CHARS}; retrain")
        return cls(list(meta["topic_ids"]), vocab, idf, W, b, meta)


def _fit_raw(texts: Sequence[str], Y: np.ndarray, C: float):
    """(vocabulary, idf, W, b) of per-topic balanced logistic regressions; thresholds not applied."""
    from sklearn.linear_model import LogisticRegression
    vocab, idf, X = fit_space(texts)
    W, b = [], []
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if y.min() == y.max():          # a topic with no positive (or no negative) in training
            W.append(np.zeros(X.shape[1]))
            b.append(-10.0 if y.max() == 0 else 10.0)
            continue
        m = LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(X, y)
        W.append(m.coef_[0])
        b.append(float(m.intercept_[0]))
    return vocab, idf, np.vstack(W), np.asarray(b)


def fit_lexical(texts: Sequence[str], Y: np.ndarray, topic_ids: Sequence[str], keys: Sequence[str],
                C: float = DEFAULT_C, k: int = 4) -> LexicalModel:
    """Fit on all `texts`; each topic's threshold is the best-F1 one on k-fold out-of-fold scores
    inside these texts (keys: stable item ids for the folds), then folded into the bias."""
    texts = list(texts)
    Y = np.asarray(Y)
    folds = fold_of(keys, k)
    P = np.zeros(Y.shape)
    for f in range(k):
        tr, te = folds != f, folds == f
        if not te.any() or not tr.any():
            continue
        vocab, idf, W, b = _fit_raw([t for t, m in zip(texts, tr) if m], Y[tr], C)
        m = LexicalModel(list(topic_ids), vocab, idf, W, b)
        P[te] = m.scores([t for t, x in zip(texts, te) if x])
    thr = [best_threshold(Y[:, j], P[:, j], lo=0.05, hi=0.95) for j in range(Y.shape[1])]
    vocab, idf, W, b = _fit_raw(texts, Y, C)
    b = b - np.array([logit(t) for t in thr])
    return LexicalModel(list(topic_ids), vocab, idf, W, b,
                        meta={"C": C, "thresholds_raw": dict(zip(topic_ids, thr)),
                              "n_train": len(texts), "vocabulary_size": len(vocab)})
