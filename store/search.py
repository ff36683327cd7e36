r"""Text search without an FTS extension: an inverted index kept in plain DuckDB tables.

What a search matches (dashboard `developments(text=...)`): the text is split on whitespace
into words; a development matches when ONE of its member articles contains every word (in its
title, lead or body, any mix), or when its own title contains every word. A text contains a
word when each token of the word begins a token of the text, case-insensitively:

- tokens are maximal runs of letters and digits of any script, lowercased (`tokens()`; the
  same as the SQL macro search_tokens: lower(), then `[\pL\pN]+`): Cyrillic including Kyrgyz
  ң ө ү, Latin, digits. "ОМС", "омс" and "Омс" are one token; "«Амина»" holds "амина";
- prefix matching covers Russian and Kyrgyz inflection: "биометри" finds "биометрии" and
  "биометрических", "патент" finds "патента", "ban" finds "bans";
- a word with punctuation in it ("COVID-19", "P-7/25", "«Амина»") must also occur as written,
  characters adjacent (a case-insensitive regular expression over the candidate texts only).

The search before this index matched every word as a substring anywhere. For ordinary words
both give the same developments, except that a word no longer matches inside a longer word:
"ОМС" no longer finds every "ведомства", "закон" does not find "незаконный", "10" does not
find "2010" (tests/test_search.py compares the two on a generated store).

Tables (migration 0005_search_index.sql):
    search_postings(term, doc)          one row per distinct token of a document
    search_docs(article_id PK, doc)     an article's current document number
    search_members(article_id PK, development_id, joined_at, doc, source_id, lang)
                                        development_members with the member's document number,
                                        source and language, so a hit (and the dashboard's
                                        source/language filters) reach the development without
                                        joining the article-sized tables
    search_dev_titles(development_id PK, title, updated_at, doc)
    macro search_tokens(text)           the tokeniser in SQL, for bulk (re)builds

Write path. `store.articles.upsert_article` calls `index_article` when an article is new or its
text changed; `upsert_articles` (batches) calls `catch_up`, which indexes the batch's new
articles set-based (`index_articles` does the same for a known list). An article gets a fresh
document number and its tokens are appended; nothing is deleted: a changed article's old
postings are no longer referenced and go at the next `rebuild`. Measured (CPU, ~3 KB bodies):
~2 ms per article on top of upsert_article's own 5 ms (100k articles) to 24 ms (1M), ~0.4 ms
per article in upsert_articles' batches of 100. Tokens are made in Python (`tokens`): the SQL
tokeniser recompiles its Unicode regex per statement, ~3 ms. Every CATCH_UP_EVERY_S (and on each
`catch_up` call) the write path also compares counts and maxima of articles,
development_members and developments with the index (~1.5 ms) and indexes what was written
around it: bulk loads, and what classify/developments.py wrote since (members, titles).

Read path (`development_match`): one range scan of search_postings per query token (bulk loads
are sorted by term, so zone maps skip all but one or two row groups; rows appended since are
scanned in full), intersected, then mapped through search_members and search_dev_titles. What
the write path has not caught up yet is still found, exactly: members and titles written after
the index's high-water marks (development_members.joined_at, developments.updated_at) come from
the base tables, articles missing from the index are matched by regular expression, and when
the counts do not add up the query joins the base tables instead. Without the index tables (an
older store opened without migrating) it scans, as the dashboard did before.

Assumed of other writers (classify/developments.py does this): development_members rows are only
added, with joined_at = now; a development rewritten gets updated_at = now. Anything else is
still caught when it changes a row count; `sync` or `rebuild` repairs the rest.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import duckdb

# The SQL tokeniser (bulk builds), the same expression as the search_tokens macro in
# 0005_search_index.sql; `tokens` is the same in Python (tests/test_search.py compares them).
TOKEN_CLASS = r"[\pL\pN]+"
TOKENS_SQL = "list_distinct(regexp_extract_all(lower({x}), '" + TOKEN_CLASS + "'))"
ARTICLE_TEXT_SQL = "concat_ws(' ', {a}.title, {a}.lead, {a}.body)"
_TOKEN_RE = re.compile(r"[^\W_]+")          # letters and digits (Unicode), as \pL\pN
# str.lower() applies two context rules DuckDB's lower() (per code point) does not.
_LOWER_FIX = str.maketrans({"\u0130": "i", "\u03a3": "\u03c3"})
# A word's first token must start a token of the text.
_BOUNDARY = r"(?:^|[^\pL\pN])"
# Bounds on what one query may ask for.
MAX_WORDS = 8
MAX_TOKENS = 16
# Rows not yet caught up that are handled by key; beyond these, base tables are joined.
MAX_DELTA = 2_000
MAX_UNINDEXED = 20_000
# index_article looks for rows written around the index at most this often.
CATCH_UP_EVERY_S = 5.0
_last_catch_up = float("-inf")


def tokens(text: str | None) -> list[str]:
    """Distinct tokens of `text`, in order of first occurrence."""
    return list(dict.fromkeys(_TOKEN_RE.findall((text or "").translate(_LOWER_FIX).lower())))


def _article_text(title: str | None, lead: str | None, body: str | None) -> str:
    return " ".join(p for p in (title, lead, body) if p is not None)


# -- write path --------------------------------------------------------------------------------
def index_article(con: duckdb.DuckDBPyConnection, article_id: str, title: str | None,
                  lead: str | None, body: str | None) -> int:
    """(Re)index one article's text; call in the transaction that wrote the article.

    Returns its new document number.
    """
    row = con.execute("UPDATE search_docs SET doc = nextval('search_doc_seq') "
                      "WHERE article_id = ? RETURNING doc", [article_id]).fetchone()
    if row is None:
        row = con.execute("INSERT INTO search_docs VALUES (?, nextval('search_doc_seq')) "
                          "RETURNING doc", [article_id]).fetchone()
    doc = int(row[0])
    con.execute("INSERT INTO search_postings SELECT unnest($1::VARCHAR[]), $2",
                [tokens(_article_text(title, lead, body)), doc])
    con.execute("UPDATE search_members SET doc = $1, source_id = a.source_id, lang = a.lang "
                "FROM (SELECT source_id, lang FROM articles WHERE id = $2) a "
                "WHERE search_members.article_id = $2", [doc, article_id])
    _catch_up_now_and_then(con)
    return doc


def index_articles(con: duckdb.DuckDBPyConnection,
                   rows: Iterable[tuple[str, str | None, str | None, str | None]]) -> int:
    """`index_article` for many (article_id, title, lead, body) at once, in a few statements."""
    rows = list({r[0]: r for r in rows}.values())
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    docs = [d for (d,) in con.execute("SELECT nextval('search_doc_seq') FROM range($1)",
                                      [len(rows)]).fetchall()]
    terms, owners = [], []
    for (_, title, lead, body), doc in zip(rows, docs):
        toks = tokens(_article_text(title, lead, body))
        terms += toks
        owners += [doc] * len(toks)
    have = {r[0] for r in con.execute("SELECT article_id FROM search_docs "
                                      "WHERE list_contains($1::VARCHAR[], article_id)",
                                      [ids]).fetchall()}
    pairs = "(SELECT unnest($1::VARCHAR[]) AS article_id, unnest($2::BIGINT[]) AS doc)"
    old = [(a, d) for a, d in zip(ids, docs) if a in have]
    new = [(a, d) for a, d in zip(ids, docs) if a not in have]
    if old:
        con.execute(f"UPDATE search_docs SET doc = n.doc FROM {pairs} n "
                    "WHERE search_docs.article_id = n.article_id",
                    [[a for a, _ in old], [d for _, d in old]])
    if new:
        con.execute(f"INSERT INTO search_docs SELECT * FROM {pairs}",
                    [[a for a, _ in new], [d for _, d in new]])
    con.execute("INSERT INTO search_postings SELECT unnest($1::VARCHAR[]), unnest($2::BIGINT[])",
                [terms, owners])
    con.execute("UPDATE search_members SET doc = u.doc, source_id = u.source_id, lang = u.lang "
                f"FROM (SELECT n.article_id, n.doc, a.source_id, a.lang FROM {pairs} n "
                "      LEFT JOIN (SELECT id, source_id, lang FROM articles "
                "                 WHERE list_contains($1::VARCHAR[], id)) a ON a.id = n.article_id) u "
                "WHERE search_members.article_id = u.article_id", [ids, docs])
    return len(rows)


def _catch_up_now_and_then(con: duckdb.DuckDBPyConnection) -> None:
    """catch_up at most every CATCH_UP_EVERY_S in this process. Queries are exact without it
    (it only keeps them on the index's fast path), so one clock for all stores is enough."""
    global _last_catch_up
    now = time.monotonic()
    if now - _last_catch_up >= CATCH_UP_EVERY_S:
        _last_catch_up = now
        catch_up(con)


def catch_up(con: duckdb.DuckDBPyConnection) -> dict:
    """Index what was written around the index, if anything was (~1.5 ms when nothing was)."""
    c = _counters(con)
    n_art, n_docs, n_dm, dm_max, n_sm, sm_max, n_dev, dev_max, n_st, st_max = c
    done = {}
    if n_art != n_docs:
        done["articles"] = _index_missing_articles(con, n_art, n_docs)
    if (n_dm, dm_max) != (n_sm, sm_max):
        done["members"] = _sync_members(con, c)
    if (n_dev, dev_max) != (n_st, st_max):
        done["developments"] = _index_dev_titles(con, c)
    return done


def sync(con: duckdb.DuckDBPyConnection) -> dict:
    """Index every article, membership and development title the index is missing."""
    return {"articles": _index_missing_articles(con), "members": _sync_members(con),
            "developments": _index_dev_titles(con)}


def _index_missing_articles(con: duckdb.DuckDBPyConnection, n_art: int | None = None,
                            n_docs: int | None = None) -> int:
    if n_art is not None and n_docs is not None and 0 < n_art - n_docs <= MAX_DELTA:
        # Usually the missing ones are the newest rows (a batch insert just now): look at the
        # table's last rows and check them by key before joining a million rows with a million.
        k = n_art - n_docs
        cand = [r[0] for r in con.execute("SELECT id FROM articles WHERE rowid >= "
                                          "(SELECT max(rowid) FROM articles) - $1",
                                          [4 * k + 64]).fetchall()]
        have = {r[0] for r in con.execute("SELECT article_id FROM search_docs "
                                          "WHERE list_contains($1::VARCHAR[], article_id)",
                                          [cand]).fetchall()}
        missing = [a for a in cand if a not in have]
        if len(missing) == k:
            return index_articles(con, con.execute(
                "SELECT id, title, lead, body FROM articles "
                "WHERE list_contains($1::VARCHAR[], id)", [missing]).fetchall())
    # Anything else (a bulk load, rows deleted): set-based over the whole table.
    con.execute("DELETE FROM search_docs WHERE article_id NOT IN (SELECT id FROM articles)")
    con.execute("""CREATE OR REPLACE TEMP TABLE _search_new AS
                   SELECT a.id AS article_id, nextval('search_doc_seq') AS doc
                   FROM articles a ANTI JOIN search_docs s ON s.article_id = a.id""")
    try:
        n = con.execute("SELECT count(*) FROM _search_new").fetchone()[0]
        if n:
            con.execute("INSERT INTO search_docs SELECT article_id, doc FROM _search_new")
            con.execute(f"""INSERT INTO search_postings
                            SELECT unnest(search_tokens({ARTICLE_TEXT_SQL.format(a='a')})), n.doc
                            FROM _search_new n JOIN articles a ON a.id = n.article_id""")
            con.execute("""UPDATE search_members SET doc = n.doc, source_id = a.source_id,
                                  lang = a.lang
                           FROM _search_new n JOIN articles a ON a.id = n.article_id
                           WHERE search_members.article_id = n.article_id""")
    finally:
        con.execute("DROP TABLE IF EXISTS _search_new")
    return int(n)


def _member_delta(con: duckdb.DuckDBPyConnection, c: Sequence) -> list | None:
    """development_members rows not yet mirrored, when they are exactly those joined after
    the mirror's high-water mark and there are at most MAX_DELTA of them; else None."""
    _, _, n_dm, _, n_sm, sm_max, *_ = c
    if n_dm < n_sm or n_dm - n_sm > MAX_DELTA:
        return None
    delta = con.execute("SELECT article_id, development_id, joined_at FROM development_members "
                        "WHERE joined_at > coalesce($1, '-infinity'::TIMESTAMPTZ) LIMIT $2",
                        [sm_max, MAX_DELTA + 1]).fetchall()
    if len(delta) != n_dm - n_sm or (not delta and c[3] != sm_max):
        return None
    return delta


def _sync_members(con: duckdb.DuckDBPyConnection, c: Sequence | None = None) -> int:
    """Mirror development_members with the member article's doc, source and language (NULLs
    for a member whose article is not indexed yet)."""
    delta = _member_delta(con, c) if c is not None else None
    if delta is not None:
        ids = [d[0] for d in delta]
        docs = dict(con.execute("SELECT article_id, doc FROM search_docs "
                                "WHERE list_contains($1::VARCHAR[], article_id)", [ids]).fetchall())
        arts = {r[0]: r[1:] for r in con.execute(
            "SELECT id, source_id, lang FROM articles WHERE list_contains($1::VARCHAR[], id)",
            [ids]).fetchall()}
        con.execute("INSERT INTO search_members SELECT unnest($1::VARCHAR[]), "
                    "unnest($2::VARCHAR[]), unnest($3::TIMESTAMPTZ[]), unnest($4::BIGINT[]), "
                    "unnest($5::VARCHAR[]), unnest($6::VARCHAR[])",
                    [ids, [d[1] for d in delta], [d[2] for d in delta],
                     [docs.get(a) for a in ids], [arts.get(a, (None, None))[0] for a in ids],
                     [arts.get(a, (None, None))[1] for a in ids]])
        return len(delta)
    con.execute("""DELETE FROM search_members sm WHERE NOT EXISTS (
                       SELECT 1 FROM development_members dm
                       WHERE dm.article_id = sm.article_id
                         AND dm.development_id = sm.development_id
                         AND dm.joined_at = sm.joined_at)""")
    return int(con.execute("""
        INSERT INTO search_members
        SELECT dm.article_id, dm.development_id, dm.joined_at, sd.doc, a.source_id, a.lang
        FROM development_members dm
        LEFT JOIN search_docs sd ON sd.article_id = dm.article_id
        LEFT JOIN articles a ON a.id = dm.article_id
        ANTI JOIN search_members sm ON sm.article_id = dm.article_id""").fetchone()[0])


def _titles_consistent(con: duckdb.DuckDBPyConnection, st_max: Any) -> bool:
    """Every development not rewritten after the titles' high-water mark has its entry."""
    if st_max is None:
        return False
    return con.execute("""
        SELECT (SELECT count(*) FROM developments WHERE updated_at <= $1)
             = (SELECT count(*) FROM search_dev_titles WHERE development_id NOT IN (
                  SELECT id FROM developments WHERE updated_at > $1))""", [st_max]).fetchone()[0]


def _index_dev_titles(con: duckdb.DuckDBPyConnection, c: Sequence | None = None) -> int:
    """Index development titles that are new or were rewritten; drop those gone."""
    if c is not None and _titles_consistent(con, c[9]):
        stale = ("SELECT d.id, d.title, d.updated_at FROM developments d "
                 "WHERE d.updated_at > $1")
        params = [c[9]]
    else:
        stale = ("SELECT d.id, d.title, d.updated_at FROM developments d "
                 "ANTI JOIN search_dev_titles s ON s.development_id = d.id "
                 "AND s.updated_at = d.updated_at AND s.title = d.title")
        params = []
        con.execute("DELETE FROM search_dev_titles "
                    "WHERE development_id NOT IN (SELECT id FROM developments)")
    rows = con.execute(stale, params).fetchall()
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    docs = [d for (d,) in con.execute("SELECT nextval('search_doc_seq') FROM range($1)",
                                      [len(rows)]).fetchall()]
    con.execute("DELETE FROM search_dev_titles WHERE list_contains($1::VARCHAR[], development_id)",
                [ids])
    con.execute("INSERT INTO search_dev_titles SELECT unnest($1::VARCHAR[]), "
                "unnest($2::VARCHAR[]), unnest($3::TIMESTAMPTZ[]), unnest($4::BIGINT[])",
                [ids, [r[1] for r in rows], [r[2] for r in rows], docs])
    terms, owners = [], []
    for r, doc in zip(rows, docs):
        toks = tokens(r[1])
        terms += toks
        owners += [doc] * len(toks)
    con.execute("INSERT INTO search_postings SELECT unnest($1::VARCHAR[]), unnest($2::BIGINT[])",
                [terms, owners])
    return len(rows)


def rebuild(con: duckdb.DuckDBPyConnection) -> dict:
    """Reload the whole index sorted by term (after a bulk load; drops unreferenced postings).

    About a minute per million articles on two cores; call inside a write transaction.
    """
    for t in ("search_postings", "search_docs", "search_members", "search_dev_titles"):
        con.execute(f"DELETE FROM {t}")
    # The same statements as the backfill in 0005_search_index.sql.
    con.execute("INSERT INTO search_docs SELECT id, nextval('search_doc_seq') FROM articles")
    con.execute("""INSERT INTO search_members
                   SELECT dm.article_id, dm.development_id, dm.joined_at, sd.doc, a.source_id,
                          a.lang
                   FROM development_members dm
                   LEFT JOIN search_docs sd ON sd.article_id = dm.article_id
                   LEFT JOIN articles a ON a.id = dm.article_id
                   ORDER BY dm.development_id""")
    con.execute("INSERT INTO search_dev_titles SELECT id, title, updated_at, "
                "nextval('search_doc_seq') FROM developments")
    con.execute(f"""
        INSERT INTO search_postings
        SELECT term, doc FROM (
            SELECT unnest(search_tokens({ARTICLE_TEXT_SQL.format(a='a')})) AS term, s.doc
            FROM articles a JOIN search_docs s ON s.article_id = a.id
            UNION ALL
            SELECT unnest(search_tokens(t.title)) AS term, t.doc FROM search_dev_titles t
        ) ORDER BY term, doc""")
    return dict(zip(("articles", "members", "developments", "postings"), con.execute(
        "SELECT (SELECT count(*) FROM search_docs), (SELECT count(*) FROM search_members), "
        "(SELECT count(*) FROM search_dev_titles), (SELECT count(*) FROM search_postings)"
    ).fetchone()))


# -- read path ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    """One query word: lowered, its tokens, and the pattern a text must match for it."""
    lowered: str
    tokens: tuple[str, ...]
    pattern: str                    # RE2, case-insensitive, over the raw text

    @property
    def plain(self) -> bool:
        """A single token and nothing else: the index alone decides."""
        return self.tokens == (self.lowered,)


@dataclass
class Match:
    """A subquery selecting the ids of matching developments (an id may repeat: use it with
    IN), with its named parameters."""
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    # How it was answered: "index", "scan" (no index / nothing to look up), or "index+" and
    # the parts that came from base tables (members, titles, articles, members-join, ...).
    mode: str = "index"


def parse_words(words: Sequence[str]) -> list[Word]:
    """Query words, lowered and tokenised as the index is."""
    out = []
    for w in [w for w in words if w][:MAX_WORDS]:
        low = w.translate(_LOWER_FIX).lower()
        toks = tuple(_TOKEN_RE.findall(low))
        lead = _BOUNDARY if toks and low.startswith(toks[0]) else ""
        out.append(Word(low, toks, "(?i)" + lead + re.escape(w)))
    return out


# Row counts and high-water marks of the base tables and of the index, one row per table in a
# fixed order. Top-level aggregates in a UNION ALL: ~1.5 ms at 1M articles on a fresh
# connection, where the same ten aggregates as scalar subqueries of one SELECT take ~30 ms.
_COUNTERS = (("articles", None), ("search_docs", None),
             ("development_members", "joined_at"), ("search_members", "joined_at"),
             ("developments", "updated_at"), ("search_dev_titles", "updated_at"))
_COUNTERS_SQL = " UNION ALL ".join(
    f"SELECT {i} AS k, count(*)::BIGINT AS n, "
    f"{f'max({col})' if col else 'NULL::TIMESTAMPTZ'} AS hw FROM {t}"
    for i, (t, col) in enumerate(_COUNTERS))


def _counters(con: duckdb.DuckDBPyConnection) -> list:
    """[n_articles, n_docs, n_dm, dm_max, n_sm, sm_max, n_dev, dev_max, n_st, st_max]."""
    rows = sorted(con.execute(_COUNTERS_SQL).fetchall())
    return [rows[0][1], rows[1][1], *rows[2][1:], *rows[3][1:], *rows[4][1:], *rows[5][1:]]


def counters(con: duckdb.DuckDBPyConnection) -> list | None:
    """How far the index is behind (see _counters); None when the store has no index tables.
    Pass to development_match and members_current to count once per query."""
    try:
        return _counters(con)
    except duckdb.CatalogException:
        return None


def members_current(c: Sequence | None) -> bool:
    """search_members mirrors development_members and every article is indexed: its doc,
    source_id and lang can stand in for a join with articles (doc IS NULL: no such article)."""
    return c is not None and c[0] == c[1] and (c[2], c[3]) == (c[4], c[5])


def _prefix_range(i: int, token: str, params: dict) -> str:
    params[f"s_t{i}"] = token
    params[f"s_h{i}"] = token + "\U0010ffff"
    return (f"SELECT doc FROM search_postings WHERE term >= $s_t{i} AND term < $s_h{i} "
            f"AND starts_with(term, $s_t{i})")


def _query_tokens(words: list[Word]) -> list[str]:
    """Distinct tokens, dropping any that begins another (the longer one implies it)."""
    toks = sorted({t for w in words for t in w.tokens}, key=len, reverse=True)
    out: list[str] = []
    for t in toks:
        if not any(o.startswith(t) for o in out):
            out.append(t)
    return out[:MAX_TOKENS]


def _word_conds(words: list[Word], params: dict, fields: Sequence[str]) -> str:
    """SQL: every word's pattern matches at least one of `fields`.

    Case-insensitive RE2 on the raw text rather than lower(text): lower() of every body costs
    more than the match itself, and the two fold Cyrillic and Latin alike."""
    conds = []
    for w in words:
        key = f"s_p{sum(k.startswith('s_p') for k in params)}"
        params[key] = w.pattern
        conds.append("(" + " OR ".join(f"regexp_matches({f}, ${key})" for f in fields) + ")")
    return " AND ".join(conds) or "TRUE"


def _article_fields(guard: str) -> tuple[str, str]:
    """Body, and title + lead, of articles `a`, wrapped in a CASE on the other side of a join
    (`guard` IS NULL never holds there) so DuckDB cannot push the regex into the articles scan:
    only the rows that survive the join are matched."""
    return (f"CASE WHEN {guard} IS NULL THEN '' ELSE a.body END",
            f"CASE WHEN {guard} IS NULL THEN '' "
            f"ELSE coalesce(a.title, '') || ' ' || coalesce(a.lead, '') END")


def _scan_match(words: list[Word], params: dict) -> str:
    """Every member article and every title, by regular expression (no index)."""
    art = _word_conds(words, params, _article_fields("dm.development_id"))
    title = _word_conds(words, params, ["d2.title"])
    return ("SELECT dm.development_id FROM development_members dm "
            f"JOIN articles a ON a.id = dm.article_id WHERE {art} "
            f"UNION ALL SELECT d2.id FROM developments d2 WHERE {title}")


_UNSET: Any = object()


def development_match(con: duckdb.DuckDBPyConnection, words: Sequence[str],
                      counters_: Sequence | None = _UNSET) -> Match | None:
    """A subquery of the ids of developments matching every word (None: no words).
    `counters_`: from counters(con), when the caller has them already."""
    ws = parse_words(words)
    if not ws:
        return None
    params: dict[str, Any] = {}
    tokens_ = _query_tokens(ws)
    c = counters(con) if counters_ is _UNSET else counters_
    if c is None or not tokens_ or c[0] - c[1] > MAX_UNINDEXED:
        # No index, only punctuation ("—", "«»"), or an index far behind: scan.
        return Match(_scan_match(ws, params), params, "scan")
    n_art, n_docs, n_dm, dm_max, n_sm, sm_max, n_dev, dev_max, n_st, st_max = c
    check = [w for w in ws if not w.plain]      # words the index alone cannot decide
    extra = []

    hits = " INTERSECT ".join(f"({_prefix_range(i, t, params)})" for i, t in enumerate(tokens_))
    # Members with their current document numbers: (doc, article_id, development_id).
    members = "SELECT doc, article_id, development_id FROM search_members"
    if (n_dm, dm_max) != (n_sm, sm_max):
        delta = _member_delta(con, c)
        if delta is None:
            members = ("SELECT sd.doc, dm.article_id, dm.development_id "
                       "FROM development_members dm "
                       "JOIN search_docs sd ON sd.article_id = dm.article_id")
            extra.append("members-join")
        elif delta:
            docs = dict(con.execute("SELECT article_id, doc FROM search_docs "
                                    "WHERE list_contains($1::VARCHAR[], article_id)",
                                    [[d[0] for d in delta]]).fetchall())
            # (A member whose article is not indexed is searched with the missing articles.)
            delta = [d for d in delta if d[0] in docs]
            params["s_dd"] = [docs[d[0]] for d in delta]
            params["s_da"] = [d[0] for d in delta]
            params["s_dv"] = [d[1] for d in delta]
            members += (" UNION ALL SELECT unnest($s_dd::BIGINT[]), unnest($s_da::VARCHAR[]), "
                        "unnest($s_dv::VARCHAR[])")
            extra.append("members")
    if check:
        # The index found the member articles holding every token; the words' patterns are
        # matched on those texts only, fetched by key (list_contains on the primary key is an
        # index lookup for up to ~2k keys, a filtered scan beyond).
        lookup = {k: v for k, v in params.items() if k.startswith(("s_t", "s_h", "s_d"))}
        params["s_cand"] = [r[0] for r in con.execute(
            f"SELECT DISTINCT m.article_id FROM ({hits}) h JOIN ({members}) m ON m.doc = h.doc",
            lookup).fetchall()]
        art_sql = ("SELECT dm.development_id FROM development_members dm "
                   "JOIN articles a ON a.id = dm.article_id "
                   "WHERE list_contains($s_cand::VARCHAR[], dm.article_id) "
                   "AND list_contains($s_cand::VARCHAR[], a.id) AND "
                   + _word_conds(check, params, _article_fields("dm.development_id")))
    else:
        art_sql = (f"SELECT m.development_id FROM ({hits}) h "
                   f"JOIN ({members}) m ON m.doc = h.doc")
    parts = [art_sql]

    dev_sql = f"SELECT st.development_id FROM ({hits}) h JOIN search_dev_titles st ON st.doc = h.doc"
    conds = []
    if (n_dev, dev_max) != (n_st, st_max):
        if _titles_consistent(con, st_max):
            # Developments rewritten after the mark supersede their entries.
            params["s_wm"] = st_max
            conds.append("st.development_id NOT IN (SELECT id FROM developments "
                         "WHERE updated_at > $s_wm)")
            parts.append("SELECT d2.id FROM developments d2 WHERE d2.updated_at > $s_wm AND "
                         + _word_conds(ws, params, ["d2.title"]))
            extra.append("titles")
        else:
            # Only entries still describing their development; the rest by regex.
            dev_sql += (" JOIN developments d2 ON d2.id = st.development_id "
                        "AND d2.updated_at = st.updated_at AND d2.title = st.title")
            parts.append("SELECT d2.id FROM developments d2 ANTI JOIN search_dev_titles st "
                         "ON st.development_id = d2.id AND st.updated_at = d2.updated_at "
                         "AND st.title = d2.title WHERE " + _word_conds(ws, params, ["d2.title"]))
            extra.append("titles-join")
    if check:
        conds.append(_word_conds(check, params, ["st.title"]))
    if conds:
        dev_sql += " WHERE " + " AND ".join(conds)
    parts.insert(1, dev_sql)

    if n_art != n_docs:
        missing = [r[0] for r in con.execute(
            "SELECT dm.article_id FROM development_members dm "
            "WHERE dm.article_id NOT IN (SELECT article_id FROM search_docs)").fetchall()]
        if missing:
            params["s_missing"] = missing
            parts.append("SELECT dm.development_id FROM development_members dm "
                         "JOIN articles a ON a.id = dm.article_id "
                         "WHERE list_contains($s_missing::VARCHAR[], dm.article_id) "
                         "AND list_contains($s_missing::VARCHAR[], a.id) AND "
                         + _word_conds(ws, params, _article_fields("dm.development_id")))
            extra.append("articles")
    mode = "index" + ("+" + ",".join(extra) if extra else "")
    sql = " UNION ALL ".join(parts)
    used = set(re.findall(r"\$(\w+)", sql))       # (the candidates' lookup used some alone)
    return Match(sql, {k: v for k, v in params.items() if k in used}, mode)
