"""Quality-floor gate (in the style of trafilatura's evaluation gate).

``bench/baseline.json`` holds one entry per named check, e.g.::

    {"extraction": {"f1_floor": 0.965, "noise_margin": 0.01,
                    "corpus_sha256": "...", "pages": 128, "pinned": "2026-..."}}

A check fails when the recomputed metric drops below ``floor - noise_margin``
or when the pinned corpus hash no longer matches the fixtures (a changed
corpus makes the floor meaningless until re-pinned).

Usage::

    python -m bench.gate                       # run all checks
    python -m bench.gate extraction            # run one
    python -m bench.gate --update [names]      # re-pin floors (never lowers a floor ...)
    python -m bench.gate --update --allow-regression   # ... unless explicitly allowed

Adding a check: write ``measure_<name>() -> Measurement`` and register a
``Check`` in ``CHECKS``; the CLI, the pytest hook and --update pick it up.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

BASELINE_PATH = Path(__file__).resolve().parent / "baseline.json"
DEFAULT_NOISE_MARGIN = 0.01


class GateFailure(AssertionError):
    """Raised when a quality floor is not met (an AssertionError so pytest reports it plainly)."""


@dataclass(frozen=True)
class Measurement:
    value: float  # the gated metric (higher is better)
    corpus_sha256: str
    n: int  # items measured
    detail: str = ""


@dataclass(frozen=True)
class Check:
    name: str
    metric: str  # key prefix in baseline.json: "<metric>_floor"
    measure: Callable[[], Measurement]
    description: str = ""


@dataclass(frozen=True)
class GateResult:
    name: str
    ok: bool
    value: float
    floor: float
    margin: float
    message: str


# --------------------------------------------------------------------------
# measurements


def measure_extraction() -> Measurement:
    """Our extractor's F1 on the article-extraction-benchmark (no trafilatura: fast)."""
    from bench.extraction import benchmark_dir, corpus_sha256, load_corpus, ours
    from bench.scoring import aggregate, shingle_matching

    root = benchmark_dir()
    if not (root / "ground-truth.json").exists():
        raise FileNotFoundError(f"benchmark fixtures not found under {root} (set LAWWATCH_SHARED)")
    pages = load_corpus()
    scores = aggregate([shingle_matching(p.truth, ours(p)) for p in pages])
    return Measurement(
        value=scores.f1,
        corpus_sha256=corpus_sha256(root),
        n=len(pages),
        detail=f"P={scores.precision:.4f} R={scores.recall:.4f} F1={scores.f1:.4f}",
    )


_TOPICS_CACHE: dict = {}


def _topics_eval() -> dict:
    """Cross-validated topic metrics on classify/data/dev.jsonl (computed once per process)."""
    if "res" not in _TOPICS_CACHE:
        from classify.evaluate import evaluate

        _TOPICS_CACHE["res"] = evaluate()
    return _TOPICS_CACHE["res"]


def measure_topics() -> Measurement:
    """Topic classifier macro-F1 (k-fold CV on the labelled dev set; classify/evaluate.py)."""
    from classify.train import DEFAULT_DATA

    if not DEFAULT_DATA.exists():
        raise FileNotFoundError(f"{DEFAULT_DATA}: labelled topic data not found")
    r = _topics_eval()
    by = " ".join(f"{lg}={b['macro_f1']}" for lg, b in r["by_lang"].items() if lg in ("en", "ru", "ky"))
    return Measurement(value=float(r["macro_f1"]), corpus_sha256=r["data_sha256"], n=r["n"],
                       detail=f"macro-F1={r['macro_f1']} false-alarm={r['false_alarm_rate']} {by}")


def measure_topics_false_alarm() -> Measurement:
    """1 - false-alarm rate: share of none-of-these items that got no topic (higher is better)."""
    m = measure_topics()
    r = _topics_eval()
    return Measurement(value=1.0 - float(r["false_alarm_rate"]), corpus_sha256=m.corpus_sha256,
                       n=r["none_items"], detail=f"false-alarm={r['false_alarm_rate']} on {r['none_items']} none-items")


CHECKS: dict[str, Check] = {
    "extraction": Check(
        name="extraction",
        metric="f1",
        measure=measure_extraction,
        description="generic article extractor, shingle F1 on the Scrapinghub benchmark",
    ),
    "topics": Check(
        name="topics",
        metric="macro_f1",
        measure=measure_topics,
        description="topic classifier macro-F1, k-fold CV on classify/data/dev.jsonl",
    ),
    "topics_false_alarm": Check(
        name="topics_false_alarm",
        metric="specificity",
        measure=measure_topics_false_alarm,
        description="1 - share of none-of-these dev items tagged with any topic (CV)",
    ),
}


# --------------------------------------------------------------------------
# baseline I/O


def load_baseline(path: Path | None = None) -> dict:
    path = path or BASELINE_PATH
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def save_baseline(data: dict, path: Path | None = None) -> None:
    path = path or BASELINE_PATH
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------
# evaluation


