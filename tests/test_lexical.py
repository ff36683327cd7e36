"""The lexical member (classify/lexical.py): its TF-IDF equals scikit-learn's, it learns topics
from real labelled items, its files round-trip and are checked, and the classifier serves the
logit blend of the head and this member."""
import hashlib
import json
import shutil

import numpy as np
import pytest

from classify import lexical as L
from classify.classifier import ClassifierError, head_path, load_head, get_classifier
from classify.scoring import blend
from classify.train import DEFAULT_DATA, fold_ids, load_jsonl

TOPICS = ["chi", "biometrics", "entry_ban", "eaeu_court", "registration", "work_permit", "amina_app"]


@pytest.fixture(scope="module")
def dev():
    rows = [r for r in load_jsonl(DEFAULT_DATA) if r.get("provenance", "real") == "real"]
    texts = [L.lexical_text(r["title"], r["text"]) for r in rows]
    Y = np.array([[1 if t in r["topics"] else 0 for t in TOPICS] for r in rows])
    return rows, texts, Y


@pytest.fixture(scope="module")
def split_model(dev):
    """Trained on four fifths of the real dev items, for scoring the fifth."""
    rows, texts, Y = dev
    f = fold_ids(rows, 5)
    tr = f != 0
    m = L.fit_lexical([t for t, k in zip(texts, tr) if k], Y[tr], TOPICS,
                      [r["id"] for r, k in zip(rows, tr) if k], k=3)
    return m, ~tr


def test_tfidf_equals_sklearn(dev):
    from sklearn.feature_extraction.text import TfidfVectorizer
    _, texts, _ = dev
    texts = texts[:400]
    ref = TfidfVectorizer(analyzer="char_wb", ngram_range=L.NGRAMS, min_df=L.MIN_DF, sublinear_tf=True,
                          max_features=L.MAX_FEATURES, lowercase=False).fit(texts)
    vocab = [g for g, _ in sorted(ref.vocabulary_.items(), key=lambda kv: kv[1])]
    m = L.LexicalModel(TOPICS, vocab, ref.idf_, np.zeros((7, len(vocab))), np.zeros(7))
    got = m.transform(texts)
    assert abs(got - ref.transform(texts)).max() < 1e-12


def test_text_is_folded_and_bounded():
    s = L.lexical_text("Ёлки", "ЁЖ " + "x" * (L.LEX_CHARS + 100))
    assert s.startswith("елки\nеж ")
    assert len(s) == len("елки\n") + L.LEX_CHARS


def test_learns_topics_on_unseen_items(split_model, dev):
    """Out of sample, on ~280 real items it never saw: well above chance for every topic with
    support, and most none-items left alone (the member alone, before blending)."""
    m, te = split_model
    rows, texts, Y = dev
    P = m.scores([t for t, k in zip(texts, te) if k]) >= 0.5
    Yt = Y[te] == 1
    f1 = []
    for j in range(len(TOPICS)):
        tp = (P[:, j] & Yt[:, j]).sum()
        if Yt[:, j].sum() >= 5:
            f1.append(2 * tp / (P[:, j].sum() + Yt[:, j].sum()))
    assert min(f1) > 0.5 and np.mean(f1) > 0.75, f1
    none = Yt.sum(axis=1) == 0
    assert P[none].any(axis=1).mean() < 0.3


def test_save_load_roundtrip_is_deterministic(split_model, tmp_path, dev):
    m, te = split_model
    _, texts, _ = dev
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    sha = m.save(a)
    assert sha == m.save(b) == hashlib.sha256(a.read_bytes()).hexdigest()
    back = L.LexicalModel.load(a)
    sample = [t for t, k in zip(texts, te) if k][:50]
    assert np.allclose(back.scores(sample), m.scores(sample), atol=1e-5)
    assert back.meta["C"] == m.meta["C"] and back.topic_ids == TOPICS


def test_load_refuses_other_layout(split_model, tmp_path):
    m, _ = split_model
    p = tmp_path / "x.npz"
    m.save(p)
    with np.load(p) as z:
        parts = {k: z[k] for k in z.files}
    meta = json.loads(str(parts["meta"]))
    meta["ngrams"] = [2, 4]
    parts["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(p, **parts)
    with pytest.raises(ValueError, match=r"x\.npz.*n-grams"):
        L.LexicalModel.load(p)


def test_blend_is_a_pure_logit_average():
    h = np.array([[0.5, 0.9, 0.2, 0.7]])
    x = np.array([[0.5, 0.1, 0.2, 0.7]])
    out = blend(h, x, 0.5)
    assert np.allclose(out, [[0.5, 0.5, 0.2, 0.7]])
    assert np.allclose(blend(h, x, 1.0), h) and np.allclose(blend(h, x, 0.0), x)
    assert np.allclose(blend(h, None), h)
    # monotone in either member
    assert (blend(h + 0.05, x, 0.5) > out).all() and (blend(h, x + 0.05, 0.5) > out).all()


def _copy_heads(tmp_path):
    src = head_path("use-multilingual-v3")
    doc = json.loads(src.read_text(encoding="utf-8"))
    assert doc["lexical"], "the shipped use head was trained with the lexical member"
    shutil.copy(src, tmp_path / src.name)
    shutil.copy(src.with_name(doc["lexical"]["file"]), tmp_path / doc["lexical"]["file"])
    return tmp_path / src.name, tmp_path / doc["lexical"]["file"], doc


def test_head_refuses_changed_or_missing_lexical_file(tmp_path, monkeypatch):
    import classify.classifier as C
    hp, lp, doc = _copy_heads(tmp_path)
    monkeypatch.setattr(C, "MODEL_DIR", tmp_path)
    hf = load_head(doc["model_id"], doc["topic_ids"], doc["topics_fingerprint"])
    assert hf.lexical is not None and hf.head_weight == doc["lexical"]["head_weight"]
    lp.write_bytes(lp.read_bytes() + b"\0")
    with pytest.raises(ClassifierError, match=r"lexical\.npz: sha256 .* retrain"):
        load_head(doc["model_id"], doc["topic_ids"], doc["topics_fingerprint"])
    lp.unlink()
    with pytest.raises(ClassifierError, match=r"lexical\.npz: missing"):
        load_head(doc["model_id"], doc["topic_ids"], doc["topics_fingerprint"])


def test_served_scores_are_the_blend(dev):
    """TopicClassifier.raw_scores = blend(head, lexical) with the stored weight; the lexical
    member changes at least some decisions on real items (it is not inert)."""
    rows, texts, _ = dev
    clf = get_classifier(None)
    items = rows[:60]
    feats = clf.featurizer.featurize(items)
    hf = clf.head
    from classify.scoring import design
    X = np.vstack([f.features for f in feats])
    E = np.vstack([f.doc_vec for f in feats])
    H = hf.head.scores(design(X, E, hf.emb_scale))
    Lx = hf.lexical.scores(texts[:60])
    assert np.allclose(clf.raw_scores(feats), blend(H, Lx, hf.head_weight))
    assert ((H >= 0.5) != (clf.raw_scores(feats) >= 0.5)).any()
