"""REST API for other tools: rules, developments, alerts (with change cursor), feeds.

Auth: `Authorization: Bearer <token>`. Tokens come from the environment variables named in
[api] (`read_tokens_env`, `write_tokens_env`; comma-separated), read on every request so they
can be rotated without a restart; nothing is hard-coded. A write token can also read.
No/unknown token → 401; a read token on a write route → 403. Feeds also accept `?token=`
(feed readers rarely send headers).

DuckDB refuses a read-only and a read-write connection to one file at the same time in one
process, so the app serialises its (short) store access with a lock; nothing slow (embedding,
network) runs while a connection is open.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import difflib
import hmac
import json
import os
import threading
from typing import Any, Iterator, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from alerts import atom, engine, lifecycle, rules as R
from alerts.config_schema import section
from alerts.deliver import delivery_status
from alerts.events import ALERT_COLS, fetch_alert, fetch_events, row_to_alert
from store.db import StoreLocked


# -- models ----------------------------------------------------------------------------------
class RuleOut(BaseModel):
    id: str
    version: int
    statement_en: str
    statement_ru: str = ""
    topics: list[str]
    jurisdiction: str
    effective_from: _dt.date | None = None
    source_url: str = ""
    owner: str = ""
    last_reviewed: _dt.date | None = None
    active: bool
    updated_at: _dt.datetime


class RuleVersionOut(BaseModel):
    rule_id: str
    version: int
    statement_en: str
    statement_ru: str = ""
    topics: list[str]
    jurisdiction: str
    effective_from: _dt.date | None = None
    source_url: str | None = None
    owner: str | None = None
    last_reviewed: _dt.date | None = None
    active: bool | None = None
    changed_by: str
    changed_at: _dt.datetime
    note: str | None = None
    diff: str | None = None
    alert_id: str | None = None


class RuleDetail(RuleOut):
    versions: list[RuleVersionOut]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    statement_en: str
    statement_ru: str = ""
    topics: list[str]
    jurisdiction: str = "RU"
    effective_from: _dt.date | None = None
    source_url: str = ""
    owner: str = "guide-editors"
    last_reviewed: _dt.date | None = None
    active: bool = True
    note: str = ""
    actor: str | None = None


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statement_en: str | None = None
    statement_ru: str | None = None
    topics: list[str] | None = None
    jurisdiction: str | None = None
    effective_from: _dt.date | None = None
    source_url: str | None = None
    owner: str | None = None
    last_reviewed: _dt.date | None = None
    active: bool | None = None
    note: str = ""
    actor: str | None = None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: _dt.datetime | None = None


class AlertOut(BaseModel):
    id: str
    kind: str
    rule_id: str | None = None
    development_id: str | None = None
    source_id: str | None = None
    article_id: str | None = None
    state: str
    title: str
    score: float | None = None
    topics: list[str] = []
    details: dict[str, Any]
    created_at: _dt.datetime
    updated_at: _dt.datetime
    seq: int


class AlertPage(BaseModel):
    alerts: list[AlertOut]
    next_cursor: int = Field(description="pass as ?since= to get changes after this page")
    has_more: bool


class AlertEventOut(BaseModel):
    seq: int
    from_state: str | None = None
    to_state: str
    actor: str
    occurred_at: _dt.datetime
    note: str | None = None
    rule_version: int | None = None


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    channel: str
    target: str
    status: str
    attempts: int
    last_error: str | None = None
    response_code: int | None = None
    next_attempt_at: _dt.datetime | None = None
    delivered_at: _dt.datetime | None = None


class AlertDetail(AlertOut):
    events: list[AlertEventOut]
    deliveries: list[DeliveryOut]


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = None
    actor: str | None = None
    rule_changes: dict[str, Any] | None = Field(
        None, description="resolve only: rule field changes applied as a new rule version")


class TransitionOut(AlertOut):
    rule_version: int | None = None


class DevelopmentOut(BaseModel):
    id: str
    title: str
    first_seen: _dt.datetime
    last_seen: _dt.datetime
    topics: list[str]
    stage: str | None = None
    effective_dates: list[str]
    n_articles: int


class EvidenceOut(BaseModel):
    topic: str
    text: str
    start: int | None = None
    end: int | None = None
    terms: list[str] = []
    score: float | None = None


class ChangeOut(BaseModel):
    is_change: bool
    stage: str | None = None
    effective_dates: list[str] = []


class MemberOut(BaseModel):
    article_id: str
    url: str
    title: str | None = None
    source_id: str
    published_at: _dt.datetime | None = None
    similarity: float | None = None
    topics: list[str]
    evidence: list[EvidenceOut]
    change: ChangeOut | None = None


class DevelopmentDetail(DevelopmentOut):
    members: list[MemberOut]


class ArticleVersionOut(BaseModel):
    version: int
    title: str | None = None
    content_hash: str
    fetched_at: _dt.datetime


class VersionDiff(BaseModel):
    from_version: int
    to_version: int
    diff: str


class ArticleVersions(BaseModel):
    article_id: str
    canonical_url: str
    versions: list[ArticleVersionOut]
    diff: VersionDiff | None = None


class Health(BaseModel):
    status: Literal["ok"]
    schema_version: int
    alerts_open: int
    deliveries_pending: int
    deliveries_dead: int


# -- helpers ---------------------------------------------------------------------------------
class _SerialStore:
    """Proxy to a Store that serialises connections within this process (see module doc)."""

    def __init__(self, store):
        self._store = store
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        with self._lock, self._store.read() as con:
            yield con

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        with self._lock, self._store.write() as con:
            yield con

    def __getattr__(self, name):
        return getattr(self._store, name)


def _tokens(env_name: str) -> list[str]:
    return [t.strip() for t in os.environ.get(env_name, "").split(",") if t.strip()]


def _has(token: str, tokens: list[str]) -> bool:
    return any(hmac.compare_digest(token.encode(), t.encode()) for t in tokens)


def _actor(body_actor: str | None, token: str) -> str:
    import hashlib
    return (body_actor or "").strip() or f"api:{hashlib.sha256(token.encode()).hexdigest()[:8]}"


def _unified(a: str, b: str, fa: str, fb: str) -> str:
    return "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), fa, fb, lineterm=""))


# -- app ---------------------------------------------------------------------------------------
def create_app(cfg, store, *, embedder=None) -> FastAPI:
    api_cfg = section(cfg, "api")
    page_size = api_cfg["page_size"]
    db = _SerialStore(store)
    known_topics = getattr(cfg, "topic_ids", None)
    bearer = HTTPBearer(auto_error=False, description="read or write token")

    app = FastAPI(title="lawwatch API", version="1",
                  description="Rules registry, developments and 'rule may need review' alerts "
                              "for guides to Kyrgyz labour migrants in Russia.")

    def _check(creds: HTTPAuthorizationCredentials | None, write: bool,
               query_token: str | None = None) -> str:
        token = creds.credentials if creds is not None else (query_token or None)
        hdr = {"WWW-Authenticate": "Bearer"}
        if not token:
            raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)",
                                headers=hdr)
        if _has(token, _tokens(api_cfg["write_tokens_env"])):
            return token
        if _has(token, _tokens(api_cfg["read_tokens_env"])):
            if write:
                raise HTTPException(403, "this token may read but not write")
            return token
        raise HTTPException(401, "unknown token", headers=hdr)

    def read_auth(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        return _check(creds, False)

    def write_auth(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        return _check(creds, True)

    def feed_auth(creds: HTTPAuthorizationCredentials | None = Depends(bearer),
                  token: str | None = Query(None, description="token for feed readers")) -> str:
        return _check(creds, False, token)

    @app.exception_handler(R.RuleError)
    def _rule_error(request: Request, exc: R.RuleError):
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)

    @app.exception_handler(R.RuleNotFound)
    def _rule_nf(request: Request, exc: R.RuleNotFound):
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(lifecycle.AlertNotFound)
    def _alert_nf(request: Request, exc: lifecycle.AlertNotFound):
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(lifecycle.InvalidTransition)
    def _bad_transition(request: Request, exc: lifecycle.InvalidTransition):
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(StoreLocked)
    def _store_locked(request: Request, exc: StoreLocked):
        # the store's own retry budget ran out (a long pipeline write): a client may retry,
        # nothing was changed — a 503 with Retry-After says so, a bare 500 did not
        return JSONResponse({"detail": f"the database is busy (a pipeline run is writing): {exc}; "
                                       "nothing was changed, retry later"},
                            status_code=503, headers={"Retry-After": "5"})

    def _rule_detail(rule_id: str) -> RuleDetail:
        with db.read() as con:
            rule = R.get_rule(con, rule_id)
            versions = R.rule_history(con, rule_id)
        return RuleDetail(**rule, versions=[RuleVersionOut(**v) for v in versions])

    # -- health ---
    @app.get("/health", response_model=Health, tags=["meta"])
    def health() -> Health:
        with db.read() as con:
            open_n = con.execute("SELECT count(*) FROM alerts WHERE state IN "
                                 "('open', 'acknowledged')").fetchone()[0]
            pend = con.execute("SELECT count(*) FROM deliveries WHERE status IN "
                               "('pending', 'failed')").fetchone()[0]
            dead = con.execute("SELECT count(*) FROM deliveries WHERE status = 'dead'").fetchone()[0]
            ver = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        return Health(status="ok", schema_version=int(ver or 0), alerts_open=open_n,
                      deliveries_pending=pend, deliveries_dead=dead)

    # -- rules ---
    @app.get("/rules", response_model=list[RuleOut], tags=["rules"])
    def get_rules(topic: str | None = None, active_only: bool = False, _=Depends(read_auth)):
        with db.read() as con:
            return [RuleOut(**r) for r in R.list_rules(con, active_only=active_only, topic=topic)]

    @app.get("/rules/{rule_id}", response_model=RuleDetail, tags=["rules"])
    def get_rule(rule_id: str, _=Depends(read_auth)):
        return _rule_detail(rule_id)

    @app.post("/rules", response_model=RuleDetail, status_code=201, tags=["rules"])
    def post_rule(body: RuleIn, token: str = Depends(write_auth)):
        data = body.model_dump(exclude={"note", "actor"}, exclude_none=True)
        rid = R.create_rule(db, data, _actor(body.actor, token), body.note or "created via API",
                            known_topics=known_topics)
        return _rule_detail(rid)

    @app.patch("/rules/{rule_id}", response_model=RuleDetail, tags=["rules"])
    def patch_rule(rule_id: str, body: RulePatch, token: str = Depends(write_auth)):
        changes = body.model_dump(exclude={"note", "actor"}, exclude_unset=True)
        R.update_rule(db, rule_id, changes, _actor(body.actor, token), body.note,
                      known_topics=known_topics)
        return _rule_detail(rule_id)

    @app.post("/rules/{rule_id}/review", response_model=list[AlertOut], tags=["rules"])
    def post_review(rule_id: str, body: ReviewIn | None = None, _=Depends(write_auth)):
        alerts = engine.review_rule(db, cfg, rule_id, since=body.since if body else None,
                                    embedder=embedder)
        return [AlertOut(**a) for a in alerts]

    # -- developments ---
    @app.get("/developments", response_model=list[DevelopmentOut], tags=["developments"])
    def get_developments(since: _dt.datetime | None = None, topic: str | None = None,
                         stage: str | None = None, limit: int = Query(page_size, ge=1, le=1000),
                         _=Depends(read_auth)):
        sql = ("SELECT id, title, first_seen, last_seen, topics, stage, effective_dates, "
               "n_articles FROM developments")
        where, params = [], []
        if since is not None:
            where.append("last_seen >= ?")
            params.append(since)
        if topic:
            where.append("list_contains(topics, ?)")
            params.append(topic)
        if stage:
            where.append("stage = ?")
            params.append(stage)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY last_seen DESC, id LIMIT ?"
        params.append(limit)
        with db.read() as con:
            rows = con.execute(sql, params).fetchall()
        cols = ("id", "title", "first_seen", "last_seen", "topics", "stage", "effective_dates",
                "n_articles")
        return [DevelopmentOut(**{**dict(zip(cols, r)), "topics": list(r[4] or []),
                                  "effective_dates": list(r[6] or [])}) for r in rows]

    @app.get("/developments/{dev_id}", response_model=DevelopmentDetail, tags=["developments"])
    def get_development(dev_id: str, _=Depends(read_auth)):
        with db.read() as con:
            r = con.execute("SELECT id, title, first_seen, last_seen, topics, stage, "
                            "effective_dates, n_articles FROM developments WHERE id = ?",
                            [dev_id]).fetchone()
            if r is None:
                raise HTTPException(404, f"no development with id {dev_id!r}")
            mem = con.execute(
                "SELECT a.id, a.canonical_url, a.title, a.source_id, a.published_at, m.similarity "
                "FROM development_members m JOIN articles a ON a.id = m.article_id "
                "WHERE m.development_id = ? ORDER BY a.published_at, a.id", [dev_id]).fetchall()
            ids = [m[0] for m in mem]
            tags = con.execute("SELECT article_id, topic, evidence FROM tags WHERE "
                               "list_contains(?::VARCHAR[], article_id) ORDER BY topic",
                               [ids]).fetchall()
            chg = con.execute("SELECT article_id, is_change, stage, effective_dates FROM "
                              "change_signals WHERE list_contains(?::VARCHAR[], article_id)",
                              [ids]).fetchall()
        ev: dict[str, list] = {}
        tops: dict[str, list] = {}
        for aid, topic, evidence in tags:
            tops.setdefault(aid, []).append(topic)
            items = json.loads(evidence) if isinstance(evidence, str) else (evidence or [])
            for it in items if isinstance(items, list) else []:
                if isinstance(it, dict) and it.get("text"):
                    ev.setdefault(aid, []).append(EvidenceOut(
                        topic=topic, text=it["text"], start=it.get("start"), end=it.get("end"),
                        terms=[str(t) for t in it.get("terms") or []], score=it.get("score")))
        changes = {c[0]: ChangeOut(is_change=c[1], stage=c[2], effective_dates=list(c[3] or []))
                   for c in chg}
        members = [MemberOut(article_id=m[0], url=m[1], title=m[2], source_id=m[3],
                             published_at=m[4], similarity=m[5], topics=tops.get(m[0], []),
                             evidence=ev.get(m[0], []), change=changes.get(m[0])) for m in mem]
        return DevelopmentDetail(id=r[0], title=r[1], first_seen=r[2], last_seen=r[3],
                                 topics=list(r[4] or []), stage=r[5],
                                 effective_dates=list(r[6] or []), n_articles=r[7],
                                 members=members)

    # -- alerts ---
    @app.get("/alerts", response_model=AlertPage, tags=["alerts"])
    def get_alerts(state: str | None = Query(None, pattern="^(open|acknowledged|resolved|dismissed)$"),
                   kind: str | None = None,
                   since: int = Query(0, ge=0, description="cursor: alerts changed after this seq"),
                   limit: int = Query(page_size, ge=1, le=1000), _=Depends(read_auth)):
        sql = f"SELECT {', '.join(ALERT_COLS)} FROM alerts WHERE seq > ?"
        params: list[Any] = [since]
        if state:
            sql += " AND state = ?"
            params.append(state)
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit + 1)
        with db.read() as con:
            rows = [row_to_alert(r) for r in con.execute(sql, params).fetchall()]
        has_more = len(rows) > limit
        rows = rows[:limit]
        return AlertPage(alerts=[AlertOut(**a) for a in rows],
                         next_cursor=rows[-1]["seq"] if rows else since, has_more=has_more)

    @app.get("/alerts/{alert_id}", response_model=AlertDetail, tags=["alerts"])
    def get_alert(alert_id: str, _=Depends(read_auth)):
        with db.read() as con:
            a = fetch_alert(con, alert_id)
            if a is None:
                raise lifecycle.AlertNotFound(alert_id)
            events = fetch_events(con, alert_id)
        deliveries = delivery_status(db, alert_id)
        return AlertDetail(**a, events=[AlertEventOut(**e) for e in events],
                           deliveries=[DeliveryOut(**d) for d in deliveries])

    def _transition(alert_id: str, action: str, body: TransitionIn | None, token: str):
        body = body or TransitionIn()
        a = lifecycle.transition(db, alert_id, action, _actor(body.actor, token), body.note,
                                 rule_changes=body.rule_changes, known_topics=known_topics)
        return TransitionOut(**a)

    @app.post("/alerts/{alert_id}/acknowledge", response_model=TransitionOut, tags=["alerts"])
    def acknowledge(alert_id: str, body: TransitionIn | None = None,
                    token: str = Depends(write_auth)):
        return _transition(alert_id, "acknowledged", body, token)

    @app.post("/alerts/{alert_id}/resolve", response_model=TransitionOut, tags=["alerts"])
    def resolve(alert_id: str, body: TransitionIn | None = None, token: str = Depends(write_auth)):
        return _transition(alert_id, "resolved", body, token)

    @app.post("/alerts/{alert_id}/dismiss", response_model=TransitionOut, tags=["alerts"])
    def dismiss(alert_id: str, body: TransitionIn | None = None, token: str = Depends(write_auth)):
        return _transition(alert_id, "dismissed", body, token)

    # -- articles ---
    @app.get("/articles/{article_id}/versions", response_model=ArticleVersions, tags=["articles"])
    def article_versions(article_id: str, from_version: int | None = Query(None, alias="from"),
                         to_version: int | None = Query(None, alias="to"), _=Depends(read_auth)):
        with db.read() as con:
            art = con.execute("SELECT canonical_url FROM articles WHERE id = ?",
                              [article_id]).fetchone()
            if art is None:
                raise HTTPException(404, f"no article with id {article_id!r}")
            rows = con.execute("SELECT version, title, body, content_hash, fetched_at FROM "
                               "article_versions WHERE article_id = ? ORDER BY version",
                               [article_id]).fetchall()
        by_v = {r[0]: r for r in rows}
        diff = None
        if len(rows) >= 2 or from_version is not None or to_version is not None:
            tv = to_version if to_version is not None else (rows[-1][0] if rows else 0)
            fv = from_version if from_version is not None else tv - 1
            for v, name in ((fv, "from"), (tv, "to")):
                if v not in by_v:
                    raise HTTPException(404, f"article {article_id}: no version {v} ({name}); "
                                             f"versions: {sorted(by_v)}")
            a, b = by_v[fv], by_v[tv]
            diff = VersionDiff(from_version=fv, to_version=tv, diff=_unified(
                f"{a[1] or ''}\n\n{a[2]}", f"{b[1] or ''}\n\n{b[2]}", f"{article_id}@v{fv}",
                f"{article_id}@v{tv}"))
        return ArticleVersions(article_id=article_id, canonical_url=art[0], diff=diff,
                               versions=[ArticleVersionOut(version=r[0], title=r[1],
                                                           content_hash=r[3], fetched_at=r[4])
                                         for r in rows])

    # -- feeds ---
    atom_type = "application/atom+xml; charset=utf-8"
    feed_doc = {200: {"content": {"application/atom+xml": {}}, "description": "Atom 1.0 feed"}}

    @app.get("/feeds/alerts.atom", response_class=Response, responses=feed_doc, tags=["feeds"])
    def feed_all(_=Depends(feed_auth)):
        return Response(atom.alerts_feed(db, cfg, limit=page_size), media_type=atom_type)

    @app.get("/feeds/topics/{topic}.atom", response_class=Response, responses=feed_doc,
             tags=["feeds"])
    def feed_topic(topic: str, _=Depends(feed_auth)):
        if known_topics is not None and topic not in known_topics:
            raise HTTPException(404, f"unknown topic {topic!r}; known: {', '.join(known_topics)}")
        return Response(atom.alerts_feed(db, cfg, topic=topic, limit=page_size),
                        media_type=atom_type)

    @app.get("/feeds/rules/{rule_id}.atom", response_class=Response, responses=feed_doc,
             tags=["feeds"])
    def feed_rule(rule_id: str, _=Depends(feed_auth)):
        with db.read() as con:
            R.get_rule(con, rule_id)
        return Response(atom.alerts_feed(db, cfg, rule_id=rule_id, limit=page_size),
                        media_type=atom_type)

    app.state.store = db
    return app
