"""alerts.match is pure: hand-made vectors, topics and dates."""
import datetime as dt

import numpy as np
import pytest

from alerts import match as M


def unit(*xs):
    v = np.asarray(xs, dtype=float)
    return v / np.linalg.norm(v)


RULE = np.stack([unit(1, 0, 0), unit(0.5, 0, 0.5)])          # en, ru


def run(**kw):
    args = dict(rule_topics=["biometrics"], dev_topics=["biometrics", "entry_ban"],
                rule_vecs=RULE, snippet_vecs=np.stack([unit(0, 1, 0), unit(1, 0.2, 0)]),
                threshold=0.5, stage="adopted", effective_dates=["2026-03-01"],
                last_reviewed=dt.date(2025, 9, 15), last_seen=dt.datetime(2026, 1, 10))
    args.update(kw)
    return M.match_rule(**args)


def test_match_scores_best_pair_and_explains():
    r = run()
    assert r.matched and r.topics == ["biometrics"]
    assert r.score == pytest.approx(float(unit(1, 0.2, 0) @ unit(1, 0, 0)))
    assert r.best_snippet == 1 and r.best_rule_text == 0
    assert len(r.snippet_scores) == 2 and r.snippet_scores[0] < r.snippet_scores[1]
    assert any("shared topics: biometrics" in x for x in r.reasons)
    assert any("stage adopted" in x for x in r.reasons)


def test_below_threshold_no_match():
    r = run(threshold=0.99)
    assert not r.matched and "below threshold" in r.reasons[-1]


def test_no_topic_overlap():
    r = run(dev_topics=["chi"])
    assert not r.matched and r.reasons == ["no topic in common"]


def test_require_change():
    assert not run(stage=None, effective_dates=[]).matched
    assert run(stage=None, effective_dates=[], require_change=False).matched
    assert run(stage=None, effective_dates=[], any_change_signal=True).matched
    assert run(stage=None, effective_dates=["2026-03-01"]).matched


def test_news_must_postdate_last_review():
    old = dict(last_seen=dt.datetime(2025, 9, 1), effective_dates=[])
    assert not run(**old).matched
    # an effective date after the review still counts
    assert run(last_seen=dt.datetime(2025, 9, 1), effective_dates=["2026-03-01"]).matched
    assert run(last_reviewed=None, **old).matched
    assert M.news_after_review("2025-09-15", "2025-09-16T00:00:00", [])


def test_fail_open_without_vectors():
    r = run(rule_vecs=None)
    assert r.matched and r.score == 0.0 and "unavailable" in r.reasons[-1]


def test_similarity_matrix_normalises_and_checks_dims():
    s = M.similarity_matrix(np.array([[2.0, 0.0]]), np.array([[0.0, 3.0], [5.0, 0.0]]))
    assert s.tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError, match="vector sizes differ"):
        M.similarity_matrix(np.ones((1, 2)), np.ones((1, 3)))


@pytest.mark.parametrize("old,new,adv", [
    ("proposed", "adopted", True), ("adopted", "in_force", True), ("signed", "adopted", False),
    ("adopted", "adopted", False), (None, "proposed", True), ("adopted", None, False),
    ("adopted", "some_new_label", True), ("court", "in_force", True), ("in_force", "court", False),
])
def test_stage_advanced(old, new, adv):
    assert M.stage_advanced(old, new) is adv


def test_select_matches_keeps_rules_close_to_the_best():
    from alerts.match import select_matches
    scored = [("a", 0.65), ("b", 0.40), ("c", 0.58), ("d", 0.37)]
    assert select_matches(scored, margin=0.1, max_rules=3) == ["a", "c"]
    assert select_matches(scored, margin=0.5, max_rules=2) == ["a", "c"]
    assert select_matches([], margin=0.1, max_rules=3) == []


def test_select_matches_keeps_topic_only_matches_when_similarity_unavailable():
    from alerts.match import select_matches
    assert select_matches([("a", 0.0), ("b", 0.0)], margin=0.1, max_rules=1) == ["a", "b"]
