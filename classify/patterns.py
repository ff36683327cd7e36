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
    # All terms in one alternation: one scan says whether any term occurs at all (most texts
    # hold no term of most topics), so the per-term scans run only where one does. None when
    # the terms cannot be combined safely (backreferences, inline flags).
    any_term: re.Pattern | None = None

    def count_context(self, text: str) -> int:
        """Matches of the topic's `context` patterns (who/where words, e.g. migrants, Russia)."""
        return sum(1 for rx in self.context for _ in rx.finditer(text or ""))

    def find(self, text: str) -> list[Match]:
        """All non-excluded term matches in `text`, sorted by start, overlaps resolved."""
        if not text or (self.any_term is not None and self.any_term.search(text) is None):
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


_BACKREF = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def any_of(patterns: Sequence[str]) -> re.Pattern | None:
    """One regex matching wherever any of `patterns` (each anchored as `_compile` does) matches,
    or None if they cannot be combined without changing their meaning: a backreference or
    conditional would point at another pattern's group, and inline flags are only allowed at
    the start of a whole regex."""
    if not patterns or any(_BACKREF.search(p) for p in patterns):
        return None
    try:
        return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{p})" for p in patterns) + ")", FLAGS)
    except re.error:
        return None


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
    return CompiledTopic(tid, tuple(terms), tuple(excl), tuple(ctx), any_of([p for p, _ in terms]))


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


