"""URL identity: one spelling per resource, so reruns, mirrors and AMP pages do not duplicate.

Two levels, both pure:

- `normalize_url(url)` is *syntactic* only (the same resource, spelled one way): lowercase
  scheme and host, IDNA host as punycode (мвд.рф -> xn--b1aew.xn--p1ai), no default port, no
  fragment, percent-escapes upper-cased and non-ASCII path bytes escaped, dot segments
  removed, query parameters sorted. The fetcher keys conditional-GET state and WARC replay
  lookups on it: it never changes which server is asked.
- `canonicalize(url)` adds *semantic* rewrites for article identity: tracking parameters
  dropped, AMP variants mapped to the main page, known mirror hosts mapped to the main host.
  `store.articles` ids are sha1(canonicalize(url)).

Trailing slashes are kept as given (conservative): `/news/item/1` and `/news/item/1/` can be
different resources on real servers; only an empty path becomes `/` and a run of trailing
slashes collapses to one.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["canonicalize", "normalize_url", "punycode_host", "host_key"]

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query keys that only say where a click came from (exact, lowercase) ...
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "yclid", "ysclid", "msclkid", "igshid",
    "mc_cid", "mc_eid", "_openstat", "from", "ref", "ref_src", "ref_url", "_ga", "_gl",
    "rss", "utm", "share", "amp",
})
# ... and key prefixes (utm_source, utm_medium, ..., and Yandex/Facebook variants).
TRACKING_PREFIXES = ("utm_", "fb_", "at_", "pk_", "mtm_")

# Mirror hosts that serve the same articles as the main host (from
# /work/shared/reference/sources.md: "A mirror domain 24-kg.com exists (with /amp pages)").
HOST_ALIASES = {
    "24-kg.com": "24.kg",
    "www.24-kg.com": "24.kg",
    "www.24.kg": "24.kg",
}

_PCT_RE = re.compile(r"%([0-9a-fA-F]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters allowed unescaped in a path (RFC 3986 pchar + "/"), plus "%" for existing escapes.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def punycode_host(host: str) -> str:
    """Lowercase ASCII form of a hostname (IDNA labels as punycode)."""
    host = host.strip().rstrip(".").lower()
    if not host or host.isascii():
        return host
    try:
        import idna  # UTS #46 mapping, what browsers do
        return idna.encode(host, uts46=True).decode("ascii")
    except Exception:  # noqa: BLE001 - fall back to the stdlib IDNA 2003 codec
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"{host!r}: not a valid internationalised host name ({exc})") from None


def _normalize_escapes(s: str) -> str:
    """Upper-case %xx escapes and decode those that stand for unreserved characters."""
    def fix(m: re.Match) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()
    return _PCT_RE.sub(fix, s)


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        if seg == ".":
            if i == len(segments) - 1:
                out.append("")
            continue
        if seg == "..":
            if len(out) > 1:
                out.pop()
            if i == len(segments) - 1:
                out.append("")
            continue
        out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def _split(url: str):
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for "http://[::1/x"
        raise ValueError(f"{url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"{url!r}: not an http(s) URL")
    if not parts.hostname:
        raise ValueError(f"{url!r}: no host")
    try:
        host = punycode_host(parts.hostname)
    except ValueError as exc:
        raise ValueError(f"{url!r}: {exc}") from None
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r}: bad port") from None
    return scheme, host, port, parts


def _netloc(scheme: str, host: str, port: int | None, parts) -> str:
    netloc = host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if parts.username is not None:
        cred = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{cred}@{netloc}"
    return netloc


def _norm_path(path: str) -> str:
    path = quote(_normalize_escapes(path), safe=_PATH_SAFE)
    path = _remove_dot_segments(path) if path else "/"
    if not path.startswith("/"):
        path = "/" + path
    path = re.sub(r"/{2,}$", "/", path)
    return path


def _norm_query(query: str, drop=None) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    if drop is not None:
        pairs = [(k, v) for k, v in pairs if not drop(k)]
    pairs.sort()
    return urlencode(pairs, quote_via=quote, safe="-._~:@!$'()*,/")


def normalize_url(url: str) -> str:
    """Syntactic normalisation (see module docstring). Raises ValueError for non-http URLs."""
    scheme, host, port, parts = _split(url)
    return urlunsplit((scheme, _netloc(scheme, host, port, parts), _norm_path(parts.path),
                       _norm_query(parts.query), ""))


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k in TRACKING_PARAMS or k.startswith(TRACKING_PREFIXES)


def _strip_amp(path: str) -> str:
    segs = path.split("/")
    trailing = path.endswith("/")
    kept = [s for s in segs if s.lower() != "amp"]
    if len(kept) == len(segs):
        return path
    out = "/".join(kept)
    if not out.startswith("/"):
        out = "/" + out
    # keep the page's own trailing-slash style: "/a/b/amp" -> "/a/b", "/amp/a/b/" -> "/a/b/"
    if trailing and not out.endswith("/"):
        out += "/"
    if not trailing and segs[-1].lower() == "amp" and out != "/" and out.endswith("/"):
        out = out[:-1]
    return out or "/"


def canonicalize(url: str) -> str:
    """The identity of an article URL (see module docstring). Idempotent."""
    scheme, host, port, parts = _split(url)
    host = HOST_ALIASES.get(host, host)
    path = _strip_amp(_norm_path(parts.path))
    return urlunsplit((scheme, _netloc(scheme, host, port, parts), path,
                       _norm_query(parts.query, drop=_is_tracking), ""))


def host_key(url: str) -> str:
    """'host' or 'host:port' (punycode) of a URL: the unit of politeness."""
    scheme, host, port, parts = _split(url)
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host
