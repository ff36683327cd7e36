"""Text search through the inverted index (store/search.py, migration 0005).

The reference is the search the dashboard had before the index: every word a case-insensitive
substring of one member article's body or title + lead, or of the development title. On a
generated store the index must return the same developments for ordinary queries, and differ
only where a word matched inside a longer word.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from bench.genstore import generate
from dashboard import queries
from store import Store, search
from store.articles import upsert_article
from store.records import ArticleRecord

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def substring_search(store: Store, text: str) -> set[str]:
    """The dashboard's search before the index (dashboard/queries.py before migration 0005)."""
    words = queries.search_terms(text)
    params, title_conds, art_conds = {}, [], []
    for i, w in enumerate(words):
        params[f"w{i}"] = "(?i)" + re.escape(w)
        title_conds.append(f"regexp_matches(d2.title, $w{i})")
        art_conds.append(f"(regexp_matches(a.body, $w{i}) OR regexp_matches("
                         f"coalesce(a.title, '') || ' ' || coalesce(a.lead, ''), $w{i}))")
    sql = ("SELECT dm.development_id FROM development_members dm JOIN articles a "
           "ON a.id = dm.article_id WHERE " + " AND ".join(art_conds)
           + " UNION SELECT d2.id FROM developments d2 WHERE " + " AND ".join(title_conds))
    with store.read() as con:
        return {r[0] for r in con.execute(sql, params).fetchall()}


def index_search(store: Store, text: str) -> set[str]:
    return set(queries.developments(store, text=text, limit=1_000_000)["id"])


@pytest.fixture(autouse=True)
def catch_up_on_every_write(monkeypatch):
    """The write path looks for rows written around the index every few seconds; here on every
    article, so that a test can expect the index to be caught up after its next write."""
    monkeypatch.setattr(search, "CATCH_UP_EVERY_S", 0.0)


def match_mode(store: Store, text: str) -> str:
    with store.read() as con:
        return search.development_match(con, queries.search_terms(text)).mode


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "gen.duckdb"
    generate(path, 3000, seed=11, days=30, quiet=True)
    return Store(path, migrate=False)


ORDINARY = ["патент", "патента", "Патент", "ПАТЕНТА", "entry ban", "Entry Bans", "биометри",
            "дактилоскопию", "мигрант москв", "Амина", "amina app", "EAEU Court", "суд ЕАЭС",
            "учёта", "Кыргызстан", "kyrgyz", "закон", "пресс-службе", "«Амина»", "дней",
            "ban", "registration", "полис ОМС", "health insurance policy", "nothing-like-this",
            "ведомства", "Bishkek weather", "курс рубля"]


@pytest.mark.parametrize("text", ORDINARY)
def test_same_developments_as_the_substring_search(generated, text):
    assert match_mode(generated, text) == "index"
    assert index_search(generated, text) == substring_search(generated, text)


def test_the_only_difference_is_a_word_inside_a_longer_word(generated):
    # "ОМС" (the health insurance) used to match every "ведОМСтва"; "10" every "2010".
    for text, inside in (("ОМС", "ведомств"), ("10", None)):
        old, new = substring_search(generated, text), index_search(generated, text)
        assert new < old
        if inside:
            assert index_search(generated, inside) >= old - new


def test_the_generated_page_is_the_same_as_before(generated):
    """Order, total and member sources/languages of a page, not just the set."""
    df = queries.developments(generated, text="патент", limit=20)
    assert len(df) == 20 and df["total"].iloc[0] == len(substring_search(generated, "патент"))
    assert list(df["last_seen"]) == sorted(df["last_seen"], reverse=True)
    with generated.read() as con:
        for r in df.itertuples():
            want = con.execute("""SELECT list(DISTINCT a.source_id ORDER BY a.source_id),
                                         list(DISTINCT a.lang ORDER BY a.lang)
                                  FROM development_members dm JOIN articles a
                                    ON a.id = dm.article_id WHERE dm.development_id = ?""",
                               [r.id]).fetchone()
            assert (list(r.sources), list(r.langs)) == (want[0], want[1])


def test_filters_combine_with_text(generated):
    with generated.read() as con:
        src = con.execute("SELECT source_id FROM articles WHERE lang = 'ru' GROUP BY 1 "
                          "ORDER BY count(*) DESC "
                          "LIMIT 1").fetchone()[0]
    got = queries.developments(generated, text="патент", sources=[src], langs=["ru"],
                               limit=1_000_000)
    with generated.read() as con:
        ok = {r[0] for r in con.execute(
            "SELECT DISTINCT dm.development_id FROM development_members dm JOIN articles a "
            "ON a.id = dm.article_id WHERE a.source_id = ? AND a.lang = 'ru'", [src]).fetchall()}
    assert set(got["id"]) == substring_search(generated, "патент") & ok
    assert len(got) and got["total"].iloc[0] == len(got)


