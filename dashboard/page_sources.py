"""Sources: health at a glance, silent/failing highlighted, runs per source, items nobody
could process."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.render import ago, as_list

ICONS = {"healthy": "● healthy", "failing": "● failing", "silent": "● silent",
         "never run": "○ never run", "disabled": "○ disabled"}
ROW_STYLE = {"● failing": "background-color: #fee2e2; color: #991b1b",
             "● silent": "background-color: #ffedd5; color: #9a3412"}


def highlight(row: pd.Series) -> list[str]:
    """Failing and silent sources stand out in any table with a Status column."""
    style = ROW_STYLE.get(row["Status"], "")
    ok = "color: #15803d" if row["Status"] == "● healthy" else ""
    return [style or (ok if c == "Status" else "") for c in row.index]


def render() -> None:
    ui.page_header("Sources", "Crawl health per source — silent and failing sources first")
    df = ui.q("source_health")
    if df.empty:
        ui.empty("No sources in the store yet — the first crawl registers them.")
        return
    c = st.columns(4)
    c[0].metric("Sources", len(df))
    c[1].metric("Healthy", int((df["health"] == "healthy").sum()))
    c[2].metric("Failing", int((df["health"] == "failing").sum()))
    c[3].metric("Silent", int((df["health"] == "silent").sum()))
    bad = df[df["health"].isin(["failing", "silent"])]
    for r in bad.itertuples():
        msg = (f"**{ui.md_escape(r.name)}** is {r.health}: "
               + (f"{r.consecutive_failures} consecutive failure(s); last error: "
                  f"{ui.code(r.last_error)}" if r.health == "failing"
                  else f"{r.silent_runs} run(s) in a row found nothing new")
               + f" · last success {ago(r.last_success_at)}")
        (st.error if r.health == "failing" else st.warning)(msg)

    view = pd.DataFrame({
        "Status": df["health"].map(ICONS),
        "Source": df["name"], "Kind": df["kind"], "Lang": df["lang"],
        "Last success": df["last_success_at"].map(ago),
        "Last run": df["last_run_at"].map(ui.dt),
        "Failures in a row": df["consecutive_failures"],
        "Silent runs": df["silent_runs"],
        "Items / run": df["items_per_run"].map(as_list),
        "Avg items": df["avg_items"].round(1),
        "Last error": df["last_error"].fillna(""),
    })
    st.dataframe(view.style.apply(highlight, axis=1), hide_index=True, width="stretch",
                 column_config={"Items / run": st.column_config.LineChartColumn(
                     "Items per run (last 20)", y_min=0),
                     "Last error": st.column_config.TextColumn(width="medium")})

    st.subheader("Runs of one source")
    names = dict(zip(df["id"], df["name"]))
    sid = st.selectbox("Source", list(names), format_func=names.get, key="src_pick")
    runs = ui.q("source_runs", source_id=sid, limit=60)
    if runs.empty:
        ui.empty("This source has no runs yet.")
    else:
        runs = ui.localize_df(runs, ["started_at", "finished_at"])
        chart_df = runs.assign(started=runs["started_at"].dt.tz_localize(None))
        st.altair_chart(alt.Chart(chart_df).mark_bar().encode(
            x=alt.X("started:T", title=None), y=alt.Y("items_found:Q", title="items found"),
            color=alt.Color("status:N", scale=alt.Scale(
                domain=["ok", "partial", "silent", "failed"],
                range=["#16a34a", "#ca8a04", "#f97316", "#dc2626"])),
            tooltip=["started", "status", "items_found", "items_new", "errors", "error"],
        ).properties(height=200), width="stretch")
        st.dataframe(runs, hide_index=True, width="stretch", height=260,
                     column_config={"started_at": st.column_config.DatetimeColumn(
                         "started", format="DD.MM.YYYY HH:mm"),
                         "finished_at": st.column_config.DatetimeColumn("finished", format="HH:mm")})

    st.subheader("Needs a human")
    err = ui.q("processing_errors", limit=50)
    if err.empty:
        st.success("Every article was processed.")
    else:
        st.caption("Articles the classifier or matcher could not process (never dropped silently).")
        err = err.assign(canonical_url=err["canonical_url"].map(ui.safe_url))
        st.dataframe(ui.localize_df(err, ["occurred_at"]), hide_index=True, width="stretch",
                     column_config={"canonical_url": st.column_config.LinkColumn("original")})
