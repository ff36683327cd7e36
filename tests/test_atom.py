"""Atom feeds of alerts, parsed with feedparser."""
import feedparser
import pytest

from alert_helpers import (BIOMETRICS_ARTICLE, HashEmbedder, add_biometrics_development,
                           add_development, make_cfg, new_store)
from alerts.atom import alerts_feed
from alerts.engine import process
from alerts.rules import sync_rules


@pytest.fixture
def env(tmp_path):
    store, cfg = new_store(tmp_path), make_cfg()
    sync_rules(store, cfg)
    add_biometrics_development(store)
    evil = {**BIOMETRICS_ARTICLE, "url": "https://example.org/evil", "title": "x"}
    add_development(store, "dev-evil", "<b>Bold</b> & <script>x()</script> 15 days fingerprinting",
                    ["biometrics", "registration"], effective_dates=["2026-03-01"], articles=[evil])
    process(store, cfg, embedder=HashEmbedder())
    return store, cfg


def test_all_alerts_feed_is_valid_atom(env):
    store, cfg = env
    xml = alerts_feed(store, cfg)
    f = feedparser.parse(xml)
    assert not f.bozo, f.bozo_exception
    assert f.version == "atom10"
    assert f.feed.id == "tag:lawwatch,2025:feed/alerts" and f.feed.updated
    assert any(l.rel == "self" and l.href.endswith("/feeds/alerts.atom") for l in f.feed.links)
    assert len(f.entries) >= 2
    for e in f.entries:
        assert e.id.startswith("tag:lawwatch,2025:alert/") and e.title and e.updated
        assert e.link.startswith("http://127.0.0.1:8800/alerts/")
        assert e.content[0].type == "text/html"
    assert len({e.id for e in f.entries}) == len(f.entries)


def test_web_text_is_escaped(env):
    store, cfg = env
    xml = alerts_feed(store, cfg)
    assert "<script>" not in xml
    f = feedparser.parse(xml)
    evil = [e for e in f.entries if "Bold" in e.title]
    assert evil
    # inside the HTML content the page text stays escaped text, not markup
    assert "&lt;script&gt;" in evil[0].content[0].value
    assert "<b>Bold</b>" in evil[0].title          # title is plain text, shown literally


def test_topic_and_rule_feeds(env):
    store, cfg = env
    f = feedparser.parse(alerts_feed(store, cfg, rule_id="biometrics-workers-30-days"))
    assert not f.bozo and f.feed.id.endswith("feed/rules/biometrics-workers-30-days")
    assert len(f.entries) == 2 and all("biometrics-workers-30-days" in e.title for e in f.entries)
    f = feedparser.parse(alerts_feed(store, cfg, topic="biometrics"))
    assert not f.bozo and len(f.entries) >= 2
    assert all("biometrics" in [t.term for t in e.tags] for e in f.entries)
    f = feedparser.parse(alerts_feed(store, cfg, topic="chi"))
    assert not f.bozo and f.entries == []
