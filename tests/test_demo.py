"""End to end on the bundled recording: demo build, replay determinism, the alerts it must raise."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from store import Store

REPO = Path(__file__).resolve().parents[1]


def lawwatch(*args, timeout=900):
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "lawwatch", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    r = lawwatch("--db", str(db), "demo", "--no-serve")
    assert r.returncode == 0, r.stderr
    return db, r.stdout


def _stats(db):
    r = lawwatch("--db", str(db), "stats", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_demo_prints_nonzero_counts(demo_db):
    db, out = demo_db
    assert "articles" in out
    s = _stats(db)
    for key in ("sources", "articles", "article_versions", "tags", "developments", "rules"):
        assert s[key] > 0, (key, s)
    assert s["alerts"].get("open", 0) > 0
    assert s["rules"] >= 12


def _alerts_by_rule(db):
    with Store(db).read() as con:
        rows = con.execute("""SELECT rule_id, development_id, details FROM alerts
                              WHERE kind = 'rule_review'""").fetchall()
    out = {}
    for rule_id, dev_id, details in rows:
        out.setdefault(rule_id, []).append((dev_id, json.loads(details)))
    return out


def test_demo_raises_the_expected_rule_reviews(demo_db):
    db, _ = demo_db
    alerts = _alerts_by_rule(db)
    chi_rules = {"chi-family-members", "chi-policy-eaeu-workers"}
    assert chi_rules & set(alerts), f"no CHI rule alert; alerts on {sorted(alerts)}"
    assert {"amina-app-moscow", "amina-app-visa-free-90-days"} & set(alerts), sorted(alerts)
    # the CHI alert comes from the EAEU Court's advisory opinion, with evidence and links
    chi = [d for r in chi_rules for _, d in alerts.get(r, [])]
    assert any(d.get("stage") == "court" for d in chi), chi
    assert all(d.get("evidence") and d.get("links") for d in chi)


def test_one_alert_per_rule_and_development(demo_db):
    db, _ = demo_db
    with Store(db).read() as con:
        dup = con.execute("""SELECT rule_id, development_id, count(*) FROM alerts
                             WHERE kind = 'rule_review' GROUP BY ALL HAVING count(*) > 1""").fetchall()
    assert dup == []


def _snapshot(db):
    with Store(db).read() as con:
        return {
            "articles": con.execute("SELECT id, canonical_url, content_hash, version FROM articles ORDER BY id").fetchall(),
            "tags": con.execute("SELECT article_id, topic FROM tags ORDER BY ALL").fetchall(),
            "members": con.execute("SELECT article_id, development_id FROM development_members ORDER BY ALL").fetchall(),
            "alerts": con.execute("SELECT id, kind, rule_id, development_id FROM alerts ORDER BY id").fetchall(),
        }


def test_replay_reproduces_the_database_and_rerun_adds_nothing(demo_db, tmp_path):
    db, _ = demo_db
    other = tmp_path / "replayed.duckdb"
    r = lawwatch("--db", str(other), "run", "--replay", str(REPO / "data" / "demo"), "--no-deliver")
    assert r.returncode == 0, r.stderr
    assert _snapshot(other) == _snapshot(db)
    before = _stats(other)
    r = lawwatch("--db", str(other), "run", "--replay", str(REPO / "data" / "demo"), "--no-deliver")
    assert r.returncode == 0, r.stderr
    after = _stats(other)
    for key in ("articles", "article_versions", "tags", "developments", "alerts_total"):
        assert after[key] == before[key], key


def test_demo_refuses_to_overwrite_a_real_database(demo_db, tmp_path):
    db, _ = demo_db
    real = tmp_path / "real.duckdb"
    r = lawwatch("--db", str(real), "run", "--replay", str(REPO / "data" / "demo"), "--no-deliver")
    assert r.returncode == 0, r.stderr
    r = lawwatch("--db", str(real), "demo", "--no-serve")
    assert r.returncode == 2 and "refusing" in r.stderr


def test_fingerprinting_rule_gets_its_review_from_the_report_after_its_last_review(demo_db):
    """The fingerprinting rules were last reviewed on 2025-09-15. 24.kg's January 2025 report
    predates that review and raises nothing; its 1 December 2025 report on the border biometrics
    experiment (fingerprints and photos of foreigners) raises a review of the 30-day
    fingerprinting rule, with the report's evidence and link."""
    db, _ = demo_db
    with Store(db).read() as con:
        devs = dict(con.execute("""SELECT id, last_seen FROM developments
                                   WHERE list_contains(topics, 'biometrics')""").fetchall())
        rows = con.execute("""SELECT a.development_id, a.details FROM alerts a
                              WHERE a.kind = 'rule_review'
                                AND a.rule_id = 'biometrics-workers-30-days'""").fetchall()
    assert devs, "no biometrics development"
    assert rows, "the fingerprinting rule got no review"
    for dev_id, details in rows:
        assert str(devs[dev_id])[:10] >= "2025-09-15", (dev_id, devs[dev_id])
        d = json.loads(details) if isinstance(details, str) else details
        assert d.get("evidence") and d.get("links"), d
        assert any("353057" in (link["url"] or "") for link in d["links"]), d["links"]
    before_review = [i for i, seen in devs.items() if str(seen)[:10] < "2025-09-15"]
    with Store(db).read() as con:
        early = con.execute("SELECT count(*) FROM alerts WHERE development_id IN (SELECT unnest(?))",
                            [before_review]).fetchone()[0] if before_review else 0
    assert early == 0


def test_eaeu_court_reports_form_one_development_across_languages(demo_db):
    db, _ = demo_db
    with Store(db).read() as con:
        rows = con.execute("""SELECT m.development_id, a.lang, a.source_id FROM development_members m
                              JOIN articles a ON a.id = m.article_id
                              JOIN developments d ON d.id = m.development_id
                              WHERE list_contains(d.topics, 'eaeu_court')""").fetchall()
    by_dev = {}
    for dev, lang, src in rows:
        by_dev.setdefault(dev, set()).add((lang, src))
    biggest = max(by_dev.values(), key=len)
    assert {l for l, _ in biggest} >= {"en", "ru"}, by_dev
    assert len({s for _, s in biggest}) >= 2, by_dev


@pytest.mark.parametrize("page", ["overview", "developments", "development", "alerts", "rules",
                                  "sources"])
def test_every_dashboard_page_renders_on_the_demo_database(demo_db, page, monkeypatch):
    """The synthetic dashboard fixtures cannot foresee every NULL a real crawl leaves (a source
    that never succeeded, a development without dates); the demo database can."""
    from streamlit.testing.v1 import AppTest
    db, _ = demo_db
    monkeypatch.setenv("LAWWATCH_DB", str(db))
    monkeypatch.setenv("LAWWATCH_CONFIG", str(REPO / "data" / "demo" / "config"))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["page"] = page
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def test_overview_counts_what_was_discovered_since_the_last_visit(demo_db):
    """Demo articles were published months ago but discovered by this build: for an analyst
    they are all new since yesterday."""
    import datetime as dt
    from dashboard import queries
    db, _ = demo_db
    store = Store(db)
    s = queries.overview_summary(store, since=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
    assert s["new_developments"] == s["total_developments"] > 0
    assert s["updated_developments"] == 0
    recent = queries.recent_developments(store, since=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
    assert len(recent) == min(12, s["total_developments"]) and recent["is_new"].all()
    later = queries.overview_summary(store, since=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    assert later["new_developments"] == 0
