"""bench/results.md: each benchmark owns one `## ` section and replaces only that section."""
from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).with_name("results.md")


def write_section(heading: str, text: str, path: Path = RESULTS) -> None:
    """Replace the section that starts with `heading` (up to the next `## `), or append it.
    `text` must start with the heading line."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pat = re.compile(r"^" + re.escape(heading) + r"\n.*?(?=^## |\Z)", re.S | re.M)
    new = (pat.sub(lambda _: text.rstrip("\n") + "\n\n", old) if pat.search(old)
           else old.rstrip("\n") + "\n\n" + text)
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def loads_line(loads: dict) -> str:
    """"1,000: 0.4/0.9, 10,000: 1.2/1.5" — 1-min load averages before/after, per store size."""
    return ", ".join(f"{n:,}: {l0:.1f}/{l1:.1f}" for n, (l0, l1) in loads.items())


def generation_note(gen_secs: dict) -> str:
    """" Store generation: 100,000 articles 40 s, ..." (empty when no store was generated)."""
    return "" if not gen_secs else (" Store generation: "
                                    + ", ".join(f"{n:,} articles {s:.0f} s" for n, s in gen_secs.items()) + ".")
