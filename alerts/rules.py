"""The rules registry: statements a migrant guide makes today, versioned with diffs.

`rules` holds the current version of each rule; `rule_versions` holds every version with who
changed it, when, why (note) and a unified diff against the previous version. Config
(config/rules.toml) seeds the registry; editors change rules through the API or when they
resolve an alert. A change in config is applied as a new version authored by "config" — only
the fields config itself changed since its last version are applied, so an editor's edit made
through the API is not reverted by the next `sync_rules`.
"""
from __future__ import annotations

import datetime as _dt
import difflib
from typing import Any, Iterable

import duckdb

from alerts.config_schema import RULE
from lawwatch.schema import ConfigError, validate
from store.db import utcnow

# Versioned fields, in diff order. `id` is the key and never changes.
RULE_FIELDS = ("statement_en", "statement_ru", "topics", "jurisdiction", "effective_from",
               "source_url", "owner", "last_reviewed", "active")
CONFIG_ACTOR = "config"


class RuleError(ValueError):
    """Invalid rule data. `field` names the offending field."""

    def __init__(self, field: str, problem: str, rule_id: str | None = None):
        self.field, self.problem, self.rule_id = field, problem, rule_id
        where = f"rule {rule_id!r}: " if rule_id else "rule: "
        super().__init__(f"{where}{field}: {problem}")


class RuleNotFound(KeyError):
    def __init__(self, rule_id: str):
        self.rule_id = rule_id
        super().__init__(f"no rule with id {rule_id!r}")

    def __str__(self) -> str:
        return self.args[0]


# -- validation --------------------------------------------------------------------------
def _coerce_date(field: str, value: Any, rule_id: str | None) -> Any:
    if isinstance(value, str):
        if not value:
            return None
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            raise RuleError(field, f"expected a date YYYY-MM-DD, got {value!r}", rule_id) from None
    if isinstance(value, _dt.datetime):
        return value.date()
    return value


def normalise_rule(rule: dict, known_topics: Iterable[str] | None = None) -> dict:
    """Validate a full rule against the RULE schema; returns it with defaults filled.
    Raises RuleError naming the field."""
    if not isinstance(rule, dict):
        raise RuleError("(rule)", f"expected an object, got {type(rule).__name__}")
    rid = rule.get("id") if isinstance(rule.get("id"), str) else None
    data = dict(rule)
    for f in ("effective_from", "last_reviewed"):
        if f in data:
            data[f] = _coerce_date(f, data[f], rid)
            if data[f] is None:
                del data[f]
    try:
        out = validate(RULE, data, "rule", "")
    except ConfigError as exc:
        raise RuleError(exc.key or "(rule)", exc.problem, rid) from None
    if not out["id"].strip() or any(c.isspace() or c == "/" for c in out["id"]):
        raise RuleError("id", "must be non-empty without spaces or '/'", rid)
    if not out["statement_en"].strip():
        raise RuleError("statement_en", "must not be empty", rid)
    if not out["topics"]:
        raise RuleError("topics", "a rule needs at least one topic", rid)
    if known_topics is not None:
        known = set(known_topics)
        for t in out["topics"]:
            if t not in known:
                raise RuleError("topics", f"unknown topic {t!r}; known topics: "
                                          f"{', '.join(sorted(known))}", rid)
    return out


# -- diff ----------------------------------------------------------------------------------
def _render_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def render_rule(rule: dict | None) -> list[str]:
    """Rule fields as `field: value` lines (the text a diff is taken over)."""
    if rule is None:
        return []
    return [f"{f}: {_render_value(rule.get(f))}" for f in RULE_FIELDS]


def rule_diff(rule_id: str, old: dict | None, new: dict, old_version: int, new_version: int) -> str:
    lines = difflib.unified_diff(render_rule(old), render_rule(new),
                                 fromfile=f"{rule_id}@v{old_version}" if old else "/dev/null",
                                 tofile=f"{rule_id}@v{new_version}", lineterm="")
    return "\n".join(lines)


