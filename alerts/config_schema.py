"""Config schema for alerts, delivery channels and the API (settings.toml)."""
from lawwatch.schema import Field, ListOf, Table, http_url, non_negative, positive, unit_interval

ALERTS = Table({
    "match_threshold": Field(float, 0.35, check=unit_interval,
                             help="minimum rule/development similarity to raise a review alert"),
    "require_change": Field(bool, True, help="only developments that report a rule change"),
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
    "topics": ListOf(str, default=list),
    "rules": ListOf(str, default=list),
    "kinds": ListOf(str, default=lambda: ["rule_review", "source_silent", "needs_human"]),
})

WEBHOOK = Table({
    "url": Field(str, check=http_url),
    "secret_env": Field(str, help="environment variable holding the HMAC-SHA256 secret"),
    "topics": ListOf(str, default=list),
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
    "digest_hour_utc": Field(int, 6, check=non_negative),
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
