"""lawwatch command line. Thin: parse arguments, load config, call the stages.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage/config/input, 3 a rule review is pending
(`rules check`).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from lawwatch.config import REPO_ROOT, load_config
from lawwatch.schema import ConfigError, parse_duration

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_REVIEW_PENDING = 0, 1, 2, 3
DEMO_RECORDING = REPO_ROOT / "data" / "demo"
DEMO_DB = Path("data/demo.duckdb")

log = logging.getLogger("lawwatch")


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lawwatch",
        description="Monitor news and official sources for changes to the rules that affect "
                    "Kyrgyz labour migrants in Russia; classify, group, and alert.")
    _global_options(p, None)
    # The same options are accepted after the command too (`lawwatch stats --db X`); there
    # they default to SUPPRESS so they never overwrite a value given before the command.
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add = sub.add_parser

    def add_parser(name, **kw):
        return _add(name, parents=[common], **kw)
    sub.add_parser = add_parser  # type: ignore[method-assign]

    d = sub.add_parser("demo", help="build the demo database from the bundled recording and "
                                    "serve the dashboard")
    d.add_argument("--no-serve", action="store_true", help="print the counts and exit")
    d.add_argument("--port", type=int, default=8501)

    r = sub.add_parser("run", help="crawl -> extract -> classify -> developments -> alerts, once")
    r.add_argument("--replay", metavar="WARC_OR_DIR",
                   help="serve every request from a WARC recording instead of the network")
    r.add_argument("--no-deliver", action="store_true", help="do not send alerts this run")
    r.add_argument("--progress", action="store_true", help="show a progress bar")

    w = sub.add_parser("watch", help="run on a schedule until interrupted")
    w.add_argument("--every", default="30m", help="interval, e.g. 30m, 2h (default 30m)")
    w.add_argument("--replay", metavar="WARC_OR_DIR")
    w.add_argument("--max-runs", type=int, default=0, help="stop after N runs (0: forever)")

    e = sub.add_parser("extract", help="extract articles from HTML files, one JSON line each")
    e.add_argument("files", nargs="+", metavar="FILE", help=".html or .html.gz files")
    e.add_argument("--url", help="the page's URL (selects a source adapter for known hosts)")

    c = sub.add_parser("classify", help="classify JSON lines offline (topics, evidence, change)")
    c.add_argument("--input", required=True, help="JSON-lines file ('-' for stdin) with 'text' "
                                                   "and optional title, url, lang, published")
    c.add_argument("--output", help="write JSON lines here instead of stdout")

    s = sub.add_parser("stats", help="counts of what the database holds")
    s.add_argument("--json", action="store_true", help="print JSON")

    db = sub.add_parser("dashboard", help="serve the Streamlit dashboard for --db")
    db.add_argument("--port", type=int, default=8501)
    db.add_argument("--host", default="localhost")

    ev = sub.add_parser("eval-topics", help="per-topic precision/recall/F1 on labelled data")
    ev.add_argument("--data", help="labelled JSON lines (default classify/data/dev.jsonl: k-fold "
                                   "CV; any other file: the shipped head applied as is)")
    ev.add_argument("--folds", type=int, default=5, help="folds for cross-validation (default 5)")
    ev.add_argument("--backend", default="use", help="embedding backend (default use)")
    ev.add_argument("--json", action="store_true", help="print JSON")

    ru = sub.add_parser("rules", help="the rules registry")
    rsub = ru.add_subparsers(dest="rules_command", metavar="SUBCOMMAND", required=True)
    rc = rsub.add_parser("check", parents=[common],
                         help="exit 3 when a rule review is pending (for other tools' CI)")
    rc.add_argument("--rule", help="only this rule id")
    rc.add_argument("--since", help="only alerts raised since this date (YYYY-MM-DD)")
    rsub.add_parser("list", parents=[common], help="list rules with their version and review state")

    a = sub.add_parser("api", help="serve the REST API (OpenAPI at /docs)")
    a.add_argument("--host", default="127.0.0.1")
    a.add_argument("--port", type=int, default=8800)

    sub.add_parser("deliver", help="send pending alert deliveries (email, webhooks, digests)")
    sub.add_parser("health", help="source health: last success, failures, items per run")
    return p


def _global_options(p: argparse.ArgumentParser, default) -> None:
    p.add_argument("--db", default=default if default is not None else None,
                   help="DuckDB file (default: [store].path in settings.toml, data/lawwatch.duckdb)")
    p.add_argument("--config", default=default if default is not None else None,
                   help="directory whose *.toml files overlay the defaults in config/")
    p.add_argument("-v", "--verbose", action="count",
                   default=default if default is not None else 0, help="more log output")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return _dispatch(args)
    except (ConfigError, UsageError) as exc:
        print(f"lawwatch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lawwatch: interrupted", file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:  # runtime failure: one line for the user, details with -v
        from lawwatch.jsonl import InputError
        from store import StoreError
        if isinstance(exc, InputError):
            print(f"lawwatch: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if args.verbose:
            log.exception("failed")
        kind = "" if isinstance(exc, StoreError) else f"{type(exc).__name__}: "
        print(f"lawwatch: error: {kind}{exc}", file=sys.stderr)
        return EXIT_FAIL


def _db_path(args, cfg, default: Path | None = None) -> Path:
    if args.db:
        return Path(args.db)
    if default is not None:
        return default
    return Path(cfg.settings["store"]["path"])


def _store(path: Path):
    from store import Store
    return Store(path)


def _dispatch(args) -> int:
    cmd = args.command
    if cmd == "extract":
        return _cmd_extract(args)
    cfg = load_config(args.config)
    if cmd == "classify":
        return _cmd_classify(args, cfg)
    if cmd == "eval-topics":
        from classify.evaluate import main as eval_main
        argv = ["--folds", str(args.folds), "--backend", args.backend]
        argv += ["--data", args.data] if args.data else []
        argv += ["--json"] if args.json else []
        return int(eval_main(argv) or 0)
    if cmd == "demo":
        # The recording's own overlay disables sources it holds no material for, so the demo
        # shows real health instead of "not in recording" errors. --config wins when given.
        if args.config is None and (DEMO_RECORDING / "config").is_dir():
            args.config = str(DEMO_RECORDING / "config")
            cfg = load_config(args.config)
        return _cmd_demo(args, cfg)
    path = _db_path(args, cfg)
    if cmd == "dashboard":
        _store(path)  # create/migrate before serving
        return _serve_dashboard(path, args.config, args.port, args.host)
    store = _store(path)
    if cmd == "run":
        return _cmd_run(cfg, store, args.replay, progress=args.progress,
                        deliver=not args.no_deliver)
    if cmd == "watch":
        return _cmd_watch(cfg, store, args)
    if cmd == "stats":
        from lawwatch.pipeline import stats
        data = stats(store)
        if args.json:
            print(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            _print_stats(data)
        return EXIT_OK
    if cmd == "rules":
        from alerts import cli as acli
        if args.rules_command == "check":
            return acli.rules_check(cfg, store, rule_id=args.rule, since=args.since)
        return acli.rules_list(cfg, store)
    if cmd == "api":
        from alerts import cli as acli
        acli.serve_api(cfg, store, args.host, args.port)
        return EXIT_OK
    if cmd == "deliver":
        from alerts import cli as acli
        return acli.deliver(cfg, store)
    if cmd == "health":
        return _cmd_health(store)
    raise UsageError(f"unknown command {cmd!r}")


# -- commands ------------------------------------------------------------------------------
def _cmd_run(cfg, store, replay, *, progress=False, deliver=True, mode=None) -> int:
    from lawwatch.pipeline import run_once
    if replay is not None and not Path(replay).exists():
        raise UsageError(f"--replay {replay}: no such file or directory")
    report = run_once(cfg, store, replay=replay, mode=mode,
                      progress=progress and sys.stderr.isatty(), deliver=deliver)
    failed = [sid for sid, s in report.crawled.items()
              if isinstance(s, dict) and s.get("status") == "failed"]
    print(f"run {report.run_id} ({report.mode}): {report.changed_articles} new/changed articles, "
          f"{report.classified} classified, {report.developments} developments updated, "
          f"{report.alerts} alerts raised/updated"
          + (f"; sources with errors: {', '.join(failed)}" if failed else ""))
    return EXIT_OK


def _cmd_watch(cfg, store, args) -> int:
    try:
        every = parse_duration(args.every)
    except ValueError as exc:
        raise UsageError(f"--every: {exc}") from None
    n = 0
    while True:
        n += 1
        started = time.monotonic()
        try:
            _cmd_run(cfg, store, args.replay)
        except Exception as exc:  # a failed run is logged; the schedule goes on
            print(f"lawwatch: run {n} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.max_runs and n >= args.max_runs:
            return EXIT_OK
        time.sleep(max(0.0, every - (time.monotonic() - started)))


def _cmd_demo(args, cfg) -> int:
    from store import Store
    path = _db_path(args, cfg, default=DEMO_DB)
    if not DEMO_RECORDING.is_dir() or not any(DEMO_RECORDING.glob("*.warc.gz")):
        raise UsageError(f"{DEMO_RECORDING}: the bundled demo recording (*.warc.gz) is missing")
    if path.exists():
        existing = Store(path)
        with existing.read() as con:
            modes = {m for (m,) in con.execute("SELECT DISTINCT mode FROM runs").fetchall()}
        if modes - {"demo"}:
            raise UsageError(f"{path}: holds non-demo runs ({', '.join(sorted(modes))}); "
                             f"refusing to rebuild it as a demo database — pass another --db")
    # Build into a fresh file next to the target, then swap, so a failed build never leaves
    # a half-built demo database in place of a working one.
    tmp = path.with_name(path.name + ".building")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    started = time.perf_counter()
    store = Store(tmp)
    _cmd_run(cfg, store, str(DEMO_RECORDING), mode="demo", deliver=False)
    Path(str(path) + ".wal").unlink(missing_ok=True)
    os.replace(tmp, path)
    from lawwatch.pipeline import stats
    data = stats(Store(path))
    print(f"demo database {path} built in {time.perf_counter() - started:.1f}s")
    _print_stats(data)
    if args.no_serve:
        return EXIT_OK
    return _serve_dashboard(path, args.config, args.port, "localhost")


def _serve_dashboard(path: Path, config_dir, port: int, host: str) -> int:
    app = REPO_ROOT / "dashboard" / "app.py"
    env = dict(os.environ, LAWWATCH_DB=str(Path(path).resolve()))
    if config_dir:
        env["LAWWATCH_CONFIG"] = str(Path(config_dir).resolve())
    print(f"lawwatch dashboard: http://{host}:{port}  (database {path}; Ctrl+C to stop)",
          flush=True)
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
           "--server.port", str(port), "--server.address", host,
           "--browser.gatherUsageStats", "false"]
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return EXIT_OK


def _cmd_extract(args) -> int:
    from crawler.dispatch import extract_file
    status = EXIT_OK
    for f in args.files:
        try:
            rec = extract_file(f, url=args.url)
        except (OSError, ValueError) as exc:
            print(f"lawwatch: error: {f}: {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        print(json.dumps(rec, ensure_ascii=False))
    return status


def _cmd_classify(args, cfg) -> int:
    from lawwatch.jsonl import read_items
    items = list(read_items(args.input))  # validate everything before any output
    from classify.classifier import get_classifier
    clf = get_classifier(cfg)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        batch = 64
        for i in range(0, len(items), batch):
            for res in clf.classify(items[i:i + batch]):
                out.write(json.dumps(res.to_json(), ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return EXIT_OK


def _cmd_health(store) -> int:
    with store.read() as con:
        rows = con.execute("""SELECT id, enabled, last_success_at, consecutive_failures,
                                     silent_runs, last_items, last_error
                              FROM sources ORDER BY id""").fetchall()
    print(f"{'source':<16} {'ok':<4} {'last success':<20} {'fail':>4} {'silent':>6} "
          f"{'items':>5}  last error")
    for sid, enabled, ok_at, fails, silent, items, err in rows:
        state = "off" if not enabled else ("ERR" if fails or silent else "ok")
        print(f"{sid:<16} {state:<4} {str(ok_at or '-')[:19]:<20} {fails:>4} {silent:>6} "
              f"{items if items is not None else '-':>5}  {(err or '')[:80]}")
    return EXIT_OK


def _print_stats(d: dict) -> None:
    for k in ("sources", "articles", "article_versions", "tags", "developments", "rules", "runs"):
        print(f"  {k:<17} {d[k]}")
    alerts = ", ".join(f"{k} {v}" for k, v in d["alerts"].items()) or "none"
    deliveries = ", ".join(f"{k} {v}" for k, v in d["deliveries"].items()) or "none"
    print(f"  {'alerts':<17} {d['alerts_total']} ({alerts})")
    print(f"  {'deliveries':<17} {d['deliveries_total']} ({deliveries})")


if __name__ == "__main__":
    sys.exit(main())
