"""DuckDB store: versioned migrations, short-lived connections, lock retries.

DuckDB lets one process hold a read-write handle and locks every other process out, readers
included. So nothing here keeps a connection open: every unit of work opens, does its
queries and closes (`with store.write() as con:` / `with store.read() as con:`), and a lock
conflict with another process is retried with bounded exponential backoff and jitter.
Callers must never do network I/O or wait for a user inside those blocks.

Writers get their turn (a cross-process turnstile). DuckDB's file lock is not fair: a writer
needs a moment when *no* other process has the file open, and two processes reading in a loop
(the dashboard, the API) overlap almost all the time, so a crawl's write could back off
through its whole retry budget and fail with StoreLocked (seen in tests/test_concurrency.py:
one write waited ~20 s behind two dashboard query loops). So every open first passes an
flock(2) on a sidecar file `<db>.lock`: a writer holds it exclusively from before it connects
until it has closed; a reader holds it shared only while connecting. A waiting writer thus
stops new readers at the door, the readers already inside finish their (short) queries, and
the writer gets in. flock is released by the kernel when a process dies, so `kill -9` leaves
nothing stale behind. A process that already has the file open (nested or concurrent
connections share one DuckDB instance) does not wait at the turnstile again.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: DuckDB's own lock and retries only
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# Bounded backoff for lock conflicts: ~25 attempts, 20 ms doubling to a 1 s cap, ~20 s total.
# Long enough to outlast any single write transaction we make (they are all sub-second
# batches), short enough that a wedged peer surfaces as an error instead of a hang.
LOCK_RETRY_ATTEMPTS = 25
LOCK_RETRY_BASE_S = 0.02
LOCK_RETRY_CAP_S = 1.0
# How long one open waits at the turnstile for writers ahead of it (same budget as above).
TURNSTILE_WAIT_S = 20.0
TURNSTILE_POLL_CAP_S = 0.05

# Connections this process has open, per database file (see the module doc: a process that
# already holds the file does not queue at the turnstile behind a writer that waits for it).
_OPEN: dict[str, int] = {}
_OPEN_LOCK = threading.Lock()


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
    def _key(self) -> str:
        return os.path.abspath(self.path)

    def _turnstile(self, exclusive: bool) -> int | None:
        """Pass the turnstile (see module doc): an fd holding flock(LOCK_EX or LOCK_SH) on
        `<db>.lock`, or None when there is none to pass (not POSIX, file not creatable, or this
        process already has the database open)."""
        if fcntl is None:
            return None
        with _OPEN_LOCK:
            if _OPEN.get(self._key(), 0) > 0:
                return None
        lock_path = str(self.path) + ".lock"
        try:
            fd = os.open(lock_path, os.O_RDONLY | os.O_CREAT, 0o666)
        except OSError:
            try:
                fd = os.open(lock_path, os.O_RDONLY)
            except OSError:
                return None          # e.g. a read-only directory without the file: no turnstile
        op = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        deadline = time.monotonic() + TURNSTILE_WAIT_S
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, op)
                return fd
            except BlockingIOError:
                pass
            except OSError:          # flock unsupported on this filesystem: no turnstile
                os.close(fd)
                return None
            if time.monotonic() >= deadline:
                os.close(fd)
                raise StoreLocked(f"{self.path}: another process kept the database busy "
                                  f"(writing) for more than {TURNSTILE_WAIT_S:.0f}s "
                                  f"(turnstile {lock_path})")
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, TURNSTILE_POLL_CAP_S)

    @staticmethod
    def _leave(fd: int | None) -> None:
        if fd is not None:
            os.close(fd)             # closing the fd releases the flock

    @contextlib.contextmanager
    def _open(self, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, through the turnstile; counted as open in this process until closed."""
        fd = self._turnstile(exclusive=not read_only)
        try:
            con = self._connect(read_only)
            with _OPEN_LOCK:
                _OPEN[self._key()] = _OPEN.get(self._key(), 0) + 1
            if read_only:            # readers only pass through; a writer stays until closed
                self._leave(fd)
                fd = None
            try:
                yield con
            finally:
                try:
                    con.close()
                finally:
                    with _OPEN_LOCK:
                        _OPEN[self._key()] -= 1
        finally:
            self._leave(fd)

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
        """A short read-only connection."""
        with self._open(read_only=True) as con:
            yield con

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short read-write connection inside one transaction (commit on success)."""
        with self._open(read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                con.execute("COMMIT")

    # -- migrations --------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.read() as con:
            return _current_version(con)

    def migrate(self) -> int:
        migrations = load_migrations()
        with self._open(read_only=False) as con:
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


def _current_version(con: duckdb.DuckDBPyConnection) -> int:
    try:
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    except duckdb.CatalogException:
        return 0
    return int(row[0] or 0)