@pytest.mark.parametrize("kwargs", [
    {}, {"langs": ["en"]}, {"sources": ["kg24_ru", "moscowtimes_en"], "offset": 40},
    {"text": "патент", "langs": ["ru"], "stages": ["draft", "no stage"]},
    {"text": "entry ban", "topics": ["entry_ban", "biometrics"], "langs": ["en", "ru"]}])
def test_member_copy_and_base_tables_give_the_same_page(generated, monkeypatch, kwargs):
    """Source/language filters and the page's sources and languages read search_members when
    it is current; the same page as joining development_members with articles."""
    with generated.read() as con:
        assert search.members_current(search.counters(con))
    fast = queries.developments(generated, **kwargs)
    monkeypatch.setattr(search, "members_current", lambda c: False)
    slow = queries.developments(generated, **kwargs)
    assert len(fast) and fast.drop(columns=["sources", "langs"]).equals(
        slow.drop(columns=["sources", "langs"]))
    assert list(fast["sources"]) == list(slow["sources"])
    assert list(fast["langs"]) == list(slow["langs"])


# -- a hand-made store written through the pipeline's write path ------------------------------
def _article(url, title, body, lead=None, lang="ru"):
    return ArticleRecord(canonical_url=url, source_id="kg24_ru", title=title, body=body,
                         lead=lead, lang=lang)


def _develop(con, dev_id, title, members, at):
    con.execute("DELETE FROM developments WHERE id = ?", [dev_id])
    con.execute("INSERT INTO developments (id, title, first_seen, last_seen, n_articles, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)", [dev_id, title, at, at, len(members), at])
    for aid in members:
        con.execute("INSERT INTO development_members VALUES (?, ?, 0.9, ?) ON CONFLICT DO NOTHING",
                    [aid, dev_id, at])


@pytest.fixture
def written(tmp_path):
    s = Store(tmp_path / "w.duckdb")
    with s.write() as con:
        a1 = upsert_article(con, _article("https://x.kg/1", "Биометрия для мигрантов",
                            "Сдача биометрических данных станет обязательной. Өкмөт кабыл алды.")
                            ).article_id
        a2 = upsert_article(con, _article("https://x.kg/2", "Патент подорожает",
                            "Стоимость патента вырастет, сообщило ведомство.")).article_id
        a3 = upsert_article(con, _article("https://x.kg/3", "COVID-19 rules", "Testing for "
                            "COVID-19 is required; 19 regions report covid cases.", lang="en")
                            ).article_id
        a4 = upsert_article(con, _article("https://x.kg/4", "Ban on entry", "Covid tests, 19 "
                            "of them.", lead="Kyrgyz citizens face an entry ban", lang="en")
                            ).article_id
        _develop(con, "dev-bio", "Биометрия", [a1], T0)
        _develop(con, "dev-pat", "Патенты: стоимость", [a2], T0)
        _develop(con, "dev-cov", "Covid testing", [a3, a4], T0)
    return s, {"a1": a1, "a2": a2, "a3": a3, "a4": a4}


def test_prefixes_case_and_kyrgyz_letters(written):
    s, _ = written
    assert index_search(s, "биометри") == {"dev-bio"}           # биометрических, Биометрия
    assert index_search(s, "БИОМЕТРИЧЕСК") == {"dev-bio"}
    assert index_search(s, "өкмөт") == {"dev-bio"} == index_search(s, "ӨКМӨТ")
    assert index_search(s, "патент стоимост") == {"dev-pat"}
    assert index_search(s, "атент") == set()                     # not from inside a word
    assert index_search(s, "ведомств") == {"dev-pat"}


def test_every_word_in_one_article_or_in_the_title(written):
    s, _ = written
    # "testing" is in a3 (and the title), "entry" only in a4: never one article together.
    assert index_search(s, "testing entry") == set()
    assert index_search(s, "covid testing") == {"dev-cov"}       # the title has both
    assert index_search(s, "kyrgyz ban") == {"dev-cov"}          # a4: lead + title
    assert index_search(s, "стоимость: патенты") == set()        # ':' must be adjacent


def test_punctuation_inside_a_word_must_be_adjacent(written):
    s, ids = written
    assert index_search(s, "covid-19") == {"dev-cov"}          # a3 has it; a4 has both tokens
    with s.write() as con:                                       # only a4 left as a member
        con.execute("DELETE FROM development_members WHERE article_id = ?", [ids["a3"]])
        con.execute("UPDATE developments SET title = 'Tests' WHERE id = 'dev-cov'")
        search.sync(con)
    assert index_search(s, "covid 19") == {"dev-cov"}
    assert index_search(s, "covid-19") == set()
    assert index_search(s, "19-covid") == set()
    assert index_search(s, "100%_") == set()


