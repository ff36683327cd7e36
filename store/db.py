"""DuckDB store: versioned migrations, short-lived connections, lock retries.

DuckDB lets one process hold a read-write handle and locks every other process out, readers
included. So nothing here keeps a connection open: every unit of work opens, does its
queries and closes (`with store.write() as con:` / `with store.read() as con:`), and a lock
conflict with another process is retried with bounded exponential backoff and jitter.
Callers must never do network I/O or wait for a user inside those blocks.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# Bounded backoff for lock conflicts: ~25 attempts, 20 ms doubling to a 1 s cap, ~20 s total.
# Long enough to outlast any single write transaction we make (they are all sub-second
# batches), short enough that a wedged peer surfaces as an error instead of a hang.
LOCK_RETRY_ATTEMPTS = 25
LOCK_RETRY_BASE_S = 0.02
LOCK_RETRY_CAP_S = 1.0


class StoreError(RuntimeError):
    """A store problem the user must act on (bad file, migration failure)."""


class StoreLocked(StoreError):
    """Another process kept the database locked beyond the retry budget."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def stable_id(*parts: object, length: int = 16) -> str:
    """Deterministic id from natural-key parts (replays and reruns give the same id)."""
    h = hashlib.sha1("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:length]


def _is_lock_error(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return "lock" in msg and ("could not set lock" in msg or "conflicting lock" in msg
                              or "resource temporarily unavailable" in msg)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    out = []
    for p in sorted(directory.glob("*.sql")):
        m = _MIGRATION_RE.match(p.name)
        if not m:
            raise StoreError(f"{p}: migration files must be named NNNN_name.sql")
        out.append(Migration(int(m.group(1)), m.group(2), p.read_text(encoding="utf-8")))
    versions = [m.version for m in out]
    if len(set(versions)) != len(versions):
        raise StoreError(f"{directory}: two migrations share a version number: {versions}")
    return out


class Store:
    """Handle to a lawwatch DuckDB file. Cheap to create; holds no connection."""

    def __init__(self, path: str | Path, *, migrate: bool = True):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, expected a DuckDB database file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if migrate:
            self.migrate()

    # -- connections -------------------------------------------------------------------
    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        delay = LOCK_RETRY_BASE_S
        last: BaseException | None = None
        for _ in range(LOCK_RETRY_ATTEMPTS):
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if not _is_lock_error(exc):
                    raise StoreError(f"{self.path}: cannot open database: {exc}") from exc
                last = exc
            except duckdb.Error as exc:
                # A read-only open of a file that does not exist yet, a corrupt file, etc.
                raise StoreError(f"{self.path}: cannot open database: {exc}") from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, LOCK_RETRY_CAP_S)
        raise StoreLocked(f"{self.path}: database stayed locked by another process "
                          f"after {LOCK_RETRY_ATTEMPTS} attempts: {last}")

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short read-only connection. Falls back to read-write in-process if needed."""
        con = self._connect(read_only=True)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short read-write connection inside one transaction (commit on success)."""
        con = self._connect(read_only=False)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                con.execute("COMMIT")
        finally:
            con.close()

    # -- migrations --------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.read() as con:
            return _current_version(con)

    def migrate(self) -> int:
        migrations = load_migrations()
        con = self._connect(read_only=False)
        try:
            con.execute("""CREATE TABLE IF NOT EXISTS schema_version (
                               version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,
                               applied_at TIMESTAMPTZ NOT NULL)""")
            current = _current_version(con)
            known = max((m.version for m in migrations), default=0)
            if current > known:
                raise StoreError(f"{self.path}: schema version {current} is newer than this "
                                 f"lawwatch knows ({known}); upgrade lawwatch")
            applied = {v for (v,) in con.execute("SELECT version FROM schema_version").fetchall()}
            for m in migrations:
                # Apply every migration not yet recorded, in order: a lower-numbered file that
                # landed after a higher one (parallel branches) is still applied.
                if m.version in applied:
                    continue
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute(m.sql)
                    con.execute("INSERT INTO schema_version VALUES (?, ?, ?)",
                                [m.version, m.name, utcnow()])
                    con.execute("COMMIT")
                except duckdb.Error as exc:
                    con.execute("ROLLBACK")
                    raise StoreError(f"{self.path}: migration {m.version:04d}_{m.name} "
                                     f"failed: {exc}") from exc
                log.info("applied migration %04d_%s", m.version, m.name)
                current = m.version
            return current
        finally:
            con.close()


def _current_version(con: duckdb.DuckDBPyConnection) -> int:
    try:
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    except duckdb.CatalogException:
        return 0
    return int(row[0] or 0)
