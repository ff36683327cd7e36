"""A small typed schema for TOML config: required/optional keys, types, choices, checks.

Validation errors name the file, the dotted key and what is wrong (urlwatch does the same for
its job kinds: unknown keys are listed beside the supported ones).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Callable

REQUIRED = object()


class ConfigError(ValueError):
    """Bad configuration. `str()` names the file, key and problem; the CLI exits 2."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


@dataclass
class Field:
    type: Any                      # python type, tuple of types, or "list[str]" style via ListOf
    default: Any = REQUIRED
    choices: tuple | None = None
    check: Callable[[Any], str | None] | None = None   # returns an error text or None
    help: str = ""


@dataclass
class ListOf:
    item: Any                      # a python type or a Table
    default: Any = REQUIRED
    help: str = ""


@dataclass
class Table:
    fields: dict[str, Any]
    open: bool = False             # True: unknown keys allowed (free-form mapping)
    default: Any = REQUIRED
    help: str = ""
    values: Any = None             # for open tables: Field/ListOf every value must satisfy


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true/false",
               dict: "a table", list: "a list", _dt.date: "a date (YYYY-MM-DD)"}


def _type_name(t: Any) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return _TYPE_NAMES.get(t, getattr(t, "__name__", str(t)))


def _check_type(value: Any, t: Any) -> bool:
    if t is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if t is _dt.date:
        return isinstance(value, _dt.date) and not isinstance(value, _dt.datetime)
    if isinstance(t, tuple):
        return any(_check_type(value, x) for x in t)
    return isinstance(value, t)


def validate(spec: Any, value: Any, file: str, key: str) -> Any:
    """Validate `value` against `spec`, filling defaults; returns the normalised value."""
    if isinstance(spec, Table):
        if not isinstance(value, dict):
            raise ConfigError(file, key, f"expected a table, got {type(value).__name__}")
        out: dict[str, Any] = {}
        unknown = [k for k in value if k not in spec.fields]
        if unknown and not spec.open:
            supported = ", ".join(sorted(spec.fields)) or "(none)"
            raise ConfigError(file, _join(key, unknown[0]),
                              f"unknown key; supported keys here: {supported}")
        for name, sub in spec.fields.items():
            k = _join(key, name)
            if name in value:
                out[name] = validate(sub, value[name], file, k)
            else:
                default = getattr(sub, "default", REQUIRED)
                if default is REQUIRED:
                    raise ConfigError(file, k, "required key is missing")
                # list/dict/lambda defaults are factories: a fresh value per use
                out[name] = default() if callable(default) else default
        if spec.open:
            for name in unknown:
                out[name] = (validate(spec.values, value[name], file, _join(key, name))
                             if spec.values is not None else value[name])
        return out
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise ConfigError(file, key, f"expected a list, got {type(value).__name__}")
        return [validate(spec.item if isinstance(spec.item, (Table, ListOf, Field))
                         else Field(spec.item), v, file, f"{key}[{i}]")
                for i, v in enumerate(value)]
    if isinstance(spec, Field):
        if not _check_type(value, spec.type):
            raise ConfigError(file, key, f"expected {_type_name(spec.type)}, got {value!r}")
        if spec.choices is not None and value not in spec.choices:
            raise ConfigError(file, key, f"{value!r} is not one of {', '.join(map(str, spec.choices))}")
        if spec.check is not None:
            problem = spec.check(value)
            if problem:
                raise ConfigError(file, key, problem)
        if spec.type is float:
            try:
                return float(value)
            except OverflowError:
                raise ConfigError(file, key, f"number too large: {str(value)[:20]}...") from None
        return value
    raise TypeError(f"bad schema node at {key}: {spec!r}")


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


# -- common checks ---------------------------------------------------------------------
def positive(v: Any) -> str | None:
    return None if v > 0 else "must be greater than 0"


def non_negative(v: Any) -> str | None:
    return None if v >= 0 else "must be 0 or more"


def unit_interval(v: Any) -> str | None:
    return None if 0.0 <= v <= 1.0 else "must be between 0 and 1"


def http_url(v: str) -> str | None:
    return None if v.startswith(("http://", "https://")) else "must be an http(s) URL"


def parse_duration(text: str) -> float:
    """'30m' -> 1800.0 seconds; accepts s, m, h, d suffixes or a bare number of seconds."""
    t = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if t and t[-1] in units:
            value = float(t[:-1]) * units[t[-1]]
        else:
            value = float(t)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration like 90s, 30m, 6h or 1d") from None
    if value <= 0:
        raise ValueError(f"{text!r}: a duration must be greater than 0")
    return value


def duration(v: str) -> str | None:
    try:
        parse_duration(v)
    except ValueError as exc:
        return str(exc)
    return None
