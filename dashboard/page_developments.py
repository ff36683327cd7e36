"""Developments timeline (filters, search) and the development detail page."""
from __future__ import annotations

import math
from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.render import (as_list, body_block, esc, highlight_html,
                              inline_diff_html, locate_evidence, parse_evidence, stage_label,
                              unified_diff, diff_html)


def render_list() -> None:
    ui.page_header("Developments", "Stories that several outlets and languages report, "
                                   "grouped; newest activity first")
    opts = ui.q("filter_options")
    cfg = ui.settings()
    with st.container(border=True):
        text = st.text_input("Search titles and article text", key="dev_text",
                             placeholder="e.g. патент, entry ban, Амина …")
        c = st.columns(4)
        topics = c[0].multiselect("Topic", list(cfg.topics), format_func=ui.topic_label,
                                  key="dev_topics")
        stages = c[1].multiselect("Stage", opts["stages"] + ["no stage"],
                                  format_func=stage_label, key="dev_stages")
        sources = c[2].multiselect("Source", list(opts["sources"]),
                                   format_func=lambda s: opts["sources"].get(s, s), key="dev_sources")
        langs = c[3].multiselect("Language", opts["langs"], key="dev_langs")
        lo = opts["first"].date() if opts["first"] is not None else date.today()
        hi = opts["last"].date() if opts["last"] is not None else date.today()
        rng = st.date_input("Active between", value=(lo, hi), min_value=lo, max_value=hi,
                            key="dev_range", format="DD.MM.YYYY")
    d_from, d_to = (rng if isinstance(rng, (list, tuple)) and len(rng) == 2 else (lo, hi))
    filters = dict(topics=topics, stages=stages, sources=sources, langs=langs,
                   date_from=d_from if d_from != lo else None, date_to=d_to if d_to != hi else None,
                   text=text.strip() or None)
    size = cfg.page_size
    page_no = st.session_state.get("dev_page", 1)
    sig = repr(sorted((k, str(v)) for k, v in filters.items()))
    if st.session_state.get("dev_sig") != sig:       # new filters: back to page 1
        st.session_state["dev_sig"], page_no = sig, 1
    df = ui.q("developments", **filters, limit=size, offset=(page_no - 1) * size)
    total = int(df["total"].iloc[0]) if not df.empty else 0
    pages = max(1, math.ceil(total / size))
    st.markdown(f"**{total:,} development(s)** match" + (f" · page {page_no} of {pages}" if pages > 1 else ""))
    if df.empty:
        ui.empty("No developments match these filters.")
        return

    tl = df.assign(label=df["title"].str.slice(0, 60), stage_l=df["stage"].map(stage_label),
                   first=pd.to_datetime(df["first_seen"], utc=True).dt.tz_convert(ui.tz()).dt.tz_localize(None),
                   last=pd.to_datetime(df["last_seen"], utc=True).dt.tz_convert(ui.tz()).dt.tz_localize(None))
    tl = tl.head(25)
    st.altair_chart(alt.Chart(tl).mark_bar(size=10, cornerRadius=3).encode(
        x=alt.X("first:T", title=None), x2="last:T",
        y=alt.Y("label:N", sort=alt.EncodingSortField("last", order="descending"), title=None,
                axis=alt.Axis(labelLimit=360)),
        color=alt.Color("stage_l:N", title="Stage"),
        tooltip=["title", "stage_l", "n_articles",
                 alt.Tooltip("first:T", format="%d %b %Y"), alt.Tooltip("last:T", format="%d %b %Y")],
    ).properties(height=max(120, 22 * len(tl)), title="Timeline (first → latest article)"),
        width="stretch")

    names = opts["sources"]
    for r in df.itertuples():
        with st.container(border=True):
            ui.link("development", str(r.title), r.id)
            srcs = ", ".join(names.get(s, s) for s in as_list(r.sources))
            lg = " ".join(ui.code(l) for l in as_list(r.langs))
            eff = ", ".join(as_list(r.effective_dates))
            st.markdown(f"{ui.stage_chip(r.stage)} {ui.topic_chips(r.topics)}  \n"
                        f"<small>{r.n_articles} article(s) · {ui.md_escape(srcs)} · "
                        f"{ui.dt(r.first_seen, False)} → {ui.dt(r.last_seen, False)}"
                        f"{' · effective ' + ui.md_escape(eff) if eff else ''}</small> {lg}",
                        unsafe_allow_html=True)
    if pages > 1:
        c = st.columns([1, 1, 4])
        if c[0].button("← Previous", disabled=page_no <= 1, key="dev_prev"):
            st.session_state["dev_page"] = page_no - 1
            st.rerun()
        if c[1].button("Next →", disabled=page_no >= pages, key="dev_next"):
            st.session_state["dev_page"] = page_no + 1
            st.rerun()
    st.session_state["dev_page"] = page_no


