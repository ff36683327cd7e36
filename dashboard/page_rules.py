"""Rules registry: what needs review, each rule's history with diffs, add/edit (editors)."""
from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.page_alerts import JURISDICTIONS, RULE_EDIT_FIELDS
from dashboard.render import as_date, as_list, diff_html, rule_text, unified_diff


def render() -> None:
    ui.page_header("Rules", "The statements the migrant guide makes today, versioned")
    df = ui.q("rules")
    if df.empty:
        ui.empty("The registry is empty. Rules are seeded from config/rules.toml by the pipeline.")
        _add_rule()
        return
    review = df[df["open_alerts"] > 0]
    c = st.columns(4)
    c[0].metric("Rules", len(df))
    c[1].metric("Need review", len(review), help="rules with open alerts")
    c[2].metric("Acknowledged alerts", int(df["acknowledged_alerts"].sum()))
    c[3].metric("Inactive", int((~df["active"]).sum()))

    if not review.empty:
        st.subheader("Needs review")
        cols = st.columns(3)
        for i, r in enumerate(review.head(9).itertuples()):
            with cols[i % 3].container(border=True):
                st.markdown(f"**{ui.code(r.id)}**  \n:red-badge[{r.open_alerts} open alert(s)] "
                            f"{ui.topic_chips(r.topics)}")
                stmt = r.statement_en if len(r.statement_en) <= 110 else r.statement_en[:107] + "…"
                st.caption(ui.md_escape(stmt))
                st.button("Open rule", key=f"open-rule-{r.id}", on_click=_select, args=(r.id,),
                          type="tertiary", icon=":material/arrow_forward:")
        if len(review) > 9:
            st.caption(f"…and {len(review) - 9} more (sorted first in the registry below).")

    st.subheader("Registry")
    view = pd.DataFrame({
        "Rule": df["id"], "Statement": df["statement_en"],
        "Topics": df["topics"].map(lambda v: ", ".join(ui.topic_label(t) for t in as_list(v))),
        "Jurisdiction": df["jurisdiction"], "Version": df["version"],
        "Effective from": df["effective_from"], "Last reviewed": df["last_reviewed"],
        "Open alerts": df["open_alerts"], "Active": df["active"],
    })
    st.dataframe(view, hide_index=True, width="stretch", height=320,
                 column_config={"Statement": st.column_config.TextColumn(width="large"),
                                "Effective from": st.column_config.DateColumn(format="DD.MM.YYYY"),
                                "Last reviewed": st.column_config.DateColumn(format="DD.MM.YYYY")})

    ids = df["id"].tolist()
    if "rule_pick_next" in st.session_state:
        st.session_state["rule_pick"] = st.session_state.pop("rule_pick_next")
    cur = st.query_params.get("id")
    sel = st.selectbox("Rule", ids, index=ids.index(cur) if cur in ids else 0, key="rule_pick")
    if sel != cur:
        st.query_params.update({"page": "rules", "id": sel})
    rule = df.loc[df["id"] == sel].iloc[0].to_dict()
    _rule_detail(rule)
    _add_rule()


def _select(rule_id: str) -> None:
    st.query_params.update({"page": "rules", "id": rule_id})
    st.session_state["rule_pick"] = rule_id


def _rule_detail(rule: dict) -> None:
    with st.container(border=True):
        st.subheader(ui.md_escape(f"{rule['id']} · v{rule['version']}"))
        st.markdown(f"{ui.topic_chips(rule['topics'])} :gray-badge[{ui.md_escape(rule['jurisdiction'])}]"
                    + ("" if rule["active"] else " :red-badge[inactive]"))
        st.markdown(f"**EN** {ui.md_escape(rule['statement_en'])}")
        if rule.get("statement_ru"):
            st.markdown(f"**RU** {ui.md_escape(rule['statement_ru'])}")
        eff, rev = as_date(rule.get("effective_from")), as_date(rule.get("last_reviewed"))
        st.caption(f"Effective from {eff.strftime('%d %b %Y') if eff else '—'} · "
                   f"owner {ui.md_escape(rule.get('owner') or '—')} · last reviewed "
                   f"{rev.strftime('%d %b %Y') if rev else '—'}"
                   + (f" · source {ui.md_escape(rule['source_url'])}" if rule.get("source_url") else ""))
        al = ui.q("rule_alerts", rule_id=rule["id"])
        if not al.empty:
            st.markdown("**Alerts**")
            for r in al.itertuples():
                ui.link("alert", f"{r.title} ({r.state})", r.id)
        _edit_rule(rule)
        hist = ui.q("rule_history", rule_id=rule["id"])
        st.markdown(f"**History** ({len(hist)} version(s))")
        rows = hist.to_dict("records")
        for i, v in enumerate(rows):
            prev = rows[i + 1] if i + 1 < len(rows) else None
            diff = v.get("diff") if isinstance(v.get("diff"), str) and v.get("diff") else (
                unified_diff(rule_text(prev), rule_text(v), f"v{prev['version']}", f"v{v['version']}")
                if prev else unified_diff("", rule_text(v), "(none)", f"v{v['version']}"))
            note = f" — “{v['note']}”" if isinstance(v.get("note"), str) and v["note"] else ""
            with st.expander(ui.md_escape(f"v{v['version']} · {ui.dt(v['changed_at'])} · "
                                          f"{v['changed_by']}{note}"),
                             expanded=i == 0):
                ui.html_block(diff_html(diff))