def test_a_changed_article_is_searched_by_its_new_text(written):
    s, ids = written
    with s.write() as con:
        r = upsert_article(con, _article("https://x.kg/2", "Патент подешевеет",
                                         "Стоимость разрешения на работу снизится."))
    assert r.status == "changed"
    assert index_search(s, "подешевеет") == {"dev-pat"}
    assert index_search(s, "подорожает") == set()
    assert index_search(s, "ведомство") == set()
    assert match_mode(s, "подешевеет") == "index"


def test_rows_written_around_the_index_are_found_and_caught_up(written):
    s, ids = written
    later = T0 + timedelta(hours=1)
    with s.write() as con:    # as tests and bulk loads do: plain SQL, no index_article
        con.execute("INSERT INTO articles (id, canonical_url, source_id, title, body, lang, "
                    "first_seen_at, fetched_at, content_hash) VALUES ('raw-1', 'https://x.kg/r', "
                    "'kg24_ru', 'Сырая вставка', 'Реестр контролируемых лиц пополнился.', 'ru', "
                    "?, ?, 'h')", [later, later])
        _develop(con, "dev-raw", "Контролируемые лица", ["raw-1"], later)
        # classify rewrites a development with a new title (and updated_at = now)
        _develop(con, "dev-bio", "Дактилоскопия обязательна", [ids["a1"]], later)
    assert index_search(s, "реестр") == {"dev-raw"}              # article not indexed
    assert index_search(s, "контролируем") == {"dev-raw"}
    assert index_search(s, "дактилоскопия") == {"dev-bio"}       # rewritten title
    assert index_search(s, "биометри") == {"dev-bio"}
    assert match_mode(s, "реестр") != "index"
    # a member only (its article indexed by the write path): joined after the mirror's mark
    with s.write() as con:
        a6 = upsert_article(con, _article("https://x.kg/6", "Covid again", "More covid news.",
                                          lang="en")).article_id
        _develop(con, "dev-pat", "Патенты: стоимость", [ids["a2"], a6], later + timedelta(hours=1))
    assert "members" in match_mode(s, "covid")
    assert index_search(s, "covid") == {"dev-pat", "dev-cov"}
    # the next article written through the write path catches everything up
    with s.write() as con:
        upsert_article(con, _article("https://x.kg/5", "Новое", "Ещё одна новость."))
    assert match_mode(s, "реестр") == "index"
    assert index_search(s, "реестр") == {"dev-raw"}
    assert index_search(s, "covid") == {"dev-pat", "dev-cov"}
    assert index_search(s, "дактилоскопия") == {"dev-bio"}
    assert index_search(s, "биометрия") == {"dev-bio"}           # the article still says it


def test_rebuild_equals_incremental_and_matches_the_backfill(written):
    s, _ = written

    def snapshot():
        with s.read() as con:
            arts = con.execute("""SELECT sd.article_id, list(p.term ORDER BY p.term)
                                  FROM search_docs sd JOIN search_postings p ON p.doc = sd.doc
                                  GROUP BY 1 ORDER BY 1""").fetchall()
            devs = con.execute("""SELECT st.development_id, list(p.term ORDER BY p.term)
                                  FROM search_dev_titles st JOIN search_postings p
                                    ON p.doc = st.doc GROUP BY 1 ORDER BY 1""").fetchall()
            mem = con.execute("""SELECT sm.article_id, sm.development_id, sd.article_id,
                                        sm.source_id, sm.lang
                                 FROM search_members sm LEFT JOIN search_docs sd
                                   ON sd.doc = sm.doc ORDER BY 1""").fetchall()
        return arts, devs, mem

    with s.write() as con:
        search.sync(con)          # the fixture wrote developments around the index
    incremental = snapshot()
    with s.write() as con:
        search.rebuild(con)
    assert snapshot() == incremental
    # the migration's backfill: drop the index, forget migration 5, migrate again
    with s.write() as con:
        for stmt in ("DROP TABLE search_postings", "DROP TABLE search_docs",
                     "DROP TABLE search_members", "DROP TABLE search_dev_titles",
                     "DROP INDEX development_members_development", "DROP INDEX tags_article",
                     "DROP MACRO search_tokens",
                     "DROP SEQUENCE search_doc_seq", "DELETE FROM schema_version WHERE version = 5"):
            con.execute(stmt)
    with s.read() as con:      # without the index the search scans, with the same answers
        assert search.development_match(con, ["биометри"]).mode == "scan"
    assert index_search(s, "биометри") == {"dev-bio"}
    s.migrate()
    assert snapshot() == incremental


