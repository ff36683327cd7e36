"""Alert engine: one alert per (rule, development), updates not duplicates, stage advance,
silent sources, needs_human; every alert change has its outbox event."""
import datetime as dt

import pytest

from alert_helpers import (BIOMETRICS_ARTICLE, BrokenEmbedder, HashEmbedder, UTC,
                           add_biometrics_development, add_development, add_source, alerts_rows,
                           make_cfg, new_store, outbox_rows)
from alerts.engine import process, review_rule
from alerts.lifecycle import transition
from alerts.rules import sync_rules, update_rule
from store.db import stable_id


@pytest.fixture
def env(tmp_path):
    store = new_store(tmp_path)
    cfg = make_cfg()
    sync_rules(store, cfg)
    return store, cfg


def review_alert(store, rule_id, dev_id="dev-bio"):
    return next(a for a in alerts_rows(store, "rule_review")
                if a["rule_id"] == rule_id and a["development_id"] == dev_id)


def test_one_alert_per_rule_and_development_with_explanation(env):
    store, cfg = env
    add_biometrics_development(store)
    ids = process(store, cfg, embedder=HashEmbedder())
    alerts = alerts_rows(store, "rule_review")
    assert sorted(ids) == sorted(a["id"] for a in alerts)
    pairs = [(a["rule_id"], a["development_id"]) for a in alerts]
    assert len(pairs) == len(set(pairs))
    a = review_alert(store, "biometrics-workers-30-days")
    assert a["id"] == stable_id("rule_review", "biometrics-workers-30-days", "dev-bio")
    assert a["state"] == "open" and a["score"] >= cfg.settings["alerts"]["match_threshold"]
    d = a["details"]
    assert d["rule"]["id"] == "biometrics-workers-30-days" and "30 days" in d["rule"]["statement_en"]
    assert d["development"] == {**d["development"], "id": "dev-bio"}
    assert d["stage"] == "adopted" and d["effective_dates"] == ["2026-03-01"]
    assert d["evidence"] and d["evidence"][0]["article_id"] == stable_id(BIOMETRICS_ARTICLE["url"])
    assert d["evidence"][0]["url"] == BIOMETRICS_ARTICLE["url"]
    assert [l["url"] for l in d["links"]] == [BIOMETRICS_ARTICLE["url"]]
    assert any("similarity" in r for r in d["reasons"])
    # only biometrics rules: topic overlap is required
    assert all("biometrics" in a["topics"] for a in alerts)
    # transactional outbox: one alert.raised per alert
    ev = outbox_rows(store)
    assert sorted(e["alert_id"] for e in ev) == sorted(a["id"] for a in alerts)
    assert {e["event_type"] for e in ev} == {"alert.raised"}
    p = next(e["payload"] for e in ev if e["alert_id"] == a["id"])
    assert p["rule_id"] == "biometrics-workers-30-days" and p["development_id"] == "dev-bio"
    assert p["links"] and p["evidence"]


def test_rerun_is_idempotent(env):
    store, cfg = env
    add_biometrics_development(store)
    process(store, cfg, embedder=HashEmbedder())
    before = (alerts_rows(store), len(outbox_rows(store)))
    assert process(store, cfg, embedder=HashEmbedder()) == []
    assert process(store, cfg, ["dev-bio"], embedder=HashEmbedder()) == []
    assert (alerts_rows(store), len(outbox_rows(store))) == before


def test_more_articles_update_the_same_alert(env):
    store, cfg = env
    add_biometrics_development(store)
    process(store, cfg, embedder=HashEmbedder())
    a1 = review_alert(store, "biometrics-workers-30-days")
    n_alerts = len(alerts_rows(store))
    add_biometrics_development(store, extra_articles=2, last_seen="2026-01-12T10:00:00")
    changed = process(store, cfg, ["dev-bio"], embedder=HashEmbedder())
    assert a1["id"] in changed
    a2 = review_alert(store, "biometrics-workers-30-days")
    assert len(alerts_rows(store)) == n_alerts                  # no duplicate
    assert a2["id"] == a1["id"] and a2["seq"] > a1["seq"]
    assert len(a2["details"]["links"]) == 3
    assert a2["created_at"] == a1["created_at"]
    types = [e["event_type"] for e in outbox_rows(store) if e["alert_id"] == a1["id"]]
    assert types == ["alert.raised", "alert.updated"]


