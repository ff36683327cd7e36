"""The learned legal-change decision (classify/change_model.py) on top of the cue rules."""
import json

import numpy as np
import pytest

from classify import change_model as CM
from classify import legal_change as LC
from classify.classifier import CHANGE_MODEL, ClassifierError, get_classifier, load_change_model
from classify.evaluate import change_metrics
from classify.scoring import fold_of
from classify.train import DEFAULT_DATA, load_jsonl


@pytest.fixture(scope="module")
def rows():
    return [r for r in load_jsonl(DEFAULT_DATA)
            if r.get("provenance", "real") == "real" and isinstance(r.get("change"), dict)]


@pytest.fixture(scope="module")
def split(rows):
    """A model trained on four fifths of the real dev items, and the fifth it never saw."""
    f = fold_of([r["id"] for r in rows], 5)
    tr = [r for r, k in zip(rows, f) if k != 0]
    te = [r for r, k in zip(rows, f) if k == 0]
    m = CM.fit_change([r["title"] for r in tr], [r["text"] for r in tr], CM.signals_of(tr),
                      [CM.label_of(r["change"]) for r in tr])
    return m, te


def test_labels_and_decision_are_pure():
    assert CM.label_of({"is_change": False, "stage": None}) == "none"
    assert CM.label_of({"is_change": True, "stage": "signed"}) == "signed"
    with pytest.raises(ValueError, match="stage 'passed'"):
        CM.label_of({"is_change": True, "stage": "passed"})
    p = np.zeros(len(CM.CLASSES))
    p[CM.CLASSES.index("court")] = 0.6
    assert CM.decide(p) == "court"
    p[0] = 0.7
    assert CM.decide(p) is None


def test_with_stage_takes_that_stages_cues_and_keeps_dates():
    title = "Putin signed the law on migrants' health insurance"
    text = ("The State Duma adopted the bill in June. The law comes into force from 1 January 2026. "
            "A draft amendment was also submitted.")
    sig = LC.detect(text, title=title, published="2025-07-01")
    assert sig.is_change and "2026-01-01" in sig.effective_dates
    for st in ("adopted", "proposed", "signed"):
        s2 = LC.with_stage(sig, st)
        cues = [e for e in s2.evidence if "stage" in e]
        assert s2.stage == st and s2.is_change and cues and all(e["stage"] == st for e in cues)
        assert s2.effective_dates == sig.effective_dates
    none = LC.with_stage(sig, None)
    assert not none.is_change and none.stage is None and none.effective_dates == sig.effective_dates
    assert not [e for e in none.evidence if "stage" in e] and [e for e in none.evidence if "date" in e]
    with pytest.raises(ValueError):
        LC.with_stage(sig, "passed")


def test_learns_on_unseen_items(split):
    """On ~280 real items it never saw: the change decision and the stage well above what
    always answering the commonest class gives, and not worse than the cue rules alone."""
    m, te = split
    served = m.refine([r["title"] for r in te], [r["text"] for r in te], CM.signals_of(te))
    res = change_metrics(te, served)
    rules = change_metrics(te, CM.signals_of(te))
    assert res["is_change"]["f1"] >= 0.78 and res["stage_accuracy"] >= 0.55, res
    assert res["is_change"]["f1"] >= rules["is_change"]["f1"] - 0.02
    assert res["stage_accuracy"] >= rules["stage_accuracy"] - 0.02


def test_save_load_roundtrip(split, tmp_path):
    m, te = split
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert m.save(a) == m.save(b)
    back = CM.ChangeModel.load(a)
    sigs = CM.signals_of(te[:40])
    args = ([r["title"] for r in te[:40]], [r["text"] for r in te[:40]], sigs)
    assert np.allclose(back.probs(*args), m.probs(*args), atol=1e-5)
    with np.load(a) as z:
        parts = {k: z[k] for k in z.files}
    meta = json.loads(str(parts["meta"]))
    meta["lead"] = 999
    parts["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(a, **parts)
    with pytest.raises(ValueError, match=r"a\.npz.*lead"):
        CM.ChangeModel.load(a)


def test_missing_model_is_refused_with_its_path(tmp_path):
    with pytest.raises(ClassifierError, match=rf"{CHANGE_MODEL}: no trained legal-change model.*classify\.train"):
        load_change_model(tmp_path)


def test_classifier_serves_the_models_decision(rows):
    clf = get_classifier(None)
    assert clf.change_model is not None
    items = rows[:80]
    out = clf.classify(items)
    sigs = CM.signals_of(items)
    want = clf.change_model.refine([r["title"] for r in items], [r["text"] for r in items], sigs)
    assert [c.change["stage"] for c in out] == [s.stage for s in want]
    assert [c.change["is_change"] for c in out] == [s.is_change for s in want]
    # the model is not inert: it overrules the rules on some real items
    assert any(s.stage != w.stage for s, w in zip(sigs, want))
