"""Generic article extraction benchmark: our extractor vs trafilatura.

Usage::

    python -m bench.extraction [--limit N] [--no-trafilatura] [--write-results]
                               [--per-page] [--repeat K]

Fixtures are read from ``$LAWWATCH_SHARED`` (default ``<repo>/../shared``):

* ``fixtures/article-extraction-benchmark/`` (Scrapinghub benchmark, 128 pages:
  ``html/<id>.html.gz`` + ``ground-truth.json`` with id -> {articleBody, url})
* ``fixtures/kommersant/Kommersant_2025_05_14.html.gz`` + ``Kommersant.json``

Timing covers parse+extract only: all files are read and decoded into memory
first and both tools run over the same in-memory strings in the same loop.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import hashlib
import json
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.scoring import Scores, aggregate, shingle_matching

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_MD = REPO_ROOT / "bench" / "results.md"
SECTION_HEADING = "## Generic extraction vs trafilatura"


def shared_dir() -> Path:
    env = os.environ.get("LAWWATCH_SHARED")
    return Path(env) if env else (REPO_ROOT / ".." / "shared").resolve()


def benchmark_dir() -> Path:
    return shared_dir() / "fixtures" / "article-extraction-benchmark"


def kommersant_dir() -> Path:
    return shared_dir() / "fixtures" / "kommersant"


@dataclass
class Page:
    id: str
    url: str | None
    html: str  # decoded
    truth: str


def load_corpus(limit: int | None = None) -> list[Page]:
    """Read + decode every benchmark page into memory (sorted by id)."""
    from crawler.charset import decode_html

    root = benchmark_dir()
    gt = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(gt)
    if limit:
        ids = ids[:limit]
    pages = []
    for pid in ids:
        raw = gzip.decompress((root / "html" / f"{pid}.html.gz").read_bytes())
        html = decode_html(raw).text
        pages.append(Page(pid, gt[pid].get("url"), html, gt[pid].get("articleBody") or ""))
    return pages


def corpus_sha256(root: Path | None = None) -> str:
    """sha256 over ground-truth.json and the sorted (name, sha256) of html files."""
    root = root or benchmark_dir()
    h = hashlib.sha256()
    h.update(hashlib.sha256((root / "ground-truth.json").read_bytes()).hexdigest().encode())
    for p in sorted((root / "html").glob("*.html.gz")):
        h.update(b"\n" + p.name.encode() + b" " + hashlib.sha256(p.read_bytes()).hexdigest().encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------
# tools


def ours(page: Page) -> str:
    from crawler.extract import extract_article

    return extract_article(page.html, url=page.url).text


def _trafilatura_fn(**kwargs) -> Callable[[Page], str]:
    import trafilatura

    def run(page: Page) -> str:
        return trafilatura.extract(page.html, url=page.url, **kwargs) or ""

    return run


@dataclass
class ToolResult:
    name: str
    scores: Scores
    seconds: float
    pages: int
    outputs: dict[str, str]

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else float("inf")


def run_tool(name: str, fn: Callable[[Page], str], pages: list[Page], repeat: int = 1) -> ToolResult:
    return run_tools([(name, fn)], pages, repeat)[0]


def run_tools(tools: list[tuple[str, Callable[[Page], str]]], pages: list[Page], repeat: int = 1) -> list[ToolResult]:
    """Time every tool over the same in-memory pages.

    Passes are interleaved (tool A, tool B, ..., then again) and the best pass
    per tool is kept, so background load on a shared machine hits all tools alike.
    """
    outputs: dict[str, dict[str, str]] = {name: {} for name, _ in tools}
    best = {name: float("inf") for name, _ in tools}
    for _ in range(max(1, repeat)):
        for name, fn in tools:
            out = outputs[name]
            t0 = time.perf_counter()
            for page in pages:
                out[page.id] = fn(page)
            best[name] = min(best[name], time.perf_counter() - t0)
    results = []
    for name, _fn in tools:
        out = outputs[name]
        scores = aggregate([shingle_matching(p.truth, out[p.id]) for p in pages])
        results.append(ToolResult(name, scores, best[name], len(pages), out))
    return results


# ---------------------------------------------------------------------------
# Kommersant (Russian) page


def kommersant_expected() -> tuple[str, str, list[str]]:
    """(title, body text, authors) from Kommersant.json (Fundus-style V1 record)."""
    data = json.loads((kommersant_dir() / "Kommersant.json").read_text(encoding="utf-8"))
    rec = data["V1"]
    paragraphs: list[str] = []
    for section in rec["body"].get("sections", []):
        paragraphs.extend(section.get("headline", []))
        paragraphs.extend(section.get("paragraphs", []))
    return rec.get("title", ""), "\n\n".join(paragraphs), rec.get("authors", [])


def kommersant_html() -> str:
    from crawler.charset import read_html_file

    return read_html_file(kommersant_dir() / "Kommersant_2025_05_14.html.gz").text


def score_kommersant(fn: Callable[[Page], str]) -> Scores:
    _title, body, _authors = kommersant_expected()
    page = Page("kommersant", "https://www.kommersant.ru/doc/7715044", kommersant_html(), body)
    return aggregate([shingle_matching(body, fn(page))])


# ---------------------------------------------------------------------------
# reporting


def format_table(results: list[ToolResult], kommersant: dict[str, Scores] | None = None) -> str:
    """Markdown table; speed ratio is relative to trafilatura with default settings."""
    ref = next((r for r in results if r.name.startswith("trafilatura")), None)
    ref_speed = ref.pages_per_s if ref else (results[0].pages_per_s if results else 1.0)
    lines = [
        "| tool | precision | recall | F1 | pages/s | speed ratio | Kommersant F1 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        k = (kommersant or {}).get(r.name)
        k_txt = f"{k.f1:.3f}" if k else "–"
        lines.append(
            f"| {r.name} | {r.scores.precision:.3f} | {r.scores.recall:.3f} | {r.scores.f1:.3f} "
            f"| {r.pages_per_s:.1f} | {r.pages_per_s / ref_speed:.1f}× | {k_txt} |"
        )
    return "\n".join(lines)


def _versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for mod in ("selectolax", "trafilatura", "lxml"):
        try:
            from importlib.metadata import version

            parts.append(f"{mod} {version(mod)}")
        except Exception:  # pragma: no cover
            pass
    return ", ".join(parts)


def write_results_section(table: str, n_pages: int, load: tuple[float, float, float] | None = None) -> None:
    today = _dt.date.today().isoformat()
    load_txt = (
        f" 1-min load average during the run: {load[0]:.1f} (the machine is shared; passes are "
        "interleaved so background load affects all tools, but absolute pages/s and the ratio move "
        "by ~±10% between runs)."
        if load
        else ""
    )
    section = "\n".join(
        [
            SECTION_HEADING,
            "",
            f"Date: {today}. Machine: 2 cores ({platform.machine()}, {platform.system()}). {_versions()}.{load_txt}",
            "",
            f"Corpus: Scrapinghub article-extraction-benchmark, {n_pages} pages "
            "(`$LAWWATCH_SHARED/fixtures/article-extraction-benchmark`), scored with the "
            "benchmark's metric (4-token `\\w+` shingles, per-page normalised tp/fp/fn, "
            "precision/recall averaged over pages, F1 of the means; `bench/scoring.py`). "
            "Speed = parse+extract only over pre-decoded in-memory HTML, same loop, single process. "
            "Speed ratio is relative to trafilatura with default settings. "
            "Kommersant F1 = body shingle F1 on `fixtures/kommersant/Kommersant_2025_05_14.html.gz` "
            "against the paragraphs of `Kommersant.json`.",
            "",
            table,
            "",
            "Reproduce: `.venv/bin/python -m bench.extraction --write-results`. "
            "Quality floor: `python -m bench.gate` (`bench/baseline.json`, key `extraction`).",
            "",
        ]
    )
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(SECTION_HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS_MD.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages (by id)")
    ap.add_argument("--no-trafilatura", action="store_true", help="only run our extractor")
    ap.add_argument("--repeat", type=int, default=3, help="timing: best of K interleaved passes per tool")
    ap.add_argument("--per-page", action="store_true", help="print per-page F1 of our extractor")
    ap.add_argument("--write-results", action="store_true", help=f"update {RESULTS_MD.name}")
    args = ap.parse_args(argv)

    pages = load_corpus(args.limit)
    # warm up imports so that import time is not counted
    from crawler.extract import extract_article

    extract_article("<html><body><p>warm up</p></body></html>")
    tools: list[tuple[str, Callable[[Page], str]]] = [("lawwatch (selectolax)", ours)]
    if not args.no_trafilatura:
        import trafilatura

        trafilatura.extract("<html><body><p>warm up</p></body></html>")
        tools.append(("trafilatura (defaults)", _trafilatura_fn()))
        tools.append(("trafilatura (include_comments=False)", _trafilatura_fn(include_comments=False)))

    results = run_tools(tools, pages, repeat=args.repeat)
    kommersant: dict[str, Scores] = {}
    for name, fn in tools:
        try:
            kommersant[name] = score_kommersant(fn)
        except FileNotFoundError:
            pass

    if args.per_page:
        ours_res = results[0]
        rows = []
        for p in pages:
            tp, fp, fn_ = shingle_matching(p.truth, ours_res.outputs[p.id])
            other = (
                aggregate([shingle_matching(p.truth, results[1].outputs[p.id])]).f1 if len(results) > 1 else float("nan")
            )
            rows.append((aggregate([(tp, fp, fn_)]).f1, tp, fp, fn_, other, p.id, p.url))
        for f1, tp, fp, fn_, other, pid, url in sorted(rows):
            print(f"{f1:.3f} tp={tp:.2f} fp={fp:.2f} fn={fn_:.2f} traf={other:.3f} {pid[:12]} {url}")

    table = format_table(results, kommersant)
    print(f"{len(pages)} pages")
    print(table)
    if args.write_results:
        if args.limit or args.no_trafilatura:
            print("refusing to write results for a partial run (--limit/--no-trafilatura)", file=sys.stderr)
            return 2
        write_results_section(table, len(pages), os.getloadavg() if hasattr(os, "getloadavg") else None)
        print(f"wrote {RESULTS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
