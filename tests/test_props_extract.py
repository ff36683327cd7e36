"""Property tests: arbitrary HTML / bytes into the generic extractor and the charset decoder never
crash and give str outputs; `lawwatch extract` on unreadable files exits 2 naming the file, with
no traceback (docs/design.md "CLI": exit 2 = bad usage, config or input)."""
from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.charset import DECIDED_BY, DecodedText, decode_html
from crawler.extract import ExtractedArticle, extract_article

ROOT = Path(__file__).resolve().parents[1]
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TAGS = ["p", "div", "article", "main", "span", "a", "h1", "h2", "li", "ul", "table", "tr", "td",
        "script", "style", "header", "footer", "nav", "aside", "title", "time", "meta", "br",
        "blockquote", "pre", "noscript", "iframe", "svg", "template"]
ATTRS = ['class="article"', 'class="content body"', 'id="main"', 'itemprop="articleBody"',
         'itemprop="author"', 'rel="canonical" href="https://24.kg/x/"', 'href="javascript:x"',
         'datetime="2024-01-01T00:00:00Z"', 'datetime="not a date"', 'lang="ru"',
         'property="og:title" content="T"', 'name="description" content="D"',
         'property="article:published_time" content="9999-99-99"', 'charset="koi8-r"',
         'type="application/ld+json"', 'hidden', '']
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
LD = st.sampled_from([
    '{"@type":"NewsArticle","headline":"H","articleBody":"' + "слово " * 60 + '"}',
    '{"@graph":[{"@type":["Article"],"author":[{"name":5},null,"x"],"datePublished":7}]}',
    '[1,2,{"@type":"Article","publisher":{"name":[]},"inLanguage":{"x":1}}]',
    '{"@type":"Article","articleBody":["&lt;p&gt;' + "x" * 250 + '&lt;/p&gt;", 5]}',
    "{not json", "[" * 3000 + "]" * 3000, '{"@type":"Article","headline":{"@value":1}}'])


def html_tree():
    leaf = st.one_of(texts.map(lambda t: t.replace("<", "&lt;")), LD.map(
        lambda j: f'<script type="application/ld+json">{j}</script>'))

    def node(children):
        return st.builds(lambda tag, attr, kids: f"<{tag} {attr}>{''.join(kids)}</{tag}>",
                         st.sampled_from(TAGS), st.sampled_from(ATTRS),
                         st.lists(children, max_size=4))
    return st.recursive(leaf, node, max_leaves=25)


@st.composite
def html_docs(draw):
    body = draw(html_tree())
    doc = f"<!doctype html><html><head><title>{draw(texts)}</title></head><body>{body}</body></html>"
    cut = draw(st.sampled_from(["none", "truncate", "nest"]))
    if cut == "truncate":
        doc = doc[:draw(st.integers(0, len(doc)))]
    elif cut == "nest":
        depth = draw(st.integers(1, 3000))
        doc = doc.replace("<body>", "<body>" + "<div>" * depth + "<p>deep</p>" + "</div>" * depth)
    return doc


def check_article(a: ExtractedArticle) -> None:
    assert isinstance(a, ExtractedArticle)
    assert isinstance(a.text, str)
    for v in (a.url, a.title, a.published, a.modified, a.description, a.lang, a.site_name):
        assert v is None or isinstance(v, str), repr(v)
    assert all(isinstance(x, str) for x in a.authors)
    assert isinstance(a.has_article, bool)


@FAST
@given(html=html_docs(), url=st.one_of(st.none(), st.just("https://example.org/a/b"),
                                       texts.map(lambda t: "http://x/" + t)))
def test_extract_article_on_random_html(html, url):
    check_article(extract_article(html, url))


@FAST
@given(data=st.one_of(st.binary(max_size=4000), html_docs().map(lambda h: h.encode("utf-8"))),
       ctype=st.one_of(st.none(), st.sampled_from(["text/html", "text/html; charset=utf-8",
                                                   "text/html; charset=windows-1251",
                                                   "text/html; charset=bogus",
                                                   "text/html; charset=utf-16", "charset=",
                                                   "text/html; charset=\"koi8-r"])))
def test_extract_article_on_bytes(data, ctype):
    check_article(extract_article(data, "https://example.org/", ctype))


CHARSETS = ["utf-8", "cp1251", "koi8-r", "latin-1", "utf-16", "utf-16-le", "utf-32", "cp866",
            "iso8859-5", "mac-cyrillic", "shift_jis", "big5", "ascii", "bogus", ""]


@st.composite
def encoded_pages(draw):
    text = draw(st.one_of(texts, st.just("Граждане Киргизии, въезжающие в Россию " * 5)))
    enc = draw(st.sampled_from([c for c in CHARSETS if c not in ("bogus", "")]))
    declared = draw(st.sampled_from(CHARSETS))
    meta = f'<meta charset="{declared}">' if draw(st.booleans()) else ""
    raw = f"<html><head>{meta}</head><body><p>{text}</p></body></html>".encode(enc, "replace")
    if draw(st.booleans()):
        raw = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
                                    b"\xff\xfe\x00\x00"])) + raw
    if draw(st.booleans()) and raw:
        raw = raw[:draw(st.integers(0, len(raw)))]
    return raw


@FAST
@given(body=st.one_of(st.binary(max_size=3000), encoded_pages()),
       ctype=st.one_of(st.none(), st.sampled_from(CHARSETS).map(lambda c: f"text/html; charset={c}"),
                       texts))
def test_decode_html_total(body, ctype):
    d = decode_html(body, ctype)
    assert isinstance(d, DecodedText)
    assert isinstance(d.text, str) and isinstance(d.encoding, str) and d.encoding
    assert d.decided_by in DECIDED_BY
    d.text.encode("utf-8")  # no lone surrogates leak out


# ---------------------------------------------------------------------------------------------
# `lawwatch extract FILE` on unreadable files: exit 2, file named, no traceback

def _run_extract(path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "lawwatch", "extract", str(path)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def _bad_files(tmp: Path) -> dict[str, Path]:
    files = {
        "png.html": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        "elf.html": b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64 + os.urandom(512),
        "corrupt.html.gz": b"\x1f\x8b\x08\x00garbage-not-deflate",
        "truncated.html.gz": gzip.compress(b"<html><p>" + b"x" * 10_000 + b"</p></html>")[:40],
        "bomb.html.gz": gzip.compress(b"<p>" + b"a" * 50_000_001, 1),   # over the 50 MB cap
        "binary.html.gz": gzip.compress(b"\x00\x01\x02\x03" * 2000),
    }
    out = {}
    for name, data in files.items():
        p = tmp / name
        p.write_bytes(data)
        out[name] = p
    return out


@pytest.mark.parametrize("name", ["png.html", "elf.html", "truncated.html.gz", "bomb.html.gz",
                                  "binary.html.gz", "missing.html", "a_dir",
                                  "corrupt.html.gz"])
def test_cli_extract_bad_file_exits_2(tmp_path, name):
    files = _bad_files(tmp_path)
    (tmp_path / "a_dir").mkdir()
    path = files.get(name, tmp_path / name)
    r = _run_extract(path)
    assert r.returncode == 2, (r.returncode, r.stdout[:300], r.stderr[-1000:])
    assert str(path) in r.stderr
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert r.stdout.strip() == ""


def test_cli_extract_empty_file_exits_2(tmp_path):
    p = tmp_path / "empty.html"
    p.write_bytes(b"")
    r = _run_extract(p)
    assert r.returncode == 2 and str(p) in r.stderr and "Traceback" not in r.stderr
