"""bench/results.md: each benchmark owns one `## ` section and replaces only that section."""
from __future__ import annotations

import re
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("results.md")


def write_section(heading: str, text: str, path: Path = RESULTS, after: str | None = None) -> None:
    """Replace the section that starts with `heading` (up to the next `## `); if there is none,
    insert it right after the section `after` (when given and present), else append it.
    `text` must start with the heading line."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = text.rstrip("\n") + "\n\n"

    def section_re(h: str) -> re.Pattern:
        return re.compile(r"^" + re.escape(h) + r"[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)

    pat = section_re(heading)
    if pat.search(old):
        new = pat.sub(lambda _: block, old, count=1)
    elif after is not None and (m := section_re(after).search(old)):
        prev = old[:m.end()].rstrip("\n") + "\n\n"
        new = prev + block + old[m.end():]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def publish(heading: str, body: str, *, write: bool = True, after: str | None = None,
            path: Path = RESULTS) -> None:
    """Write `body` as the section `heading` of bench/results.md (see write_section) and say so;
    with write=False nothing is written (the caller printed its table already)."""
    if write:
        write_section(heading, f"{heading}\n\n{body.strip()}\n", path, after=after)
        print(f"wrote section {heading!r} to {path}", file=sys.stderr)


def loads_line(loads: dict) -> str:
    """"1,000: 0.4/0.9, 10,000: 1.2/1.5" — 1-min load averages before/after, per store size."""
    return ", ".join(f"{n:,}: {l0:.1f}/{l1:.1f}" for n, (l0, l1) in loads.items())


def generation_note(gen_secs: dict) -> str:
    """" Store generation: 100,000 articles 40 s, ..." (empty when no store was generated)."""
    return "" if not gen_secs else (" Store generation: "
                                    + ", ".join(f"{n:,} articles {s:.0f} s" for n, s in gen_secs.items()) + ".")
