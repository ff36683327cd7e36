"""What the dashboard needs from config: [dashboard] settings and topic labels.

Read with the same overlay rules as `lawwatch.config.load_config` (defaults in the repo's
config/, then $LAWWATCH_CONFIG on top) but only the two files the dashboard uses, so the UI
does not import crawler adapters or classifier code to start.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from classify.config_schema import TOPIC
from dashboard.config_schema import DASHBOARD
from lawwatch.config import DEFAULT_CONFIG_DIR, _deep_merge, _merge_entries, _read_toml
from lawwatch.schema import ConfigError, validate


@dataclass(frozen=True)
class DashboardSettings:
    timezone: str
    editor_tokens_env: str
    page_size: int
    topics: dict[str, dict[str, str]] = field(default_factory=dict)   # id -> {en, ru, ky}
    config_dirs: tuple[str, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def topic_label(self, topic_id: str, lang: str = "en") -> str:
        labels = self.topics.get(topic_id)
        if not labels:
            return topic_id
        return labels.get(lang) or labels.get("en") or topic_id


def load_dashboard_settings(config_dir: str | Path | None = None) -> DashboardSettings:
    dirs = [DEFAULT_CONFIG_DIR]
    user_dir = config_dir or os.environ.get("LAWWATCH_CONFIG") or None
    if user_dir is not None:
        u = Path(user_dir)
        if not u.is_dir():
            raise ConfigError(str(u), "", "config directory does not exist (from LAWWATCH_CONFIG)")
        if u.resolve() != DEFAULT_CONFIG_DIR.resolve():
            dirs.append(u)

    raw: dict = {}
    settings_file = "settings.toml"
    topics: list[dict] = []
    topics_file = "topics.toml"
    for d in dirs:
        p = d / "settings.toml"
        if p.exists():
            raw = _deep_merge(raw, _read_toml(p))
            settings_file = str(p)
        t = d / "topics.toml"
        if t.exists():
            data = _read_toml(t)
            items = data.get("topic", [])
            topics = ([dict(e) for e in items] if data.get("replace")
                      else _merge_entries(topics, items, str(t), "topic"))
            topics_file = str(t)
    dash = validate(DASHBOARD, raw.get("dashboard", {}), settings_file, "dashboard")
    try:
        ZoneInfo(dash["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(settings_file, "dashboard.timezone",
                          f"unknown timezone {dash['timezone']!r}; use an IANA name like "
                          f"Asia/Bishkek") from None
    if dash["page_size"] <= 0:
        raise ConfigError(settings_file, "dashboard.page_size", "must be greater than 0")
    labels = {}
    for i, e in enumerate(topics):
        v = validate(TOPIC, e, topics_file, f"topic[{e.get('id', i)}]")
        labels[v["id"]] = dict(v["label"])
    return DashboardSettings(dash["timezone"], dash["editor_tokens_env"], dash["page_size"],
                             labels, tuple(str(d) for d in dirs))