# -- setting of an item: whose foreigners, which country ------------------------------------
# The false alarms of a term-only classifier are items with the right words in the wrong setting:
# US/EU deportations, Kyrgyzstan registering its own foreigners, OMS reforms for Russian citizens,
# regional acts on hospital staff. These groups are counted per item (title + text) and turned
# into setting features (scoring.setting_vector) that every topic's head sees.
HOST_GROUPS: dict[str, tuple[str, ...]] = {
    # who: migrants / foreigners / EAEU workers
    "migrant": (r"мигрант\w*", r"иностран\w+", r"трудящ\w+", r"приезж\w+", r"гастарбайтер\w*",
                r"migrant\w*", r"foreign(ers?|\s+(nationals?|citizens?|workers?|persons?|students?|labou?r\w*))\b", r"non-residents?", r"aliens?\b", r"stateless", r"expat\w*",
                r"non-?citizens?", r"immigrant\w*", r"чет элдик\w*", r"чет өлкөлүк\w*", r"хорижлик\w*", r"хориж\w+ фуқаро\w*", r"мигрантт\w*", r"кыргызстандык\w*", r"Кыргыз(стандын| Республикасынын) жаран\w*", r"лиц\w* без гражданства", r"муҳоҷир\w*", r"migrantlar\w*",
                r"(citizens|nationals|natives) of (Kyrgyzstan|Uzbekistan|Tajikistan|Kazakhstan|Central Asia\w*)",
                r"(Kyrgyz|Uzbek|Tajik|Kazakh\w*|Belarus\w*|Armenian|Moldovan) (citizens|nationals|workers)",
                r"Kyrgyzstanis?", r"кыргызстанц\w*", r"казахстанц\w*", r"узбекистанц\w*", r"таджикистанц\w*",
                r"граждан\w* (Кыргызстан|Киргиз|Узбекистан|Таджикистан|Казахстан|Беларус|Армени|Молдав|ближнего зарубежья|СНГ|Центральн)\w*",
                r"compatriots", r"соотечественник\w*", r"мекендеш\w*", r"нелегал\w*", r"illegal (migrants|immigrants|aliens|workers)",
                r"visa-free", r"безвиз\w*", r"labou?r (migration|mobility)", r"трудов\w+ миграц\w*", r"эмгек мигра\w*"),
    # where: Russia as host
    "russia": (r"Росси\w*", r"РФ\b", r"Russia\w*", r"Москв\w*", r"Moscow", r"Подмосков\w*", r"Орусия\w*",
               r"Госдум\w*", r"State Duma", r"Kremlin", r"Кремл\w*", r"МВД\b", r"ГУВМ\b", r"Санкт-Петербург\w*",
               r"St\.? Petersburg", r"Россия\w*", r"Rossiya\w*"),
    "eaeu": (r"ЕАЭС", r"EA?EU\b", r"EEU\b", r"ЕАЭБ\w*", r"Евразийск\w+ экономическ\w+", r"Eurasian Economic"),
    # origin: Kyrgyzstan and its neighbours as sending countries
    "origin": (r"Кыргыз\w*", r"Киргиз\w*", r"Kyrgyz\w*", r"кыргызстан\w*", r"Узбек\w*", r"Uzbek\w*", r"Таджик\w*",
               r"Tajik\w*", r"Central Asia\w*", r"Средн\w+ Ази\w*", r"Центральн\w+ Ази\w*"),
    # other host countries: the same vocabulary about the US, the EU, ...
    "other_host": (r"США\b", r"U\.?S\.?A?\b", r"United States", r"America\w*", r"Америк\w*", r"ICE\b", r"Trump\w*",
                   r"Трамп\w*", r"Biden", r"Байден\w*", r"EU\b", r"European Union", r"Евросоюз\w*", r"Европейск\w+ союз\w*",
                   r"Schengen", r"Шенген\w*", r"Germany", r"German\b", r"Германи\w*", r"Britain", r"British", r"UK\b",
                   r"Британи\w*", r"asylum", r"убежищ\w*", r"Mexic\w*", r"Kazakhstan's", r"Poland", r"Польш\w*",
                   r"(South )?Korea\w*", r"Коре\w+", r"Корея\w*", r"Japan\w*", r"Япони\w*", r"Turkey", r"T[üu]rkiye",
                   r"Турци\w*", r"UAE\b", r"ОАЭ\b", r"Emirates", r"Israel\w*", r"Израил\w*", r"Europe\w*", r"Европ\w*",
                   r"Entry/Exit System", r"ETIAS", r"EES\b",
                   r"(in|to|into|arriv\w+ in|enter\w*|visit\w*) Kazakhstan\b", r"(в|на территори\w+) (Казахстан|Республик\w+ Казахстан)\w*",
                   r"Республик\w+ Казахстан", r"Казакстан\w*", r"Түштүк Корея\w*", r"Kazakhstan\b", r"Kazakh\b",
                   r"Казахстан\b", r"Казахстане", r"Казахстана", r"(в|по) Узбекистан\w*", r"(in|to) Uzbekistan\b",
                   r"Өзбекстанда", r"O'zbekiston\w*",
                   # Kazakh outlets' abbreviation for Kazakhstan (Kyrgyzstan is "КР")
                   r"РК\b", r"Zakon\.kz", r"Tengrinews", r"Kazinform",
                   # Kazakhstan's social health insurance; Armenia and Belarus as the place
                   r"social (health|medical) insurance", r"социальн\w+ медицинск\w+ страховани\w*", r"ОСМС\b",
                   r"(in|to|into) (Armenia|Belarus)\b", r"(в|по) (Армени|Беларус|Белорусси)\w*",
                   r"Migration and Citizenship Service",
                   # other host countries of migrants (not the sending countries, not Ukraine —
                   # the war is context in many Russian items — and not China/India, trade context)
                   r"Canad\w*", r"Канад\w*", r"Australi\w*", r"Австрали\w*", r"Saudi\b", r"Саудовск\w*",
                   r"Qatar\w*", r"Катар\w*", r"Kuwait\w*", r"Dubai", r"Дубай\w*", r"Eston\w*", r"Эстони\w*",
                   r"Latvi\w*", r"Латви\w*", r"Lithuani\w*", r"Литв\w*", r"Finland", r"Finnish", r"Финлянди\w*",
                   r"France", r"French", r"Франци\w*", r"Ital(y|ian)\w*", r"Итали\w*", r"Spain", r"Spanish",
                   r"Испани\w*", r"Czech\w*", r"Чехи\w*", r"Чешск\w*"),
    # Kyrgyzstan as host (its own registration of foreigners, e-gates at Manas, Russians arriving in Kyrgyzstan)
    "kg_host": (r"(in|to|into|enter(ing)?|arriv\w+ in|visit(ing)?) Kyrgyzstan\b", r"(в|на территори\w+) (Кыргызстан|Киргизи|КР\b)\w*",
                r"Кыргызстанга", r"Кыргызстанда", r"Кыргыз Республикасына", r"Манас\w*", r"Manas\b", r"ГРС\b", r"SRS\b",
                r"Tunduk", r"Түндүк\w*", r"Chui\b", r"Chuy\b", r"Чуйск\w*", r"Чүй\w*", r"Issyk-?Kul\w*", r"Иссык-?Кул\w*",
                r"Ысык-?Көл\w*", r"О внешней миграции", r"On External Migration", r"Жээнбеков\w*", r"Jeenbekov",
                # its own population register and foreigners removed FROM it
                r"State Registration Service", r"Государственн\w+ регистрационн\w+ служб\w*",
                r"(deport\w*|expel\w*|выдвор\w*|депорт\w*) (\S+ ){0,3}(from|out of|из) (Kyrgyzstan|Кыргызстан\w*|Киргизи\w*|КР\b)",
                # Kyrgyz ministries and the Kyrgyz CHI fund as the actors of a domestic measure
                r"Кыргыз Республикасынын [^.\n]{0,40}министрлиг\w*", r"Милдеттүү медициналык камсыздандыруу фонд\w*",
                r"(Министерств\w+ (здравоохранени|труд|социальн)\w*|Минздрав\w*|Минтруд\w*|Фонд\w* обязательного "
                r"медицинского страховани\w*) [^.\n]{0,40}(КР|Кыргызской Республики)\b"),
    # own citizens: a country's measures for its own people
    "own_citizens": (r"граждан\w* (России|РФ|Российской Федерации)", r"россиян(е|ам|ами|ах|ин|ина|ину|ином|ке|ка|ки|ок)?\b", r"Russian citizens?", r"citizens? of Russia", r"Russians\b",
                     r"own citizens", r"граждан\w* Кыргызстан\w* (внутри|в) (стран|республик)\w*", r"населени\w+",
                     r"застрахованн\w+ лиц\w*", r"медицинск\w+ работник\w*", r"руководител\w+ (государственн|медицинск)\w*",
                     r"учреждени\w+ здравоохранени\w*"),
    # entry into the host country (border, checkpoint, visa-free entry): where foreigners are
    # implied without being named ("biometrics at Russian border checkpoints")
    "entry": (r"въезд\w*", r"пункт\w* пропуска", r"пересечени\w* границ\w*", r"погранич\w+", r"на границе",
              r"border\w*", r"entry", r"entering", r"arriv\w+", r"чек ара\w*", r"кирүү\w*", r"консульств\w*",
              r"consulat\w*", r"посольств\w*", r"embass\w*"),
    # a regional/administrative act setting (a region's government order)
    "regional_act": (r"(Постановлени|Распоряжени|Приказ)\w* (Правительства|губернатора|Министерства|министерства)\w* \w+ (област|кра[яй]|республик|округ)\w*",
                     r"\w+ской области от \d", r"\w+ского края от \d"),
}
HOST_GROUP_IDS = tuple(HOST_GROUPS)
_HOST_RX = {g: re.compile(r"(?<!\w)(?:" + "|".join(ps) + ")", FLAGS) for g, ps in HOST_GROUPS.items()}
# Abbreviations that must match case-sensitively (US, EU, ICE, UK, SRS) are re-checked below.
_CASE_SENSITIVE = re.compile(r"^(U\.?S\.?A?|EU|ICE|UK|SRS|EEU|EAEU|EES|UAE|ГРС|МВД|ГУВМ|РФ|РК|КР|США|ОАЭ)$")


