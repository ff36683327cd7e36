"""Alerts inbox: tabs per state, one alert in detail, editor actions."""
from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.render import (KIND_LABELS, as_date, as_list, diff_html, esc, parse_evidence,
                              rule_text, unified_diff)

STATES = ("open", "acknowledged", "resolved", "dismissed")
RULE_EDIT_FIELDS = ("statement_en", "statement_ru", "topics", "jurisdiction", "effective_from",
                    "source_url", "last_reviewed")
JURISDICTIONS = ["RU", "KG", "EAEU", "KZ", "BY", "AM"]


def _select(alert_id: str) -> None:
    st.query_params.update({"page": "alert", "id": alert_id})


def render() -> None:
    ui.page_header("Alerts inbox", "Rules that may be out of date, silent sources and items "
                                   "that need a human")
    counts = ui.q("alert_counts")
    selected = st.query_params.get("id")
    left, right = st.columns([5, 7], gap="large")
    with left:
        tabs = st.tabs([f"{s.capitalize()} ({counts.get(s, 0)})" for s in STATES])
        for tab, state in zip(tabs, STATES):
            with tab:
                df = ui.q("alerts", state=state, priority=state in ("open", "acknowledged"), limit=50)
                if df.empty:
                    ui.empty(f"No {state} alerts.")
                    continue
                for r in df.itertuples():
                    with st.container(border=True):
                        mark = "▶ " if r.id == selected else ""
                        st.markdown(f"**{mark}{ui.md_escape(r.title)}**")
                        c = st.columns([3, 1])
                        c[0].caption(f"{KIND_LABELS.get(r.kind, r.kind)} · {ui.dt(r.updated_at)}"
                                     + (f" · score {r.score:.2f}" if pd.notna(r.score) else ""))
                        c[1].button("View", key=f"view-{state}-{r.id}", on_click=_select,
                                    args=(r.id,), width="stretch")
                total = int(df["total"].iloc[0])
                if total > len(df):
                    st.caption(f"Showing the {len(df)} most recent of {total}.")
    with right:
        if not selected:
            ui.empty("Select an alert to see why it was raised and act on it.")
            return
        _detail(selected)


def _detail(alert_id: str) -> None:
    data = ui.q("alert_detail", alert_id=alert_id)
    if not data:
        st.error(f"No alert with id {alert_id!r}.")
        return
    a, rule, dev = data["alert"], data["rule"], data["development"]
    with st.container(border=True):
        st.subheader(ui.md_escape(a["title"]))
        st.markdown(f"{ui.state_chip(a['state'])} :gray-badge[{KIND_LABELS.get(a['kind'], a['kind'])}]"
                    + (f" :violet-badge[score {a['score']:.2f}]" if a["score"] is not None else ""))
        st.caption(f"Raised {ui.dt(a['created_at'])} · updated {ui.dt(a['updated_at'])} · "
                   f"share: `?page=alert&id={a['id']}`")
        _why(a["details"])
        if dev:
            st.markdown("**Development**")
            ui.link("development", f"{dev['title']} — {str(dev['stage'] or 'no stage').replace('_', ' ')}, "
                                   f"{dev['n_articles']} article(s)", dev["id"])
        if a["source_id"]:
            st.markdown(f"**Source:** {ui.code(a['source_id'])}")
            ui.link("sources", "Source health →")
        if a["article_id"]:
            st.markdown(f"**Article:** {ui.code(a['article_id'])}")
        if rule:
            st.markdown(f"**Rule {ui.code(rule['id'])}** (v{rule['version']}, "
                        f"{ui.md_escape(rule['jurisdiction'])})")
            st.markdown(f"> {ui.md_escape(rule['statement_en'])}")
            if rule.get("statement_ru"):
                st.markdown(f"> {ui.md_escape(rule['statement_ru'])}")
        _actions(a, rule)
        ev = data["events"]
        if not ev.empty:
            st.markdown("**History**")
            for e in ev.itertuples():
                arrow = f"{e.from_state} → {e.to_state}" if e.from_state else f"raised ({e.to_state})"
                note = f" — “{ui.md_escape(e.note)}”" if isinstance(e.note, str) and e.note else ""
                st.markdown(f"- {ui.dt(e.occurred_at)} · **{ui.md_escape(e.actor)}** · {arrow}{note}")
        dl = data.get("deliveries")
        if dl is not None and not dl.empty:
            with st.expander(f"Deliveries ({len(dl)})"):
                st.dataframe(ui.localize_df(dl, ["delivered_at", "created_at"]), hide_index=True,
                             width="stretch")


def _why(details: Any) -> None:
    if not isinstance(details, dict) or not details:
        return
    st.markdown("**Why**")
    shown = set()
    bits = []
    if details.get("stage"):
        bits.append(f"stage {ui.stage_chip(details['stage'])}")
        shown.add("stage")
    if as_list(details.get("effective_dates")):
        bits.append("effective " + ui.md_escape(", ".join(map(str, as_list(details["effective_dates"])))))
    shown.add("effective_dates")
    for k in ("similarity", "score"):
        if isinstance(details.get(k), (int, float)):
            bits.append(f"{k} {details[k]:.2f}")
            shown.add(k)
    if bits:
        st.markdown(" · ".join(bits))
    ev = parse_evidence(details.get("evidence")) if not isinstance(details.get("evidence"), str) else []
    shown.add("evidence")
    if ev:
        html = "".join(f"<blockquote style='margin:0.3rem 0;padding-left:0.6rem;border-left:3px solid "
                       f"#f59e0b'>{esc(e.get('text', ''))}"
                       f"{' <small>(' + esc(ui.topic_label(e['topic'])) + ')</small>' if e.get('topic') else ''}"
                       f"</blockquote>" for e in ev[:6])
        ui.html_block(html)
    links = details.get("links") or details.get("urls") or []
    shown.update({"links", "urls"})
    for l in as_list(links):
        u = ui.safe_url(l if isinstance(l, str) else (l or {}).get("url"))
        if u:
            st.markdown(f"- [{ui.md_escape(u)}]({u.replace(')', '%29').replace(' ', '%20')})")
    rest = {k: v for k, v in details.items() if k not in shown}
    if rest:
        with st.expander("All details"):
            st.json(rest)


