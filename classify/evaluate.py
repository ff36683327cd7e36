"""`lawwatch eval-topics [--data PATH] [--folds K] [--backend B] [--json]`

Per-topic precision/recall/F1, macro-F1, false-alarm rate on none-items (share of items with no
gold topic that got any tag), overall and per language.

- If the data is the data the shipped head was trained on (same sha256 as recorded in
  classify/model/head-*.json), numbers come from k-fold cross-validation (train on k-1 folds,
  thresholds calibrated inside the training folds, score the held-out fold): never train-set numbers.
- Otherwise (a held-out file) the shipped head is applied as is.
Items with provenance "invented" are never evaluated.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from classify.classifier import Featurizer, get_classifier, head_path, load_topics_file
from classify.embed import get_embedder
from classify.train import (DEFAULT_DATA, build_dataset, cross_validate, data_hash, load_jsonl,
                            metrics)


def evaluate(data: str | Path = DEFAULT_DATA, folds: int = 5, backend: str = "use",
             cfg=None) -> dict:
    rows = [r for r in load_jsonl(data) if r.get("provenance", "real") != "invented"]
    if not rows:
        raise ValueError(f"{data}: no real labelled items to evaluate")
    topics = getattr(cfg, "topics", None) or load_topics_file()
    emb = get_embedder(backend)
    hp = head_path(emb.model_id)
    meta = json.loads(hp.read_text(encoding="utf-8")) if hp.exists() else {}
    dh = data_hash(rows)
    if meta.get("data_sha256") == dh or not hp.exists():
        fz = Featurizer(topics, emb)
        ds = build_dataset(rows, fz)
        P = cross_validate(ds, folds, float(meta.get("l2", 3.0)), float(meta.get("emb_scale", 10.0)))
        res = metrics(rows, ds.Y, P, ds.topic_ids)
        res["mode"] = f"{folds}-fold cross-validation (head retrained per fold)"
    else:
        clf = get_classifier({"classify": {"backend": backend}, "topics": topics} if cfg is None else cfg)
        feats = clf.featurizer.featurize(rows)
        P = clf.score_features(feats)
        tids = clf.topic_ids
        Y = np.array([[1 if t in (r.get("topics") or []) else 0 for t in tids] for r in rows])
        res = metrics(rows, Y, P, tids, {t: clf.thresholds[t] for t in tids})
        res["mode"] = f"held-out: shipped head {hp.name} applied as is"
    res["data"] = str(data)
    res["data_sha256"] = dh
    res["model_id"] = emb.model_id
    return res


def format_report(res: dict) -> str:
    lines = [f"{res['mode']} on {res['data']} ({res['n']} items, model {res['model_id']})",
             f"{'topic':14s} {'P':>6s} {'R':>6s} {'F1':>6s} {'n':>4s}"]
    for t, m in res["topics"].items():
        lines.append(f"{t:14s} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:4d}")
    lines.append(f"macro-F1 {res['macro_f1']}   false-alarm rate {res['false_alarm_rate']} "
                 f"on {res['none_items']} none-items")
    for lg, b in res["by_lang"].items():
        lines.append(f"  [{lg}] n={b['n']:3d} macro-F1 {b['macro_f1']}  false-alarm {b['false_alarm_rate']} "
                     f"({b['none_items']} none)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="lawwatch eval-topics", description="Evaluate the topic classifier.")
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--backend", default="use")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    try:
        res = evaluate(a.data, a.folds, a.backend)
    except (OSError, ValueError) as exc:
        print(f"eval-topics: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(res, ensure_ascii=False, indent=1) if a.json else format_report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