def test_closed_alert_stays_closed_until_stage_advances(env):
    store, cfg = env
    add_biometrics_development(store, stage="proposed")
    process(store, cfg, embedder=HashEmbedder())
    a = review_alert(store, "biometrics-workers-30-days")
    transition(store, a["id"], "dismissed", "editor", "only a proposal")
    # more articles, same stage: stays dismissed, untouched
    add_biometrics_development(store, stage="proposed", extra_articles=1,
                               last_seen="2026-01-11T10:00:00")
    assert a["id"] not in process(store, cfg, embedder=HashEmbedder())
    assert review_alert(store, "biometrics-workers-30-days")["state"] == "dismissed"
    # the bill is signed: reopened, with history
    add_biometrics_development(store, stage="signed", extra_articles=1,
                               last_seen="2026-01-20T10:00:00")
    assert a["id"] in process(store, cfg, embedder=HashEmbedder())
    b = review_alert(store, "biometrics-workers-30-days")
    assert b["state"] == "open" and b["details"]["stage"] == "signed"
    with store.read() as con:
        ev = con.execute("SELECT from_state, to_state, actor, note FROM alert_events WHERE "
                         "alert_id = ? ORDER BY seq", [a["id"]]).fetchall()
    assert ev[-1][:3] == ("dismissed", "open", "engine") and "proposed → signed" in ev[-1][3]
    last = [e for e in outbox_rows(store) if e["alert_id"] == a["id"]][-1]
    assert last["event_type"] == "alert.state_changed" and last["payload"]["transition"]["to"] == "open"


def test_no_change_reported_no_alert(env):
    store, cfg = env
    art = {**BIOMETRICS_ARTICLE, "change": (False, None, [])}
    add_development(store, "dev-quiet", "Fingerprinting centres busy", ["biometrics"], stage=None,
                    effective_dates=[], articles=[art])
    assert [a for a in process(store, cfg, embedder=HashEmbedder())] == []
    cfg2 = make_cfg({"alerts": {"require_change": False}})
    assert process(store, cfg2, embedder=HashEmbedder())


def test_development_older_than_last_review_no_alert(env):
    store, cfg = env
    update_rule(store, "biometrics-workers-30-days", {"last_reviewed": dt.date(2026, 6, 1)}, "ed")
    add_biometrics_development(store)        # last_seen 2026-01-10, effective 2026-03-01
    process(store, cfg, embedder=HashEmbedder())
    assert "biometrics-workers-30-days" not in {a["rule_id"] for a in alerts_rows(store)}


def test_matching_failure_flags_items_needs_human(env):
    store, cfg = env
    add_development(store, "dev-bad", "POISON fingerprinting law", ["biometrics"],
                    articles=[{**BIOMETRICS_ARTICLE, "url": "https://example.org/bad"}])
    add_biometrics_development(store)
    ids = process(store, cfg, embedder=BrokenEmbedder())
    # the good development still produced its alerts
    assert review_alert(store, "biometrics-workers-30-days")["id"] in ids
    with store.read() as con:
        pe = con.execute("SELECT article_id, stage, error, resolved FROM processing_errors").fetchall()
    assert len(pe) == 1 and pe[0][1] == "match" and "dev-bad" in pe[0][2] and not pe[0][3]
    nh = alerts_rows(store, "needs_human")
    assert len(nh) == 1 and nh[0]["article_id"] == stable_id("https://example.org/bad")
    assert "crashed" in nh[0]["details"]["error"] and nh[0]["state"] == "open"
    # once matching works again, the error is resolved and the alert auto-resolves
    process(store, cfg, embedder=HashEmbedder())
    assert alerts_rows(store, "needs_human")[0]["state"] == "resolved"


def test_needs_human_from_classifier_errors(env):
    store, cfg = env
    with store.write() as con:
        con.execute("INSERT INTO processing_errors VALUES ('art-1', 'classify', "
                    "'ValueError: empty text', ?, FALSE)", [dt.datetime(2026, 1, 1, tzinfo=UTC)])
    ids = process(store, cfg, embedder=HashEmbedder())
    a = alerts_rows(store, "needs_human")[0]
    assert ids == [a["id"]] and a["details"]["stage"] == "classify"
    assert process(store, cfg, embedder=HashEmbedder()) == []          # no duplicate
    transition(store, a["id"], "resolved", "editor", "re-crawled")
    with store.read() as con:
        assert con.execute("SELECT resolved FROM processing_errors").fetchone()[0] is True
    # fails again later -> reopened
    with store.write() as con:
        con.execute("UPDATE processing_errors SET resolved = FALSE, occurred_at = ?",
                    [dt.datetime.now(UTC) + dt.timedelta(seconds=5)])
    assert process(store, cfg, embedder=HashEmbedder()) == [a["id"]]
    assert alerts_rows(store, "needs_human")[0]["state"] == "open"


