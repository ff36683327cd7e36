"""Load and validate config/*.toml, with an optional user directory overlaying the defaults.

- settings.toml: deep-merged; a user file overrides only the keys it names.
- sources.toml / topics.toml / rules.toml: entries keyed by `id`; a user entry with a known id
  overlays that entry, a new id is added; `replace = true` at the top of a user file makes its
  entries the complete set. Unknown keys are errors that name the file and key.
"""
from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerts.config_schema import ALERTS, API, DELIVERY, RULE, SMTP, SUBSCRIBER, WEBHOOK
from classify.config_schema import CLASSIFY, DEVELOPMENTS, TOPIC
from crawler.config_schema import CRAWL, SOURCE
from dashboard.config_schema import DASHBOARD
from lawwatch.schema import ConfigError, Field, ListOf, Table, validate

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_DIR = REPO_ROOT / "config"

TOPIC_IDS = ("chi", "biometrics", "entry_ban", "eaeu_court", "registration", "work_permit",
             "amina_app")

SETTINGS = Table({
    "store": Table({"path": Field(str, "data/lawwatch.duckdb")}, default=dict),
    "crawl": CRAWL,
    "classify": CLASSIFY,
    "developments": DEVELOPMENTS,
    "alerts": ALERTS,
    "smtp": SMTP,
    "subscriber": ListOf(SUBSCRIBER, default=list),
    "webhook": ListOf(WEBHOOK, default=list),
    "api": API,
    "delivery": DELIVERY,
    "dashboard": DASHBOARD,
})
# Tables with only defaulted keys may be omitted entirely.
for _name in ("crawl", "classify", "developments", "alerts"):
    SETTINGS.fields[_name].default = dict

ENTRY_FILES = {"sources.toml": ("source", SOURCE), "topics.toml": ("topic", TOPIC),
               "rules.toml": ("rule", RULE)}


@dataclass
class Config:
    settings: dict[str, Any]
    sources: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    dirs: list[Path] = field(default_factory=list)

    def source(self, source_id: str) -> dict[str, Any]:
        for s in self.sources:
            if s["id"] == source_id:
                return s
        raise KeyError(source_id)

    @property
    def topic_ids(self) -> list[str]:
        return [t["id"] for t in self.topics]

    def resolve_path(self, p: str) -> Path:
        """Relative paths in settings are relative to the working directory."""
        return Path(p).expanduser()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "", f"not UTF-8 text (byte {exc.start}): TOML files "
                                         f"must be UTF-8") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}") from None


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _check_entry(e: Any, i: int, file: str, key: str) -> None:
    if not isinstance(e, dict):
        raise ConfigError(file, f"{key}[{i}]", f"expected a [[{key}]] table")
    if "id" not in e:
        raise ConfigError(file, f"{key}[{i}].id", "required key is missing")
    if not isinstance(e["id"], str):
        raise ConfigError(file, f"{key}[{i}].id", f"expected a string, got {e['id']!r}")


def _merge_entries(base: list[dict], over: list[dict], file: str, key: str) -> list[dict]:
    out = [copy.deepcopy(e) for e in base]
    index = {e.get("id"): i for i, e in enumerate(out)}
    for i, e in enumerate(over):
        _check_entry(e, i, file, key)
        if e["id"] in index:
            out[index[e["id"]]] = _deep_merge(out[index[e["id"]]], e)
        else:
            index[e["id"]] = len(out)
            out.append(copy.deepcopy(e))
    return out


def load_config(user_dir: str | Path | None = None) -> Config:
    """Load defaults from the repo's config/ and overlay `user_dir` (or $LAWWATCH_CONFIG)."""
    dirs = [DEFAULT_CONFIG_DIR]
    user_dir = user_dir or os.environ.get("LAWWATCH_CONFIG") or None
    if user_dir is not None:
        u = Path(user_dir)
        if not u.is_dir():
            raise ConfigError(str(u), "", "config directory does not exist")
        if u.resolve() != DEFAULT_CONFIG_DIR.resolve():
            dirs.append(u)

    raw_settings: dict[str, Any] = {}
    settings_file = "settings.toml"
    for d in dirs:
        p = d / "settings.toml"
        if p.exists():
            raw_settings = _deep_merge(raw_settings, _read_toml(p))
            settings_file = str(p)
    settings = validate(SETTINGS, raw_settings, settings_file, "")

    entries: dict[str, list[dict]] = {}
    for fname, (key, spec) in ENTRY_FILES.items():
        merged: list[dict] = []
        last_file = fname
        for d in dirs:
            p = d / fname
            if not p.exists():
                continue
            data = _read_toml(p)
            extra = [k for k in data if k not in (key, "replace")]
            if extra:
                raise ConfigError(str(p), extra[0], f"unknown top-level key; expected [[{key}]] "
                                                    f"entries and optionally replace = true")
            items = data.get(key, [])
            if not isinstance(items, list):
                raise ConfigError(str(p), key, f"expected [[{key}]] entries")
            if "replace" in data and not isinstance(data["replace"], bool):
                raise ConfigError(str(p), "replace", f"expected true/false, got {data['replace']!r}")
            if data.get("replace"):
                for i, e in enumerate(items):
                    _check_entry(e, i, str(p), key)
                merged = [copy.deepcopy(e) for e in items]
            else:
                merged = _merge_entries(merged, items, str(p), key)
            last_file = str(p)
        validated = [validate(spec, e, last_file, f"{key}[{e.get('id', i)}]")
                     for i, e in enumerate(merged)]
        ids = [e["id"] for e in validated]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ConfigError(last_file, f"{key}.id", f"duplicate id(s): {', '.join(sorted(dup))}")
        entries[key] = validated

    cfg = Config(settings, entries["source"], entries["topic"], entries["rule"], dirs)
    _cross_check(cfg)
    return cfg


def _cross_check(cfg: Config) -> None:
    topics = set(cfg.topic_ids)
    for r in cfg.rules:
        for t in r["topics"]:
            if t not in topics:
                raise ConfigError("rules.toml", f"rule[{r['id']}].topics",
                                  f"unknown topic {t!r}; known topics: {', '.join(sorted(topics))}")
    for s in cfg.settings["subscriber"]:
        for t in s["topics"]:
            if t not in topics:
                raise ConfigError("settings.toml", f"subscriber[{s['email']}].topics",
                                  f"unknown topic {t!r}")
    from crawler.sources import available_adapters  # late: adapters import config-free modules
    adapters = available_adapters()
    for s in cfg.sources:
        if s["adapter"] not in adapters:
            raise ConfigError("sources.toml", f"source[{s['id']}].adapter",
                              f"unknown adapter {s['adapter']!r}; available: {', '.join(sorted(adapters))}")
