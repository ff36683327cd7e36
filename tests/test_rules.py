"""Rules registry: seeding from config, versions with unified diffs, validation errors."""
import copy

import pytest

from alert_helpers import make_cfg, new_store
from alerts.rules import (RuleError, RuleNotFound, create_rule, get_rule, list_rules, rule_history,
                          sync_rules, update_rule)


@pytest.fixture
def store(tmp_path):
    return new_store(tmp_path)


def test_sync_seeds_every_rule_as_version_1(store):
    cfg = make_cfg()
    res = sync_rules(store, cfg)
    assert len(res["created"]) == 18 and res["updated"] == []
    rules = list_rules(store)
    assert len(rules) == 18 and all(r["version"] == 1 for r in rules)
    h = rule_history(store, "biometrics-workers-30-days")
    assert len(h) == 1 and h[0]["changed_by"] == "config"
    assert "+statement_en: Since 29 December 2021" in h[0]["diff"]
    # rerun: nothing new
    assert sync_rules(store, cfg) == {"created": [], "updated": []}
    assert len(rule_history(store, "biometrics-workers-30-days")) == 1


def test_changed_statement_in_config_makes_new_version_with_diff(store):
    cfg = make_cfg()
    sync_rules(store, cfg)
    cfg2 = copy.deepcopy(cfg)
    rule = next(r for r in cfg2.rules if r["id"] == "biometrics-workers-30-days")
    rule["statement_en"] = rule["statement_en"].replace("within 30 days", "within 15 days")
    assert sync_rules(store, cfg2)["updated"] == ["biometrics-workers-30-days"]
    h = rule_history(store, "biometrics-workers-30-days")
    assert [v["version"] for v in h] == [1, 2] and h[1]["changed_by"] == "config"
    diff = h[1]["diff"]
    assert diff.startswith("--- biometrics-workers-30-days@v1\n+++ biometrics-workers-30-days@v2")
    assert "-statement_en:" in diff and "within 30 days" in diff
    assert "+statement_en:" in diff and "within 15 days" in diff
    assert "-statement_ru" not in diff and "+statement_ru" not in diff   # context only
    assert get_rule(store, "biometrics-workers-30-days")["version"] == 2


def test_editor_change_is_not_reverted_by_config_sync(store):
    cfg = make_cfg()
    sync_rules(store, cfg)
    v = update_rule(store, "registration-within-30-days",
                    {"statement_en": "Kyrgyz citizens must register within 30 days of entry."},
                    "editor@guide", note="simplified wording")
    assert v == 2
    assert sync_rules(store, cfg) == {"created": [], "updated": []}
    r = get_rule(store, "registration-within-30-days")
    assert r["statement_en"].startswith("Kyrgyz citizens must register") and r["version"] == 2
    h = rule_history(store, "registration-within-30-days")
    assert h[1]["changed_by"] == "editor@guide" and h[1]["note"] == "simplified wording"


def test_create_update_and_history(store):
    rid = create_rule(store, {"id": "test-rule", "statement_en": "A test statement.",
                              "topics": ["chi"], "effective_from": "2026-01-01"}, "alice",
                      known_topics=["chi", "biometrics"])
    assert get_rule(store, rid)["effective_from"].isoformat() == "2026-01-01"
    assert update_rule(store, rid, {"topics": ["chi", "biometrics"], "active": False}, "bob") == 2
    # no actual change -> no new version
    assert update_rule(store, rid, {"active": False}, "bob") == 2
    h = rule_history(store, rid)
    assert [x["changed_by"] for x in h] == ["alice", "bob"]
    assert "-topics: chi" in h[1]["diff"] and "+topics: chi, biometrics" in h[1]["diff"]
    assert "-active: true" in h[1]["diff"] and "+active: false" in h[1]["diff"]
    assert h[1]["active"] is False
    assert [r["id"] for r in list_rules(store, active_only=True)] == []


@pytest.mark.parametrize("rule, field", [
    ({"id": "x", "topics": ["chi"]}, "statement_en"),
    ({"id": "x", "statement_en": "s", "topics": []}, "topics"),
    ({"id": "x", "statement_en": "s", "topics": ["nope"]}, "topics"),
    ({"id": "x", "statement_en": "s", "topics": ["chi"], "jurisdiction": "US"}, "jurisdiction"),
    ({"id": "x", "statement_en": "s", "topics": ["chi"], "effective_from": "31.12.2025"},
     "effective_from"),
    ({"id": "x", "statement_en": "s", "topics": ["chi"], "colour": "red"}, "colour"),
    ({"id": "has space", "statement_en": "s", "topics": ["chi"]}, "id"),
])
def test_validation_errors_name_the_field(store, rule, field):
    with pytest.raises(RuleError) as ei:
        create_rule(store, rule, "alice", known_topics=["chi"])
    assert ei.value.field == field and field in str(ei.value)


def test_update_errors(store):
    create_rule(store, {"id": "r1", "statement_en": "s", "topics": ["chi"]}, "alice")
    with pytest.raises(RuleError, match="colour"):
        update_rule(store, "r1", {"colour": "red"}, "bob")
    with pytest.raises(RuleError, match="id"):
        update_rule(store, "r1", {"id": "r2"}, "bob")
    with pytest.raises(RuleError, match="actor"):
        update_rule(store, "r1", {"statement_en": "t"}, "")
    with pytest.raises(RuleNotFound):
        update_rule(store, "missing", {"statement_en": "t"}, "bob")
    with pytest.raises(RuleError, match="already exists"):
        create_rule(store, {"id": "r1", "statement_en": "s", "topics": ["chi"]}, "alice")