def evaluate(check: Check, entry: dict | None, measured: Measurement) -> GateResult:
    """Pure decision: compare a measurement with a baseline entry."""
    floor_key = f"{check.metric}_floor"
    if not entry or floor_key not in entry:
        return GateResult(check.name, False, measured.value, float("nan"), float("nan"),
                          f"{check.name}: no pinned floor in baseline.json (run `python -m bench.gate --update {check.name}`)")
    floor = float(entry[floor_key])
    margin = float(entry.get("noise_margin", DEFAULT_NOISE_MARGIN))
    pinned_sha = entry.get("corpus_sha256")
    if pinned_sha and pinned_sha != measured.corpus_sha256:
        return GateResult(check.name, False, measured.value, floor, margin,
                          f"{check.name}: corpus changed (sha256 {measured.corpus_sha256[:12]} != pinned "
                          f"{pinned_sha[:12]}); re-pin with `python -m bench.gate --update {check.name}`")
    if measured.value < floor - margin:
        return GateResult(check.name, False, measured.value, floor, margin,
                          f"{check.name}: {check.metric}={measured.value:.4f} < floor {floor:.4f} - margin {margin:.4f}"
                          f" ({measured.detail})")
    return GateResult(check.name, True, measured.value, floor, margin,
                      f"{check.name}: {check.metric}={measured.value:.4f} >= floor {floor:.4f} - {margin:.4f} ok"
                      f" ({measured.detail})")


def run_check(name: str, baseline_path: Path | None = None, measured: Measurement | None = None) -> GateResult:
    """Run one named check; raises GateFailure when it fails."""
    check = CHECKS[name]
    entry = load_baseline(baseline_path).get(name)
    measured = measured if measured is not None else check.measure()
    result = evaluate(check, entry, measured)
    if not result.ok:
        raise GateFailure(result.message)
    return result


def check_extraction(baseline_path: Path | None = None, measured: Measurement | None = None) -> GateResult:
    """Recompute our extraction F1 and fail (GateFailure) below floor - margin or on corpus change."""
    return run_check("extraction", baseline_path, measured)


def check_topics(baseline_path: Path | None = None, measured: Measurement | None = None) -> GateResult:
    """Recompute the topic classifier's CV macro-F1; fail below floor - margin or on data change."""
    return run_check("topics", baseline_path, measured)


def check_topics_false_alarm(baseline_path: Path | None = None,
                             measured: Measurement | None = None) -> GateResult:
    return run_check("topics_false_alarm", baseline_path, measured)


def update(names: list[str], allow_regression: bool = False, baseline_path: Path | None = None,
           measurements: dict[str, Measurement] | None = None) -> list[str]:
    """Re-pin floors to the current measurements. Refuses to lower a floor unless allowed."""
    data = load_baseline(baseline_path)
    messages = []
    new_entries = {}
    for name in names:
        check = CHECKS[name]
        m = (measurements or {}).get(name) or check.measure()
        floor_key = f"{check.metric}_floor"
        old = data.get(name, {})
        new_floor = round(m.value, 4)
        if floor_key in old and new_floor < float(old[floor_key]) and not allow_regression:
            raise GateFailure(
                f"{name}: refusing to lower {floor_key} {old[floor_key]} -> {new_floor} "
                f"(pass --allow-regression if this is intended)"
            )
        entry = dict(old)
        entry.update(
            {
                floor_key: new_floor,
                "noise_margin": float(old.get("noise_margin", DEFAULT_NOISE_MARGIN)),
                "corpus_sha256": m.corpus_sha256,
                "n": m.n,
                "pinned": _dt.date.today().isoformat(),
                "detail": m.detail,
            }
        )
        new_entries[name] = entry
        messages.append(f"{name}: pinned {floor_key}={new_floor} (was {old.get(floor_key)}) {m.detail}")
    data.update(new_entries)
    save_baseline(data, baseline_path)
    return messages


# pytest collects this module (pyproject: python_files includes gate.py)
def test_quality_floors():
    import pytest

    for name in CHECKS:
        try:
            run_check(name)
        except FileNotFoundError as exc:  # fixtures not available on this machine
            pytest.skip(str(exc))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help=f"checks to run (default: all of {sorted(CHECKS)})")
    ap.add_argument("--update", action="store_true", help="re-pin floors and corpus hashes")
    ap.add_argument("--allow-regression", action="store_true", help="with --update: allow lowering a floor")
    args = ap.parse_args(argv)
    names = args.names or list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        ap.error(f"unknown check(s): {unknown}; known: {sorted(CHECKS)}")
    if args.update:
        try:
            for msg in update(names, allow_regression=args.allow_regression):
                print(msg)
        except GateFailure as exc:
            print(f"FAIL {exc}", file=sys.stderr)
            return 1
        return 0
    failed = 0
    for name in names:
        try:
            print("PASS", run_check(name).message)
        except GateFailure as exc:
            failed += 1
            print(f"FAIL {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
