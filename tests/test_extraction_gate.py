import json
import time

import pytest

from bench import gate
from bench.extraction import benchmark_dir
from bench.gate import GateFailure, Measurement, check_extraction, update

HAVE_FIXTURES = (benchmark_dir() / "ground-truth.json").exists()


@pytest.mark.skipif(not HAVE_FIXTURES, reason="shared benchmark fixtures not available")
def test_check_extraction_passes_against_pinned_baseline():
    t0 = time.perf_counter()
    result = check_extraction()
    assert result.ok
    assert result.floor >= 0.9  # the pinned floor is meaningful, not a placeholder
    assert result.value >= result.floor - result.margin
    assert time.perf_counter() - t0 < 20


def test_baseline_file_has_extraction_entry():
    data = json.loads(gate.BASELINE_PATH.read_text(encoding="utf-8"))
    entry = data["extraction"]
    assert {"f1_floor", "noise_margin", "corpus_sha256"} <= entry.keys()
    assert entry["noise_margin"] == 0.01
    assert len(entry["corpus_sha256"]) == 64


def _baseline(tmp_path, **entry):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"extraction": entry, "topics": {"acc_floor": 0.5}}))
    return path


def test_gate_fails_below_floor_minus_margin(tmp_path):
    path = _baseline(tmp_path, f1_floor=0.95, noise_margin=0.01, corpus_sha256="a" * 64)
    # within the noise margin: ok
    assert check_extraction(path, Measurement(0.9405, "a" * 64, 128)).ok
    with pytest.raises(GateFailure, match="floor"):
        check_extraction(path, Measurement(0.9395, "a" * 64, 128))


def test_gate_fails_when_corpus_changed(tmp_path):
    path = _baseline(tmp_path, f1_floor=0.5, noise_margin=0.01, corpus_sha256="a" * 64)
    with pytest.raises(GateFailure, match="corpus changed"):
        check_extraction(path, Measurement(0.99, "b" * 64, 128))


def test_gate_fails_without_pinned_floor(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text("{}")
    with pytest.raises(GateFailure, match="no pinned floor"):
        check_extraction(path, Measurement(0.99, "a" * 64, 128))


def test_update_refuses_to_lower_floor_unless_allowed(tmp_path):
    path = _baseline(tmp_path, f1_floor=0.95, noise_margin=0.01, corpus_sha256="a" * 64)
    with pytest.raises(GateFailure, match="refusing to lower"):
        update(["extraction"], baseline_path=path, measurements={"extraction": Measurement(0.90, "a" * 64, 128)})
    assert json.loads(path.read_text())["extraction"]["f1_floor"] == 0.95
    update(["extraction"], allow_regression=True, baseline_path=path,
           measurements={"extraction": Measurement(0.90, "c" * 64, 128)})
    data = json.loads(path.read_text())
    assert data["extraction"]["f1_floor"] == 0.9
    assert data["extraction"]["corpus_sha256"] == "c" * 64
    assert data["topics"] == {"acc_floor": 0.5}  # other keys untouched


def test_update_raises_floor(tmp_path):
    path = _baseline(tmp_path, f1_floor=0.90, noise_margin=0.02, corpus_sha256="a" * 64)
    update(["extraction"], baseline_path=path, measurements={"extraction": Measurement(0.97123, "a" * 64, 128)})
    entry = json.loads(path.read_text())["extraction"]
    assert entry["f1_floor"] == 0.9712
    assert entry["noise_margin"] == 0.02  # a tuned margin is preserved


def test_checks_registry_is_extensible():
    assert "extraction" in gate.CHECKS
    assert gate.CHECKS["extraction"].metric == "f1"
