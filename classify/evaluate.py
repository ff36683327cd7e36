"""`lawwatch eval-topics [--data PATH] [--folds K] [--backend B] [--json]`

Per-topic precision/recall/F1, macro-F1, false-alarm rate on none-items (share of items with no
gold topic that got any tag), overall (with a 95 % bootstrap interval over items) and per language.

- If the data is the data the shipped head was trained on (same sha256 as recorded in
  classify/model/head-*.json), numbers come from k-fold cross-validation (train on k-1 folds,
  thresholds calibrated inside the training folds, score the held-out fold): never train-set numbers.
- Otherwise (a held-out file) the shipped head is applied as is.
Items with provenance "invented" are never evaluated.

The legal-change detector (rule-based, nothing trained) is measured on the same items: is_change
precision/recall/F1, stage accuracy on items whose gold stage is set, and exact-match recall of
the gold effective dates; overall and on the domain items (gold topics != []).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from classify import change_model
from classify.classifier import Featurizer, get_classifier, head_path, load_topics_file
from classify.embed import get_embedder
from classify.lexical import DEFAULT_C
from classify.scoring import DEFAULT_HEAD_WEIGHT
from classify.train import (DEFAULT_DATA, build_dataset, cross_validate, data_hash, load_jsonl,
                            metrics)


def change_metrics(rows: Sequence[dict], signals: Sequence) -> dict:
    """Legal-change signals (ChangeSignal or its to_json() dict, one per row) vs gold `change`
    labels (items without a `change` object are skipped)."""
    def block(items):
        tp = fp = fn = 0
        st_ok = st_n = 0
        d_hit = d_n = 0
        confusion: dict[str, dict[str, int]] = {}
        for r, sig in items:
            g = r["change"]
            gold = bool(g.get("is_change"))
            if not isinstance(sig, dict):
                sig = sig.to_json()
            if sig["is_change"] and gold:
                tp += 1
            elif sig["is_change"]:
                fp += 1
            elif gold:
                fn += 1
            if g.get("stage"):
                st_n += 1
                st_ok += sig["stage"] == g["stage"]
                row = confusion.setdefault(g["stage"], {})
                row[sig["stage"] or "none"] = row.get(sig["stage"] or "none", 0) + 1
            for d in g.get("effective_dates") or []:
                d_n += 1
                d_hit += d in sig["effective_dates"]
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        return {"n": len(items), "is_change": {"precision": round(prec, 3), "recall": round(rec, 3),
                                                "f1": round(f1, 3), "support": tp + fn},
                "stage_accuracy": round(st_ok / st_n, 3) if st_n else None, "stage_items": st_n,
                "date_recall": round(d_hit / d_n, 3) if d_n else None, "dates": d_n,
                "stage_confusion": confusion}
    if len(signals) != len(rows):
        raise ValueError(f"{len(signals)} signals for {len(rows)} rows")
    pairs = [(r, s) for r, s in zip(rows, signals) if isinstance(r.get("change"), dict)]
    out = block(pairs)
    out["domain"] = block([(r, s) for r, s in pairs if r.get("topics")])
    return out


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
        lx = meta.get("lexical") or {}
        P = cross_validate(ds, folds, float(meta.get("l2", 3.0)), float(meta.get("emb_scale", 10.0)),
                           lexical=bool(lx) or not hp.exists(),
                           lex_C=float(lx.get("C", DEFAULT_C)),
                           head_weight=float(lx.get("head_weight", DEFAULT_HEAD_WEIGHT)))
        res = metrics(rows, ds.Y, P, ds.topic_ids)
        res["mode"] = f"{folds}-fold cross-validation (head retrained per fold)"
        crows = [r for r in rows if isinstance(r.get("change"), dict)]
        res["change"] = change_metrics(crows, change_model.cross_validate(crows, folds))
    else:
        clf = get_classifier({"classify": {"backend": backend}, "topics": topics} if cfg is None else cfg)
        # exactly what `lawwatch classify` serves (long items' windows, setting gate, discounts
        # included): a topic counts as predicted when it is among the item's tags
        tids = clf.topic_ids
        served = clf.classify(rows)
        P = np.array([[1.0 if t in c.topics else 0.0 for t in tids] for c in served])
        Y = np.array([[1 if t in (r.get("topics") or []) else 0 for t in tids] for r in rows])
        res = metrics(rows, Y, P, tids, {t: 0.5 for t in tids})
        res["mode"] = f"held-out: shipped head {hp.name} applied as is (the tags classify serves)"
        res["change"] = change_metrics(rows, [c.change for c in served])
    res["change_rules"] = change_metrics(rows, change_model.signals_of(rows))
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
    ci = res.get("ci95") or {}
    if ci.get("macro_f1"):
        fa = ci.get("false_alarm_rate")
        lines.append(f"  95 % bootstrap interval (items resampled): macro-F1 {ci['macro_f1'][0]:.3f}-"
                     f"{ci['macro_f1'][1]:.3f}" + (f", false alarms {fa[0]:.3f}-{fa[1]:.3f}" if fa else ""))
    for lg, b in res["by_lang"].items():
        lines.append(f"  [{lg}] n={b['n']:3d} macro-F1 {b['macro_f1']}  false-alarm {b['false_alarm_rate']} "
                     f"({b['none_items']} none)")
    for label, key in (("legal change", "change"), ("  cue rules alone", "change_rules")):
        ch = res.get(key)
        if not ch:
            continue
        for name, b in (("all items", ch), ("domain items (topics != [])", ch["domain"])):
            ic = b["is_change"]
            lines.append(f"{label}, {name} (n={b['n']}): is_change P {ic['precision']:.3f} R {ic['recall']:.3f} "
                         f"F1 {ic['f1']:.3f}; stage accuracy {b['stage_accuracy']} on {b['stage_items']}; "
                         f"effective-date recall {b['date_recall']} on {b['dates']}")
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
