"""Fast generic article extractor (selectolax / lexbor).

``extract_article(html, url=None, content_type=None) -> ExtractedArticle``

Metadata comes from JSON-LD, OpenGraph / article:* / itemprop / <time>, and
<html lang>.  The body is found with a content-scoring pass in the spirit of
Readability (paragraph text, commas, link density, class/id hints), after
dropping obvious chrome (scripts, nav, footer, aside, forms of widgets ...),
followed by boilerplate removal inside the chosen content (share/related/
newsletter/comment boxes, "Read also" / "Читайте также" boxes, link lists).
A JSON-LD ``articleBody`` is used instead when it is long enough relative to
what the DOM gives.

When no article is found, ``text`` is ``""`` (never an exception for HTML
input); callers should treat short/empty text as "no article".
"""

from __future__ import annotations

import datetime as _dt
import heapq
import html as html_lib
import json
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["ExtractedArticle", "extract_article", "detect_lang"]


@dataclass
class ExtractedArticle:
    url: str | None
    title: str | None
    text: str
    published: str | None = None
    modified: str | None = None
    authors: list[str] = field(default_factory=list)
    description: str | None = None
    lang: str | None = None
    site_name: str | None = None
    metadata_source: dict[str, str] = field(default_factory=dict)

    @property
    def has_article(self) -> bool:
        return len(self.text) >= 200


# --------------------------------------------------------------------------
# language guess

_KY_LETTERS = frozenset("ңөүҢӨҮ")
_KK_LETTERS = frozenset("әғқұһіӘҒҚҰҺІ")


_CYR_RE = re.compile(r"[\u0400-\u04ff]")
_LAT_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")
_ALPHA_OTHER_RE = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u0400-\u04ff]")


def detect_lang(text: str) -> str:
    """Cheap script-based language guess.

    Cyrillic with Kyrgyz letters (ң ө ү) -> "ky" (Kazakh-only letters such as
    ә қ ғ ұ і -> "kk"), other Cyrillic -> "ru", Latin -> "en", otherwise "und".
    """
    sample = text[:20000] if text else ""
    cyr = len(_CYR_RE.findall(sample))
    lat = len(_LAT_RE.findall(sample))
    other = len(_ALPHA_OTHER_RE.findall(sample))
    if cyr and cyr >= lat and cyr >= other:
        ky = sum(sample.count(ch) for ch in _KY_LETTERS)
        kk = sum(sample.count(ch) for ch in _KK_LETTERS)
        if kk >= 3 and kk > ky * 0.5:
            return "kk"
        if ky >= 2 or (ky and ky / cyr > 0.003):
            return "ky"
        return "ru"
    if lat and lat >= other:
        return "en"
    return "und"


# --------------------------------------------------------------------------
# helpers

_MARK = "\ue000"

_JUNK_TAGS = [
    "script", "style", "noscript", "svg", "iframe", "template", "button", "select",
    "input", "textarea", "object", "embed", "canvas", "map", "audio", "video", "picture",
    "img", "head", "link", "meta",
]
_JUNK_SET = frozenset(_JUNK_TAGS)
_CHROME_TAGS = ["nav", "footer", "aside", "menu", "dialog", "noscript"]
_CHROME_SET = frozenset(_CHROME_TAGS)

_BLOCK_SELECTOR = (
    "p,div,section,article,main,h1,h2,h3,h4,h5,h6,li,ul,ol,dl,dt,dd,blockquote,pre,"
    "table,tr,td,th,br,hr,figure,figcaption,header,address,details,summary,center"
)

_BLOCK_TAGS = frozenset(t.strip() for t in _BLOCK_SELECTOR.split(","))