# A list of EAEU member states ("граждан стран ЕАЭС (Армения, Беларусь, Казахстан, Кыргызстан)")
# names Kazakhstan and Kyrgyzstan as members, not as the place where the item happens: such lists
# are blanked before the host-country groups are counted.
_MEMBER = (r"(Армени\w*|Беларус\w*|Белорусси\w*|Казахстан\w*|Кыргызстан\w*|Киргизи\w*|Росси\w*|"
           r"Armenia\w*|Belarus\w*|Kazakhstan\w*|Kyrgyz(stan)?|Russia\w*)")
_MEMBER_LIST = re.compile(_MEMBER + r"(\s*(,|и|and|,\s*and)\s*" + _MEMBER + r"){2,}", FLAGS)
_HOST_ONLY = ("other_host", "kg_host")


def _blank_member_lists(s: str) -> str:
    return _MEMBER_LIST.sub(lambda m: " " * len(m.group(0)), s) if s else s


def host_counts(title: str, text: str) -> dict[str, int]:
    """Matches per setting group in title + text (title matches count double); lists of EAEU
    member states do not count for the host-country groups."""
    out = {}
    blanked = (_blank_member_lists(title or ""), _blank_member_lists(text or ""))
    for g, rx in _HOST_RX.items():
        n = 0
        pairs = ((blanked[0], 2), (blanked[1], 1)) if g in _HOST_ONLY else ((title or "", 2), (text or "", 1))
        for s, w in pairs:
            for m in rx.finditer(s):
                tok = m.group(0)
                if _CASE_SENSITIVE.match(tok.upper().replace(" ", "")) and tok != tok.upper():
                    continue
                n += w
        out[g] = n
    return out