def _edit_rule(rule: dict) -> None:
    who = ui.editor()
    if not who:
        st.caption(":material/lock: Sign in as an editor to edit rules.")
        return
    with st.expander("Edit this rule", icon=":material/edit:"):
        with st.form(f"edit-rule-{rule['id']}"):
            new = _rule_fields(rule, f"er-{rule['id']}")
            active = st.checkbox("Active", bool(rule["active"]), key=f"er-{rule['id']}-active")
            note = st.text_input("Why (note)", key=f"er-{rule['id']}-note")
            ok = st.form_submit_button("Save new version", type="primary")
        if ok:
            new["active"] = active
            changes = {}
            for k, v in new.items():
                old = rule.get(k)
                if k == "topics":
                    old = as_list(old)
                elif k in ("effective_from", "last_reviewed"):
                    old = as_date(old)
                elif isinstance(old, str) or isinstance(old, (bool, int)):
                    pass
                elif old is not None and pd.isna(old):
                    old = None
                if (old or None) != (v or None) or (k == "active" and bool(old) != bool(v)):
                    changes[k] = v
            if not changes:
                st.info("Nothing changed.")
                return
            if "last_reviewed" not in changes:
                changes["last_reviewed"] = date.today()   # editing a rule is reviewing it
            from alerts.rules import update_rule
            try:
                version = update_rule(ui.store(), rule["id"], changes, who, note=note.strip())
            except Exception as exc:          # RuleError names the field; StoreLocked
                st.error(f"Could not save rule {rule['id']}: {exc}")
                return
            ui.invalidate()
            st.session_state["flash"] = f"Rule {rule['id']} saved as v{version}."
            st.rerun()


def _rule_fields(rule: dict, key: str) -> dict[str, Any]:
    topics_all = list(ui.settings().topics)
    out: dict[str, Any] = {}
    out["statement_en"] = st.text_area("Statement (English)", rule.get("statement_en") or "",
                                       key=f"{key}-en")
    out["statement_ru"] = st.text_area("Statement (Russian)", rule.get("statement_ru") or "",
                                       key=f"{key}-ru")
    c = st.columns(2)
    out["topics"] = c[0].multiselect("Topics", topics_all,
                                     default=[t for t in as_list(rule.get("topics")) if t in topics_all],
                                     format_func=ui.topic_label, key=f"{key}-topics")
    jur = rule.get("jurisdiction") or "RU"
    out["jurisdiction"] = c[1].selectbox("Jurisdiction", JURISDICTIONS,
                                         index=JURISDICTIONS.index(jur) if jur in JURISDICTIONS else 0,
                                         key=f"{key}-jur")
    c = st.columns(3)
    eff = as_date(rule.get("effective_from"))
    out["effective_from"] = c[0].date_input("Effective from", eff, key=f"{key}-eff", format="DD.MM.YYYY")
    rev = as_date(rule.get("last_reviewed")) if rule else date.today()
    out["last_reviewed"] = c[1].date_input("Last reviewed", rev, key=f"{key}-rev",
                                           format="DD.MM.YYYY")
    out["source_url"] = c[2].text_input("Source URL", rule.get("source_url") or "", key=f"{key}-url")
    return out


def _add_rule() -> None:
    who = ui.editor()
    if not who:
        return
    st.subheader("Add a rule")
    with st.form("add-rule", clear_on_submit=False):
        rid = st.text_input("Rule id (lowercase, dashes)", key="add-id",
                            placeholder="e.g. patent-fee-moscow-2027")
        fields = _rule_fields({}, "add")
        ok = st.form_submit_button("Add rule", type="primary")
    if ok:
        rule = {"id": rid.strip(), **{k: v for k, v in fields.items() if v not in (None, "", [])}}
        from alerts.rules import create_rule
        try:
            new_id = create_rule(ui.store(), rule, who)
        except Exception as exc:              # RuleError names the field; StoreLocked
            st.error(f"Could not add the rule: {exc}")
            return
        ui.invalidate()
        st.session_state["flash"] = f"Rule {new_id} added as v1."
        st.session_state["rule_pick_next"] = new_id     # applied before the picker next run
        st.query_params.update({"page": "rules", "id": new_id})
        st.rerun()


__all__ = ["render", "RULE_EDIT_FIELDS"]