def test_python_tokens_are_the_sql_tokens(tmp_store):
    """The write path and queries tokenise in Python, bulk builds with the search_tokens macro:
    the same tokens for every letter and digit of the Basic Multilingual Plane (both sides'
    Unicode tables know them; a few scripts added after Python 3.11's Unicode 14 differ)."""
    samples = ["«Амина» — COVID-19, 30 дней; Өкмөт ҢӨҮ ёлка", "", "ß İstanbul ΣΑΣ x_y 2025-01-01",
               "Кыргыз Республикасынын Өкмөтү; P-7/25, Р-7/25 ½ ²"]
    bmp = [chr(c) for c in range(0x20, 0x10000) if not 0xD800 <= c < 0xE000]
    samples += [" ".join(bmp[i:i + 4000]) for i in range(0, len(bmp), 4000)]
    with tmp_store.read() as con:
        for t in samples:
            sql = con.execute(r"SELECT regexp_extract_all(lower(?), '[\pL\pN]+')",
                              [t]).fetchone()[0]
            assert list(dict.fromkeys(sql)) == search.tokens(t)
            macro = con.execute("SELECT list_sort(search_tokens(?))", [t]).fetchone()[0]
            constant = con.execute(f"SELECT list_sort({search.TOKENS_SQL.format(x='?')})",
                                   [t]).fetchone()[0]
            assert macro == constant == sorted(search.tokens(t))
    assert search.tokens("«Амина» амина COVID-19") == ["амина", "covid", "19"]


def test_batch_indexing_equals_one_by_one(tmp_path):
    rows = [(f"b{i}", f"Заголовок {i}", None, f"Текст про патент номер {i % 3}") for i in range(40)]
    a, b = Store(tmp_path / "a.duckdb"), Store(tmp_path / "b.duckdb")
    for st, batch in ((a, True), (b, False)):
        with st.write() as con:
            for aid, title, lead, body in rows:
                con.execute("INSERT INTO articles (id, canonical_url, source_id, title, lead, body, "
                            "first_seen_at, fetched_at, content_hash) VALUES (?, ?, 's', ?, ?, ?, "
                            "now(), now(), 'h')", [aid, "u" + aid, title, lead, body])
            if batch:
                search.index_articles(con, rows)
            else:
                for r in rows:
                    search.index_article(con, *r)
    snaps = []
    for st in (a, b):
        with st.read() as con:
            snaps.append(con.execute("""SELECT sd.article_id, list(p.term ORDER BY p.term)
                                        FROM search_docs sd JOIN search_postings p USING (doc)
                                        GROUP BY 1 ORDER BY 1""").fetchall())
    assert snaps[0] == snaps[1] and len(snaps[0]) == 40


def test_write_path_cost_is_small(tmp_store):
    """index_article adds a handful of statements per article, not a scan of the index."""
    with tmp_store.write() as con:
        for i in range(30):
            upsert_article(con, _article(f"https://x.kg/c{i}", f"Заголовок {i}",
                                         "Текст новости про патент и регистрацию. " * 20))
        n = con.execute("SELECT count(*) FROM search_postings").fetchone()[0]
    assert 30 * 8 <= n <= 30 * 12         # distinct tokens per article, nothing duplicated


def test_batch_upserts_are_indexed_in_their_transaction(tmp_store):
    """store.articles.upsert_articles (the crawler's batch write) indexes through catch_up."""
    from store import articles as store_articles
    upsert_articles = getattr(store_articles, "upsert_articles", None)
    if upsert_articles is None:
        pytest.skip("store.articles has no batch upsert")
    with tmp_store.write() as con:
        upsert_article(con, _article("https://x.kg/old", "Старая", "Старая новость про визы."))
        res = upsert_articles(con, [(_article(f"https://x.kg/n{i}", f"Новость {i}",
                                              f"Патент номер {i} подорожал."), None)
                                    for i in range(25)])
        ids = [r.article_id for r in res]
        _develop(con, "dev-n", "Патенты", ids[:3], T0)
        n_docs, n_art = con.execute("SELECT (SELECT count(*) FROM search_docs), "
                                    "(SELECT count(*) FROM articles)").fetchone()
    assert n_docs == n_art == 26
    assert index_search(tmp_store, "подорожал") == {"dev-n"}
    with tmp_store.read() as con:
        assert search.development_match(con, ["подорожал"]).mode.startswith("index")
        assert con.execute("SELECT count(*) FROM search_postings p JOIN search_docs d "
                           "USING (doc) WHERE d.article_id = ?", [ids[7]]).fetchone()[0] == 5
