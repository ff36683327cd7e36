"""Config schema for alerts, delivery channels and the API (settings.toml)."""
from typing import Any

from lawwatch.schema import (REQUIRED, Field, ListOf, Table, http_url, positive,
                             unit_interval, validate)

_KINDS = ("rule_review", "source_silent", "needs_human")


def _empty_list() -> list:
    return []

ALERTS = Table({
    "match_threshold": Field(float, 0.35, check=unit_interval,
                             help="minimum rule/development similarity to raise a review alert"),
    "require_change": Field(bool, True, help="only developments that report a rule change"),
    "relative_margin": Field(float, 0.1, check=unit_interval,
                             help="per development, review only rules whose similarity is within "
                                  "this of the best-matching rule's"),
    "max_rules_per_development": Field(int, 3, check=positive,
                                       help="at most this many rule reviews per development"),
    "embed_backend": Field(str, "use", help="classify.embed backend for rule/evidence "
                                            "similarity; 'use' is multilingual (rules are en+ru)"),
    "max_evidence": Field(int, 5, check=positive,
                          help="evidence snippets quoted in an alert (best-matching first)"),
    "max_snippets": Field(int, 60, check=positive,
                          help="snippets of one development compared with a rule"),
    "review_window_days": Field(int, 90, check=positive,
                                help="review_rule without `since` looks back this far (or to the "
                                     "rule's last_reviewed when that is later)"),
})

SMTP = Table({
    "host": Field(str, "localhost"),
    "port": Field(int, 25, check=positive),
    "sender": Field(str, "lawwatch@localhost"),
    "starttls": Field(bool, False),
    "username": Field(str, ""),
    "password_env": Field(str, "", help="environment variable holding the SMTP password"),
    "timeout_s": Field(float, 15.0, check=positive),
}, default=dict)

SUBSCRIBER = Table({
    "email": Field(str),
    "mode": Field(str, "immediate", choices=("immediate", "digest")),
    "topics": ListOf(str, default=_empty_list),
    "rules": ListOf(str, default=_empty_list),
    "kinds": ListOf(Field(str, choices=_KINDS), default=lambda: list(_KINDS)),
})

WEBHOOK = Table({
    "url": Field(str, check=http_url),
    "secret_env": Field(str, help="environment variable holding the HMAC-SHA256 secret"),
    "topics": ListOf(str, default=_empty_list),
    "rules": ListOf(str, default=_empty_list),
    "kinds": ListOf(Field(str, choices=_KINDS), default=lambda: list(_KINDS)),
    "max_attempts": Field(int, 8, check=positive),
    "timeout_s": Field(float, 10.0, check=positive),
})

API = Table({
    "read_tokens_env": Field(str, "LAWWATCH_READ_TOKENS", help="comma-separated tokens"),
    "write_tokens_env": Field(str, "LAWWATCH_WRITE_TOKENS"),
    "public_base_url": Field(str, "http://127.0.0.1:8800"),
    "page_size": Field(int, 100, check=positive),
}, default=dict)

DELIVERY = Table({
    "backoff_base_s": Field(float, 30.0, check=positive),
    "backoff_cap_s": Field(float, 3600.0, check=positive),
    "digest_hour_utc": Field(int, 6, check=lambda v: None if 0 <= v <= 23 else "must be 0..23"),
    "max_attempts": Field(int, 8, check=positive, help="email attempts before a delivery is dead "
                                                       "(webhooks have their own max_attempts)"),
}, default=dict)

def _jurisdiction(v: str) -> str | None:
    return None if v in ("RU", "KG", "EAEU", "KZ", "BY", "AM") else \
        "must be one of RU, KG, EAEU, KZ, BY, AM"


RULE = Table({
    "id": Field(str),
    "statement_en": Field(str),
    "statement_ru": Field(str, ""),
    "topics": ListOf(str),
    "jurisdiction": Field(str, "RU", check=_jurisdiction),
    "effective_from": Field(__import__("datetime").date, None),
    "source_url": Field(str, ""),
    "owner": Field(str, "guide-editors"),
    "last_reviewed": Field(__import__("datetime").date, None),
    "active": Field(bool, True),
})


# Tables that may be omitted: fill their defaults by validating an empty table. (`default=dict`
# would store the `dict` type itself, see _empty_list.)
SMTP.default = lambda: validate(SMTP, {}, "settings.toml", "smtp")
API.default = lambda: validate(API, {}, "settings.toml", "api")
DELIVERY.default = lambda: validate(DELIVERY, {}, "settings.toml", "delivery")
ALERTS.default = lambda: validate(ALERTS, {}, "settings.toml", "alerts")

_SECTIONS = {"alerts": ALERTS, "smtp": SMTP, "api": API, "delivery": DELIVERY}


def section(cfg: Any, name: str) -> dict:
    """Settings table `name` ("alerts", "smtp", "api", "delivery", or any other, e.g. "crawl")
    with defaults filled, whatever the loader stored for an omitted table."""
    settings = cfg.settings if hasattr(cfg, "settings") else cfg
    value = settings.get(name)
    spec = _SECTIONS.get(name)
    if spec is None and name in ("subscriber", "webhook"):
        return value if isinstance(value, list) else []  # type: ignore[return-value]
    if isinstance(value, dict):
        return validate(spec, value, "settings.toml", name) if spec is not None else value
    if spec is not None:
        return validate(spec, {}, "settings.toml", name)
    if name == "crawl":
        from crawler.config_schema import CRAWL
        return validate(CRAWL, {}, "settings.toml", name)
    return {}


def entries(cfg: Any, name: str) -> list[dict]:
    """[[subscriber]] / [[webhook]] entries (an omitted list may be stored as the `list` type)."""
    settings = cfg.settings if hasattr(cfg, "settings") else cfg
    value = settings.get(name)
    return value if isinstance(value, list) else []


__all__ = ["ALERTS", "SMTP", "SUBSCRIBER", "WEBHOOK", "API", "DELIVERY", "RULE", "REQUIRED",
           "section", "entries"]
