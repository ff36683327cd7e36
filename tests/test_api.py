"""REST API: tokens (401 vs 403), rules/versions, reviews, developments, alert cursor,
transitions, article version diffs, feeds, OpenAPI; plus one real uvicorn server on loopback."""
import datetime as dt
import socket
import threading
import time

import feedparser
import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from alert_helpers import (UTC, HashEmbedder, add_biometrics_development, make_cfg, new_store,
                           BIOMETRICS_ARTICLE)
from alerts.api import create_app
from alerts.engine import process
from alerts.rules import sync_rules
from store.db import stable_id

READ, WRITE = "read-token-1", "write-token-1"
R = {"Authorization": f"Bearer {READ}"}
W = {"Authorization": f"Bearer {WRITE}"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("LAWWATCH_TEST_READ", f"{READ}, other-read")
    monkeypatch.setenv("LAWWATCH_TEST_WRITE", WRITE)
    store = new_store(tmp_path)
    cfg = make_cfg({"api": {"read_tokens_env": "LAWWATCH_TEST_READ",
                            "write_tokens_env": "LAWWATCH_TEST_WRITE", "page_size": 2},
                    # several alerts from one development, so the cursor has pages to walk
                    "alerts": {"relative_margin": 1.0}})
    sync_rules(store, cfg)
    add_biometrics_development(store)
    process(store, cfg, embedder=HashEmbedder())
    return store, cfg


@pytest.fixture
def client(env):
    store, cfg = env
    return TestClient(create_app(cfg, store, embedder=HashEmbedder()))


def test_tokens(client):
    assert client.get("/health").status_code == 200
    r = client.get("/rules")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/rules", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/rules", headers=R).status_code == 200
    assert client.get("/rules", headers=W).status_code == 200          # write implies read
    r = client.patch("/rules/chi-family-members", headers=R, json={"owner": "x"})
    assert r.status_code == 403 and "read but not write" in r.json()["detail"]
    assert client.patch("/rules/chi-family-members", json={"owner": "x"}).status_code == 401


def test_rules_crud_and_versions(client):
    rules = client.get("/rules", headers=R).json()
    assert len(rules) == 18
    r = client.patch("/rules/registration-duration", headers=W,
                     json={"statement_en": "Registration lasts 90 days.", "note": "shorter",
                           "actor": "editor@guide"})
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == 2 and [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][1]["changed_by"] == "editor@guide"
    assert "+statement_en: Registration lasts 90 days." in body["versions"][1]["diff"]
    r = client.post("/rules", headers=W, json={"id": "new-rule", "statement_en": "New.",
                                               "topics": ["chi"], "effective_from": "2026-02-01"})
    assert r.status_code == 201 and r.json()["version"] == 1
    assert r.json()["versions"][0]["changed_by"].startswith("api:")
    r = client.post("/rules", headers=W, json={"id": "bad", "statement_en": "x", "topics": ["zzz"]})
    assert r.status_code == 422 and r.json()["field"] == "topics"
    assert client.get("/rules/missing", headers=R).status_code == 404
    assert client.patch("/rules/new-rule", headers=W, json={"colour": "x"}).status_code == 422


