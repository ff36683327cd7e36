"""`make bench`: run every benchmark section; each prints a table and updates bench/results.md.

Sections (each a module with `main(argv) -> int`):
- bench.extraction        generic extractor vs trafilatura (F1, pages/s)
- bench.classify_speed    classify throughput with/without cached embeddings vs zero-shot
- bench.dashboard_latency dashboard query p50/p95 on generated stores (100k and 1M articles)
- bench.api_latency       REST API p50/p95 per read endpoint on the same stores, vs raw SQL
- bench.pipeline          full pipeline from a replayed recording vs trafilatura + zero-shot
- bench.idle_poll         a poll cycle with nothing new vs the first crawl
"""
from __future__ import annotations

import importlib
import sys
import time

SECTIONS = ["bench.extraction", "bench.classify_speed", "bench.dashboard_latency",
            "bench.api_latency", "bench.pipeline", "bench.idle_poll"]


def main(argv: list[str] | None = None) -> int:
    wanted = set(argv or sys.argv[1:]) or None
    failures = 0
    for name in SECTIONS:
        if wanted and name.split(".")[-1] not in wanted:
            continue
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"== {name}: not available ({exc})")
            continue
        print(f"== {name}")
        t = time.perf_counter()
        rc = mod.main([]) or 0
        print(f"== {name}: exit {rc} in {time.perf_counter() - t:.1f}s\n")
        failures += rc != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
