"""Every query the dashboard runs, as plain functions `(store, **filters) -> DataFrame | dict`.

Each opens one short read connection, fetches into pandas and closes (never held while a user
reads). Lists select only the columns they show (no bodies), aggregate in SQL and LIMIT, so
they can be benchmarked on their own (bench/dashboard_latency.py). No Streamlit here; the app
layer caches with st.cache_data.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Sequence

import pandas as pd

from store import search
from store.db import Store

ALERT_STATES = ("open", "acknowledged", "resolved", "dismissed")


def _df(store: Store, sql: str, params: Sequence[Any] | dict = ()) -> pd.DataFrame:
    with store.read() as con:
        return con.execute(sql, params if isinstance(params, dict) else list(params)).df()


def _first(rows: list) -> Any:
    return rows[0] if rows else None


def _utc(d: date | datetime) -> datetime:
    if isinstance(d, datetime):
        return d if d.tzinfo else d.replace(tzinfo=timezone.utc)
    return datetime.combine(d, time.min, tzinfo=timezone.utc)


def search_terms(text: str | None) -> list[str]:
    """'  ОМС  полис ' -> ['ОМС', 'полис']: every word must match (see store/search.py)."""
    if not text:
        return []
    return [w for w in text.replace('"', " ").split() if w][:8]


# -- overview ---------------------------------------------------------------------------------
def overview_summary(store: Store, *, since: datetime) -> dict:
    since = _utc(since)
    sql = """
    SELECT
      (SELECT count(*) FROM articles WHERE first_seen_at >= $since)                       AS new_articles,
      -- "new since your last visit" is about discovery, not publication: a crawl can find a
      -- week-old article, and that is news to the analyst. Join times record discovery.
      (SELECT count(*) FROM (SELECT development_id FROM development_members GROUP BY 1
                             HAVING min(joined_at) >= $since))                            AS new_developments,
      (SELECT count(*) FROM (SELECT development_id FROM development_members GROUP BY 1
                             HAVING max(joined_at) >= $since AND min(joined_at) < $since)) AS updated_developments,
      (SELECT count(*) FROM alerts WHERE state = 'open')                                  AS open_alerts,
      (SELECT count(*) FROM alerts WHERE created_at >= $since)                            AS new_alerts,
      (SELECT count(*) FROM sources WHERE enabled)                                        AS sources_enabled,
      (SELECT count(*) FROM sources WHERE enabled AND (consecutive_failures > 0 OR silent_runs > 0)) AS sources_attention,
      (SELECT count(*) FROM processing_errors WHERE NOT resolved)                         AS unresolved_errors,
      (SELECT count(*) FROM articles)                                                     AS total_articles,
      (SELECT count(*) FROM developments)                                                 AS total_developments,
      (SELECT max(finished_at) FROM runs WHERE status = 'ok')                             AS last_ok_run
    """
    with store.read() as con:
        row = con.execute(sql, {"since": since}).fetchall()[0]
        cols = [d[0] for d in con.description]
    return dict(zip(cols, row))


def recent_developments(store: Store, *, since: datetime, limit: int = 12) -> pd.DataFrame:
    """Developments with activity since `since`: new ones and ones that gained articles."""
    return _df(store, """
        WITH activity AS (
            SELECT development_id, min(joined_at) AS found, max(joined_at) AS touched
            FROM development_members GROUP BY 1 HAVING max(joined_at) >= $1)
        SELECT d.id, d.title, d.stage, d.topics, d.effective_dates, d.first_seen, d.last_seen,
               d.n_articles, a.found >= $1 AS is_new
        FROM developments d JOIN activity a ON a.development_id = d.id
        ORDER BY d.last_seen DESC
        LIMIT $2""", [_utc(since), limit])


def articles_per_topic_week(store: Store, *, weeks: int = 26, now: datetime | None = None) -> pd.DataFrame:
    now = _utc(now or datetime.now(timezone.utc))
    start = now - timedelta(weeks=weeks)
    return _df(store, """
        SELECT date_trunc('week', coalesce(a.published_at, a.first_seen_at))::DATE AS week,
               t.topic, count(*) AS articles
        FROM tags t JOIN articles a ON a.id = t.article_id
        WHERE coalesce(a.published_at, a.first_seen_at) >= $1
        GROUP BY ALL
        ORDER BY week, t.topic""", [start])


def developments_by_stage(store: Store, *, since: datetime | None = None) -> pd.DataFrame:
    params: list[Any] = []
    where = ""
    if since is not None:
        where, params = "WHERE last_seen >= $1", [_utc(since)]
    return _df(store, f"""
        SELECT coalesce(stage, 'no stage') AS stage, count(*) AS developments,
               sum(n_articles) AS articles
        FROM developments {where}
        GROUP BY ALL ORDER BY developments DESC""", params)


# -- sources ----------------------------------------------------------------------------------
def source_health(store: Store, *, runs: int = 20) -> pd.DataFrame:
    """One row per source: health columns plus items per run over the last `runs` runs."""
    return _df(store, """
        WITH r AS (
            SELECT source_id, started_at, items_found, items_new, status, errors
            FROM source_runs
            QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY started_at DESC) <= $1
        ), agg AS (
            SELECT source_id,
                   list(items_found ORDER BY started_at) AS items_per_run,
                   avg(items_found) AS avg_items,
                   sum(items_new) AS new_items,
                   count(*) FILTER (WHERE status = 'failed') AS failed_runs,
                   count(*) FILTER (WHERE status = 'silent') AS silent_runs_recent,
                   arg_max(status, started_at) AS last_status,
                   count(*) AS recent_runs
            FROM r GROUP BY source_id
        )
        SELECT s.id, s.name, s.kind, s.lang, s.enabled, s.last_run_at, s.last_success_at,
               s.consecutive_failures, s.silent_runs, s.last_error, s.last_items,
               agg.items_per_run, agg.avg_items, agg.new_items, agg.failed_runs,
               agg.last_status, agg.recent_runs,
               CASE WHEN NOT s.enabled THEN 'disabled'
                    WHEN s.consecutive_failures > 0 THEN 'failing'
                    WHEN s.silent_runs > 0 THEN 'silent'
                    WHEN s.last_success_at IS NULL THEN 'never run'
                    ELSE 'healthy' END AS health
        FROM sources s LEFT JOIN agg ON agg.source_id = s.id
        ORDER BY CASE health WHEN 'failing' THEN 0 WHEN 'silent' THEN 1 WHEN 'never run' THEN 2
                             WHEN 'healthy' THEN 3 ELSE 4 END, s.name""", [runs])


def source_runs(store: Store, *, source_id: str, limit: int = 50) -> pd.DataFrame:
    return _df(store, """
        SELECT run_id, started_at, finished_at, status, requests, not_modified, items_found,
               items_new, items_changed, errors, bytes, error
        FROM source_runs WHERE source_id = $1
        ORDER BY started_at DESC LIMIT $2""", [source_id, limit])


def processing_errors(store: Store, *, limit: int = 50) -> pd.DataFrame:
    return _df(store, """
        SELECT e.article_id, e.stage, e.error, e.occurred_at, a.title, a.canonical_url, a.source_id
        FROM processing_errors e LEFT JOIN articles a ON a.id = e.article_id
        WHERE NOT e.resolved
        ORDER BY e.occurred_at DESC LIMIT $1""", [limit])


def recent_runs(store: Store, *, limit: int = 10) -> pd.DataFrame:
    return _df(store, """
        SELECT id, started_at, finished_at, mode, status FROM runs
        ORDER BY started_at DESC LIMIT $1""", [limit])


# -- developments -----------------------------------------------------------------------------
def filter_options(store: Store) -> dict:
    with store.read() as con:
        sources = con.execute("SELECT id, name FROM sources ORDER BY name").fetchall()
        stages = [r[0] for r in con.execute(
            "SELECT DISTINCT stage FROM developments WHERE stage IS NOT NULL ORDER BY 1").fetchall()]
        langs = [r[0] for r in con.execute(
            "SELECT DISTINCT lang FROM articles WHERE lang IS NOT NULL ORDER BY 1").fetchall()]
        bounds = con.execute("SELECT min(first_seen), max(last_seen) FROM developments").fetchall()[0]
    return {"sources": dict(sources), "stages": stages, "langs": langs,
            "first": bounds[0], "last": bounds[1]}


def developments(store: Store, *, topics: Sequence[str] = (), stages: Sequence[str] = (),
                 sources: Sequence[str] = (), langs: Sequence[str] = (),
                 date_from: date | None = None, date_to: date | None = None,
                 text: str | None = None, limit: int = 50, offset: int = 0) -> pd.DataFrame:
    """Filtered timeline page, newest activity first; `total` = rows matching the filters.

    Text search (store/search.py, served by its inverted index): every word must begin a word,
    case-insensitively, in the development title or in one member article's title, lead or
    body ("биометри" finds "биометрических"; "COVID-19" must occur as written).

    Plan, for 1M articles: the development's own filters (topics, stages, dates) and the text
    match narrow the developments first; source and language filters then look only at those
    developments' members, in the search index's copy of development_members with each
    member's source and language (store/search.py search_members) when it is current, else in
    development_members joined with articles. The page's rows and its members' sources and
    languages are then fetched for its `limit` developments only, by key.
    """
    where, params = ["TRUE"], {}
    if topics:
        where.append("list_has_any(d.topics, $topics)")
        params["topics"] = list(topics)
    if stages:
        stage_list = [s for s in stages if s != "no stage"]
        cond = "d.stage IN (SELECT unnest($stages))" if stage_list else "FALSE"
        if "no stage" in stages:
            cond = f"({cond} OR d.stage IS NULL)"
        where.append(cond)
        if stage_list:
            params["stages"] = stage_list
    if date_from is not None:
        where.append("d.last_seen >= $dfrom")
        params["dfrom"] = _utc(date_from)
    if date_to is not None:
        where.append("d.first_seen < $dto")
        params["dto"] = _utc(date_to) + timedelta(days=1)
    art = []
    if sources:
        art.append("{a}.source_id IN (SELECT unnest($sources))")
        params["sources"] = list(sources)
    if langs:
        art.append("{a}.lang IN (SELECT unnest($langs))")
        params["langs"] = list(langs)
    params["limit"], params["offset"] = int(limit), int(offset)
    with store.read() as con:
        counters = search.counters(con)
        # Member articles' sources and languages from the search index's copy (a 400k-row
        # table at 1M articles) when it is current, else from articles.
        mirror = search.members_current(counters)
        match = search.development_match(con, search_terms(text), counters)
        if match is not None:
            where.append(f"d.id IN ({match.sql})")
            params.update(match.params)
        # 1. The page's ids and the total, over narrow columns only.
        if art:
            member_sql = ("SELECT sm.development_id FROM search_members sm "
                          "WHERE sm.doc IS NOT NULL AND " if mirror else
                          "SELECT dm.development_id FROM development_members dm "
                          "JOIN articles a ON a.id = dm.article_id WHERE ")
            alias, dev = ("sm", "sm.development_id") if mirror else ("a", "dm.development_id")
            sql = f"""
                WITH cand AS MATERIALIZED (SELECT d.id, d.last_seen FROM developments d
                                           WHERE {' AND '.join(where)})
                SELECT d.id, count(*) OVER () AS total FROM cand d
                WHERE d.id IN ({member_sql} {dev} IN (SELECT id FROM cand)
                               AND {' AND '.join(a.format(a=alias) for a in art)})
                ORDER BY d.last_seen DESC, d.id
                LIMIT $limit OFFSET $offset"""
        else:
            sql = f"""
                SELECT d.id, count(*) OVER () AS total FROM developments d
                WHERE {' AND '.join(where)}
                ORDER BY d.last_seen DESC, d.id
                LIMIT $limit OFFSET $offset"""
        page = con.execute(sql, params).fetchall()
        ids = [r[0] for r in page]
        # 2. Their rows, and their members' sources and languages, by key: list_contains on an
        #    indexed column is an index lookup for a page-sized list.
        df = con.execute("""SELECT id, title, stage, topics, effective_dates, first_seen,
                                   last_seen, n_articles
                            FROM developments WHERE list_contains($1::VARCHAR[], id)""",
                         [ids]).df()
        if mirror:
            facts = con.execute("SELECT development_id, source_id, lang FROM search_members "
                                "WHERE doc IS NOT NULL "
                                "AND list_contains($1::VARCHAR[], development_id)",
                                [ids]).fetchall()
        else:
            members = con.execute("SELECT article_id, development_id FROM development_members "
                                  "WHERE list_contains($1::VARCHAR[], development_id)",
                                  [ids]).fetchall()
            arts = {r[0]: r[1:] for r in con.execute(
                "SELECT id, source_id, lang FROM articles WHERE list_contains($1::VARCHAR[], id)",
                [[m[0] for m in members]]).fetchall()}
            facts = [(did, *arts[aid]) for aid, did in members if aid in arts]
    srcs: dict[str, set] = {}
    lang: dict[str, set] = {}
    for did, source_id, lang_ in facts:
        srcs.setdefault(did, set()).add(source_id)
        lang.setdefault(did, set()).add(lang_)
    df = df.set_index("id").loc[ids].reset_index()
    df["total"] = pd.Series([page[0][1] if page else 0] * len(df), dtype="int64")
    df["sources"] = [_distinct_sorted(srcs[i]) if i in srcs else None for i in df["id"]]
    df["langs"] = [_distinct_sorted(lang[i]) if i in lang else None for i in df["id"]]
    return df


def _distinct_sorted(values: set) -> list:
    """As SQL list(DISTINCT x ORDER BY x): NULL last."""
    return sorted(v for v in values if v is not None) + ([None] if None in values else [])


def development_pick_list(store: Store, *, limit: int = 200) -> pd.DataFrame:
    return _df(store, """SELECT id, title, last_seen FROM developments
                         ORDER BY last_seen DESC LIMIT $1""", [limit])


def development_detail(store: Store, *, development_id: str, max_members: int = 60) -> dict:
    """The development, its member articles (with bodies), their tags, signals and versions."""
    with store.read() as con:
        dev = _first(con.execute("""SELECT id, title, first_seen, last_seen, topics, stage,
                                    effective_dates, n_articles, model_id, updated_at
                             FROM developments WHERE id = $1""", [development_id]).fetchall())
        if dev is None:
            return {}
        cols = [d[0] for d in con.description]
        members = con.execute("""
            SELECT a.id, a.title, a.lead, a.body, a.source_id, s.name AS source_name, a.lang,
                   a.kind, a.published_at, a.updated_at, a.first_seen_at, a.canonical_url,
                   a.version, dm.similarity, dm.joined_at,
                   cs.is_change, cs.stage, cs.effective_dates, cs.evidence AS change_evidence
            FROM development_members dm
            JOIN articles a ON a.id = dm.article_id
            LEFT JOIN sources s ON s.id = a.source_id
            LEFT JOIN change_signals cs ON cs.article_id = a.id
            WHERE dm.development_id = $1
            ORDER BY coalesce(a.published_at, a.first_seen_at) DESC
            LIMIT $2""", [development_id, max_members]).df()
        ids = members["id"].tolist()
        # list_contains: a lookup in the tags_article index for a page of ids (migration 0005)
        tags = con.execute("""SELECT article_id, topic, score, evidence FROM tags
                              WHERE list_contains($1::VARCHAR[], article_id)
                              ORDER BY article_id, score DESC""", [ids]).df()
        edited = members.loc[members["version"] > 1, "id"].tolist()
        versions = con.execute("""SELECT article_id, version, title, body, fetched_at
                                  FROM article_versions
                                  WHERE article_id IN (SELECT unnest($1::VARCHAR[]))
                                  ORDER BY article_id, version""", [edited]).df()
        alerts = con.execute("""SELECT id, kind, rule_id, state, title, score, created_at
                                FROM alerts WHERE development_id = $1
                                ORDER BY created_at DESC""", [development_id]).df()
    return {"development": dict(zip(cols, dev)), "members": members, "tags": tags,
            "versions": versions, "alerts": alerts}


# -- alerts -----------------------------------------------------------------------------------
def alert_counts(store: Store) -> dict:
    with store.read() as con:
        rows = con.execute("SELECT state, count(*) FROM alerts GROUP BY state").fetchall()
    out = {s: 0 for s in ALERT_STATES}
    out.update({k: int(v) for k, v in rows})
    return out


def alerts(store: Store, *, state: str | None = None, kind: str | None = None,
           priority: bool = False, limit: int = 50, offset: int = 0) -> pd.DataFrame:
    """A page of alerts; `priority` puts rule reviews first, by score, then newest."""
    where, params = ["TRUE"], {"limit": int(limit), "offset": int(offset)}
    if state:
        where.append("al.state = $state")
        params["state"] = state
    if kind:
        where.append("al.kind = $kind")
        params["kind"] = kind
    return _df(store, f"""
        SELECT al.id, al.kind, al.state, al.title, al.score, al.rule_id, al.development_id,
               al.source_id, al.article_id, al.created_at, al.updated_at,
               d.stage AS development_stage, count(*) OVER () AS total
        FROM alerts al LEFT JOIN developments d ON d.id = al.development_id
        WHERE {' AND '.join(where)}
        ORDER BY CASE al.state WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END,
                 {"al.kind = 'rule_review' DESC, al.score DESC NULLS LAST," if priority else ""}
                 al.updated_at DESC, al.id
        LIMIT $limit OFFSET $offset""", params)


def alert_detail(store: Store, *, alert_id: str) -> dict:
    with store.read() as con:
        row = _first(con.execute("""SELECT id, kind, rule_id, development_id, source_id, article_id,
                                    state, title, score, details, created_at, updated_at, seq
                             FROM alerts WHERE id = $1""", [alert_id]).fetchall())
        if row is None:
            return {}
        alert = dict(zip([d[0] for d in con.description], row))
        events = con.execute("""SELECT seq, from_state, to_state, actor, occurred_at, note
                                FROM alert_events WHERE alert_id = $1 ORDER BY seq""",
                             [alert_id]).df()
        rule = None
        if alert["rule_id"]:
            r = _first(con.execute("""SELECT id, version, statement_en, statement_ru, topics,
                                      jurisdiction, effective_from, source_url, owner,
                                      last_reviewed, active, updated_at
                               FROM rules WHERE id = $1""", [alert["rule_id"]]).fetchall())
            if r is not None:
                rule = dict(zip([d[0] for d in con.description], r))
        dev = None
        if alert["development_id"]:
            r = _first(con.execute("""SELECT id, title, stage, effective_dates, n_articles, last_seen
                               FROM developments WHERE id = $1""",
                            [alert["development_id"]]).fetchall())
            if r is not None:
                dev = dict(zip([d[0] for d in con.description], r))
        deliveries = con.execute("""SELECT o.event_type, d.channel, d.target, d.status,
                                           d.attempts, d.last_error, d.delivered_at, d.created_at
                                    FROM outbox o JOIN deliveries d ON d.event_id = o.event_id
                                    WHERE o.alert_id = $1
                                    ORDER BY d.created_at DESC LIMIT 50""", [alert_id]).df()
    details = alert.get("details")
    if isinstance(details, str) and details.strip():
        try:
            details = json.loads(details)
        except json.JSONDecodeError:
            details = {"raw": details}
    alert["details"] = details or {}
    return {"alert": alert, "events": events, "rule": rule, "development": dev,
            "deliveries": deliveries}


# -- rules ------------------------------------------------------------------------------------
def rules(store: Store) -> pd.DataFrame:
    return _df(store, """
        WITH a AS (
            SELECT rule_id, count(*) FILTER (WHERE state = 'open') AS open_alerts,
                   count(*) FILTER (WHERE state = 'acknowledged') AS acknowledged_alerts
            FROM alerts WHERE rule_id IS NOT NULL GROUP BY rule_id
        ), v AS (
            SELECT rule_id, count(*) AS versions, arg_max(changed_by, version) AS changed_by,
                   max(changed_at) AS changed_at
            FROM rule_versions GROUP BY rule_id
        )
        SELECT r.id, r.version, r.statement_en, r.statement_ru, r.topics, r.jurisdiction,
               r.effective_from, r.source_url, r.owner, r.last_reviewed, r.active, r.updated_at,
               coalesce(a.open_alerts, 0) AS open_alerts,
               coalesce(a.acknowledged_alerts, 0) AS acknowledged_alerts,
               coalesce(v.versions, 0) AS versions, v.changed_by, v.changed_at
        FROM rules r LEFT JOIN a ON a.rule_id = r.id LEFT JOIN v ON v.rule_id = r.id
        ORDER BY open_alerts DESC, acknowledged_alerts DESC, r.id""")


def rule_history(store: Store, *, rule_id: str) -> pd.DataFrame:
    return _df(store, """
        SELECT rule_id, version, statement_en, statement_ru, topics, jurisdiction,
               effective_from, source_url, owner, last_reviewed, changed_by, changed_at,
               note, diff
        FROM rule_versions WHERE rule_id = $1 ORDER BY version DESC""", [rule_id])


def rule_alerts(store: Store, *, rule_id: str, limit: int = 20) -> pd.DataFrame:
    return _df(store, """
        SELECT id, kind, state, title, score, development_id, created_at, updated_at
        FROM alerts WHERE rule_id = $1
        ORDER BY CASE state WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END,
                 updated_at DESC
        LIMIT $2""", [rule_id, limit])


# -- registry for the benchmark ----------------------------------------------------------------
def benchmark_cases(store: Store) -> dict[str, tuple]:
    """name -> (function, kwargs) with realistic arguments taken from the store itself."""
    with store.read() as con:
        now = con.execute("SELECT max(last_seen) FROM developments").fetchall()[0][0] \
            or datetime.now(timezone.utc)
        dev = _first(con.execute("""SELECT d.id FROM developments d ORDER BY n_articles DESC, id
                             LIMIT 1""").fetchall())
        alert = _first(con.execute("SELECT id FROM alerts ORDER BY seq DESC LIMIT 1").fetchall())
        rule = _first(con.execute("""SELECT rule_id FROM rule_versions GROUP BY rule_id
                              ORDER BY count(*) DESC, rule_id LIMIT 1""").fetchall())
        src = _first(con.execute("SELECT id FROM sources ORDER BY id LIMIT 1").fetchall())
        topic = _first(con.execute("SELECT topic FROM tags LIMIT 1").fetchall())
    since = now - timedelta(days=7)
    month = (now - timedelta(days=30)).date()
    cases: dict[str, tuple] = {
        "overview_summary": (overview_summary, {"since": since}),
        "recent_developments": (recent_developments, {"since": since}),
        "articles_per_topic_week": (articles_per_topic_week, {"now": now}),
        "developments_by_stage": (developments_by_stage, {}),
        "source_health": (source_health, {}),
        "processing_errors": (processing_errors, {}),
        "recent_runs": (recent_runs, {}),
        "filter_options": (filter_options, {}),
        "developments_all": (developments, {}),
        "developments_filtered": (developments, {"topics": [topic[0]] if topic else [],
                                                 "langs": ["ru"], "date_from": month}),
        "developments_text_ru": (developments, {"text": "патент"}),
        "developments_text_en_2words": (developments, {"text": "entry ban"}),
        "developments_page_5": (developments, {"offset": 200}),
        "development_pick_list": (development_pick_list, {}),
        "alert_counts": (alert_counts, {}),
        "alerts_open": (alerts, {"state": "open"}),
        "alerts_open_priority": (alerts, {"state": "open", "priority": True, "limit": 8}),
        "alerts_resolved": (alerts, {"state": "resolved"}),
        "rules": (rules, {}),
    }
    if dev:
        cases["development_detail"] = (development_detail, {"development_id": dev[0]})
    if alert:
        cases["alert_detail"] = (alert_detail, {"alert_id": alert[0]})
    if rule:
        cases["rule_history"] = (rule_history, {"rule_id": rule[0]})
        cases["rule_alerts"] = (rule_alerts, {"rule_id": rule[0]})
    if src:
        cases["source_runs"] = (source_runs, {"source_id": src[0]})
    return cases
