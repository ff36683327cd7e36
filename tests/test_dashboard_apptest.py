"""Dashboard pages and editor actions through streamlit.testing.v1.AppTest on a small store."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_helpers import (ALERT_ACK, ALERT_OPEN, ALERT_OPEN2,  # noqa: E402
                               ALERT_SILENT, DEV_AMINA, DEV_XSS, EDITOR_NAME, EDITOR_TOKEN,
                               RU_EVIDENCE, RU_TITLE, RULE_AMINA, RULE_STAY,
                               TOKENS_ENV, build_store, scalar)

from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import queries  # noqa: E402
from dashboard.auth import TokenConfigError, load_editor_tokens, parse_tokens  # noqa: E402
from dashboard.render import Span, highlight_html, locate_evidence  # noqa: E402
from dashboard.ui import md_escape  # noqa: E402
from store.db import Store  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def ro_db(tmp_path_factory):
    """Read-only tests share one store."""
    return build_store(tmp_path_factory.mktemp("dash") / "ro.duckdb")


@pytest.fixture
def rw_db(tmp_path):
    """Action tests each get a fresh store (a new path, so no cached query results)."""
    return build_store(tmp_path / "rw.duckdb")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("LAWWATCH_EDITOR_TOKENS", TOKENS_ENV)
    monkeypatch.delenv("LAWWATCH_CONFIG", raising=False)


def app(db, page=None, id_=None, editor=None) -> AppTest:
    import os
    os.environ["LAWWATCH_DB"] = str(db)
    at = AppTest.from_file(APP, default_timeout=30)
    if page:
        at.query_params["page"] = page
    if id_:
        at.query_params["id"] = id_
    if editor:
        at.session_state["editor"] = editor
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at) -> list[str]:
    """Every rendered text a user sees, markdown and HTML included."""
    out = []
    for kind in ("markdown", "title", "subheader", "header", "caption", "html", "info", "warning",
                 "error", "success"):
        for el in at.get(kind):
            v = getattr(el, "value", None)
            if v is None and hasattr(el, "proto"):
                v = getattr(el.proto, "body", None)
            if isinstance(v, str):
                out.append(v)
    for ex in at.expander:
        out.append(ex.label)
    return out


def html_bodies(at) -> list[str]:
    return [h.proto.body for h in at.get("html")]


# -- pure helpers ----------------------------------------------------------------------------
def test_highlight_escapes_and_merges_overlaps():
    text = "a <script>x</script> патент b"
    s = text.index("патент")
    out = highlight_html(text, [Span(s, s + 6, "work_permit", ("патент",)),
                                Span(s + 2, s + 6, "chi")], {"work_permit": "Патенты & <работа>"})
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert out.count("<mark") == 1 and ">патент</mark>" in out
    assert 'title="Патенты &amp; &lt;работа&gt;: патент; chi"' in out


def test_locate_evidence_rejects_stale_offsets():
    spans, unplaced = locate_evidence("new text here", "chi",
                                      [{"text": "old", "start": 0, "end": 3},
                                       {"text": "text", "start": 4, "end": 8}])
    assert [(s.start, s.end) for s in spans] == [(4, 8)]
    assert unplaced == [{"text": "old", "start": 0, "end": 3}]


def test_tokens_parse_and_match():
    t = load_editor_tokens("X", {"X": "ann:aaaaaaaaaa, bob:bbbbbbbbbb"})
    assert t.match("bbbbbbbbbb") == "bob" and t.match("nope-nope-") is None and t.match("") is None
    assert not load_editor_tokens("X", {}).configured
    with pytest.raises(TokenConfigError, match=r"\$X: entry 1"):
        parse_tokens("justatoken", "X")
    with pytest.raises(TokenConfigError) as e:
        parse_tokens("ann:short", "X")
    assert "short" not in str(e.value).split("for")[0] and "8 characters" in str(e.value)


def test_md_escape_neutralises_markup():
    assert "<" not in md_escape("<script>[x](javascript:1)")
    assert md_escape("Амина") == "Амина"


def test_every_query_runs_on_the_small_store(ro_db):
    store = Store(ro_db, migrate=False)
    for name, (fn, kwargs) in queries.benchmark_cases(store).items():
        fn(store, **kwargs)
    df = queries.developments(store, text="амина")            # case-insensitive Cyrillic
    assert df["id"].tolist() == [DEV_AMINA]
    assert queries.developments(store, text="onerror")["id"].tolist() == [DEV_XSS]
    assert queries.developments(store, langs=["en"], stages=["no stage"])["id"].tolist() == [DEV_XSS]
    assert queries.developments(store, text="100%_")["id"].tolist() == []


# -- pages -------------------------------------------------------------------------------------
@pytest.mark.parametrize("page,title", [("overview", "Overview"), ("developments", "Developments"),
                                        ("alerts", "Alerts inbox"), ("rules", "Rules"),
                                        ("sources", "Sources"), ("development", "Development detail")])
def test_every_page_renders(ro_db, page, title):
    at = app(ro_db, page)
    assert at.title[0].value == title


def test_overview_shows_new_items_and_open_alerts(ro_db):
    at = app(ro_db, "overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open alerts"] == "3" and metrics["New articles"] == "3"
    labels = [p.proto.label for p in at.get("page_link")]
    assert any("Амина" in l for l in labels)                 # Cyrillic development title
    assert any("amina\\-app\\-moscow" in l or "Амина" in l for l in labels)


def test_development_detail_cyrillic_evidence_and_versions(ro_db):
    at = app(ro_db, "development", DEV_AMINA)
    assert RU_TITLE in at.title[0].value
    bodies = "\n".join(html_bodies(at))
    assert f">{RU_EVIDENCE}</mark>" in bodies                   # evidence highlighted in place
    assert "Moscow migrants must install" in "\n".join(e.label for e in at.expander)
    assert "<del>" in bodies or "<ins>" in bodies or 'class="add"' in bodies   # version diff
    assert "Расхождение с адресом регистрации" in bodies


def test_html_in_article_text_is_escaped(ro_db):
    at = app(ro_db, "development", DEV_XSS)
    rendered = texts(at)
    assert rendered
    for t in rendered:
        assert "<script" not in t.lower() and "<img" not in t.lower(), t
    assert any("&lt;script&gt;" in b for b in html_bodies(at))


def test_alert_detail_escapes_details_and_drops_unsafe_links(ro_db):
    at = app(ro_db, "alert", ALERT_OPEN)
    rendered = texts(at)
    assert any("Амина" in t for t in at.get("subheader") and [s.value for s in at.subheader])
    for t in rendered:
        assert "<script" not in t.lower() and "javascript:" not in t.lower(), t
    assert any("&lt;script&gt;" in b for b in html_bodies(at))


def test_shareable_alert_url_opens_the_inbox_on_that_alert(ro_db):
    at = app(ro_db, "alert", ALERT_SILENT)
    assert at.title[0].value == "Alerts inbox"
    assert "Source mlsp_kg went silent" in at.subheader[0].value.replace("\\", "")


def test_sources_highlights_silent_and_failing(ro_db):
    at = app(ro_db, "sources")
    assert any("State Duma bills" in e.value and "failing" in e.value for e in at.error)
    assert any("Kyrgyz Ministry of Labour" in w.value and "silent" in w.value for w in at.warning)


def test_developments_search_and_filters(ro_db):
    at = app(ro_db, "developments")
    at.text_input(key="dev_text").input("Амина").run()
    labels = [p.proto.label for p in at.get("page_link")]
    assert any("Амина" in l for l in labels) and not any("Patent" in l for l in labels)
    at.text_input(key="dev_text").input("").run()
    at.multiselect(key="dev_langs").select("en").run()
    labels = [p.proto.label for p in at.get("page_link")]
    assert len(labels) == 2


# -- viewers and sign-in ---------------------------------------------------------------------------
def test_viewer_cannot_act(ro_db):
    at = app(ro_db, "alert", ALERT_OPEN)
    assert not [r for r in at.radio if r.label == "Action"]
    assert not [b for b in at.button if (b.key or "").startswith(("ack-", "resolve-", "dismiss-"))]
    assert any("Sign in as an editor" in i.value for i in at.info)
    at = app(ro_db, "rules")
    assert not [s for s in at.subheader if s.value == "Add a rule"]
    assert not [b for b in at.button if b.label in ("Add rule", "Save new version")]


def test_sign_in_with_token(ro_db):
    at = app(ro_db, "alerts")
    at.text_input(key="login_token").input("wrong-token-123")
    [b for b in at.button if b.label == "Sign in"][0].click().run()
    assert "editor" not in at.session_state and any("Unknown token" in e.value for e in at.error)
    at.text_input(key="login_token").input(EDITOR_TOKEN)
    [b for b in at.button if b.label == "Sign in"][0].click().run()
    assert at.session_state["editor"] == EDITOR_NAME
    assert any(EDITOR_NAME in s.value for s in at.success)


def test_no_tokens_configured_means_read_only(ro_db, monkeypatch):
    monkeypatch.delenv("LAWWATCH_EDITOR_TOKENS")
    at = app(ro_db, "overview")
    assert any("no editor tokens configured" in c.value for c in at.caption)
    assert not [t for t in at.text_input if t.key == "login_token"]


# -- editor actions ------------------------------------------------------------------------------
def _act(at, alert_id, action):
    at.radio(key=f"act-{alert_id}").set_value(action).run()
    assert not at.exception, [e.value for e in at.exception]


def test_acknowledge(rw_db):
    at = app(rw_db, "alert", ALERT_OPEN2, editor=EDITOR_NAME)
    _act(at, ALERT_OPEN2, "Acknowledge")
    at.button(key=f"ack-{ALERT_OPEN2}").click().run()
    assert not at.exception
    assert scalar(rw_db, "SELECT state FROM alerts WHERE id = ?", [ALERT_OPEN2]) == "acknowledged"
    assert scalar(rw_db, "SELECT actor FROM alert_events WHERE alert_id = ? ORDER BY seq DESC "
                         "LIMIT 1", [ALERT_OPEN2]) == EDITOR_NAME
    assert any("acknowledged" in s.value for s in at.success)


def test_resolve_with_rule_edit_creates_new_rule_version(rw_db):
    at = app(rw_db, "alert", ALERT_OPEN, editor=EDITOR_NAME)
    _act(at, ALERT_OPEN, "Resolve")
    new_en = "From September 2025, migrants in Moscow and the Moscow region must install the Amina app."
    at.text_area(key=f"edit-{ALERT_OPEN}-en").input(new_en).run()
    assert any("Moscow region" in b and 'class="add"' in b for b in html_bodies(at))   # diff preview
    at.text_input(key=f"resolve-note-{ALERT_OPEN}").input("Region added").run()
    at.button(key=f"resolve-{ALERT_OPEN}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert scalar(rw_db, "SELECT state FROM alerts WHERE id = ?", [ALERT_OPEN]) == "resolved"
    assert scalar(rw_db, "SELECT version FROM rules WHERE id = ?", [RULE_AMINA]) == 2
    assert scalar(rw_db, "SELECT statement_en FROM rules WHERE id = ?", [RULE_AMINA]) == new_en
    assert scalar(rw_db, "SELECT changed_by FROM rule_versions WHERE rule_id = ? AND version = 2",
                  [RULE_AMINA]) == EDITOR_NAME
    diff = scalar(rw_db, "SELECT diff FROM rule_versions WHERE rule_id = ? AND version = 2", [RULE_AMINA])
    assert "+statement_en: " + new_en in diff
    assert scalar(rw_db, "SELECT last_reviewed FROM rules WHERE id = ?", [RULE_AMINA]) == date.today()


def test_dismiss_needs_a_reason(rw_db):
    at = app(rw_db, "alert", ALERT_ACK, editor=EDITOR_NAME)
    _act(at, ALERT_ACK, "Dismiss")
    at.button(key=f"dismiss-{ALERT_ACK}").click().run()
    assert any("Give a reason" in e.value for e in at.error)
    assert scalar(rw_db, "SELECT state FROM alerts WHERE id = ?", [ALERT_ACK]) == "acknowledged"
    at.text_input(key=f"dismiss-note-{ALERT_ACK}").input("Про патенты, не про Киргизию").run()
    at.button(key=f"dismiss-{ALERT_ACK}").click().run()
    assert scalar(rw_db, "SELECT state FROM alerts WHERE id = ?", [ALERT_ACK]) == "dismissed"
    assert scalar(rw_db, "SELECT note FROM alert_events WHERE alert_id = ? ORDER BY seq DESC LIMIT 1",
                  [ALERT_ACK]) == "Про патенты, не про Киргизию"


def test_add_rule(rw_db):
    at = app(rw_db, "rules", editor=EDITOR_NAME)
    at.text_input(key="add-id").input("patent-fee-moscow-2027")
    at.text_area(key="add-en").input("In 2027 the monthly patent fee in Moscow is 9,000 roubles.")
    at.text_area(key="add-ru").input("В 2027 году ежемесячный платёж за патент в Москве — 9000 рублей.")
    at.multiselect(key="add-topics").select("work_permit")
    [b for b in at.button if b.label == "Add rule"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert scalar(rw_db, "SELECT statement_ru FROM rules WHERE id = 'patent-fee-moscow-2027'") \
        == "В 2027 году ежемесячный платёж за патент в Москве — 9000 рублей."
    assert scalar(rw_db, "SELECT changed_by FROM rule_versions WHERE rule_id = "
                         "'patent-fee-moscow-2027' AND version = 1") == EDITOR_NAME


def test_edit_rule_on_rules_page(rw_db):
    at = app(rw_db, "rules", RULE_STAY, editor=EDITOR_NAME)
    at.text_area(key=f"er-{RULE_STAY}-en").input("Kyrgyz citizens may stay up to 90 days in any 180.")
    at.text_input(key=f"er-{RULE_STAY}-note").input("new law")
    [b for b in at.button if b.label == "Save new version"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert scalar(rw_db, "SELECT version FROM rules WHERE id = ?", [RULE_STAY]) == 2
    assert scalar(rw_db, "SELECT note FROM rule_versions WHERE rule_id = ? AND version = 2",
                  [RULE_STAY]) == "new law"
    at.run()
    assert any("v2" in e.label for e in at.expander)               # history shows the new version


def test_missing_timestamps_render_as_never():
    """A source that never succeeded has NULL last_success_at, which pandas gives as NaT."""
    import pandas as pd
    from zoneinfo import ZoneInfo
    from dashboard.render import ago, fmt_dt, to_local
    assert to_local(pd.NaT, ZoneInfo("Asia/Bishkek")) is None
    assert ago(pd.NaT) == "never"
    assert fmt_dt(pd.NaT, ZoneInfo("Asia/Bishkek")) == "—"


def test_null_lists_render_as_empty():
    import pandas as pd
    from dashboard.render import as_list
    assert as_list(pd.NA) == [] and as_list(None) == [] and as_list(float("nan")) == []
    assert as_list(pd.Series([1, 2]).to_numpy()) == [1, 2]