_POSITIVE_RE = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|prose|"
    r"story|news|detail|single|paragraph|lead|rich|column",
    re.I,
)
_NEGATIVE_RE = re.compile(
    r"hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|footnote|gdpr|"
    r"masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|"
    r"sponsor|shopping|tags|tool|widget|social|subscri|newsletter|cookie|consent|popup|modal|"
    r"breadcrumb|pagination|pager|byline|author|caption|advert|recommend|trending|"
    r"most-?popular|teaser|nav|menu|signup|login|disqus|taboola|read-?more|readmore|"
    r"also|more-?stories|next-?article|prev|print|rating|copyright|credit|sharing",
    re.I,
)
# Boilerplate containers removed inside the content (class/id tokens).
_BOILER_RE = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|social|sociallinks|related|relatedposts|recommend\w*|"
    r"newsletter|subscribe|subscription|signup|comments?|disqus|cookie\w*|consent|gdpr|"
    r"promo|advert\w*|ads?|adv|adslot|ad-slot|banner|sponsor\w*|outbrain|taboola|"
    r"breadcrumbs?|pagination|pager|tags|tag-list|taglist|toolbar|tools|widget|"
    r"read-?also|readalso|see-?also|more-?stories|more-?articles|trending|popular|"
    r"most-?read|author-?bio|bio|byline|post-?meta|entry-?meta|article-?meta|meta|dateline|"
    r"caption|credit|copyright|print|rating|inline-?related|nav|navigation|menu|"
    r"sidebar|modal|popup|overlay|hidden|visually-?hidden|sr-only|screen-reader-text|"
    r"skip|jump|toc|timestamp|updated|published|date|video|gallery|slideshow|"
    r"newsletter-?signup|embed|tweet|instagram|facebook|twitter|whatsapp)(?:$|[\s_-])",
    re.I,
)
_READ_ALSO_RE = re.compile(
    r"^\s*(?:read\s+(?:also|more|next)|see\s+also|also\s+read|related(?:\s+(?:articles?|stories|news|content|coverage))?|"
    r"more\s+(?:on|from|about)\b|recommended(?:\s+for\s+you)?|you\s+may\s+also\s+like|"
    r"читайте\s+(?:также|по\s+теме|еще|ещё)|смотрите\s+также|см\.\s+также|по\s+теме|"
    r"подробнее|новости\s+по\s+теме|материалы\s+по\s+теме|"
    r"дагы\s+окуңуз|окуңуз|окуй|ошондой\s+эле\s+окуңуз|"
    r"lesen\s+sie\s+auch|lire\s+aussi|leggi\s+anche|lee\s+también|leia\s+também|"
    r"baca\s+juga)\s*[:.!»\-–—]*",
    re.I,
)
_SHORT_BOILER_PARA_RE = re.compile(
    r"^(?:advertisement|advertising|sponsored|share(?: this)?(?: article| story)?|"
    r"реклама|поделиться|подписывайтесь.*|подпишитесь.*|"
    r"click here.*|sign up.*|subscribe.*|follow us.*|image(?: source)?:.*|photo:.*|"
    r"getty images|ap photo.*|reuters|loading\.*|comments?|\d+ comments?)$",
    re.I,
)

_COMMA_CHARS = ",，、،"
_DEBUG: list | None = None  # set to a list to collect decisions (development aid)


def _clean(s: str | None) -> str:
    return " ".join(s.split()) if s else ""


def _attr_hint(node: LexborNode) -> str:
    a = node.attributes
    c = a.get("class") or ""
    i = a.get("id") or ""
    if c and i:
        return c + " " + i
    return c or i


def _class_weight(node: LexborNode) -> float:
    hint = _attr_hint(node)
    if not hint:
        return 0.0
    return _hint_weight(hint)


@lru_cache(maxsize=8192)
def _hint_weight(hint: str) -> float:
    w = 0.0
    if _NEGATIVE_RE.search(hint):
        w -= 25
    if _POSITIVE_RE.search(hint):
        w += 25
    return w


def _link_density(node: LexborNode, text_len: int | None = None) -> float:
    if text_len is None:
        text_len = len(node.text())
    if text_len <= 0:
        return 0.0
    links = 0
    for a in node.css("a"):
        links += len(a.text())
    return min(1.0, links / text_len)


# --------------------------------------------------------------------------
# dates

