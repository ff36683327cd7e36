-- 0001: the whole first schema. Ids are deterministic text (hashes of natural keys) so that a
-- replay or a rerun after a crash produces the same rows instead of duplicates.

CREATE TABLE sources (
    id                    VARCHAR PRIMARY KEY,
    name                  VARCHAR NOT NULL,
    adapter               VARCHAR NOT NULL,
    kind                  VARCHAR NOT NULL,          -- news | official | court | bills | drafts
    lang                  VARCHAR,
    enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    last_run_at           TIMESTAMPTZ,
    last_success_at       TIMESTAMPTZ,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    last_error            VARCHAR,
    last_items            INTEGER,                   -- items seen on the last run
    silent_runs           INTEGER NOT NULL DEFAULT 0 -- consecutive runs that yielded nothing
);

CREATE TABLE runs (
    id           VARCHAR PRIMARY KEY,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    mode         VARCHAR NOT NULL,                   -- live | replay | demo
    status       VARCHAR NOT NULL,                   -- running | ok | failed
    stats        JSON
);

CREATE TABLE source_runs (
    run_id         VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ,
    requests       INTEGER NOT NULL DEFAULT 0,
    not_modified   INTEGER NOT NULL DEFAULT 0,
    bytes          BIGINT NOT NULL DEFAULT 0,
    items_found    INTEGER NOT NULL DEFAULT 0,
    items_new      INTEGER NOT NULL DEFAULT 0,
    items_changed  INTEGER NOT NULL DEFAULT 0,
    errors         INTEGER NOT NULL DEFAULT 0,
    status         VARCHAR NOT NULL,                 -- ok | partial | failed | silent
    error          VARCHAR,
    PRIMARY KEY (run_id, source_id)
);

-- Latest known state of each URL: conditional-GET validators and the last outcome.
CREATE TABLE fetches (
    url            VARCHAR PRIMARY KEY,
    source_id      VARCHAR,
    status         INTEGER,                          -- HTTP status; NULL when no response
    etag           VARCHAR,
    last_modified  VARCHAR,                          -- server's Last-Modified, verbatim
    content_type   VARCHAR,
    encoding       VARCHAR,
    encoding_by    VARCHAR,                          -- header | bom | meta | detection | fallback-utf8
    bytes          BIGINT,
    sha256         VARCHAR,
    fetched_at     TIMESTAMPTZ,
    error          VARCHAR,
    attempts       INTEGER NOT NULL DEFAULT 0,
    warc_file      VARCHAR,
    warc_offset    BIGINT
);

CREATE TABLE articles (
    id             VARCHAR PRIMARY KEY,              -- sha1(canonical_url)[:16]
    canonical_url  VARCHAR NOT NULL UNIQUE,
    source_id      VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL DEFAULT 'article', -- article | act | case | bill | draft | notice
    title          VARCHAR,
    lead           VARCHAR,
    body           VARCHAR NOT NULL,
    lang           VARCHAR,
    authors        VARCHAR[],
    section        VARCHAR,
    tags           VARCHAR[],
    published_at   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ,                      -- outlet's "updated" time when it states one
    first_seen_at  TIMESTAMPTZ NOT NULL,
    fetched_at     TIMESTAMPTZ NOT NULL,
    content_hash   VARCHAR NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    extra          JSON,                             -- adapter-specific fields (case stage, bill number...)
    classified_hash VARCHAR                          -- content_hash + classifier version last classified
);

CREATE TABLE article_versions (
    article_id     VARCHAR NOT NULL,
    version        INTEGER NOT NULL,
    title          VARCHAR,
    body           VARCHAR NOT NULL,
    content_hash   VARCHAR NOT NULL,
    fetched_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- One row per (article, topic) the classifier gave, with the evidence that supports it.
CREATE TABLE tags (
    article_id          VARCHAR NOT NULL,
    topic               VARCHAR NOT NULL,
    score               DOUBLE NOT NULL,
    evidence            JSON NOT NULL,               -- [{text, start, end, terms:[...], score}]
    classifier_version  VARCHAR NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, topic)
);

-- Legal-change signal per article.
CREATE TABLE change_signals (
    article_id          VARCHAR PRIMARY KEY,
    is_change           BOOLEAN NOT NULL,
    stage               VARCHAR,
    effective_dates     VARCHAR[],
    evidence            JSON,
    classifier_version  VARCHAR NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL
);

