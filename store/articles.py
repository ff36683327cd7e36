"""Article writes: insert, or a new version when the text changed, idempotently."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

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
    return UpsertResult(aid, "new" if row is None else "changed", version)
