"""Alert lifecycle: transitions, history, outbox, rule changes on resolve."""
import pytest

from alert_helpers import HashEmbedder, add_biometrics_development, make_cfg, new_store, outbox_rows
from alerts.engine import process
from alerts.events import fetch_events
from alerts.lifecycle import AlertNotFound, InvalidTransition, transition
from alerts.rules import get_rule, rule_history
from store.db import stable_id

RULE = "biometrics-workers-30-days"
AID = stable_id("rule_review", RULE, "dev-bio")


@pytest.fixture
def store(tmp_path):
    from alerts.rules import sync_rules
    store = new_store(tmp_path)
    cfg = make_cfg()
    sync_rules(store, cfg)
    add_biometrics_development(store)
    process(store, cfg, embedder=HashEmbedder())
    return store


def events(store):
    with store.read() as con:
        return fetch_events(con, AID)


def test_acknowledge_then_resolve_records_history_and_outbox(store):
    a = transition(store, AID, "acknowledged", "alice", "looking")
    assert a["state"] == "acknowledged"
    a = transition(store, AID, "resolve", "bob", "guide already says this")
    assert a["state"] == "resolved" and a["rule_version"] is None
    ev = events(store)
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in ev] == [
        (None, "open", "engine"), ("open", "acknowledged", "alice"), ("acknowledged", "resolved", "bob")]
    assert ev[2]["note"] == "guide already says this" and ev[2]["occurred_at"] is not None
    ob = [e for e in outbox_rows(store) if e["alert_id"] == AID]
    assert [e["event_type"] for e in ob] == ["alert.raised", "alert.state_changed",
                                             "alert.state_changed"]
    assert ob[-1]["payload"]["transition"] == {"from": "acknowledged", "to": "resolved",
                                               "actor": "bob", "note": "guide already says this",
                                               "rule_version": None}
    assert len({e["event_id"] for e in ob}) == 3


def test_dismiss_needs_reason(store):
    with pytest.raises(InvalidTransition, match="reason"):
        transition(store, AID, "dismissed", "alice")
    assert transition(store, AID, "dismissed", "alice", "not about workers")["state"] == "dismissed"


@pytest.mark.parametrize("path, bad", [
    ([("resolved", "x")], "acknowledged"),
    ([("dismissed", "x")], "resolved"),
    ([("acknowledged", None)], "acknowledged"),
    ([], "open"),
    ([], "closed-ish"),
])
def test_invalid_transitions(store, path, bad):
    for to, note in path:
        transition(store, AID, to, "alice", note)
    with pytest.raises(InvalidTransition) as ei:
        transition(store, AID, bad, "alice", "n")
    assert AID in str(ei.value) or "unknown state" in str(ei.value)


def test_unknown_alert(store):
    with pytest.raises(AlertNotFound):
        transition(store, "nope", "acknowledged", "alice")


def test_resolve_with_rule_changes_creates_linked_version(store):
    new_text = ("Since 1 March 2026, foreign citizens arriving in Russia to work without a visa "
                "must undergo a medical examination, fingerprinting and photographing within "
                "15 days of entry.")
    a = transition(store, AID, "resolved", "editor", "deadline cut to 15 days",
                   rule_changes={"statement_en": new_text, "last_reviewed": "2026-01-15"})
    assert a["rule_version"] == 2
    r = get_rule(store, RULE)
    assert r["version"] == 2 and r["statement_en"] == new_text
    v = rule_history(store, RULE)[-1]
    assert v["changed_by"] == "editor" and v["alert_id"] == AID and AID in v["note"]
    assert "+statement_en: Since 1 March 2026" in v["diff"]
    assert events(store)[-1]["rule_version"] == 2
    assert outbox_rows(store)[-1]["payload"]["transition"]["rule_version"] == 2


def test_bad_rule_changes_roll_back_everything(store):
    from alerts.rules import RuleError
    with pytest.raises(RuleError, match="colour"):
        transition(store, AID, "resolved", "editor", rule_changes={"colour": "red"})
    assert events(store)[-1]["to_state"] == "open"          # nothing committed
    assert get_rule(store, RULE)["version"] == 1
    with pytest.raises(InvalidTransition, match="only accepted when resolving"):
        transition(store, AID, "dismissed", "editor", "x", rule_changes={"active": False})
