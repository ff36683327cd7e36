#!/usr/bin/env python3
"""Validate a lawwatch labelled JSONL file (dev.jsonl / demo_articles.jsonl).

Usage: python classify/data/validate.py classify/data/dev.jsonl [more.jsonl ...]

Exits 0 when every line is valid, 1 otherwise; each problem is printed as
"<file>:<line>: <field>: <message>".
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

TOPICS = {"chi", "biometrics", "entry_ban", "eaeu_court", "registration", "work_permit", "amina_app"}
STAGES = {"proposed", "adopted", "signed", "in_force", "court", "pilot", "repealed", None}
REQUIRED = ("id", "url", "lang", "title", "text", "published", "topics", "change",
            "provenance", "retrieved_via")
DAY = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
EFFECTIVE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
LANG = re.compile(r"^[a-z]{2,3}$")
ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*-\d{4}$")


def check_record(rec: object) -> list[tuple[str, str]]:
    """Return a list of (field, message) problems for one parsed line."""
    errs: list[tuple[str, str]] = []
    if not isinstance(rec, dict):
        return [("<line>", "not a JSON object")]
    for key in REQUIRED:
        if key not in rec:
            errs.append((key, "missing"))
    if errs:
        return errs
    if not isinstance(rec["id"], str) or not ID.match(rec["id"]):
        errs.append(("id", f"bad id {rec['id']!r}"))
    if not isinstance(rec["url"], str) or not re.match(r"^https?://\S+$", rec["url"]):
        errs.append(("url", f"not an http(s) URL: {rec['url']!r}"))
    if not isinstance(rec["lang"], str) or not LANG.match(rec["lang"]):
        errs.append(("lang", f"not an ISO 639 code: {rec['lang']!r}"))
    for key in ("title", "text"):
        if not isinstance(rec[key], str) or not rec[key].strip():
            errs.append((key, "must be a non-empty string"))
    pub = rec["published"]
    if pub is not None and (not isinstance(pub, str) or not DAY.match(pub)):
        errs.append(("published", f"must be YYYY-MM-DD or null, got {pub!r}"))
    topics = rec["topics"]
    if not isinstance(topics, list):
        errs.append(("topics", "must be a list"))
    else:
        for t in topics:
            if t not in TOPICS:
                errs.append(("topics", f"unknown topic id {t!r}"))
        if len(set(topics)) != len(topics):
            errs.append(("topics", "duplicate topic ids"))
    ch = rec["change"]
    if not isinstance(ch, dict):
        errs.append(("change", "must be an object"))
    else:
        for key in ("is_change", "stage", "effective_dates"):
            if key not in ch:
                errs.append((f"change.{key}", "missing"))
        if "is_change" in ch and not isinstance(ch["is_change"], bool):
            errs.append(("change.is_change", "must be true/false"))
        if "stage" in ch and ch["stage"] not in STAGES:
            errs.append(("change.stage", f"not an allowed stage: {ch['stage']!r}"))
        if ch.get("is_change") is False and ch.get("stage") is not None:
            errs.append(("change.stage", "must be null when is_change is false"))
        if ch.get("is_change") is True and ch.get("stage") is None:
            errs.append(("change.stage", "must be set when is_change is true"))
        dates = ch.get("effective_dates", [])
        if not isinstance(dates, list):
            errs.append(("change.effective_dates", "must be a list"))
        else:
            for d in dates:
                if not isinstance(d, str) or not EFFECTIVE.match(d):
                    errs.append(("change.effective_dates", f"bad date {d!r} (YYYY, YYYY-MM or YYYY-MM-DD)"))
    if rec["provenance"] != "real":
        errs.append(("provenance", f"must be 'real', got {rec['provenance']!r}"))
    if not isinstance(rec["retrieved_via"], str) or not rec["retrieved_via"]:
        errs.append(("retrieved_via", "must be a non-empty string"))
    if "notes" in rec and not isinstance(rec["notes"], str):
        errs.append(("notes", "must be a string"))
    return errs


def validate(path: Path) -> list[str]:
    problems: list[str] = []
    seen_ids: dict[str, int] = {}
    seen_urls: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                problems.append(f"{path}:{n}: <line>: empty line")
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{n}: <line>: invalid JSON ({exc})")
                continue
            for field, msg in check_record(rec):
                problems.append(f"{path}:{n}: {field}: {msg}")
            if isinstance(rec, dict):
                rid, url = rec.get("id"), rec.get("url")
                if isinstance(rid, str):
                    if rid in seen_ids:
                        problems.append(f"{path}:{n}: id: duplicate of line {seen_ids[rid]}")
                    seen_ids.setdefault(rid, n)
                if isinstance(url, str):
                    key = url.rstrip("/")
                    if key in seen_urls:
                        problems.append(f"{path}:{n}: url: duplicate of line {seen_urls[key]}")
                    seen_urls.setdefault(key, n)
    return problems


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    all_problems: list[str] = []
    for arg in argv:
        p = Path(arg)
        if not p.is_file():
            all_problems.append(f"{p}:0: <file>: not found")
            continue
        all_problems.extend(validate(p))
    for msg in all_problems:
        print(msg)
    if all_problems:
        print(f"{len(all_problems)} problem(s)", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
