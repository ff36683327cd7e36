"""Store: migrations, idempotent article versioning, and real cross-process lock contention."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from store import Store, StoreError
from store.articles import upsert_article
from store.db import load_migrations
from store.records import ArticleRecord

REPO = Path(__file__).resolve().parents[1]


def rec(body="Мигранты обязаны пройти дактилоскопию.", title="Заголовок", url="https://24.kg/a/1/"):
    return ArticleRecord(canonical_url=url, source_id="kg24_ru", title=title, body=body, lang="ru")


def test_migrations_apply_once_and_record_version(tmp_path):
    s = Store(tmp_path / "a.duckdb")
    latest = max(m.version for m in load_migrations())
    assert s.schema_version() == latest
    assert Store(tmp_path / "a.duckdb").migrate() == latest  # reopening applies nothing
    with s.read() as con:
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(load_migrations())


def test_newer_schema_than_code_is_refused(tmp_path):
    s = Store(tmp_path / "a.duckdb")
    with s.write() as con:
        con.execute("INSERT INTO schema_version VALUES (999, 'future', now())")
    with pytest.raises(StoreError, match="newer than this lawwatch knows"):
        Store(tmp_path / "a.duckdb")


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a duckdb file" * 100)
    with pytest.raises(StoreError, match="bad.duckdb"):
        Store(bad)


def test_upsert_is_idempotent_and_versions_changes(tmp_path):
    s = Store(tmp_path / "a.duckdb")
    with s.write() as con:
        r1 = upsert_article(con, rec())
        r2 = upsert_article(con, rec())            # same content: nothing new
        r3 = upsert_article(con, rec(body="Мигранты обязаны пройти дактилоскопию в течение 30 дней."))
        r4 = upsert_article(con, rec(body="Мигранты обязаны пройти дактилоскопию в течение 30 дней."))
    assert (r1.status, r2.status, r3.status, r4.status) == ("new", "same", "changed", "same")
    assert r1.article_id == r3.article_id and r3.version == 2
    with s.read() as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        versions = con.execute("SELECT version, body FROM article_versions ORDER BY version").fetchall()
    assert [v for v, _ in versions] == [1, 2]
    assert "30 дней" in versions[1][1] and "30 дней" not in versions[0][1]


def test_whitespace_only_edits_are_not_new_versions(tmp_path):
    s = Store(tmp_path / "a.duckdb")
    with s.write() as con:
        upsert_article(con, rec(body="one  two\nthree"))
        assert upsert_article(con, rec(body="one two three")).status == "same"


def test_empty_body_is_refused(tmp_path):
    s = Store(tmp_path / "a.duckdb")
    with s.write() as con, pytest.raises(ValueError, match="24.kg/a/1"):
        upsert_article(con, rec(body="   "))


def test_failed_transaction_rolls_back(tmp_path):
    s = Store(tmp_path / "a.duckdb")
    with pytest.raises(RuntimeError):
        with s.write() as con:
            upsert_article(con, rec())
            raise RuntimeError("boom")
    with s.read() as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 0


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from store import Store
    from store.articles import upsert_article
    from store.records import ArticleRecord
    s = Store({db!r})
    for i in range({n}):
        with s.write() as con:
            upsert_article(con, ArticleRecord(canonical_url=f"https://24.kg/x/{{i}}/",
                           source_id="kg24_ru", title=f"t{{i}}", body=f"текст {{i}}", lang="ru"))
    print("writer done")
""")


def test_second_process_writes_while_reads_run(tmp_path):
    """A real second process writes in short transactions while this one runs the
    dashboard-style read queries; lock conflicts are retried and neither side fails."""
    db = tmp_path / "shared.duckdb"
    s = Store(db)
    n = 60
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(repo=str(REPO), db=str(db), n=n)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import datetime as dt
    from dashboard import queries  # the dashboard's own query functions
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=7)
    reads = 0
    while proc.poll() is None or reads < 20:
        queries.overview_summary(s, since=since)
        queries.recent_developments(s, since=since)
        reads += 1
        if reads > 5000:
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "writer done" in out
    with s.read() as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == n
    assert reads >= 20