def test_source_silent_raise_update_recover(env):
    store, cfg = env
    add_source(store, "ok-src", silent_runs=1)
    add_source(store, "quiet-src", silent_runs=3)
    add_source(store, "broken-src", failures=3, last_error="HTTP 503")
    ids = process(store, cfg, embedder=HashEmbedder())
    alerts = {a["source_id"]: a for a in alerts_rows(store, "source_silent")}
    assert set(alerts) == {"quiet-src", "broken-src"} and set(ids) == {a["id"] for a in alerts.values()}
    assert alerts["quiet-src"]["title"].startswith("Source silent")
    assert alerts["broken-src"]["details"]["last_error"] == "HTTP 503"
    # still silent one more run: counters grow, no new event
    add_source(store, "quiet-src", silent_runs=4)
    assert process(store, cfg, embedder=HashEmbedder()) == []
    # recovers: auto-resolved
    add_source(store, "quiet-src", silent_runs=0)
    assert process(store, cfg, embedder=HashEmbedder()) == [alerts["quiet-src"]["id"]]
    assert {a["source_id"]: a for a in alerts_rows(store, "source_silent")}["quiet-src"]["state"] == "resolved"
    # silent again: reopened
    add_source(store, "quiet-src", silent_runs=5)
    assert process(store, cfg, embedder=HashEmbedder()) == [alerts["quiet-src"]["id"]]
    assert {a["source_id"]: a for a in alerts_rows(store, "source_silent")}["quiet-src"]["state"] == "open"


def test_review_rule_rematches_one_rule(env):
    store, cfg = env
    add_biometrics_development(store, last_seen="2026-01-10T09:00:00")
    got = review_rule(store, cfg, "biometrics-workers-30-days", since=dt.date(2026, 1, 1),
                      embedder=HashEmbedder())
    assert [a["rule_id"] for a in got] == ["biometrics-workers-30-days"]
    # only that rule was matched
    assert {a["rule_id"] for a in alerts_rows(store)} == {"biometrics-workers-30-days"}
    assert review_rule(store, cfg, "biometrics-workers-30-days", since=dt.date(2026, 2, 1),
                       embedder=HashEmbedder()) == []


def test_fail_open_without_embedder(env, monkeypatch):
    store, cfg = env
    import alerts.engine as E

    def boom(cfg, store=None):
        raise ImportError("classify.embed not installed")
    monkeypatch.setattr(E, "get_embedder", boom)
    add_biometrics_development(store)
    process(store, cfg)
    alerts = alerts_rows(store, "rule_review")
    # every biometrics rule is raised (topics alone) and says why
    assert {a["rule_id"] for a in alerts} == {r["id"] for r in cfg.rules if "biometrics" in r["topics"]}
    assert all("unavailable" in a["details"]["reasons"][-1] for a in alerts)
    assert all("classify.embed" in a["details"]["embedding_error"] for a in alerts)


def test_cli_rules_check_and_list(env, capsys):
    import io
    from alerts.cli import deliver, rules_check, rules_list
    store, cfg = env
    out = io.StringIO()
    assert rules_check(cfg, store, out=out) == 0 and "no rule reviews pending" in out.getvalue()
    add_biometrics_development(store)
    process(store, cfg, embedder=HashEmbedder())
    out = io.StringIO()
    assert rules_check(cfg, store, out=out) == 3
    assert "biometrics-workers-30-days" in out.getvalue() and BIOMETRICS_ARTICLE["url"] in out.getvalue()
    assert rules_check(cfg, store, "registration-duration", out=io.StringIO()) == 0
    assert rules_check(cfg, store, since="2999-01-01", out=io.StringIO()) == 0
    out = io.StringIO()
    assert rules_list(cfg, store, out=out) == 0 and out.getvalue().count("\n    ") == 18
    out = io.StringIO()
    assert deliver(cfg, store, out=out) == 0 and "expanded" in out.getvalue()   # no targets


def test_real_multilingual_embedder_ranks_the_right_rule(env):
    """Integration with classify.embed ("use" backend, embeddings cache). The model ships in a
    runtime dependency, so its absence is a failure, not a skip."""
    store, cfg = env
    add_biometrics_development(store)
    process(store, cfg)
    alerts = sorted(alerts_rows(store, "rule_review"), key=lambda a: -a["score"])
    assert alerts[0]["rule_id"] == "biometrics-workers-30-days"
    assert all(a["details"]["embedding_error"] is None for a in alerts)
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM embeddings").fetchone()[0] > 0