-- Items the classifier or matcher could not process: shown to a human, never dropped.
CREATE TABLE processing_errors (
    article_id   VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL,                   -- classify | develop | match
    error        VARCHAR NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    resolved     BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (article_id, stage)
);

-- Embedding cache keyed by model identity and text hash.
CREATE TABLE embeddings (
    model_id   VARCHAR NOT NULL,
    text_hash  VARCHAR NOT NULL,
    vector     FLOAT[] NOT NULL,
    PRIMARY KEY (model_id, text_hash)
);

CREATE TABLE developments (
    id               VARCHAR PRIMARY KEY,            -- 'dev-' + id of the founding article
    title            VARCHAR NOT NULL,
    first_seen       TIMESTAMPTZ NOT NULL,
    last_seen        TIMESTAMPTZ NOT NULL,
    topics           VARCHAR[],
    stage            VARCHAR,
    effective_dates  VARCHAR[],
    n_articles       INTEGER NOT NULL DEFAULT 0,
    centroid         FLOAT[],
    model_id         VARCHAR,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE development_members (
    article_id      VARCHAR PRIMARY KEY,             -- an article belongs to one development
    development_id  VARCHAR NOT NULL,
    similarity      DOUBLE,
    joined_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE rules (
    id              VARCHAR PRIMARY KEY,
    version         INTEGER NOT NULL,
    statement_en    VARCHAR NOT NULL,
    statement_ru    VARCHAR,
    topics          VARCHAR[] NOT NULL,
    jurisdiction    VARCHAR NOT NULL,
    effective_from  DATE,
    source_url      VARCHAR,
    owner           VARCHAR,
    last_reviewed   DATE,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE rule_versions (
    rule_id         VARCHAR NOT NULL,
    version         INTEGER NOT NULL,
    statement_en    VARCHAR NOT NULL,
    statement_ru    VARCHAR,
    topics          VARCHAR[] NOT NULL,
    jurisdiction    VARCHAR NOT NULL,
    effective_from  DATE,
    source_url      VARCHAR,
    owner           VARCHAR,
    last_reviewed   DATE,
    changed_by      VARCHAR NOT NULL,
    changed_at      TIMESTAMPTZ NOT NULL,
    note            VARCHAR,
    diff            VARCHAR,                         -- unified diff against the previous version
    PRIMARY KEY (rule_id, version)
);

CREATE TABLE alerts (
    id              VARCHAR PRIMARY KEY,             -- hash of (kind, rule_id, development_id | source_id | article_id)
    kind            VARCHAR NOT NULL,                -- rule_review | source_silent | needs_human
    rule_id         VARCHAR,
    development_id  VARCHAR,
    source_id       VARCHAR,
    article_id      VARCHAR,
    state           VARCHAR NOT NULL,                -- open | acknowledged | resolved | dismissed
    title           VARCHAR NOT NULL,
    score           DOUBLE,
    details         JSON,                            -- why: stage, dates, evidence, links
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    seq             BIGINT NOT NULL                  -- monotonically increasing change cursor
);

CREATE TABLE alert_events (
    alert_id    VARCHAR NOT NULL,
    seq         INTEGER NOT NULL,
    from_state  VARCHAR,
    to_state    VARCHAR NOT NULL,
    actor       VARCHAR NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    note        VARCHAR,
    PRIMARY KEY (alert_id, seq)
);

-- Transactional outbox: an event is written in the same transaction as the alert change,
-- and deliveries are made from here, so a crash between raising and delivering loses nothing.
CREATE TABLE outbox (
    event_id    VARCHAR PRIMARY KEY,
    alert_id    VARCHAR NOT NULL,
    event_type  VARCHAR NOT NULL,                    -- alert.raised | alert.updated | alert.state_changed
    payload     JSON NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE deliveries (
    id               VARCHAR PRIMARY KEY,            -- hash of (event_id, channel, target)
    event_id         VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,               -- email | webhook | digest
    target           VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,               -- pending | sent | failed | dead
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       VARCHAR,
    response_code    INTEGER,
    next_attempt_at  TIMESTAMPTZ,
    delivered_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE alert_seq START 1;
