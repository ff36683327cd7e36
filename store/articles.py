"""Article writes: insert, or a new version when the text changed, idempotently."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from store import search
from store.db import stable_id, utcnow
from store.records import ArticleRecord


@dataclass(frozen=True)
class UpsertResult:
    article_id: str
    status: str          # new | changed | same
    version: int


def article_id_for(canonical_url: str) -> str:
    return stable_id(canonical_url)


def upsert_article(con: duckdb.DuckDBPyConnection, rec: ArticleRecord,
                   fetched_at: datetime | None = None) -> UpsertResult:
    """Insert `rec`, or add a version when its content hash differs from the stored one.

    Idempotent: writing the same record twice leaves one row and one version, so a run that
    died half-way can be rerun without duplicates. Call inside `Store.write()`.
    """
    if not rec.body or not rec.body.strip():
        raise ValueError(f"{rec.canonical_url}: refusing to store an article with an empty body")
    fetched_at = fetched_at or utcnow()
    aid = article_id_for(rec.canonical_url)
    h = rec.content_hash()
    row = con.execute("SELECT content_hash, version FROM articles WHERE id = ?", [aid]).fetchone()
    if row is not None and row[0] == h:
        return UpsertResult(aid, "same", int(row[1]))
    version = 1 if row is None else int(row[1]) + 1
    values = dict(
        id=aid, canonical_url=rec.canonical_url, source_id=rec.source_id, kind=rec.kind,
        title=rec.title, lead=rec.lead, body=rec.body, lang=rec.lang, authors=rec.authors or [],
        section=rec.section, tags=rec.tags or [], published_at=rec.published_at,
        updated_at=rec.updated_at, fetched_at=fetched_at, content_hash=h, version=version,
        extra=json.dumps(rec.extra, ensure_ascii=False, default=str),
    )
    if row is None:
        values["first_seen_at"] = fetched_at
        cols = ", ".join(values)
        con.execute(f"INSERT INTO articles ({cols}) VALUES ({', '.join('?' * len(values))})",
                    list(values.values()))
    else:
        sets = ", ".join(f"{k} = ?" for k in values if k != "id")
        con.execute(f"UPDATE articles SET {sets} WHERE id = ?",
                    [v for k, v in values.items() if k != "id"] + [aid])
    con.execute("INSERT INTO article_versions (article_id, version, title, body, content_hash, "
                "fetched_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [aid, version, rec.title, rec.body, h, fetched_at])
    search.index_article(con, aid, rec.title, rec.lead, rec.body)   # store/search.py
    return UpsertResult(aid, "new" if row is None else "changed", version)


def upsert_articles(con: duckdb.DuckDBPyConnection,
                    items: "list[tuple[ArticleRecord, datetime | None]]") -> "list[UpsertResult | ValueError]":
    """`upsert_article` for many records in one go (same rows, same results, same order).

    One SELECT for the stored hashes, one Arrow INSERT for the new articles, one for their
    versions, and the search index caught up once (store/search.py), instead of several
    statements per record: a DuckDB statement costs ~0.5-1 ms, so per-record writes were most of
    a replayed crawl's time. A record with an empty body gets its ValueError in its slot
    (nothing stored), as `upsert_article` would raise it. Records that change a stored article
    (rare) go through `upsert_article` one by one. Call inside `Store.write()`.
    """
    out: list[UpsertResult | ValueError | None] = [None] * len(items)
    prepared = []
    for i, (rec, fetched_at) in enumerate(items):
        if not rec.body or not rec.body.strip():
            out[i] = ValueError(f"{rec.canonical_url}: refusing to store an article with an empty body")
            continue
        prepared.append((i, rec, fetched_at or utcnow(), article_id_for(rec.canonical_url),
                         rec.content_hash()))
    ids = [p[3] for p in prepared]
    if len(set(ids)) != len(ids) or not _arrow_safe(prepared):
        # the same article twice in one batch (the second sees the first), or naive and aware
        # datetimes mixed in one column: record by record
        for i, rec, fetched_at, _, _ in prepared:
            out[i] = upsert_article(con, rec, fetched_at)
        return out  # type: ignore[return-value]
    stored = {}
    if ids:
        stored = {r[0]: (r[1], int(r[2])) for r in con.execute(
            "SELECT id, content_hash, version FROM articles WHERE id IN (SELECT unnest(?::VARCHAR[]))",
            [ids]).fetchall()}
    new = []
    for i, rec, fetched_at, aid, h in prepared:
        row = stored.get(aid)
        if row is not None and row[0] == h:
            out[i] = UpsertResult(aid, "same", row[1])
        elif row is not None:
            out[i] = upsert_article(con, rec, fetched_at)      # a changed article: one by one
        else:
            new.append((i, rec, fetched_at, aid, h))
    if new:
        _insert_new(con, new)
        for i, _, _, aid, _ in new:
            out[i] = UpsertResult(aid, "new", 1)
        catch_up = getattr(search, "catch_up", None)
        if catch_up is not None:
            catch_up(con)       # indexes every article missing from the index, set-based
        else:                   # pragma: no cover - an index module without catch_up
            for _, rec, _, aid, _ in new:
                search.index_article(con, aid, rec.title, rec.lead, rec.body)
    return out  # type: ignore[return-value]


def register_table(con: duckdb.DuckDBPyConnection, name: str, table) -> None:
    """`con.register(name, table)` on a connection the caller may have used: a result of its
    last execute() still unread makes DuckDB (>= 2) refuse the registration, so that statement
    is first run to its end (complete(); nothing is discarded)."""
    complete = getattr(con, "complete", None)
    if complete is not None:
        complete()
    con.register(name, table)


_TS_COLS = ("published_at", "updated_at", "fetched_at")


def _arrow_safe(prepared) -> bool:
    """Each timestamp column all-aware or all-naive (an Arrow column has one kind)."""
    for k in _TS_COLS:
        vals = [(p[2] if k == "fetched_at" else getattr(p[1], k)) for p in prepared]
        kinds = {v.tzinfo is not None and v.utcoffset() is not None for v in vals if v is not None}
        if len(kinds) > 1:
            return False
    return True


def _ts_array(vals):
    import pyarrow as pa
    from datetime import timezone
    aware = any(v is not None and v.tzinfo is not None for v in vals)
    if aware:
        return pa.array([None if v is None else v.astimezone(timezone.utc) for v in vals],
                        pa.timestamp("us", tz="UTC"))
    return pa.array(vals, pa.timestamp("us"))


def _insert_new(con: duckdb.DuckDBPyConnection, new) -> None:
    import pyarrow as pa
    s = pa.string()
    recs = [n[1] for n in new]
    fetched = [n[2] for n in new]
    tbl = pa.table({
        "id": pa.array([n[3] for n in new], s),
        "canonical_url": pa.array([r.canonical_url for r in recs], s),
        "source_id": pa.array([r.source_id for r in recs], s),
        "kind": pa.array([r.kind for r in recs], s),
        "title": pa.array([r.title for r in recs], s),
        "lead": pa.array([r.lead for r in recs], s),
        "body": pa.array([r.body for r in recs], s),
        "lang": pa.array([r.lang for r in recs], s),
        "authors": pa.array([list(r.authors or []) for r in recs], pa.list_(s)),
        "section": pa.array([r.section for r in recs], s),
        "tags": pa.array([list(r.tags or []) for r in recs], pa.list_(s)),
        "published_at": _ts_array([r.published_at for r in recs]),
        "updated_at": _ts_array([r.updated_at for r in recs]),
        "fetched_at": _ts_array(fetched),
        "content_hash": pa.array([n[4] for n in new], s),
        "extra": pa.array([json.dumps(r.extra, ensure_ascii=False, default=str) for r in recs], s),
    })
    register_table(con, "_lw_articles", tbl)
    try:
        con.execute("INSERT INTO articles (id, canonical_url, source_id, kind, title, lead, body, lang, "
                    "authors, section, tags, published_at, updated_at, fetched_at, content_hash, "
                    "version, extra, first_seen_at) SELECT id, canonical_url, source_id, kind, title, "
                    "lead, body, lang, authors, section, tags, published_at, updated_at, fetched_at, "
                    "content_hash, 1, extra, fetched_at FROM _lw_articles")
        con.execute("INSERT INTO article_versions (article_id, version, title, body, content_hash, "
                    "fetched_at) SELECT id, 1, title, body, content_hash, fetched_at FROM _lw_articles "
                    "ON CONFLICT DO NOTHING")
    finally:
        con.unregister("_lw_articles")