_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return _dt.datetime.fromtimestamp(value / (1000 if value > 1e11 else 1), _dt.timezone.utc).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    s = _clean(str(value))
    if not s:
        return None
    if _DATE_ONLY_RE.match(s):
        return s
    t = s.replace("Z", "+00:00") if s.endswith("Z") else s
    if " " in t and "T" not in t and re.match(r"^\d{4}-\d{2}-\d{2} \d", t):
        t = t.replace(" ", "T", 1)
    # "+0300" -> "+03:00"
    t = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", t)
    try:
        return _dt.datetime.fromisoformat(t).isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(s).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    m = re.match(r"^(\d{4}-\d{2}-\d{2})", s)
    if m:
        return m.group(1)
    for fmt in ("%d.%m.%Y, %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y/%m/%d", "%B %d, %Y", "%b %d, %Y"):
        try:
            d = _dt.datetime.strptime(s, fmt)
            return d.date().isoformat() if "%H" not in fmt else d.isoformat()
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------
# JSON-LD

_ARTICLE_TYPES = (
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "scholarlyarticle",
    "techarticle", "report", "liveblogposting", "posting", "socialmediaposting", "legislation",
)


def _ld_types(obj: dict) -> list[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return [t.lower()]
    if isinstance(t, list):
        return [x.lower() for x in t if isinstance(x, str)]
    return []


def _iter_ld(obj, depth: int = 0):
    if depth > 6:
        return
    if isinstance(obj, list):
        for x in obj:
            yield from _iter_ld(x, depth + 1)
    elif isinstance(obj, dict):
        yield obj
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in obj:
                yield from _iter_ld(obj[key], depth + 1)


def _json_ld_article(tree: LexborHTMLParser) -> dict:
    best: dict = {}
    best_rank = -1
    for node in tree.css('script[type="application/ld+json"]'):
        raw = node.text()
        if not raw or "{" not in raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            try:
                data = json.loads(re.sub(r"[\x00-\x1f]", " ", raw).strip().rstrip(";"))
            except ValueError:
                continue
        for obj in _iter_ld(data):
            types = _ld_types(obj)
            if any(t in _ARTICLE_TYPES or t.endswith("article") for t in types):
                rank = 3 if obj.get("articleBody") else 2
            elif "webpage" in types and obj.get("headline"):
                rank = 1
            else:
                continue
            if rank > best_rank:
                best, best_rank = obj, rank
    return best


def _ld_names(value) -> list[str]:
    out: list[str] = []
    if value is None:
        return out
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        n = value.get("name")
        if isinstance(n, str):
            out.append(n)
        elif isinstance(n, list):
            out.extend(x for x in n if isinstance(x, str))
    elif isinstance(value, list):
        for v in value:
            out.extend(_ld_names(v))
    return [_clean(x) for x in out if _clean(x)]


def _ld_str(value) -> str | None:
    if isinstance(value, str):
        return _clean(value) or None
    if isinstance(value, list) and value and isinstance(value[0], str):
        return _clean(value[0]) or None
    if isinstance(value, dict):
        for k in ("@id", "url", "name"):
            if isinstance(value.get(k), str):
                return _clean(value[k]) or None
    return None


# --------------------------------------------------------------------------
# metadata


def _meta_map(tree: LexborHTMLParser) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in tree.css("meta"):
        a = m.attributes
        content = a.get("content")
        if content is None:
            continue
        for k in ("property", "name", "itemprop"):
            key = a.get(k)
            if key:
                key = key.strip().lower()
                if key not in out:
                    out[key] = content.strip()
    return out


def _first(*pairs: tuple[str, object]) -> tuple[object | None, str | None]:
    for source, value in pairs:
        if value:
            return value, source
    return None, None


def _itemprop_value(tree: LexborHTMLParser, prop: str) -> str | None:
    node = tree.css_first(f'[itemprop="{prop}"]')
    if node is None:
        return None
    a = node.attrs
    return a.get("content") or a.get("datetime") or _clean(node.text()) or None


def _lang_code(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().replace("_", "-").split("-")[0].lower()
    return v if 2 <= len(v) <= 3 and v.isalpha() else None


# --------------------------------------------------------------------------
# body extraction


def _paragraph_score(text: str) -> float:
    n = len(text)
    commas = sum(text.count(c) for c in _COMMA_CHARS)
    return 1.0 + commas + min(n / 100.0, 3.0)


_TAG_WEIGHT = {
    "div": 5.0, "article": 8.0, "main": 5.0, "section": 3.0, "pre": 3.0, "td": 3.0, "blockquote": 3.0,
    "address": -3.0, "ol": -3.0, "ul": -3.0, "dl": -3.0, "dd": -3.0, "dt": -3.0, "li": -3.0,
    "form": -3.0, "h1": -5.0, "h2": -5.0, "h3": -5.0, "h4": -5.0, "h5": -5.0, "h6": -5.0, "th": -5.0,
}


_STOP_TAGS = frozenset(["html", "body", "-document", None])
_DIVIDERS = (1.0, 2.0, 6.0, 9.0, 12.0)


def _new_candidate(node: LexborNode, tag: str) -> list:
    """[node, score, direct paragraph text length, excluded?]"""
    a = node.attributes  # a plain dict: much cheaper than .attrs
    c = a.get("class") or ""
    i = a.get("id") or ""
    hint = (c + " " + i) if (c and i) else (c or i)
    weight = _TAG_WEIGHT.get(tag, 0.0)
    bad = tag in _CHROME_SET
    if hint:
        weight += _hint_weight(hint)
        bad = bad or _is_excluded_hint(hint)
    if not bad:
        st = a.get("style")
        bad = ("hidden" in a) or (st is not None and _DISPLAY_NONE_RE.search(st) is not None)
    return [node, weight, 0, bad]


@lru_cache(maxsize=8192)
def _is_excluded_hint(hint: str) -> bool:
    return _PRECLEAN_HINT_RE.search(hint) is not None and _ARTICLEISH_RE.search(hint) is None


def _score_candidates(root: LexborNode) -> tuple[dict[int, list], int]:
    """Readability-style scoring: returns {mem_id: candidate}, number of paragraphs.

    Paragraphs sitting (within 5 levels) in comment sections, hidden elements,
    nav/footer/aside ... give no score at all.
    """
    cands: dict[int, list] = {}
    n_par = 0
    stop = _STOP_TAGS
    new = _new_candidate
    # p-like elements; divs/tds/blockquotes count only for text they hold directly
    # (text in divs without <p>, br-separated text)
    elems = root.css("p, pre, div, td")
    for el in elems:
        tag = el.tag
        if tag != "p" and tag != "pre":
            # only count containers that hold their text directly
            text = el.text(deep=False, strip=True)
        else:
            text = el.text()
        tlen = len(text)
        if tlen < 25:
            continue
        chain = []
        node = el.parent
        bad = False
        while node is not None and len(chain) < 5:
            ntag = node.tag
            if ntag in stop:
                break
            key = node.mem_id
            c = cands.get(key)
            if c is None:
                c = new(node, ntag)
                cands[key] = c
            if c[3]:
                bad = True
                break
            chain.append(c)
            node = node.parent
        if bad or not chain:
            continue
        n_par += 1
        score = _paragraph_score(text)
        chain[0][2] += tlen
        for level, c in enumerate(chain):
            c[1] += score / _DIVIDERS[level]
    return cands, n_par


@lru_cache(maxsize=8192)
def _is_boiler_hint(hint: str) -> bool:
    if not _BOILER_RE.search(hint):
        return False
    return not (_POSITIVE_RE.search(hint) and not _NEGATIVE_RE.search(hint))


def _link_lengths(content: LexborNode) -> dict[int, int]:
    """Total anchor-text length per element (keyed by mem_id) inside ``content``."""
    acc: dict[int, int] = {}
    root_id = content.mem_id
    for a in content.css("a"):
        n_len = len(a.text())
        if not n_len:
            continue
        node = a
        while node is not None:
            mid = node.mem_id
            acc[mid] = acc.get(mid, 0) + n_len
            if mid == root_id:
                break
            node = node.parent
    return acc


_CONTENT_CLEAN_SELECTOR = "[class], [id], [style], [hidden], [itemprop], nav, footer, aside, noscript"


def _remove_boilerplate(content: LexborNode, total_len: int) -> None:
    """Remove share/related/comment/etc. boxes and link lists inside the content."""
    limit = max(200, total_len * 0.25)
    big = total_len * 0.5
    root_id = content.mem_id
    # one walk for chrome tags, hidden elements, microdata leftovers and
    # boilerplate class/id hints (share, related, comments, newsletter ...)
    for node in content.css(_CONTENT_CLEAN_SELECTOR):
        if node.mem_id == root_id or node.parent is None:
            continue
        if node.tag in _CHROME_SET:
            node.decompose()
            continue
        a = node.attributes
        drop = "hidden" in a
        if not drop:
            ip = a.get("itemprop")
            if ip is not None:
                drop = ip.lower() in _MICRODATA_DROP
            st = a.get("style")
            if st and not drop:
                drop = _DISPLAY_NONE_RE.search(st) is not None
        if drop:
            if len(node.text()) <= big:
                node.decompose()
            continue
        c = a.get("class") or ""
        i = a.get("id") or ""
        hint = (c + " " + i) if (c and i) else (c or i)
        if not hint:
            continue
        if _is_excluded_hint(hint):  # comments, cookie, newsletter sections
            if len(node.text()) <= big:
                node.decompose()
            continue
        if not _is_boiler_hint(hint):
            continue
        tlen = len(node.text())
        if tlen > limit:
            continue
        if _DEBUG is not None:
            _DEBUG.append(("boiler-class", hint[:60], tlen))
        node.decompose()
    # "Read also" boxes: headings/labels introducing a list of links
    for node in content.css("h2, h3, h4, h5, h6, strong"):
        if node.parent is None:
            continue
        text = node.text()
        if len(text) > 80 or not _READ_ALSO_RE.match(text):
            continue
        nxt = node.next
        while nxt is not None and not nxt.is_element_node:
            nxt = nxt.next
        if nxt is not None and nxt.tag in ("ul", "ol"):
            nxt.decompose()
        node.decompose()
    # link lists and link-heavy boxes
    links = _link_lengths(content)
    if not links:
        for node in content.css("p"):
            if not node.text().strip():
                node.decompose()
        return
    for node in content.css("ul, ol, div, section, table, p, dl"):
        if node.parent is None or node.mem_id == root_id:
            continue
        text = node.text()
        tlen = len(text)
        if node.tag == "p" and not text.strip():
            node.decompose()
            continue
        lk = links.get(node.mem_id, 0)
        if not lk or not tlen:
            continue
        ld = lk / tlen
        if node.tag == "p":
            if ld > 0.8 and tlen < 200:
                node.decompose()
        elif tlen < 300 and ld > 0.5 or ld > 0.65:
            if _DEBUG is not None:
                _DEBUG.append(("linkdense", node.tag, _attr_hint(node)[:50], tlen, round(ld, 2)))
            node.decompose()


def _text_blocks(content: LexborNode) -> list[str]:
    # a Python walk with a tag-set test beats a 30-group CSS selector here
    blocks = [n for n in content.traverse() if n.tag in _BLOCK_TAGS]
    block_tags = _BLOCK_TAGS
    for node in blocks:
        # a marker before the block is only needed when inline content precedes it
        prev = node.prev
        if prev is not None and (prev.tag not in block_tags):
            node.insert_before(_MARK)
        node.insert_after(_MARK)
    raw = content.text()
    out = []
    for chunk in raw.split(_MARK):
        t = _clean(chunk)
        if t:
            out.append(t)
    return out


def _filter_paragraphs(paras: list[str]) -> list[str]:
    out = []
    for p in paras:
        if len(p) < 60 and _SHORT_BOILER_PARA_RE.match(p):
            continue
        if len(p) < 200 and _READ_ALSO_RE.match(p) and (len(p) < 40 or ":" in p[:40]):
            continue
        out.append(p)
    return out


_MICRODATA_DROP = frozenset(
    ["datepublished", "datemodified", "datecreated", "keywords", "mainentityofpage", "publisher"]
)
_DISPLAY_NONE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_PRECLEAN_HINT_RE = re.compile(
    r"(?:^|[\s_-])(?:comments?|comment-?(?:list|area|section|s?wrap\w*|container|content|body|"
    r"thread|form|respond|block|list)|commentlist|disqus\w*|respond|cookie\w*|newsletter\w*)(?:$|[\s_-])",
    re.I,
)
_ARTICLEISH_RE = re.compile(r"article|post-?body|entry-content|story", re.I)
_CSS_TOKEN_RE = re.compile(r"^[A-Za-z_][\w-]*$")


def _ancestors(node: LexborNode) -> set[int]:
    out = set()
    n = node.parent
    while n is not None:
        out.add(n.mem_id)
        n = n.parent
    return out


def _good_ptext(node: LexborNode) -> int:
    """Length of paragraph text (p with low link density) in a subtree."""
    total = 0
    for p in node.css("p"):
        t = p.text()
        n = len(t)
        if n >= 40 and _link_density(p, n) < 0.4:
            total += n
    return total


def _same_signature_blocks(tree_root: LexborNode, top: LexborNode) -> list[LexborNode]:
    """Other blocks that look like continuations of the chosen one (same tag and a
    shared content-ish class token, e.g. several ``div.article-body-text``)."""
    cls = top.attrs.get("class") or ""
    tokens = [t for t in cls.split() if _CSS_TOKEN_RE.match(t) and _POSITIVE_RE.search(t)]
    if not tokens:
        tokens = [t for t in cls.split() if _CSS_TOKEN_RE.match(t)][:1] if cls.split() and len(cls.split()) == 1 else []
    if not tokens:
        return []
    tag = top.tag
    sel = ", ".join(f"{tag}.{t}" for t in tokens[:4])
    found = tree_root.css(sel)
    if len(found) <= 1:
        return []
    top_id = top.mem_id
    top_anc = _ancestors(top)
    out = []
    for n in found:
        mid = n.mem_id
        if mid == top_id or mid in top_anc:
            continue
        anc = _ancestors(n)
        if top_id in anc:
            continue
        out.append((n, anc))
    # keep outermost
    ids = {n.mem_id for n, _ in out}
    return [n for n, anc in out if not (anc & ids)]


def _doc_order(root: LexborNode) -> dict[int, int]:
    return {n.mem_id: i for i, n in enumerate(root.traverse())}


def _score_key(c: list) -> float:
    return c[1]


def _strip_junk(piece: LexborNode) -> None:
    # the <h1> is the title (reported separately), not body text
    junk = [n for n in piece.traverse() if n.tag in _JUNK_SET or n.tag == "h1" or n.tag == "figcaption"]
    for n in junk:
        if n.parent is not None:
            n.decompose()


def _extract_body(tree: LexborHTMLParser) -> str:
    body = tree.body
    if body is None:
        return ""
    # Scripts/styles hold no <p>, and paragraphs inside comments/hidden/nav/
    # footer/aside are ignored by the scorer, so the (costly) cleanup runs on
    # the chosen content only.
    cands, n_par = _score_candidates(body)
    if not cands:
        return ""
    # final score scaled by link density, computed for the best few only
    top = heapq.nlargest(3, cands.values(), key=_score_key)
    best = None
    best_score = 0.0
    for c in top:
        node = c[0]
        tlen = len(node.text())
        score = c[1] * (1.0 - _link_density(node, tlen))
        if score > best_score:
            best, best_score = c, score
    if best is None:
        return ""
    top_node = best[0]
    # Prefer a parent that accumulates comparable score (content split in sibling blocks)
    parent = top_node.parent
    if parent is not None and parent.tag not in ("body", "html"):
        pc = cands.get(parent.mem_id)
        if pc is not None and pc[1] * (1 - _link_density(parent)) >= best_score * 0.75:
            top_node = parent
    # Sibling merging (Readability): include siblings that also look like content
    pieces = [top_node]
    parent = top_node.parent
    if parent is not None and parent.tag not in ("html",):
        threshold = max(10.0, best_score * 0.2)
        top_hint = _attr_hint(top_node)
        for sib in parent.iter():
            if sib.mem_id == top_node.mem_id or not sib.is_element_node:
                continue
            sc = cands.get(sib.mem_id)
            append = False
            bonus = 0.0
            if top_hint and _attr_hint(sib) == top_hint:
                bonus = best_score * 0.2
            if sc is not None and sc[1] + bonus >= threshold:
                append = True
            elif sib.tag == "p":
                t = sib.text()
                ld = _link_density(sib, len(t)) if t else 1.0
                if len(t) > 80 and ld < 0.25:
                    append = True
                elif 0 < len(t) <= 80 and ld == 0 and re.search(r"\.( |$)", t):
                    append = True
            if append:
                pieces.append(sib)
    # Split articles: blocks elsewhere with the same content class
    piece_ids = {p.mem_id for p in pieces}
    for extra in _same_signature_blocks(body, top_node):
        if extra.mem_id in piece_ids:
            continue
        if _good_ptext(extra) >= 150:
            pieces.append(extra)
            piece_ids.add(extra.mem_id)
    if len(pieces) > 1:
        order = _doc_order(body)
        pieces.sort(key=lambda n: order.get(n.mem_id, 0))
    if _DEBUG is not None:
        _DEBUG.append(("pieces", [(n.tag, _attr_hint(n)[:50], len(n.text())) for n in pieces]))
    paras: list[str] = []
    for piece in pieces:
        if piece.parent is None:
            continue
        _strip_junk(piece)
        total = len(piece.text())
        _remove_boilerplate(piece, total)
        if piece.parent is None:
            continue
        paras.extend(_text_blocks(piece))
    paras = _filter_paragraphs(paras)
    return "\n\n".join(paras)


# --------------------------------------------------------------------------
# public API


def extract_article(
    html: str | bytes, url: str | None = None, content_type: str | None = None
) -> ExtractedArticle:
    if isinstance(html, (bytes, bytearray)):
        from crawler.charset import decode_html

        html = decode_html(bytes(html), content_type).text
    html = html or ""
    tree = LexborHTMLParser(html)
    src: dict[str, str] = {}

    ld = _json_ld_article(tree)
    meta = _meta_map(tree)

    # url
    canon_node = tree.css_first('link[rel="canonical"]')
    canonical = canon_node.attrs.get("href") if canon_node is not None else None
    value, source = _first(
        ("link[rel=canonical]", canonical),
        ("og:url", meta.get("og:url")),
        ("given", url),
    )
    page_url = urljoin(url, str(value).strip()) if value and url else (str(value).strip() if value else None)
    if source:
        src["url"] = source

    # title
    value, source = _first(
        ("json-ld", _ld_str(ld.get("headline")) if ld else None),
        ("og:title", _clean(meta.get("og:title"))),
        ("twitter:title", _clean(meta.get("twitter:title"))),
    )
    if not value:
        h1 = tree.css_first("h1")
        title_tag = tree.css_first("title")
        value, source = _first(
            ("h1", _clean(h1.text()) if h1 is not None else None),
            ("title", _clean(title_tag.text()) if title_tag is not None else None),
        )
    title = str(value) if value else None
    if source:
        src["title"] = source

    # dates
    value, source = _first(
        ("json-ld", _iso_date(ld.get("datePublished")) if ld else None),
        ("meta:article:published_time", _iso_date(meta.get("article:published_time"))),
        ("itemprop:datePublished", _iso_date(meta.get("datepublished"))),
    )
    if not value:
        v = _iso_date(_itemprop_value(tree, "datePublished"))
        if v:
            value, source = v, "itemprop:datePublished"
    if not value:
        for key in ("og:published_time", "pubdate", "og:pubdate", "publishdate", "date", "dc.date",
                    "dc.date.issued", "sailthru.date", "parsely-pub-date", "article.published",
                    "published_time"):
            v = _iso_date(meta.get(key))
            if v:
                value, source = v, f"meta:{key}"
                break
    if not value:
        t = tree.css_first("time[datetime]")
        if t is not None:
            v = _iso_date(t.attrs.get("datetime"))
            if v:
                value, source = v, "time[datetime]"
    published = value
    if source:
        src["published"] = source
    value, source = _first(
        ("json-ld", _iso_date(ld.get("dateModified")) if ld else None),
        ("meta:article:modified_time", _iso_date(meta.get("article:modified_time"))),
        ("meta:og:updated_time", _iso_date(meta.get("og:updated_time"))),
        ("itemprop:dateModified", _iso_date(meta.get("datemodified"))),
    )
    if not value and published:
        v = _iso_date(_itemprop_value(tree, "dateModified"))
        if v:
            value, source = v, "itemprop:dateModified"
    modified = value
    if source:
        src["modified"] = source

    # authors
    authors: list[str] = []
    if ld:
        authors = _ld_names(ld.get("author"))
        if authors:
            src["authors"] = "json-ld"
    if not authors:
        for key in ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author"):
            v = meta.get(key)
            if v and not v.startswith("http"):
                authors = [_clean(x) for x in re.split(r"\s*(?:,|;| and | и )\s*", v) if _clean(x)]
                src["authors"] = f"meta:{key}"
                break
    if not authors:
        for node in tree.css('[itemprop="author"], [rel="author"]')[:5]:
            nm = node.css_first('[itemprop="name"]')
            v = _clean((nm or node).attrs.get("content") or (nm or node).text())
            if v and len(v) < 80 and v not in authors:
                authors.append(v)
        if authors:
            src["authors"] = "itemprop/rel=author"
    seen_a: set[str] = set()
    authors = [a for a in authors if not (a.lower() in seen_a or seen_a.add(a.lower()))]

    # description / site name
    value, source = _first(
        ("og:description", _clean(meta.get("og:description"))),
        ("meta:description", _clean(meta.get("description"))),
        ("json-ld", _ld_str(ld.get("description")) if ld else None),
        ("twitter:description", _clean(meta.get("twitter:description"))),
    )
    description = str(value) if value else None
    if source:
        src["description"] = source
    publisher = ld.get("publisher") if ld else None
    value, source = _first(
        ("og:site_name", _clean(meta.get("og:site_name"))),
        ("json-ld", _ld_names(publisher)[0] if _ld_names(publisher) else None),
        ("meta:application-name", _clean(meta.get("application-name"))),
    )
    site_name = str(value) if value else None
    if source:
        src["site_name"] = source

    # language (declared)
    root = tree.root
    html_lang = _lang_code(root.attrs.get("lang") or root.attrs.get("xml:lang")) if root is not None else None
    value, source = _first(
        ("html[lang]", html_lang),
        ("og:locale", _lang_code(meta.get("og:locale"))),
        ("json-ld", _lang_code(_ld_str(ld.get("inLanguage"))) if ld else None),
        ("meta:content-language", _lang_code(meta.get("content-language"))),
    )
    lang = value
    lang_source = source

    # body
    dom_text = _extract_body(tree)
    text = dom_text
    body_source = "dom"
    ld_body = ld.get("articleBody") if ld else None
    if isinstance(ld_body, list):
        ld_body = "\n\n".join(x for x in ld_body if isinstance(x, str))
    if isinstance(ld_body, str) and len(ld_body) >= 200:
        if "&lt;" in ld_body or "&amp;" in ld_body or "&#" in ld_body:
            ld_body = html_lib.unescape(ld_body)  # entity-escaped markup seen in the wild
        if "<" in ld_body and ">" in ld_body:
            ld_body = "\n\n".join(_text_blocks(LexborHTMLParser(ld_body).body or LexborHTMLParser("").root))
        ld_paras = [_clean(p) for p in re.split(r"\n\s*\n|\r\n\s*\r\n|\n", ld_body)]
        ld_text = "\n\n".join(p for p in ld_paras if p)
        if len(ld_text) >= 0.8 * len(dom_text):
            text = ld_text
            body_source = "json-ld:articleBody"
    if text:
        src["text"] = body_source

    if not lang:
        guess = detect_lang(text or (title or "") + " " + (description or ""))
        if guess != "und":
            lang, lang_source = guess, "script-guess"
    if lang and lang_source:
        src["lang"] = lang_source

    return ExtractedArticle(
        url=page_url,
        title=title,
        text=text,
        published=published,
        modified=modified,
        authors=authors,
        description=description,
        lang=lang,
        site_name=site_name,
        metadata_source=src,
    )
