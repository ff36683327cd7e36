"""Multilingual term patterns per topic (EN/RU/KY), compiled from config/topics.toml.

Pure: no I/O beyond reading the given topic dicts. Each topic's `terms` (language -> regexes) and
`exclude` (regexes) come from config, so a topic is added or tuned by editing topics.toml.

Matching rules (documented in classify/README.md):
- every language's terms are applied to every item (Kyrgyz items quote Russian terms, etc.);
- matching is case-insensitive and a pattern is anchored at a word start (``(?<!\\w)`` is
  prepended), so ``патент\\w*`` does not fire inside ``компатентный``;
- a term match that overlaps a match of one of the topic's `exclude` patterns is dropped
  ("биометрический паспорт" does not count for `biometrics`);
- offsets are character offsets into the string that was matched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

FLAGS = re.IGNORECASE | re.UNICODE


class PatternError(ValueError):
    """A bad regular expression in topics.toml (names the topic, language and pattern)."""


@dataclass(frozen=True)
class Match:
    topic: str
    term: str          # the matched surface text
    pattern: str       # the source regex from topics.toml
    start: int
    end: int


@dataclass(frozen=True)
class CompiledTopic:
    id: str
    terms: tuple[tuple[str, re.Pattern], ...]
    exclude: tuple[re.Pattern, ...]
    context: tuple[re.Pattern, ...] = ()

    def count_context(self, text: str) -> int:
        """Matches of the topic's `context` patterns (who/where words, e.g. migrants, Russia)."""
        return sum(1 for rx in self.context for _ in rx.finditer(text or ""))

    def find(self, text: str) -> list[Match]:
        """All non-excluded term matches in `text`, sorted by start, overlaps resolved."""
        if not text:
            return []
        blocked: list[tuple[int, int]] = []
        for rx in self.exclude:
            blocked.extend(m.span() for m in rx.finditer(text) if m.end() > m.start())
        found: list[Match] = []
        for src, rx in self.terms:
            for m in rx.finditer(text):
                s, e = m.span()
                if e <= s:
                    continue
                if any(s < be and bs < e for bs, be in blocked):
                    continue
                found.append(Match(self.id, m.group(0), src, s, e))
        # Overlapping matches of several patterns count once: keep the longest at each place.
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        out: list[Match] = []
        for m in found:
            if out and m.start < out[-1].end:
                continue
            out.append(m)
        return out


def _compile(pattern: str, where: str) -> re.Pattern:
    try:
        return re.compile(r"(?<!\w)(?:" + pattern + ")", FLAGS)
    except re.error as exc:
        raise PatternError(f"config/topics.toml: {where}: bad regular expression {pattern!r}: "
                           f"{exc}") from None


def _as_list(v) -> list:
    return list(v) if isinstance(v, (list, tuple)) else []


def _as_dict(v) -> dict:
    return dict(v) if isinstance(v, Mapping) else {}


def compile_topic(topic: Mapping) -> CompiledTopic:
    tid = topic["id"]
    terms = []
    for lang, pats in sorted(_as_dict(topic.get("terms")).items()):
        for p in _as_list(pats):
            terms.append((p, _compile(p, f"topic[{tid}].terms.{lang}")))
    excl = []
    ex = topic.get("exclude")
    # exclude may be a flat list or, like terms, a language -> list table.
    ex_lists = [_as_list(ex)] if isinstance(ex, (list, tuple)) else list(_as_dict(ex).values())
    for pats in ex_lists:
        for p in _as_list(pats):
            excl.append(_compile(p, f"topic[{tid}].exclude"))
    ctx = [_compile(p, f"topic[{tid}].context") for p in _as_list(topic.get("context"))]
    return CompiledTopic(tid, tuple(terms), tuple(excl), tuple(ctx))


def compile_topics(topics: Iterable[Mapping]) -> dict[str, CompiledTopic]:
    return {t["id"]: compile_topic(t) for t in topics}


def find_all(compiled: Mapping[str, CompiledTopic], text: str) -> dict[str, list[Match]]:
    return {tid: ct.find(text) for tid, ct in compiled.items()}


# -- sentences ---------------------------------------------------------------------------
# A sentence ends at . ! ? … (plus closing quotes/brackets) followed by whitespace and an
# opening character of a new sentence, or at a line break. Abbreviations that end in a dot
# ("г.", "ст.", "т.е.", "Mr.") do not end a sentence.
_END_RE = re.compile(r"[.!?…]+[»\"”’')\]]*(?=\s+[«\"“(\[\-—–A-ZА-ЯЁӨҮҢ0-9])|\n+")
_ABBREV = {"г", "гг", "ст", "т", "е", "ч", "п", "пп", "им", "стр", "тыс", "млн", "млрд", "руб",
           "долл", "ул", "д", "см", "рис", "т.е", "т.д", "т.п", "mr", "mrs", "ms", "dr", "st",
           "no", "vs", "etc", "jan", "feb", "aug", "sept", "oct", "nov", "dec", "art", "u.s",
           "инн", "н", "n", "р", "с", "янв", "фев", "мар", "апр", "июн", "июл", "авг", "сен",
           "сент", "окт", "ноя", "дек", "corp", "inc", "ltd", "gen", "prof", "gov"}


@dataclass(frozen=True)
class Span:
    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start:self.end]


def split_sentences(text: str) -> list[Span]:
    """Sentence spans (start, end) into `text`, whitespace-trimmed, empty ones dropped."""
    spans: list[Span] = []
    pos = 0
    for m in _END_RE.finditer(text):
        if m.group(0)[0] not in "\n":
            # the word before the dot: an abbreviation or an initial does not end a sentence
            w = re.search(r"([\w.]+)$", text[pos:m.start()])
            word = w.group(1) if w else ""
            if word.lower() in _ABBREV or (len(word) == 1 and word.isupper()):
                continue
        end = m.start() if m.group(0).startswith("\n") else m.end()
        _push(text, pos, end, spans)
        pos = m.end()
    _push(text, pos, len(text), spans)
    return spans


def _push(text: str, s: int, e: int, out: list[Span]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append(Span(s, e))


def sentence_of(spans: Sequence[Span], offset: int) -> int:
    """Index of the sentence span containing `offset` (or the nearest one before it)."""
    lo, hi = 0, len(spans) - 1
    best = 0
    while lo <= hi:
        mid = (lo + hi) // 2
        if spans[mid].start <= offset:
            best = mid
            lo = mid + 1
        else:
            hi = mid - 1
    return best
