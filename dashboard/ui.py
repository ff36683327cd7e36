"""Shared app-layer pieces: the store handle, cached queries, session (editor, last visit),
links between pages and small presentational widgets."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd
import streamlit as st

from dashboard import queries
from dashboard.auth import EditorTokens, TokenConfigError, load_editor_tokens
from dashboard.render import CSS, STATE_ICONS, as_list, esc, fmt_dt, localize, stage_label
from dashboard.settings import DashboardSettings, load_dashboard_settings
from store.db import Store

CACHE_TTL_S = 60
PAGES: dict[str, Any] = {}          # page key -> st.Page, filled by app.py


# -- context ------------------------------------------------------------------------------
def db_path() -> Path:
    p = os.environ.get("LAWWATCH_DB")
    if not p:
        from lawwatch.config import REPO_ROOT
        p = str(REPO_ROOT / "data" / "lawwatch.duckdb")
    return Path(p).expanduser()


@st.cache_resource(show_spinner=False)
def _settings(config_dir: str | None) -> DashboardSettings:
    return load_dashboard_settings(config_dir)


def settings() -> DashboardSettings:
    return _settings(os.environ.get("LAWWATCH_CONFIG") or None)


def store() -> Store:
    return Store(db_path(), migrate=False)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _cached(db: str, name: str, kwargs: tuple) -> Any:
    return getattr(queries, name)(Store(db, migrate=False), **dict(kwargs))


def q(name: str, **kwargs: Any) -> Any:
    """Run dashboard.queries.<name> through the cache (keyed by db path and filters)."""
    items = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items()))
    return _cached(str(db_path()), name, items)


def invalidate() -> None:
    _cached.clear()


def editor_tokens() -> EditorTokens | TokenConfigError:
    try:
        return load_editor_tokens(settings().editor_tokens_env)
    except TokenConfigError as exc:
        return exc


def editor() -> str | None:
    return st.session_state.get("editor")


def tz():
    return settings().tz


def topic_label(t: str) -> str:
    return settings().topic_label(t, "en")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


# -- last visit -----------------------------------------------------------------------------
def last_visit() -> datetime:
    """?since=ISO in the URL (bookmarkable per browser) > this session's marker > 7 days ago."""
    raw = st.query_params.get("since")
    if raw:
        try:
            d = datetime.fromisoformat(raw)
            return d if d.tzinfo else d.replace(tzinfo=tz()).astimezone(timezone.utc)
        except ValueError:
            st.warning(f"Ignoring ?since={raw!r}: not an ISO date/time like 2026-11-14T09:00.")
    if "last_visit" in st.session_state:
        return st.session_state["last_visit"]
    return now_utc() - timedelta(days=7)


def mark_seen() -> None:
    now = now_utc().replace(microsecond=0)
    st.session_state["last_visit"] = now
    st.query_params["since"] = now.astimezone(tz()).strftime("%Y-%m-%dT%H:%M")


# -- links and widgets ------------------------------------------------------------------------
def link(page: str, label: str, id_: str | None = None, key: str | None = None,
         icon: str | None = None) -> None:
    params = {"page": page}
    if id_:
        params["id"] = id_
    target = PAGES.get("alerts" if page == "alert" else page)
    if target is None:
        st.markdown(md_escape(label))
        return
    st.page_link(target, label=md_escape(label), query_params=params, icon=icon)


def safe_url(url: Any) -> str | None:
    """Only http(s) links are rendered as links."""
    if not isinstance(url, str):
        return None
    p = urlparse(url)
    return url if p.scheme in ("http", "https") and p.netloc else None


def inject_css() -> None:
    st.html(CSS)


def topic_chips(topics: Any) -> str:
    ts = as_list(topics)
    return " ".join(f":blue-badge[{md_escape(topic_label(t))}]" for t in ts) if ts else ""


def stage_chip(stage: Any) -> str:
    lab = stage_label(stage)
    color = "gray" if lab == "no stage" else ("green" if lab in ("in force", "adopted", "signed",
                                                                  "published", "ruling")
                                              else "orange")
    return f":{color}-badge[{md_escape(lab)}]"


def state_chip(state: str) -> str:
    color = {"open": "red", "acknowledged": "orange", "resolved": "green"}.get(state, "gray")
    return f":{color}-badge[{STATE_ICONS.get(state, '')} {state}]"


_MD_SPECIAL = "\\`*_{}[]()<>#+-.!|~$:"


def md_escape(text: Any) -> str:
    """Escape untrusted text for st.markdown (markdown and inline HTML both neutralised)."""
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join("\\" + c if c in _MD_SPECIAL and c not in "<>" else c for c in s)


def code(text: Any) -> str:
    """Untrusted text as an inline code span (literal; backticks cannot break out)."""
    return "`" + ("" if text is None else str(text)).replace("`", "'").replace("\n", " ") + "`"


def dt(ts: Any, with_time: bool = True) -> str:
    return fmt_dt(ts, tz(), with_time)


def localize_df(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return localize(df, cols, tz())


def flash() -> None:
    msg = st.session_state.pop("flash", None)
    if msg:
        st.toast(msg, icon=":material/check_circle:")
        st.success(msg)


def empty(msg: str) -> None:
    st.info(msg, icon=":material/info:")


def page_header(title: str, subtitle: str | None = None) -> None:
    inject_css()
    st.title(title)
    if subtitle:
        st.caption(subtitle)


def html_block(inner: str) -> None:
    """Escaped-by-construction HTML (callers build it from render.esc'd segments)."""
    st.html(inner)


def df_or_empty(df: pd.DataFrame | None) -> pd.DataFrame:
    return df if df is not None else pd.DataFrame()


__all__ = ["esc"]
