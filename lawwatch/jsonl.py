"""Reading JSON-lines input for `lawwatch classify`, with errors that name file, line, field."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

# A news article is a few KB; the longest legal acts are a few hundred KB. 2 MB of text per
# item is generous and still bounds memory when a wrong file is passed by mistake.
MAX_TEXT_CHARS = 2_000_000
MAX_LINE_BYTES = 8_000_000
OPTIONAL_STR = ("title", "url", "lang", "published", "id")


class InputError(ValueError):
    """Bad input; message names the file, line and field."""


def read_items(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield validated items from a JSON-lines file ('-' for stdin)."""
    import sys
    name = str(path)
    if name == "-":
        fh = sys.stdin.buffer
    else:
        p = Path(path)
        if not p.exists():
            raise InputError(f"{name}: no such file")
        if p.is_dir():
            raise InputError(f"{name}: is a directory, expected a JSON-lines file")
        fh = p.open("rb")
    try:
        for lineno, raw in enumerate(fh, 1):
            if len(raw) > MAX_LINE_BYTES:
                raise InputError(f"{name}:{lineno}: line is {len(raw)} bytes; the limit is "
                                 f"{MAX_LINE_BYTES} (one JSON object per line expected)")
            if b"\x00" in raw:
                raise InputError(f"{name}:{lineno}: binary data (NUL byte); expected JSON lines")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}:{lineno}: not UTF-8 text ({exc.reason} at byte "
                                 f"{exc.start})") from None
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{name}:{lineno}: not valid JSON: {exc.msg} (column "
                                 f"{exc.colno})") from None
            yield validate_item(item, f"{name}:{lineno}")
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def validate_item(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(item).__name__}")
    if "text" not in item:
        raise InputError(f"{where}: field 'text' is missing")
    if not isinstance(item["text"], str):
        raise InputError(f"{where}: field 'text' must be a string, got {type(item['text']).__name__}")
    if len(item["text"]) > MAX_TEXT_CHARS:
        raise InputError(f"{where}: field 'text' has {len(item['text'])} characters; the limit "
                         f"is {MAX_TEXT_CHARS}")
    for key in OPTIONAL_STR:
        if key in item and item[key] is not None and not isinstance(item[key], str):
            raise InputError(f"{where}: field {key!r} must be a string or null, got "
                             f"{type(item[key]).__name__}")
    return item
