"""Topic-classifier throughput and quality vs a plain zero-shot baseline.

    python -m bench.classify_speed [--n 300] [--chars 1500] [--backend use] [--write-results]

Articles: the dev items (classify/data/dev.jsonl), each text extended with the following items'
texts to ~`--chars` characters (a whole news article is ~1,500 characters), cycled to `--n` items.
Rows:
- ours, cold embeddings: get_classifier().classify() with the plain embedder (every chunk encoded);
- ours, cached embeddings: the same classifier over CachedEmbedder on a temporary store, after one
  warm-up pass (the rerun/reclassify case: every chunk vector read from the `embeddings` table);
- zero-shot baseline: cosine of the embedded title + first chunk to each topic's "label.en:
  description" embedding, one threshold for all topics.
Quality: macro-F1 on dev. Ours = the k-fold CV number recorded in the shipped head (nested, honest);
the baseline's single threshold is chosen on dev itself (optimistic for the baseline).
Speed = articles/s, single process, classification only (no DB writes of tags).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
SECTION = "## Classify throughput"
NOTE = ('Cold throughput is bound by the USE encoder (pure numpy; an article costs its title plus up '
        'to 4 chunks of 1,200 characters, ~55 % of the classify CPU); the lexical member and the learned '
        'legal-change decision (character n-grams, each distinct word split once) take ~11 %. The encoder\'s tokenizer runs in the C++ '
        'sentencepiece library where that gives the pure-Python port\'s ids, and topic terms / stage cues '
        'are prefiltered with one combined regex each (identical output, tests/test_embed.py, '
        'tests/test_patterns.py). The rows here are ONE process; the pipeline classifies big batches '
        'in forked worker processes, one per core (bench/results.md "Full pipeline").\n')


def make_articles(rows: Sequence[dict], n: int, chars: int) -> list[dict]:
    out = []
    for i in range(n):
        r = rows[i % len(rows)]
        text, j = r.get("text") or "", i + 1
        while len(text) < chars:
            text += "\n\n" + (rows[j % len(rows)].get("text") or "")
            j += 1
        out.append({"url": f"bench://{i}", "title": r.get("title") or "", "text": text[:chars],
                    "lang": r.get("lang"), "published": r.get("published")})
    return out


def macro_f1(Y: np.ndarray, pred: np.ndarray) -> float:
    f1s = []
    for j in range(Y.shape[1]):
        y, p = Y[:, j] == 1, pred[:, j]
        tp, fp, fn = (y & p).sum(), (~y & p).sum(), (y & ~p).sum()
        if tp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s))


def false_alarm(Y: np.ndarray, pred: np.ndarray) -> float:
    none = Y.sum(axis=1) == 0
    return float(pred[none].any(axis=1).mean()) if none.any() else 0.0


class ZeroShot:
    """Embedding similarity of an article to each topic's label+description; one threshold."""

    def __init__(self, topics, embedder, chunk_chars: int = 1200):
        from classify.embed import clean_for_embedding
        self.emb = embedder
        self.clean = clean_for_embedding
        self.chunk_chars = chunk_chars
        lab = [f"{(t.get('label') or {}).get('en', t['id']) if isinstance(t.get('label'), dict) else t.get('label', t['id'])}: "
               f"{t.get('description', '')}" for t in topics]
        self.T = embedder.encode([self.clean(x) for x in lab])
        self.threshold = 0.3

    def scores(self, items) -> np.ndarray:
        texts = [self.clean(f"{it.get('title') or ''}. {(it.get('text') or '')[:self.chunk_chars]}") for it in items]
        return self.emb.encode(texts) @ self.T.T

    def fit_threshold(self, S: np.ndarray, Y: np.ndarray) -> float:
        grid = np.round(np.arange(0.05, 0.8, 0.01), 2)
        best = max(grid, key=lambda t: (macro_f1(Y, S >= t), -t))
        self.threshold = float(best)
        return self.threshold


def timed(fn, items, batch: int = 32) -> float:
    t = time.perf_counter()
    for i in range(0, len(items), batch):
        fn(items[i:i + batch])
    return len(items) / (time.perf_counter() - t)