# -- rows ----------------------------------------------------------------------------------
_RULE_COLS = ("id", "version") + RULE_FIELDS + ("updated_at",)
_VERSION_COLS = ("rule_id", "version", "statement_en", "statement_ru", "topics", "jurisdiction",
                 "effective_from", "source_url", "owner", "last_reviewed", "active",
                 "changed_by", "changed_at", "note", "diff", "alert_id")


def _row_rule(row: tuple) -> dict:
    d = dict(zip(_RULE_COLS, row))
    d["topics"] = list(d["topics"] or [])
    d["statement_ru"] = d["statement_ru"] or ""
    d["source_url"] = d["source_url"] or ""
    d["owner"] = d["owner"] or ""
    return d


def _fetch_rule(con: duckdb.DuckDBPyConnection, rule_id: str) -> dict | None:
    row = con.execute(f"SELECT {', '.join(_RULE_COLS)} FROM rules WHERE id = ?",
                      [rule_id]).fetchone()
    return _row_rule(row) if row else None


def _row_version(row: tuple) -> dict:
    d = dict(zip(_VERSION_COLS, row))
    d["topics"] = list(d["topics"] or [])
    d["statement_ru"] = d["statement_ru"] or ""
    return d


def _insert_version(con, rule: dict, version: int, actor: str, at: _dt.datetime, note: str,
                    diff: str, alert_id: str | None = None) -> None:
    con.execute(f"INSERT INTO rule_versions ({', '.join(_VERSION_COLS)}) VALUES "
                f"({', '.join('?' * len(_VERSION_COLS))})",
                [rule["id"], version, rule["statement_en"], rule["statement_ru"], rule["topics"],
                 rule["jurisdiction"], rule["effective_from"], rule["source_url"], rule["owner"],
                 rule["last_reviewed"], rule["active"], actor, at, note or None, diff, alert_id])


def _write_rule(con, rule: dict, version: int, at: _dt.datetime, insert: bool) -> None:
    vals = [rule[f] for f in RULE_FIELDS]
    if insert:
        con.execute(f"INSERT INTO rules ({', '.join(_RULE_COLS)}) VALUES "
                    f"({', '.join('?' * len(_RULE_COLS))})", [rule["id"], version, *vals, at])
    else:
        sets = ", ".join(f"{f} = ?" for f in RULE_FIELDS)
        con.execute(f"UPDATE rules SET version = ?, {sets}, updated_at = ? WHERE id = ?",
                    [version, *vals, at, rule["id"]])


def _require_actor(actor: str) -> None:
    if not isinstance(actor, str) or not actor.strip():
        raise RuleError("actor", "who made the change must be named")


# -- public API ------------------------------------------------------------------------------
def create_rule_con(con, rule: dict, actor: str, note: str = "", *,
                    known_topics: Iterable[str] | None = None, at: _dt.datetime | None = None) -> str:
    _require_actor(actor)
    r = normalise_rule(rule, known_topics)
    if con.execute("SELECT 1 FROM rules WHERE id = ?", [r["id"]]).fetchone():
        raise RuleError("id", "a rule with this id already exists", r["id"])
    at = at or utcnow()
    _write_rule(con, r, 1, at, insert=True)
    _insert_version(con, r, 1, actor, at, note, rule_diff(r["id"], None, r, 0, 1))
    return r["id"]


def create_rule(store, rule: dict, actor: str, note: str = "", *,
                known_topics: Iterable[str] | None = None) -> str:
    """Add a new rule as version 1. Returns its id. Raises RuleError naming the bad field."""
    with store.write() as con:
        return create_rule_con(con, rule, actor, note, known_topics=known_topics)


def update_rule_con(con, rule_id: str, changes: dict, actor: str, note: str = "", *,
                    known_topics: Iterable[str] | None = None, alert_id: str | None = None,
                    at: _dt.datetime | None = None) -> int:
    """`update_rule` inside the caller's transaction (used when resolving an alert)."""
    _require_actor(actor)
    if not isinstance(changes, dict) or not changes:
        raise RuleError("(changes)", "no changes given", rule_id)
    for k in changes:
        if k == "id":
            raise RuleError("id", "a rule's id cannot change", rule_id)
        if k not in RULE_FIELDS:
            raise RuleError(k, f"unknown field; changeable fields: {', '.join(RULE_FIELDS)}",
                            rule_id)
    current = _fetch_rule(con, rule_id)
    if current is None:
        raise RuleNotFound(rule_id)
    merged = {"id": rule_id, **{f: current[f] for f in RULE_FIELDS}, **changes}
    new = normalise_rule(merged, known_topics)
    if all(new[f] == current[f] for f in RULE_FIELDS):
        return int(current["version"])         # nothing changed: no new version
    version = int(current["version"]) + 1
    at = at or utcnow()
    _write_rule(con, new, version, at, insert=False)
    _insert_version(con, new, version, actor, at, note,
                    rule_diff(rule_id, current, new, version - 1, version), alert_id)
    return version