def _date(v: Any) -> date | None:
    return as_date(v)


def _rule_editor(rule: dict, key: str) -> tuple[dict, str]:
    """Widgets prefilled with the rule; returns (changed fields, diff text)."""
    topics_all = list(ui.settings().topics)
    st.markdown("**Edit the rule** (saved as a new version when you resolve)")
    new: dict[str, Any] = {}
    new["statement_en"] = st.text_area("Statement (English)", rule["statement_en"], key=f"{key}-en")
    new["statement_ru"] = st.text_area("Statement (Russian)", rule.get("statement_ru") or "",
                                       key=f"{key}-ru")
    c = st.columns(2)
    new["topics"] = c[0].multiselect("Topics", topics_all,
                                     default=[t for t in as_list(rule["topics"]) if t in topics_all],
                                     format_func=ui.topic_label, key=f"{key}-topics")
    new["jurisdiction"] = c[1].selectbox("Jurisdiction", JURISDICTIONS,
                                         index=JURISDICTIONS.index(rule["jurisdiction"])
                                         if rule["jurisdiction"] in JURISDICTIONS else 0,
                                         key=f"{key}-jur")
    c = st.columns(3)
    new["effective_from"] = c[0].date_input("Effective from", _date(rule.get("effective_from")),
                                            key=f"{key}-eff", format="DD.MM.YYYY")
    new["last_reviewed"] = c[1].date_input("Last reviewed", _date(rule.get("last_reviewed")),
                                           key=f"{key}-rev", format="DD.MM.YYYY")
    new["source_url"] = c[2].text_input("Source URL", rule.get("source_url") or "", key=f"{key}-url")
    changes = {}
    for k in RULE_EDIT_FIELDS:
        old = rule.get(k)
        if k == "topics":
            old = as_list(old)
        elif k in ("effective_from", "last_reviewed"):
            old = as_date(old)
        if (old or None) != (new[k] or None):
            changes[k] = new[k]
    if changes and "last_reviewed" not in changes:
        changes["last_reviewed"] = date.today()      # editing a rule is reviewing it
    merged = {**rule, **changes}
    diff = unified_diff(rule_text(rule), rule_text(merged), f"v{rule['version']}",
                        f"v{rule['version'] + 1}") if changes else ""
    return changes, diff


def _actions(a: dict, rule: dict | None) -> None:
    who = ui.editor()
    if a["state"] not in ("open", "acknowledged"):
        return
    if not who:
        st.info("Sign in as an editor (sidebar) to acknowledge, resolve or dismiss this alert.",
                icon=":material/lock:")
        return
    from alerts.lifecycle import transition   # the alerts package owns the state machine

    st.divider()
    st.markdown(f"**Act as {ui.md_escape(who)}**")
    act = st.radio("Action", ["Acknowledge", "Resolve", "Dismiss"], index=None, horizontal=True,
                   key=f"act-{a['id']}")

    def run(to_state: str, note: str | None = None, rule_changes: dict | None = None) -> None:
        try:
            res = transition(ui.store(), a["id"], to_state, who, note=note,
                             rule_changes=rule_changes or None)
        except Exception as exc:       # InvalidTransition / RuleError / AlertNotFound / StoreLocked
            st.error(f"Could not {to_state[:-1] if to_state.endswith('ed') else to_state} "
                     f"alert {a['id']}: {exc}")
            return
        ui.invalidate()
        rv = res.get("rule_version") if isinstance(res, dict) else None
        st.session_state["flash"] = (f"Alert {to_state}" + (f"; rule {a['rule_id']} is now v{rv}"
                                                            if rv else "") + ".")
        st.rerun()

    if act == "Acknowledge":
        if a["state"] == "acknowledged":
            st.caption("Already acknowledged.")
        elif st.button("Acknowledge alert", type="primary", key=f"ack-{a['id']}"):
            run("acknowledged")
    elif act == "Dismiss":
        reason = st.text_input("Reason for dismissing (required)", key=f"dismiss-note-{a['id']}")
        if st.button("Dismiss alert", type="primary", key=f"dismiss-{a['id']}"):
            if not reason.strip():
                st.error("Give a reason: dismissing needs one so others know why.")
            else:
                run("dismissed", note=reason.strip())
    elif act == "Resolve":
        changes, diff = ({}, "")
        if rule:
            changes, diff = _rule_editor(rule, f"edit-{a['id']}")
            if changes:
                st.markdown("**Diff of the new rule version**")
                ui.html_block(diff_html(diff))
            else:
                st.caption("No rule change: resolving records that the rule is still correct.")
        note = st.text_input("Note", key=f"resolve-note-{a['id']}")
        if st.button("Resolve alert" + (" and save rule" if changes else ""), type="primary",
                     key=f"resolve-{a['id']}"):
            run("resolved", note=note.strip() or None, rule_changes=changes or None)