def run(n: int = 300, chars: int = 1500, backend: str = "use") -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from classify.classifier import TopicClassifier, get_classifier, head_path, load_topics_file
    from classify.embed import CachedEmbedder, get_embedder
    from classify.train import DEFAULT_DATA, load_jsonl
    import json

    rows = [r for r in load_jsonl(DEFAULT_DATA) if r.get("provenance", "real") != "invented"]
    topics = load_topics_file()
    tids = [t["id"] for t in topics]
    Y = np.array([[1 if t in (r.get("topics") or []) else 0 for t in tids] for r in rows])
    arts = make_articles(rows, n, chars)
    cfg = {"classify": {"backend": backend}, "topics": topics}
    clf = get_classifier(cfg)
    emb = get_embedder(backend)
    head_meta = json.loads(head_path(emb.model_id).read_text(encoding="utf-8"))
    cv = head_meta.get("cv", {})
    clf.classify(arts[:8])  # load the model, warm up
    res = {"n": n, "chars": chars, "backend": backend, "rows": []}

    cold = timed(clf.classify, arts)
    res["rows"].append({"name": f"ours ({backend}), cold embeddings", "aps": cold,
                        "macro_f1": cv.get("macro_f1"), "false_alarm": cv.get("false_alarm_rate"),
                        "quality": f"{head_meta.get('folds', 5)}-fold CV (nested)"})

    from store.db import Store
    with tempfile.TemporaryDirectory() as td:
        store = Store(Path(td) / "bench.duckdb")
        cclf = TopicClassifier(topics, CachedEmbedder(store, emb), clf.head,
                               chunk_chars=clf.featurizer.chunk_chars, max_chunks=clf.featurizer.max_chunks,
                               change_model=clf.change_model)
        cclf.classify(arts)  # fill the cache
        cached = timed(cclf.classify, arts)
        close = getattr(store, "close", None)
        if callable(close):
            close()
    res["rows"].append({"name": f"ours ({backend}), cached embeddings", "aps": cached,
                        "macro_f1": cv.get("macro_f1"), "false_alarm": cv.get("false_alarm_rate"),
                        "quality": "same model"})

    zs = ZeroShot(topics, emb)
    S = zs.scores(rows)
    thr = zs.fit_threshold(S, Y)
    zs_aps = timed(zs.scores, arts)
    res["rows"].append({"name": f"zero-shot baseline ({backend}, label+description, thr {thr:.2f})",
                        "aps": zs_aps, "macro_f1": round(macro_f1(Y, S >= thr), 4),
                        "false_alarm": round(false_alarm(Y, S >= thr), 4),
                        "quality": "threshold fit on dev (optimistic)"})
    res["load"] = os.getloadavg()
    return res


def format_table(res: dict) -> str:
    lines = ["| classifier | articles/s | macro-F1 (dev) | false-alarm (dev) | quality measured as |",
             "|---|---:|---:|---:|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['name']} | {r['aps']:.1f} | {r['macro_f1']} | {r['false_alarm']} | {r['quality']} |")
    return "\n".join(lines)


def section(res: dict) -> str:
    la = res.get("load", (0, 0, 0))
    return (f"{SECTION}\n\n"
            f"`python -m bench.classify_speed --write-results` — {res['n']} articles of ~{res['chars']} characters "
            f"(dev texts concatenated), batch 32, single process, classification only. Machine: {os.cpu_count()} "
            f"cores {platform.machine()}, Python {platform.python_version()}; 1-min load average after the run "
            f"{la[0]:.1f} (shared machine). Budget: ≥ 50 articles/s for ours.\n\n"
            f"{format_table(res)}\n\n{NOTE}")


def write_section(text: str, path=None) -> None:
    from bench.results_md import RESULTS, write_section as _write
    _write(SECTION, text, path or RESULTS)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.classify_speed", description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--chars", type=int, default=1500)
    ap.add_argument("--backend", default="use")
    ap.add_argument("--write-results", action="store_true")
    a = ap.parse_args(argv)
    res = run(a.n, a.chars, a.backend)
    print(format_table(res))
    if a.write_results:
        write_section(section(res))
        print(f"wrote {SECTION!r} to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
