-- 0005 (search): an inverted index for the dashboard's text search. DuckDB's fts extension
-- would have to be downloaded, so the index is plain tables; store/search.py writes and
-- queries them (the write path, how rows written around it are caught up, the reasoning).

-- Tokens of a text: lower() (Unicode), then maximal runs of letters and digits of any script
-- (Cyrillic with Kyrgyz ң ө ү, Latin, ...), each once. store/search.py TOKENS_SQL is this same
-- expression (tests/test_search.py checks that the two agree).
CREATE MACRO search_tokens(txt) AS list_distinct(regexp_extract_all(lower(txt), '[\pL\pN]+'));

-- Document numbers: an article or a development title gets a new one each time it is indexed,
-- so re-indexing a changed text only appends; the old number's postings become unreferenced.
CREATE SEQUENCE search_doc_seq START 1;

-- One row per distinct token of a document (an article's title, lead and body together; a
-- development's title). Bulk loads are sorted by term: a prefix lookup reads a row group or two.
CREATE TABLE search_postings (
    term  VARCHAR NOT NULL,
    doc   BIGINT NOT NULL
);

-- The current document of each indexed article.
CREATE TABLE search_docs (
    article_id  VARCHAR PRIMARY KEY,
    doc         BIGINT NOT NULL
);

-- development_members with what the dashboard needs of the member article: its current
-- document (NULL: not indexed yet, or no such article), source and language. A search hit,
-- a source/language filter and a page's "sources, languages" column then read this 400k-row
-- table (at 1M articles) instead of joining the article table.
CREATE TABLE search_members (
    article_id      VARCHAR PRIMARY KEY,
    development_id  VARCHAR NOT NULL,
    joined_at       TIMESTAMPTZ NOT NULL,
    doc             BIGINT,
    source_id       VARCHAR,
    lang            VARCHAR
);

-- Development titles as indexed (title and updated_at tell whether an entry is still current).
CREATE TABLE search_dev_titles (
    development_id  VARCHAR PRIMARY KEY,
    title           VARCHAR NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    doc             BIGINT NOT NULL
);

-- By key instead of a scan of the whole table (1M articles: ~20 ms each): a development's members
-- (dashboard page and detail, API development detail) and the tags of a page of articles
-- (dashboard and API development detail; the primary key (article_id, topic) is not used for
-- article_id alone).
CREATE INDEX development_members_development ON development_members (development_id);
CREATE INDEX tags_article ON tags (article_id);

-- Backfill what is already stored (the same statements as store/search.py rebuild()).
INSERT INTO search_docs SELECT id, nextval('search_doc_seq') FROM articles;
INSERT INTO search_members
SELECT dm.article_id, dm.development_id, dm.joined_at, sd.doc, a.source_id, a.lang
FROM development_members dm LEFT JOIN search_docs sd ON sd.article_id = dm.article_id
LEFT JOIN articles a ON a.id = dm.article_id
ORDER BY dm.development_id;
INSERT INTO search_dev_titles SELECT id, title, updated_at, nextval('search_doc_seq') FROM developments;
INSERT INTO search_postings
SELECT term, doc FROM (
    SELECT unnest(search_tokens(concat_ws(' ', a.title, a.lead, a.body))) AS term, s.doc
    FROM articles a JOIN search_docs s ON s.article_id = a.id
    UNION ALL
    SELECT unnest(search_tokens(t.title)) AS term, t.doc FROM search_dev_titles t
) ORDER BY term, doc;
