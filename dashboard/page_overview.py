"""Overview: what is new since the last visit, open alerts, topic trend, stages, source health."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import page_sources, ui
from dashboard.render import KIND_LABELS, as_list, stage_label


def _pick_since() -> None:
    d = st.session_state.get("since_pick")
    if d:
        st.query_params["since"] = d.isoformat() + "T00:00"
        st.session_state.pop("last_visit", None)


def render() -> None:
    since = ui.last_visit()
    ui.page_header("Overview", "Legal changes affecting Kyrgyz labour migrants in Russia — "
                               f"all times {ui.settings().timezone}")
    top = st.columns([3, 1, 1], vertical_alignment="bottom")
    with top[0]:
        st.markdown(f"**What's new since {ui.md_escape(ui.dt(since))}** — your last visit "
                    f"(kept in the link as `?since=`; 7 days by default)")
    with top[1]:
        st.date_input("New since", value=since.astimezone(ui.tz()).date(), key="since_pick",
                      on_change=_pick_since, format="DD.MM.YYYY", label_visibility="collapsed")
    with top[2]:
        st.button("Mark all as seen", icon=":material/done_all:", on_click=ui.mark_seen,
                  key="mark_seen", width="stretch")
    s = ui.q("overview_summary", since=since)
    c = st.columns(5)
    c[0].metric("New articles", f"{s['new_articles']:,}", help=f"{s['total_articles']:,} in total")
    c[1].metric("New developments", f"{s['new_developments']:,}",
                help=f"{s['total_developments']:,} in total")
    c[2].metric("Updated developments", f"{s['updated_developments']:,}",
                help="older developments that gained articles since your last visit")
    c[3].metric("Open alerts", f"{s['open_alerts']:,}", delta=f"{s['new_alerts']:,} new",
                delta_color="inverse" if s["new_alerts"] else "off")
    c[4].metric("Sources at risk", f"{s['sources_attention']} / {s['sources_enabled']}",
                help="failing or silent enabled sources")
    if s["unresolved_errors"]:
        st.warning(f"{s['unresolved_errors']} article(s) could not be processed and need a human "
                   f"look — see Sources.", icon=":material/warning:")

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("New and updated developments")
        devs = ui.q("recent_developments", since=since, limit=10)
        if devs.empty:
            ui.empty("Nothing new since your last visit.")
        for r in devs.itertuples():
            with st.container(border=True):
                ui.link("development", str(r.title), r.id,
                        icon=":material/fiber_new:" if r.is_new else ":material/update:")
                eff = ", ".join(as_list(r.effective_dates))
                st.markdown(f"{ui.stage_chip(r.stage)} {ui.topic_chips(r.topics)}  \n"
                            f"<small>{r.n_articles} article(s) · last {ui.dt(r.last_seen)}"
                            f"{' · effective ' + ui.md_escape(eff) if eff else ''}</small>",
                            unsafe_allow_html=True)
    with right:
        st.subheader("Open alerts")
        al = ui.q("alerts", state="open", priority=True, limit=8)
        if al.empty:
            ui.empty("No open alerts.")
        for r in al.itertuples():
            with st.container(border=True):
                ui.link("alert", str(r.title), r.id, icon=":material/error:")
                st.caption(f"{KIND_LABELS.get(r.kind, r.kind)} · raised {ui.dt(r.created_at)}"
                           + (f" · score {r.score:.2f}" if pd.notna(r.score) else ""))
        if not al.empty and int(al["total"].iloc[0]) > len(al):
            ui.link("alerts", f"All {int(al['total'].iloc[0])} open alerts →")

    st.subheader("Articles per topic per week")
    wk = ui.q("articles_per_topic_week", weeks=26)
    if wk.empty:
        ui.empty("No tagged articles in the last 26 weeks.")
    else:
        wk = wk.assign(topic_label=wk["topic"].map(ui.topic_label))
        chart = alt.Chart(wk).mark_bar().encode(
            x=alt.X("week:T", title=None, axis=alt.Axis(format="%d %b")),
            y=alt.Y("articles:Q", title="articles", stack=True),
            color=alt.Color("topic_label:N", title="Topic", legend=alt.Legend(orient="bottom", columns=4)),
            tooltip=[alt.Tooltip("week:T", format="%d %b %Y"), "topic_label:N", "articles:Q"],
        ).properties(height=280)
        st.altair_chart(chart, width="stretch")

    a, b = st.columns(2, gap="large")
    with a:
        st.subheader("Developments by stage")
        stg = ui.q("developments_by_stage")
        if stg.empty:
            ui.empty("No developments yet.")
        else:
            stg = stg.assign(stage=stg["stage"].map(stage_label))
            st.altair_chart(alt.Chart(stg).mark_bar(cornerRadiusEnd=3).encode(
                x=alt.X("developments:Q", title="developments"),
                y=alt.Y("stage:N", sort="-x", title=None),
                color=alt.value("#2563eb"),
                tooltip=["stage", "developments", "articles"]).properties(height=260),
                width="stretch")
    with b:
        st.subheader("Sources at a glance")
        src = ui.q("source_health")
        if src.empty:
            ui.empty("No sources have run yet.")
        else:
            view = pd.DataFrame({
                "Source": src["name"],
                "Status": src["health"].map(page_sources.ICONS),
                "Last success": src["last_success_at"].map(ui.dt),
                "Items / run": src["items_per_run"].map(lambda v: as_list(v)),
            })
            st.dataframe(view.style.apply(page_sources.highlight, axis=1), hide_index=True, width="stretch", height=300,
                         column_config={"Items / run": st.column_config.BarChartColumn(
                             "Items / run (last 20)", y_min=0)})
            ui.link("sources", "Source health details →")
