"""robots.txt per host (RFC 9309), cached for one run.

Why not `urllib.robotparser`: it applies the first matching rule instead of the longest,
knows no `*` / `$` wildcards, and matches user agents by substring. Here:

- groups are selected by our product token (the User-Agent up to the first "/"), merged
  when several name it, else the `*` groups; rules of the chosen groups are matched against
  path+query with `*` and `$`; the longest pattern wins and Allow wins a tie;
  `Disallow: /File` therefore blocks `/File/pdf?...` (matching is case-sensitive, RFC 9309).
- `Crawl-delay` is read from the chosen group(s).
- Availability (what the fetcher does with the status of /robots.txt):
  2xx -> parse; 404/410 and other 4xx -> allow all ("unavailable", RFC 9309 2.3.1.3);
  401/403 -> the site refuses crawlers: host deferred; 429, 5xx, timeouts, connection
  errors -> "unreachable": the host is deferred for this run and the error is recorded
  against the source. Never allow-all on an unreachable robots.txt (trafilatura does).
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import quote, urlsplit

__all__ = ["RobotsPolicy", "RobotsDeferred", "RobotsCache", "parse_robots", "product_token"]

# RFC 9309 2.5: parse at least the first 500 KiB.
MAX_ROBOTS_BYTES = 500 * 1024

_PCT_RE = re.compile(r"%[0-9a-fA-F]{2}")


def product_token(user_agent: str) -> str:
    """'lawwatch/0.1 (+https://...)' -> 'lawwatch'."""
    tok = user_agent.strip().split()[0] if user_agent.strip() else "*"
    return tok.split("/")[0].lower()


def _norm(s: str) -> str:
    """Percent-encode non-ASCII (UTF-8) and upper-case escapes, so patterns and paths compare."""
    s = _PCT_RE.sub(lambda m: m.group(0).upper(), s)
    return quote(s, safe="/?=&;:@!$'()*+,-._~%#[]")


@dataclass(frozen=True)
class Rule:
    allow: bool
    pattern: str
    regex: re.Pattern

    def __str__(self) -> str:
        return f"{'Allow' if self.allow else 'Disallow'}: {self.pattern}"


def _compile(pattern: str) -> re.Pattern:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    rx = "".join(".*" if ch == "*" else re.escape(ch) for ch in body)
    return re.compile(rx + ("$" if anchored else ""), re.S)


@dataclass
class RobotsPolicy:
    """The rules that apply to us on one origin."""
    rules: list[Rule] = field(default_factory=list)
    crawl_delay: float | None = None
    sitemaps: list[str] = field(default_factory=list)
    note: str = ""                    # e.g. "robots.txt HTTP 404: allow all"

    def blocking_rule(self, path_and_query: str) -> Rule | None:
        """The Disallow rule that forbids this path, or None when allowed."""
        target = _norm(path_and_query or "/")
        if target.startswith("/robots.txt"):
            return None
        best: Rule | None = None
        for r in self.rules:
            if not r.regex.match(target):
                continue
            if (best is None or len(r.pattern) > len(best.pattern)
                    or (len(r.pattern) == len(best.pattern) and r.allow and not best.allow)):
                best = r
        return None if best is None or best.allow else best

    def allowed(self, url_or_path: str) -> bool:
        if url_or_path.startswith(("http://", "https://")):
            p = urlsplit(url_or_path)
            url_or_path = (p.path or "/") + (f"?{p.query}" if p.query else "")
        return self.blocking_rule(url_or_path) is None


@dataclass(frozen=True)
class RobotsDeferred:
    """robots.txt could not be read: the host is skipped for this run."""
    reason: str
    status: int | None = None


def parse_robots(text: str, user_agent: str) -> RobotsPolicy:
    """Parse robots.txt text and keep the groups that apply to `user_agent`."""
    token = product_token(user_agent)
    groups: list[tuple[list[str], list[tuple[bool, str]], list[float]]] = []
    sitemaps: list[str] = []
    current = None
    last_was_agent = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or ":" not in line:
            continue
        key, value = line.split(":", 1)
        key, value = key.strip().lower(), value.strip()
        if key in ("user-agent", "useragent", "user agent"):
            if not last_was_agent or current is None:
                current = ([], [], [])
                groups.append(current)
            current[0].append(value.lower())
            last_was_agent = True
            continue
        if key == "sitemap":
            sitemaps.append(value)
            continue
        last_was_agent = False
        if current is None:
            continue                      # rules before any user-agent line: ignored (RFC 9309)
        if key in ("allow", "disallow"):
            if value:                     # "Disallow:" with no path allows everything
                current[1].append((key == "allow", value))
        elif key == "crawl-delay":
            try:
                d = float(value)
            except ValueError:
                continue
            if d >= 0:
                current[2].append(d)

    def agent_matches(agent: str) -> bool:
        a = agent.split("/")[0].strip()
        return a == token

    chosen = [g for g in groups if any(agent_matches(a) for a in g[0])]
    if not chosen:
        chosen = [g for g in groups if "*" in g[0]]
    rules = [Rule(allow, _norm(p), _compile(_norm(p))) for g in chosen for allow, p in g[1]]
    delays = [d for g in chosen for d in g[2]]
    return RobotsPolicy(rules=rules, crawl_delay=max(delays) if delays else None,
                        sitemaps=sitemaps)


def policy_from_response(status: int, body: bytes, user_agent: str,
                         origin: str) -> RobotsPolicy | RobotsDeferred:
    """Turn the final response for /robots.txt into a policy or a deferral."""
    if 200 <= status < 300:
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
        return parse_robots(text, user_agent)
    if status in (401, 403):
        return RobotsDeferred(f"{origin}/robots.txt answered HTTP {status} (crawlers refused); "
                              f"host deferred to the next run", status)
    if status == 429 or status >= 500:
        return RobotsDeferred(f"{origin}/robots.txt unavailable (HTTP {status}); "
                              f"host deferred to the next run", status)
    if 400 <= status < 500:
        return RobotsPolicy(note=f"{origin}/robots.txt HTTP {status}: no robots.txt, allow all")
    return RobotsDeferred(f"{origin}/robots.txt gave unexpected HTTP {status}; "
                          f"host deferred to the next run", status)


Loader = Callable[[], Awaitable["RobotsPolicy | RobotsDeferred"]]


class RobotsCache:
    """One policy per origin for the run; concurrent callers share one fetch."""

    def __init__(self) -> None:
        self._cache: dict[str, RobotsPolicy | RobotsDeferred] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, origin: str, load: Loader) -> RobotsPolicy | RobotsDeferred:
        """The cached policy for `origin`, calling `load()` once per run to fetch it."""
        if origin in self._cache:
            return self._cache[origin]
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._cache:
                self._cache[origin] = await load()
        return self._cache[origin]

    def peek(self, origin: str) -> RobotsPolicy | RobotsDeferred | None:
        return self._cache.get(origin)
