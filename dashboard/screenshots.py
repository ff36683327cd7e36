"""One current PNG per dashboard page, rendered by headless Chromium from a given store.

    python -m dashboard.screenshots --db data/demo.duckdb [--out docs/screenshots]
                                    [--editor] [--height 1000]

Starts `streamlit run dashboard/app.py` on a free loopback port against the store, loads each
page once to warm up (the first paint is a grey skeleton), then writes
docs/screenshots/<page>.png. The helpers here are reused by tests/test_dashboard_browser.py.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

import duckdb

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "dashboard" / "app.py"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
PAGES = ("overview", "developments", "development", "alerts", "rules", "sources")


def chromium_path() -> str | None:
    for c in CHROMIUM_CANDIDATES:
        if os.path.exists(c) and os.access(c, os.X_OK):
            return c
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(db: str | Path, *, env: dict | None = None,
                     timeout_s: float = 60.0) -> Iterator[str]:
    """Run the dashboard on a free loopback port; yields its base URL; stops it after."""
    port = free_port()
    e = dict(os.environ)
    e.update(env or {})
    e["LAWWATCH_DB"] = str(db)
    e.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    log = tempfile.NamedTemporaryFile(prefix="lw-streamlit-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=str(REPO), env=e, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}; log: "
                                   f"{Path(log.name).read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not become healthy on {base} in {timeout_s:.0f} s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        with contextlib.suppress(OSError):
            os.unlink(log.name)


def _chrome_args(chrome: str, profile: str, width: int, height: int, budget_ms: int) -> list[str]:
    return [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
            f"--window-size={width},{height}", f"--virtual-time-budget={budget_ms}"]


def screenshot(url: str, out: str | Path, *, width: int = 1400, height: int = 1000,
               budget_ms: int = 12000, timeout_s: float = 90.0) -> Path:
    chrome = chromium_path()
    if not chrome:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lw-chrome-") as profile:
        cmd = _chrome_args(chrome, profile, width, height, budget_ms) + [f"--screenshot={out}", url]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if not out.exists():
        raise RuntimeError(f"chromium wrote no screenshot for {url}: {r.stderr[-1500:]}")
    return out


def dump_dom(url: str, *, budget_ms: int = 12000, timeout_s: float = 90.0) -> str:
    chrome = chromium_path()
    if not chrome:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="lw-chrome-") as profile:
        cmd = _chrome_args(chrome, profile, 1400, 1000, budget_ms) + ["--dump-dom", url]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    return r.stdout


def rendered_dom(url: str, must_contain: str | Sequence[str], *, attempts: int = 5) -> str:
    """--dump-dom until `must_contain` (a string, or several that must all be there) is in it.
    A load can end on the grey skeleton, or half-way through the script run on a loaded machine
    (the heading is there, the widgets below it are not yet), so retry a few times."""
    needles = [must_contain] if isinstance(must_contain, str) else list(must_contain)
    dom = ""
    for _ in range(attempts):
        dom = dump_dom(url)
        if all(n in dom for n in needles):
            return dom
    raise AssertionError(f"{url}: {must_contain!r} not rendered after {attempts} loads; "
                         f"last DOM has {len(dom)} characters")


def best_screenshot(url: str, out: str | Path, *, tries: int = 3, **kw) -> Path:
    """Keep the most detailed of a few shots (a skeleton paint compresses to a small PNG)."""
    out = Path(out)
    best, best_size = None, -1
    with tempfile.TemporaryDirectory(prefix="lw-shots-") as tmp:
        for i in range(tries):
            p = screenshot(url, Path(tmp) / f"{i}.png", **kw)
            if p.stat().st_size > best_size:
                best, best_size = p, p.stat().st_size
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(best, out)
    return out


PAGE_TITLES = {"overview": "Overview", "developments": "Developments", "development": "Coverage",
               "alerts": "Alerts inbox", "rules": "Registry", "sources": "Runs of one source"}


def page_urls(base: str, db: str | Path) -> dict[str, str]:
    """A URL per page; detail pages point at a representative development and alert."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        dev = con.execute("""SELECT d.id FROM developments d
                             JOIN development_members m ON m.development_id = d.id
                             JOIN articles a ON a.id = m.article_id
                             GROUP BY d.id, d.last_seen
                             ORDER BY count(DISTINCT a.lang) DESC, max(a.version) DESC,
                                      count(*) DESC, d.last_seen DESC LIMIT 1""").fetchall()
        alert = con.execute("""SELECT id FROM alerts WHERE state = 'open'
                               ORDER BY kind = 'rule_review' DESC, score DESC NULLS LAST, seq DESC
                               LIMIT 1""").fetchall()
    finally:
        con.close()
    urls = {p: f"{base}/?page={p}" for p in PAGES}
    if dev:
        urls["development"] = f"{base}/?page=development&id={dev[0][0]}"
    if alert:
        urls["alerts"] = f"{base}/?page=alert&id={alert[0][0]}"
    return urls


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=1000)
    a = ap.parse_args(argv)
    if not Path(a.db).exists():
        ap.error(f"--db {a.db}: no such file")
    if not chromium_path():
        print("chromium is not installed: apt-get install -y chromium", file=sys.stderr)
        return 2
    with streamlit_server(a.db) as base:
        urls = page_urls(base, a.db)
        with tempfile.TemporaryDirectory() as tmp:
            screenshot(urls["overview"], Path(tmp) / "warmup.png")   # first paint = skeleton
        for page, url in urls.items():
            rendered_dom(url, PAGE_TITLES[page])          # warm this page's queries
            out = best_screenshot(url, Path(a.out) / f"{page}.png", width=a.width, height=a.height)
            print(f"{page:13s} {url} -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
