"""lawwatch dashboard — `streamlit run dashboard/app.py`.

Reads the store given by $LAWWATCH_DB (config overlay from $LAWWATCH_CONFIG). Shareable URLs:
`?page=development&id=dev-…`, `?page=alert&id=…`, `?page=rules&id=…`; `?since=2026-11-14T09:00`
sets "new since" on the Overview.
"""
from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:          # `streamlit run dashboard/app.py` puts dashboard/ first
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from dashboard import (page_alerts, page_developments, page_overview, page_rules,  # noqa: E402
                       page_sources, ui)
from dashboard.auth import TokenConfigError  # noqa: E402
from lawwatch.schema import ConfigError  # noqa: E402
from store.db import StoreError  # noqa: E402

st.set_page_config(page_title="lawwatch", page_icon=":material/balance:", layout="wide",
                   initial_sidebar_state="expanded")

PAGE_DEFS = {
    "overview": (page_overview.render, "Overview", ":material/dashboard:"),
    "developments": (page_developments.render_list, "Developments", ":material/timeline:"),
    "development": (page_developments.render_detail, "Development detail", ":material/article:"),
    "alerts": (page_alerts.render, "Alerts inbox", ":material/notifications:"),
    "rules": (page_rules.render, "Rules", ":material/gavel:"),
    "sources": (page_sources.render, "Sources", ":material/rss_feed:"),
}
ALIASES = {"alert": "alerts", "rule": "rules", "source": "sources", "home": "overview"}


def _sidebar() -> None:
    with st.sidebar:
        st.markdown("### :material/balance: lawwatch")
        st.caption("Legal changes for Kyrgyz labour migrants in Russia")
        who = ui.editor()
        tokens = ui.editor_tokens()
        if who:
            st.success(f"Signed in as **{ui.md_escape(who)}** (editor)", icon=":material/edit:")
            if st.button("Sign out", key="sign_out"):
                st.session_state.pop("editor", None)
                st.rerun()
        elif isinstance(tokens, TokenConfigError):
            st.error(f"Editor sign-in unavailable: {tokens}")
        elif not tokens.configured:
            st.caption(f"Read-only: no editor tokens configured (${tokens.env_name}).")
        else:
            with st.expander("Editor sign-in", icon=":material/key:"):
                with st.form("login", clear_on_submit=True):
                    tok = st.text_input("Editor token", type="password", key="login_token")
                    if st.form_submit_button("Sign in"):
                        name = tokens.match(tok)
                        if name:
                            st.session_state["editor"] = name
                            st.rerun()
                        st.error("Unknown token.")
            st.caption("Viewing read-only.")
        st.divider()
        st.caption(f"Times in {ui.settings().timezone} · data `{ui.db_path().name}`")


def main() -> None:
    try:
        ui.settings()
    except ConfigError as exc:
        st.error(f"Configuration problem: {exc}")
        st.stop()
    db = ui.db_path()
    if not db.exists():
        st.title("lawwatch")
        st.error(f"No lawwatch database at {db}. Run `lawwatch demo` or point $LAWWATCH_DB at a "
                 f"store.")
        st.stop()

    pages = {k: st.Page(fn, title=title, icon=icon, url_path=k, default=(k == "overview"))
             for k, (fn, title, icon) in PAGE_DEFS.items()}
    ui.PAGES.clear()
    ui.PAGES.update(pages)
    nav = st.navigation({"Monitor": [pages["overview"], pages["developments"],
                                     pages["development"]],
                         "Editorial": [pages["alerts"], pages["rules"], pages["sources"]]})
    # ?page=… routes to a page and keeps the other params (?page=development&id=dev-…).
    want = st.query_params.get("page")
    want = ALIASES.get(want, want)
    if want in pages and pages[want].url_path != nav.url_path:
        st.switch_page(pages[want], query_params=st.query_params.to_dict())
    elif want and want not in pages:
        st.warning(f"Unknown page {want!r} in the link; showing {nav.title}.")
    _sidebar()
    ui.flash()
    try:
        nav.run()
    except StoreError as exc:
        st.error(f"The store could not be read: {exc}")


main()
