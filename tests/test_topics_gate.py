import json

import pytest

from bench import gate
from bench.gate import GateFailure, Measurement, check_topics, check_topics_false_alarm


def test_baseline_has_topic_floors():
    data = json.loads(gate.BASELINE_PATH.read_text(encoding="utf-8"))
    assert data["topics"]["macro_f1_floor"] >= 0.85
    assert data["topics_false_alarm"]["specificity_floor"] >= 0.8
    assert len(data["topics"]["corpus_sha256"]) == 64
    assert "topics" in gate.CHECKS and "topics_false_alarm" in gate.CHECKS


def test_check_topics_decisions(tmp_path):
    p = tmp_path / "baseline.json"
    p.write_text(json.dumps({"topics": {"macro_f1_floor": 0.88, "noise_margin": 0.01, "corpus_sha256": "a" * 64},
                             "topics_false_alarm": {"specificity_floor": 0.9, "noise_margin": 0.01,
                                                    "corpus_sha256": "a" * 64}}))
    assert check_topics(p, Measurement(0.875, "a" * 64, 282)).ok
    with pytest.raises(GateFailure, match="floor"):
        check_topics(p, Measurement(0.86, "a" * 64, 282))
    with pytest.raises(GateFailure, match="corpus changed"):
        check_topics(p, Measurement(0.95, "b" * 64, 300))
    with pytest.raises(GateFailure, match="floor"):
        check_topics_false_alarm(p, Measurement(0.85, "a" * 64, 87))


@pytest.mark.timeout(900)
def test_topics_gate_against_pinned_baseline():
    """Recomputes nested 5-fold CV on classify/data/dev.jsonl (840 items: ~2 min idle, ~5 min on
    a loaded 2-core box, hence its own timeout). A changed dev set fails with
    'corpus changed' until re-pinned: `python -m bench.gate --update topics topics_false_alarm`."""
    assert check_topics().ok
    assert check_topics_false_alarm().ok