def render_detail() -> None:
    ui.inject_css()
    dev_id = st.query_params.get("id")
    if not dev_id:
        st.title("Development detail")
        pick = ui.q("development_pick_list", limit=200)
        if pick.empty:
            ui.empty("No developments yet.")
            return
        choice = st.selectbox("Development", pick["id"].tolist(), index=None,
                              format_func=dict(zip(pick["id"], pick["title"])).get,
                              placeholder="Choose a development (most recent first)")
        if choice:
            st.query_params.update({"page": "development", "id": choice})
            st.rerun()
        return
    data = ui.q("development_detail", development_id=dev_id)
    if not data:
        st.title("Development detail")
        st.error(f"No development with id {dev_id!r}. It may have been merged; search for it "
                 f"under Developments.")
        return
    d = data["development"]
    st.title(ui.md_escape(d["title"]))
    eff = as_list(d["effective_dates"])
    st.markdown(f"{ui.stage_chip(d['stage'])} {ui.topic_chips(d['topics'])}")
    c = st.columns(5)
    c[0].metric("Stage", stage_label(d["stage"]))
    c[1].metric("Effective", ", ".join(eff) if eff else "—")
    c[2].metric("Articles", d["n_articles"])
    c[3].metric("First seen", ui.dt(d["first_seen"], False))
    c[4].metric("Latest", ui.dt(d["last_seen"], False))
    st.caption(f"Share: `?page=development&id={dev_id}` · updated {ui.dt(d['updated_at'])}")

    al = data["alerts"]
    if not al.empty:
        st.subheader("Alerts on this development")
        for r in al.itertuples():
            ui.link("alert", f"{r.title} ({r.state})", r.id,
                    icon={"open": ":material/error:", "acknowledged": ":material/pending:"}.get(r.state, ":material/check_circle:"))

    members, tags, versions = data["members"], data["tags"], data["versions"]
    outlets = members["source_name"].fillna(members["source_id"]).nunique()
    langs = sorted(members["lang"].dropna().unique())
    st.subheader(f"Coverage: {len(members)} article(s) from {outlets} outlet(s) in "
                 f"{', '.join(langs) or '—'}")
    if d["n_articles"] > len(members):
        st.caption(f"Showing the {len(members)} most recent of {d['n_articles']} articles.")
    labels = {t: ui.topic_label(t) for t in ui.settings().topics}
    tags_by_article = {k: g for k, g in tags.groupby("article_id")} if not tags.empty else {}
    vers_by_article = {k: g for k, g in versions.groupby("article_id")} if not versions.empty else {}
    for i, m in enumerate(members.itertuples()):
        head = f"{m.title or '(untitled)'} — {m.source_name or m.source_id} · {m.lang or '?'} · {ui.dt(m.published_at)}"
        with st.expander(ui.md_escape(head), expanded=i == 0):
            meta = st.columns([3, 1])
            with meta[0]:
                sig = []
                if m.is_change is True:
                    sig.append(f"Change signal: {ui.stage_chip(m.stage)}")
                    if as_list(m.effective_dates):
                        sig.append("effective " + ui.md_escape(", ".join(as_list(m.effective_dates))))
                elif m.is_change is False:
                    sig.append("No legal change detected")
                t = tags_by_article.get(m.id)
                if t is not None:
                    sig.append(" ".join(f":blue-badge[{ui.md_escape(labels.get(x.topic, x.topic))} "
                                        f"{x.score:.2f}]" for x in t.itertuples()))
                st.markdown(" · ".join(sig) if sig else "_not classified yet_")
                st.caption(f"First seen {ui.dt(m.first_seen_at)}"
                           + (f" · outlet updated {ui.dt(m.updated_at)}" if pd.notna(m.updated_at) else "")
                           + (f" · similarity {m.similarity:.2f}" if pd.notna(m.similarity) else "")
                           + f" · version {m.version}")
            with meta[1]:
                url = ui.safe_url(m.canonical_url)
                if url:
                    st.link_button("Open original ↗", url, width="stretch")
            spans, unplaced = [], []
            body = m.body or ""
            if t is not None:
                for x in t.itertuples():
                    sp, un = locate_evidence(body, x.topic, parse_evidence(x.evidence))
                    spans += sp
                    unplaced += [(x.topic, e) for e in un]
            parts = []
            if m.lead and not body.startswith(str(m.lead)[:40]):
                parts.append(f'<p><b>{esc(m.lead)}</b></p>')
            parts.append(body_block(highlight_html(body, spans, labels)))
            if spans:
                parts.append('<div class="lw-note">Highlighted: the passages the classifier '
                             'cited as evidence (hover for topic and terms).</div>')
            ui.html_block("".join(parts))
            if unplaced:
                st.caption("Evidence whose offsets no longer match this text (the article was "
                           "edited after it was classified):")
                for topic, e in unplaced:
                    st.markdown(f"- {ui.md_escape(labels.get(topic, topic))}: "
                                f"“{ui.md_escape(e.get('text', ''))}”")
            v = vers_by_article.get(m.id)
            if v is not None and len(v) > 1:
                st.markdown(f"**Edits by the outlet** — {len(v)} versions")
                vs = v["version"].tolist()
                cc = st.columns(2)
                a = cc[0].selectbox("From version", vs[:-1], index=len(vs) - 2, key=f"va-{m.id}")
                b = cc[1].selectbox("To version", [x for x in vs if x > a], index=0, key=f"vb-{m.id}")
                va = v.loc[v["version"] == a].iloc[0]
                vb = v.loc[v["version"] == b].iloc[0]
                st.caption(f"v{a} fetched {ui.dt(va['fetched_at'])} → v{b} fetched {ui.dt(vb['fetched_at'])}")
                html = ""
                if (va["title"] or "") != (vb["title"] or ""):
                    html += diff_html(unified_diff(va["title"] or "", vb["title"] or "",
                                                   f"title v{a}", f"title v{b}"))
                html += inline_diff_html(va["body"], vb["body"])
                ui.html_block(html)