def update_rule(store, rule_id: str, changes: dict, actor: str, note: str = "", *,
                known_topics: Iterable[str] | None = None) -> int:
    """Apply `changes` (field -> value) as a new version with a unified diff; returns the new
    version number (the current one when nothing actually changed)."""
    with store.write() as con:
        return update_rule_con(con, rule_id, changes, actor, note, known_topics=known_topics)


def sync_rules(store, cfg) -> dict[str, list[str]]:
    """Seed/update the registry from config. New rule -> version 1 by "config"; a field changed
    in config since config's last version of that rule -> a new version by "config" applying just
    those fields. Returns {"created": [...], "updated": [...]}. One transaction."""
    known = getattr(cfg, "topic_ids", None)
    created, updated = [], []
    at = utcnow()
    with store.write() as con:
        for raw in cfg.rules:
            r = normalise_rule(raw, known)
            current = _fetch_rule(con, r["id"])
            if current is None:
                create_rule_con(con, r, CONFIG_ACTOR, "seeded from config", at=at)
                created.append(r["id"])
                continue
            row = con.execute(f"SELECT {', '.join(_VERSION_COLS)} FROM rule_versions WHERE "
                              "rule_id = ? AND changed_by = ? ORDER BY version DESC LIMIT 1",
                              [r["id"], CONFIG_ACTOR]).fetchone()
            base = _row_version(row) if row else current
            if base.get("active") is None:
                base["active"] = current["active"]
            changes = {f: r[f] for f in RULE_FIELDS if r[f] != base.get(f) and r[f] != current[f]}
            if changes:
                update_rule_con(con, r["id"], changes, CONFIG_ACTOR, "changed in config", at=at)
                updated.append(r["id"])
            # A config value that now equals an editor's current value makes no version.
    return {"created": created, "updated": updated}


def get_rule(store_or_con, rule_id: str) -> dict:
    """The current rule (raises RuleNotFound)."""
    if isinstance(store_or_con, duckdb.DuckDBPyConnection):
        r = _fetch_rule(store_or_con, rule_id)
    else:
        with store_or_con.read() as con:
            r = _fetch_rule(con, rule_id)
    if r is None:
        raise RuleNotFound(rule_id)
    return r


def list_rules(store_or_con, *, active_only: bool = False, topic: str | None = None) -> list[dict]:
    sql = f"SELECT {', '.join(_RULE_COLS)} FROM rules"
    where, params = [], []
    if active_only:
        where.append("active")
    if topic:
        where.append("list_contains(topics, ?)")
        params.append(topic)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    if isinstance(store_or_con, duckdb.DuckDBPyConnection):
        rows = store_or_con.execute(sql, params).fetchall()
    else:
        with store_or_con.read() as con:
            rows = con.execute(sql, params).fetchall()
    return [_row_rule(r) for r in rows]


def rule_history(store_or_con, rule_id: str) -> list[dict]:
    """All versions of a rule, oldest first, each with changed_by/at, note and diff."""
    sql = (f"SELECT {', '.join(_VERSION_COLS)} FROM rule_versions WHERE rule_id = ? "
           "ORDER BY version")
    if isinstance(store_or_con, duckdb.DuckDBPyConnection):
        rows = store_or_con.execute(sql, [rule_id]).fetchall()
    else:
        with store_or_con.read() as con:
            rows = con.execute(sql, [rule_id]).fetchall()
    if not rows:
        raise RuleNotFound(rule_id)
    return [_row_version(r) for r in rows]