def test_alert_cursor_and_transitions(client):
    page = client.get("/alerts", headers=R).json()
    assert len(page["alerts"]) == 2 and page["has_more"]
    seen = [a["id"] for a in page["alerts"]]
    cursor = page["next_cursor"]
    while True:
        page = client.get("/alerts", headers=R, params={"since": cursor}).json()
        seen += [a["id"] for a in page["alerts"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 3
    assert client.get("/alerts", headers=R, params={"since": cursor}).json()["alerts"] == []
    aid = stable_id("rule_review", "biometrics-workers-30-days", "dev-bio")
    r = client.post(f"/alerts/{aid}/acknowledge", headers=W, json={"actor": "alice"})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    # the change moves the alert past the cursor
    page = client.get("/alerts", headers=R, params={"since": cursor}).json()
    assert [a["id"] for a in page["alerts"]] == [aid] and page["next_cursor"] > cursor
    assert client.post(f"/alerts/{aid}/dismiss", headers=W, json={}).status_code == 409
    r = client.post(f"/alerts/{aid}/resolve", headers=W,
                    json={"note": "updated", "rule_changes": {"last_reviewed": "2026-01-15"}})
    assert r.status_code == 200 and r.json()["rule_version"] == 2
    assert client.post(f"/alerts/{aid}/acknowledge", headers=W).status_code == 409
    d = client.get(f"/alerts/{aid}", headers=R).json()
    assert [e["to_state"] for e in d["events"]] == ["open", "acknowledged", "resolved"]
    assert d["events"][-1]["rule_version"] == 2
    assert client.get("/alerts", headers=R, params={"state": "resolved"}).json()["alerts"][0]["id"] == aid
    assert client.get("/alerts/nope", headers=R).status_code == 404
    assert client.post("/alerts/nope/resolve", headers=W).status_code == 404


def test_review_developments_and_articles(env, client):
    store, cfg = env
    r = client.post("/rules/biometrics-workers-30-days/review", headers=W,
                    json={"since": "2026-01-01T00:00:00Z"})
    assert r.status_code == 200 and [a["rule_id"] for a in r.json()] == ["biometrics-workers-30-days"]
    assert client.post("/rules/biometrics-workers-30-days/review", headers=R).status_code == 403
    devs = client.get("/developments", headers=R, params={"topic": "biometrics",
                                                          "stage": "adopted"}).json()
    assert [d["id"] for d in devs] == ["dev-bio"]
    assert client.get("/developments", headers=R, params={"topic": "chi"}).json() == []
    assert client.get("/developments", headers=R,
                      params={"since": "2026-02-01T00:00:00Z"}).json() == []
    d = client.get("/developments/dev-bio", headers=R).json()
    m = d["members"][0]
    assert m["url"] == BIOMETRICS_ARTICLE["url"] and m["evidence"][0]["topic"] == "biometrics"
    assert m["change"]["stage"] == "adopted"
    # article versions + diff
    aid = m["article_id"]
    with store.write() as con:
        for v, body in ((1, "Within 30 days.\nSame line."), (2, "Within 15 days.\nSame line.")):
            con.execute("INSERT INTO article_versions VALUES (?, ?, 't', ?, ?, ?)",
                        [aid, v, body, f"h{v}", dt.datetime(2026, 1, v, tzinfo=UTC)])
    r = client.get(f"/articles/{aid}/versions", headers=R).json()
    assert [v["version"] for v in r["versions"]] == [1, 2]
    assert "-Within 30 days." in r["diff"]["diff"] and "+Within 15 days." in r["diff"]["diff"]
    assert client.get(f"/articles/{aid}/versions", headers=R,
                      params={"from": 1, "to": 7}).status_code == 404


def test_feeds_and_openapi(client):
    assert client.get("/feeds/alerts.atom").status_code == 401
    r = client.get("/feeds/alerts.atom", params={"token": READ})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    assert len(feedparser.parse(r.text).entries) == 2          # page_size
    assert client.get("/feeds/topics/biometrics.atom", headers=R).status_code == 200
    assert client.get("/feeds/topics/nope.atom", headers=R).status_code == 404
    f = feedparser.parse(client.get("/feeds/rules/biometrics-workers-30-days.atom", headers=R).text)
    assert not f.bozo and len(f.entries) == 1
    spec = client.get("/openapi.json").json()
    for p in ("/rules", "/rules/{rule_id}", "/rules/{rule_id}/review", "/developments",
              "/developments/{dev_id}", "/alerts", "/alerts/{alert_id}",
              "/alerts/{alert_id}/acknowledge", "/alerts/{alert_id}/resolve",
              "/alerts/{alert_id}/dismiss", "/articles/{article_id}/versions", "/health",
              "/feeds/alerts.atom", "/feeds/topics/{topic}.atom", "/feeds/rules/{rule_id}.atom"):
        assert p in spec["paths"], p
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_real_uvicorn_server(env):
    store, cfg = env
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(cfg, store, embedder=HashEmbedder()),
                                           host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        deadline = time.time() + 15
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as c:
            assert c.get("/health").json()["status"] == "ok"
            assert c.get("/alerts").status_code == 401
            page = c.get("/alerts", headers=R, params={"limit": 10}).json()
            assert len(page["alerts"]) == 3
            aid = page["alerts"][0]["id"]
            assert c.post(f"/alerts/{aid}/acknowledge", headers=R).status_code == 403
            assert c.post(f"/alerts/{aid}/acknowledge", headers=W).json()["state"] == "acknowledged"
            assert "/alerts" in c.get("/openapi.json").json()["paths"]
            f = feedparser.parse(c.get("/feeds/alerts.atom", headers=R).text)
            assert not f.bozo and f.entries
    finally:
        server.should_exit = True
        t.join(10)


def test_busy_database_is_503_with_retry_after(env, monkeypatch):
    """Another process holding the DuckDB file beyond the store's retry budget: the API answers
    503 + Retry-After (retryable, nothing changed), not a bare 500."""
    import subprocess
    import sys
    import time

    import store.db as sdb
    store, cfg = env
    monkeypatch.setattr(sdb, "LOCK_RETRY_ATTEMPTS", 3)
    monkeypatch.setattr(sdb, "TURNSTILE_WAIT_S", 0.5)
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(60)", str(store.path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        c = TestClient(create_app(cfg, store, embedder=HashEmbedder()))
        t = time.monotonic()
        r = c.get("/rules", headers=R)
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5" and "busy" in r.json()["detail"]
        assert time.monotonic() - t < 30
    finally:
        holder.kill()
        holder.wait()
    assert TestClient(create_app(cfg, store, embedder=HashEmbedder())).get("/rules", headers=R).status_code == 200
