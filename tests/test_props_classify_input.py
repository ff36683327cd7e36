"""Property tests: `lawwatch.jsonl.read_items` on fuzzed JSON lines yields the valid items or
raises InputError naming `file:line` of the first bad line (never another exception); and
`lawwatch classify --input F` on binary / oversized input exits 2 with that message and no
traceback (docs/design.md "CLI": input is validated in full before any output)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lawwatch.jsonl import MAX_LINE_BYTES, MAX_TEXT_CHARS, InputError, read_items

ROOT = Path(__file__).resolve().parents[1]
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text)
json_values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=3),
                                                         st.dictionaries(text, c, max_size=3)),
                           max_leaves=8)
OPTIONAL = ("title", "url", "lang", "published", "id")

valid_items = st.builds(
    lambda t, opt, extra: {"text": t, **opt, **extra}, text,
    st.fixed_dictionaries({}, optional={k: st.one_of(st.none(), text) for k in OPTIONAL}),
    st.dictionaries(text.filter(lambda k: k not in OPTIONAL and k != "text"), json_values,
                    max_size=2))


def _dump(v) -> bytes:
    return json.dumps(v, ensure_ascii=False).encode("utf-8")


# (raw line without newline, is_valid, is_blank)
valid_line = valid_items.map(lambda v: (_dump(v), True, False))
blank_line = st.sampled_from([b"", b"   ", b"\t", b" \r"]).map(lambda b: (b, True, True))
invalid_line = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)).map(_dump),          # not an object
    st.dictionaries(text.filter(lambda k: k != "text"), json_values, max_size=3).map(_dump),
    st.tuples(valid_items, json_values.filter(lambda v: not isinstance(v, str)))
    .map(lambda p: _dump({**p[0], "text": p[1]})),                              # text not str
    st.tuples(valid_items, st.sampled_from(OPTIONAL),
              json_values.filter(lambda v: v is not None and not isinstance(v, str)))
    .map(lambda p: _dump({**p[0], p[1]: p[2]})),                                # bad optional
    st.binary(min_size=1, max_size=40).filter(lambda b: b"\n" not in b)
    .map(lambda b: b"\xff" + b),                                                # not UTF-8
    valid_items.map(lambda v: _dump(v)[:-1] + b"\x00}"),                        # NUL byte
    valid_items.map(lambda v: _dump(v)[:-1]),                                   # truncated
    text.filter(lambda t: "\n" not in t and t.strip() and not _is_json(t))
    .map(lambda t: t.encode("utf-8")),                                          # not JSON
).map(lambda b: (b, False, False))


def _is_json(t: str) -> bool:
    try:
        json.loads(t)
        return True
    except ValueError:
        return False


def _write(lines: list[bytes], final_newline: bool) -> str:
    fd, name = tempfile.mkstemp(suffix=".jsonl")
    with os.fdopen(fd, "wb") as fh:
        fh.write(b"\n".join(lines) + (b"\n" if final_newline else b""))
    return name


@FAST
@given(lines=st.lists(st.one_of(valid_line, valid_line, blank_line, invalid_line), max_size=8),
       final_newline=st.booleans())
def test_read_items_items_or_input_error_naming_line(lines, final_newline):
    name = _write([b for b, _, _ in lines], final_newline)
    try:
        first_bad = next((i for i, (_, ok, _) in enumerate(lines, 1) if not ok), None)
        try:
            items = list(read_items(name))
        except InputError as exc:
            assert first_bad is not None, f"valid input rejected: {exc}"
            assert str(exc).startswith(f"{name}:{first_bad}: "), str(exc)
            return
        assert first_bad is None, f"line {first_bad} accepted: {lines[first_bad - 1][0][:80]!r}"
        expected = [json.loads(b) for b, ok, blank in lines if not blank]
        assert items == expected or json.dumps(items, sort_keys=True, default=str) == \
            json.dumps(expected, sort_keys=True, default=str)  # NaN != NaN
        assert all(isinstance(i, dict) and isinstance(i["text"], str) for i in items)
    finally:
        os.unlink(name)


@FAST
@given(data=st.binary(max_size=2000))
def test_read_items_on_arbitrary_bytes(data):
    name = _write([data], False)
    try:
        try:
            items = list(read_items(name))
        except InputError as exc:
            assert str(exc).startswith(f"{name}:"), str(exc)
            return
        assert all(isinstance(i, dict) and isinstance(i["text"], str) for i in items)
    finally:
        os.unlink(name)


def test_huge_line_and_huge_text(tmp_path):
    p = tmp_path / "huge.jsonl"
    p.write_bytes(b'{"text": "ok"}\n' + b'{"text": "' + b"a" * MAX_LINE_BYTES + b'"}\n')
    with pytest.raises(InputError, match=rf"^{p}:2: line is \d+ bytes"):
        list(read_items(p))
    p.write_bytes(b'{"text": "' + b"a" * (MAX_TEXT_CHARS + 1) + b'"}\n')
    with pytest.raises(InputError, match=rf"^{p}:1: field 'text' has"):
        list(read_items(p))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(read_items(tmp_path / "nope.jsonl"))
    with pytest.raises(InputError, match="is a directory"):
        list(read_items(tmp_path))


# -- CLI -----------------------------------------------------------------------------------

def _classify(path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    env.pop("LAWWATCH_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "lawwatch", "classify", "--input", str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kind", ["binary", "oversized"])
def test_cli_classify_bad_input_exits_2(tmp_path, kind):
    p = tmp_path / f"{kind}.jsonl"
    if kind == "binary":
        p.write_bytes(b'{"text": "fine"}\n' + b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(64))
        where = f"{p}:2:"
    else:
        p.write_bytes(b'{"text": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n')
        where = f"{p}:1:"
    r = _classify(p)
    assert r.returncode == 2, (r.returncode, r.stderr[-800:])
    assert where in r.stderr, r.stderr[-800:]
    assert "Traceback" not in r.stderr and r.stdout == ""
