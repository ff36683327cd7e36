"""Does an item report a change in rules? Stage and effective dates from EN/RU/KY text. PURE.

- stage ∈ {proposed, adopted, signed, in_force, court, pilot, repealed} or None, from cue phrases
  per language. Each cue match is weighted by where it is (title x3, first 400 characters x2,
  elsewhere x1) and by the stage's cue weight; the stage with the largest total wins, ties going
  to the more advanced stage (STAGE_ORDER). ``is_change`` is True when a stage was found.
- effective dates in ISO form: "from 1 September 2026" -> 2026-09-01, "с 1 января 2025 года" ->
  2025-01-01, "from September 2025" -> 2025-09, "с 2027 года" -> 2027, "1-сентябрдан баштап" ->
  day and month with the year taken from the item's published date (the nearest such date not more
  than ~6 months before publication). Only dates introduced by a temporal cue ("from", "since",
  "с", "до", "-дан тарта", ...) count; a bare date in a byline does not.
- evidence: the cue and date matches with character offsets into the given ``text`` (title cues
  carry ``"field": "title"``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from classify.patterns import any_of as _any_of

STAGES = ("proposed", "adopted", "signed", "in_force", "court", "pilot", "repealed")
# Ties go to the later entry: a report that a law was signed and comes into force is in_force.
STAGE_ORDER = ("proposed", "pilot", "court", "adopted", "signed", "repealed", "in_force")

F = re.IGNORECASE | re.UNICODE

# (regex, weight) per stage. Weights < 1 for cues that also appear in non-change contexts.
_CUES: dict[str, list[tuple[str, float]]] = {
    "proposed": [
        (r"законопроект\w*", 1.0), (r"внес\w* (в Госдуму|на рассмотрение|поправк)\w*", 1.0),
        (r"предлож\w+", 0.6), (r"инициатив\w+", 0.6), (r"планиру\w+", 0.6),
        (r"(могут|может) (обязать|ввести|стать|появиться|запретить|изменить)", 0.8),
        (r"рассматрива\w+ (возможност|законопроект|вопрос)\w*", 0.6), (r"проект\w* (постановлени|закон|приказ|указ)\w*", 0.8),
        (r"первом чтении", 0.6),
        (r"\bbills?\b", 0.8), (r"draft (law|bill|decree|resolution|amendments?)", 1.0), (r"propos\w+", 0.8),
        (r"plans? to\b", 0.6), (r"(may|might|could) (be )?(introduc|requir|ban|oblig|chang|becom|fingerprint)\w*", 0.6),
        (r"initiative\w*", 0.5), (r"submitted to the (State )?Duma", 1.0), (r"first reading", 0.6),
        (r"мыйзам долбоор\w*", 1.0), (r"сунуш\w*", 0.6), (r"демилге\w*", 0.5),
    ],
    "adopted": [
        (r"принят\w* (Госдумой|Государственной думой|закон|в (первом|втором|третьем|окончательном) чтени)\w*", 1.2),
        (r"(Госдума|депутаты|Совфед|Совет Федерации|сенаторы|парламент)\w* (принял|приняли|одобрил|одобрили|утвердил)\w*", 1.2),
        (r"одобр\w+", 0.6), (r"утверд\w+", 0.7), (r"ужесточил\w*", 0.7), (r"повыс\w+ (стоимост|цен)\w*", 0.6),
        (r"(adopted|passed|approved)\b", 0.9), (r"third reading", 0.8),
        (r"кабыл алы\w+", 1.0), (r"бекит\w+", 0.8),
        (r"(подорожа|дорожа)\w*", 0.8), (r"(вырос|вырастет|выраст|поднимет|повыси)\w* (\w+ ){0,2}(стоимост|плат|цен)\w*", 0.8),
        (r"(стоимост|плат|цен)\w* (\w+ ){0,3}(вырос|вырастет|выраст|поднимет|повыси)\w*", 0.8),
        (r"(ввел|ввели|ввёл)\b", 0.8), (r"(rises?|rose|raised|increased?) (the )?(cost|price|fee)", 0.7),
    ],
    "signed": [
        (r"подписал\w*", 1.2), (r"подписан\w*", 1.1), (r"указ\w* (президента|главы|губернатора|мэра)", 0.8),
        (r"signed\b", 1.2), (r"signs\b", 1.0),
        (r"кол кой\w+", 1.1),
        (r"(запретил|запретили|обязал|обязали)\b", 0.9), (r"(постановлени|распоряжени|указ)\w* (правительства|губернатора|президента|главы|мэра)\w*", 0.8),
        (r"decree\w*", 0.7),
        (r"(президент|губернатор|мэр|Путин|глава государства)\w* (\w+ ){0,2}(ужесточил|изменил|утвердил|ввел|ввёл|расширил|упростил|продлил)\w*", 1.3),
        (r"(president|Putin|governor|mayor)\W*s? (\w+ ){0,2}(tightened|eased|extended|approved|introduced|ordered)\b", 1.3),
    ],
    "in_force": [
        (r"вступ\w+ в (законную )?силу", 1.5), (r"вступил\w*", 0.6), (r"действу\w+ с\b", 0.8), (r"начал\w* действовать", 1.2),
        (r"(came|come|comes|coming|enter\w*|entered) into (force|effect)", 1.5), (r"(took|takes|take) effect", 1.5),
        (r"in force\b", 0.9), (r"in effect\b", 0.8), (r"effective (from|since|as of|on)\b", 1.0),
        (r"күчүнө кир\w+", 1.5), (r"күчүндө", 0.8),
        (r"(вступил|вступили|вступят|вступает|вступают) ", 0.6), (r"заработа\w+", 1.0), (r"начал\w* (работать|функционировать|применяться)", 1.2),
        (r"(запущен|запустил)\w*", 0.7), (r"(вводится|вводятся|введен[аоы]?|введён)\b", 0.9), (r"отныне", 0.8),
        (r"новы\w+ (правил|порядок|требовани|сроки)\w*", 0.6), (r"(снял|сняли|снят)\w* (запрет|ограничени)\w*", 1.0),
        (r"(launch(ed|es)?|introduc(ed|es)|rolled out|started working|has started|lift(s|ed)?|eased|scrapped)\b", 0.8),
        (r"enter(ed|s)? (into )?effect|(came|come|comes) into effect", 1.5), (r"new (rules|requirements|procedure|regime)\b", 0.6),
        (r"жаңы (эреже|тартип)\w*", 0.6), (r"башта\w+", 0.5),
    ],
    "court": [
        (r"суд\w* (вынес|постановил|разъяснил|признал|отказал|рассмотр|удовлетвор|решил)\w*", 1.2),
        (r"консультативн\w+ заключени\w+", 1.5), (r"\bиск\w*", 0.9), (r"судебн\w+ (решени|разбирательств)\w*", 0.8),
        (r"court (ruled|held|issued|clarified|found|dismissed|decided|upheld|rejected)\w*", 1.2),
        (r"advisory opinion\w*", 1.5), (r"lawsuit\w*", 1.0), (r"(filed|files|file) (a )?(claim|suit|lawsuit|request)", 1.0),
        (r"\bsues?\b", 1.0), (r"\bruling\w*", 0.8),
        (r"сот\w* (чечим|корутунду|доо)\w*", 1.2), (r"доо\b|доо арыз\w*", 0.9),
        # advisory opinions / clarifications: "Суд ЕАЭС разъяснил", "коллегия суда ... разъяснила"
        (r"(суд|коллеги)\w*(?:\W+\w+){0,8}?\W+(разъяснил|пояснил|пришел к выводу|пришёл к выводу|указал|счел|счёл|установил)\w*", 1.2),
        (r"(позици|решени|заключени|разъяснени)\w* суда", 0.8), (r"обращени\w+ (\w+ ){0,3}(в|к) суд\w*", 1.0),
        (r"(обратил|обратит|обращ)\w+ в суд\w*", 1.0), (r"суд\w* (ЕАЭС|Евразийского|ЕврАзЭС)", 0.6),
        (r"(court|chamber|judges)(?:\W+\w+){0,6}?\W+(clarified|concluded|explained|opined|stated that)\b", 1.2),
        (r"(took|take|taking|takes|brought|bring|challeng\w*) (\w+ ){0,3}(to|at|before|in) (the )?(\w+ ){0,3}court", 1.2),
        (r"(EA?EU|Eurasian (Economic Union )?)court", 0.6), (r"court (case|proceedings|hearing)s?", 0.8),
        (r"(landmark|the) case\b", 0.5), (r"request\w* (for )?(an? )?(advisory opinion|clarification)", 1.0),
        (r"ЕАЭБ\w* сот\w*", 0.6),
    ],
    "pilot": [
        (r"эксперимент\w*", 1.2), (r"пилот\w*", 1.2), (r"в тестовом режиме", 1.0), (r"тестиру\w+", 0.7),
        (r"pilot\w*", 1.2), (r"experiment\w*", 1.2), (r"trial (period|run|basis)", 1.0), (r"testing\b", 0.5),
        (r"сыноо\w*", 0.8), (r"пробн\w+ (режим|период|запуск)\w*", 1.0),
        (r"(в|для) (ряде|нескольких|отдельных|пилотных) регион\w+", 0.6), (r"trial\b", 0.6),
    ],
    "repealed": [
        (r"отмен\w+", 0.8), (r"упраздн\w+", 0.8), (r"утратил\w* силу", 1.2), (r"признан\w* утративш\w+", 1.2),
        (r"repeal\w*", 1.2), (r"revok\w+", 1.0), (r"abolish\w*", 0.8), (r"scrapp\w+", 0.8),
        (r"жокко чыгар\w+", 1.0),
        (r"(lose|lost|loses|losing) (its |their )?(effect|force)", 1.5), (r"утрат\w+ силу", 1.2), (r"expir(e|es|ed|y)\b", 0.8),
        (r"(истек|истека)\w* (срок|действ|мораторий)\w*", 1.0), (r"moratorium (\w+ ){0,3}(ends?|ended|expires?)", 1.2),
    ],
}
# New obligations announced by an authority ("мигранты обязаны ежедневно ...", "must install").
# They report a rule in operation: a pilot when the item also speaks of an experiment / limited
# rollout (PILOT_CONTEXT or any pilot cue), otherwise in_force. Counted at most OBLIGATION_MAX times.
_OBLIGATION = [
    (r"(обязаны|обязан|обязана|должны|должен|должна|обязуют|обяжут|обязывают|обязал\w*|необходимо|надлежит|подлежит|подлежат)\b", 0.7),
    (r"(must|are required to|is required to|will be required to|required to|have to|has to|will have to|are obliged to|obliged to|obligated to)\b", 0.7),
    (r"(ежедневно|каждый день|daily|every day)\b", 0.3),
    (r"(керек|милдеттүү|милдеттендир\w*|тийиш)\b", 0.4),
]
_PILOT_CONTEXT = [
    r"(ещё|еще|пока) не (функционир|работа|действ|введ|запущ)\w*", r"переходн\w+ период\w*",
    r"not yet (available|operating|working|in place|launched)", r"transition(al)? period",
    r"до 1 сентября 2029", r"until (\d{1,2} \w+ )?20[3-9]\d|до (\d{1,2} \w+ )?20[3-9]\d",
]
OBLIGATION_MAX = 3
# ... and only when an authority is named (an obligation in a how-to guide or a sports report is not news of a rule).
_AUTHORITY = [
    r"МВД\b", r"ГУВМ\b", r"ФМС\b", r"ФСБ\b", r"МИД\b", r"мэри\w+", r"мэр\w*", r"правительств\w+", r"власт\w+",
    r"министерств\w+", r"ведомств\w+", r"Госдум\w+", r"губернатор\w*", r"президент\w*", r"Собянин\w*", r"Путин\w*",
    r"закон\w*", r"постановлени\w+", r"указ\w*", r"приказ\w*", r"полици\w+",
    r"ministry", r"ministries", r"government", r"authorities", r"police", r"mayor\w*", r"governor\w*", r"president\w*",
    r"law\b", r"decree\w*", r"order\b", r"Duma\b", r"Interior Ministry",
    r"ИИМ\b", r"ТИМ\b", r"өкмөт\w*", r"мыйзам\w*", r"бийлик\w*",
]
_AUTH_RX = re.compile(r"(?<!\w)(?:" + "|".join(_AUTHORITY) + ")", F)
_OBL_RX = [(re.compile(r"(?<!\w)(?:" + p + ")", F), w) for p, w in _OBLIGATION]
_PCTX_RX = [re.compile(r"(?<!\w)(?:" + p + ")", F) for p in _PILOT_CONTEXT]

_CUE_RX = {st: [(re.compile(r"(?<!\w)(?:" + p + ")", F), w) for p, w in cues] for st, cues in _CUES.items()}
# Per stage, all its cues in one alternation: one scan says whether the stage has any cue in a
# field; the per-cue scans (weights, evidence) run only where it does (same result, ~3x faster).
_CUE_ANY = {st: _any_of([p for p, _ in cues]) for st, cues in _CUES.items()}
_OBL_ANY = _any_of([p for p, _ in _OBLIGATION])

TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 2.0
LEAD_CHARS = 400

# -- dates -------------------------------------------------------------------------------
_MONTHS = {
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_RU_MONTH_STEMS = [("январ", 1), ("феврал", 2), ("март", 3), ("апрел", 4), ("ма[йяею]", 5), ("июн", 6),
                   ("июл", 7), ("август", 8), ("сентябр", 9), ("октябр", 10), ("ноябр", 11), ("декабр", 12)]
_KY_MONTH_STEMS = [("январ", 1), ("феврал", 2), ("март", 3), ("апрел", 4), ("май", 5), ("июн", 6),
                   ("июл", 7), ("август", 8), ("сентябр", 9), ("октябр", 10), ("ноябр", 11), ("декабр", 12)]

_EN_MON = r"(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
_RU_MON = r"(январ[яье]|феврал[яье]|март[аеу]?|апрел[яье]|ма[яйе]|июн[яье]|июл[яье]|август[аеу]?|сентябр[яье]|октябр[яье]|ноябр[яье]|декабр[яье])"
_KY_MON = r"(январ\w*|феврал\w*|март\w*|апрел\w*|май\w*|июн\w*|июл\w*|август\w*|сентябр\w*|октябр\w*|ноябр\w*|декабр\w*)"

_EN_CUE = r"(?:from|since|as of|starting(?: from| on| in)?|effective(?: from| on| as of)?|beginning(?: on| in)?|until|till|through|by|before|after|on|in)"
_RU_CUE = r"(?:с|со|до|по|начиная с|после|к|вплоть до|не позднее)"

_DATE_RX: list[tuple[str, re.Pattern]] = [
    # EN: "from 1 September 2026", "since 1st of January, 2025"
    ("en_dmy", re.compile(_EN_CUE + r"\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+" + _EN_MON + r",?\s+(\d{4})\b", F)),
    # EN: "since December 29, 2021", "from January 1 2025"
    ("en_mdy", re.compile(_EN_CUE + r"\s+" + _EN_MON + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", F)),
    # EN: "from September 2025"
    ("en_my", re.compile(_EN_CUE + r"\s+" + _EN_MON + r",?\s+(\d{4})\b", F)),
    # EN: "from 1 September", "by September 1"
    ("en_dm", re.compile(_EN_CUE + r"\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+" + _EN_MON + r"(?![\w,]*\s*\d{4})", F)),
    ("en_md", re.compile(_EN_CUE + r"\s+" + _EN_MON + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?!,?\s*\d{4})", F)),
    # EN: "from 2027", "since 2015"
    ("en_y", re.compile(r"(?:from|since|as of|starting(?: from| in)?|beginning in|effective)\s+(\d{4})\b", F)),
    # RU: "с 1 января 2025 года", "до 30 июня 2026 г."
    ("ru_dmy", re.compile(r"(?<!\w)" + _RU_CUE + r"\s+(\d{1,2})\s+" + _RU_MON + r"\s+(\d{4})", F)),
    ("ru_dm", re.compile(r"(?<!\w)" + _RU_CUE + r"\s+(\d{1,2})\s+" + _RU_MON + r"(?!\s+\d{4})(?!\w)", F)),
    # RU: "с сентября 2025 года", "с января"
    ("ru_my", re.compile(r"(?<!\w)" + _RU_CUE + r"\s+" + _RU_MON + r"\s+(\d{4})", F)),
    # RU: "с 2027 года"
    ("ru_y", re.compile(r"(?<!\w)(?:с|со|начиная с)\s+(\d{4})\s*(?:года|г\.)", F)),
    # numeric: "с 01.09.2025", "from 01.09.2025"
    ("num", re.compile(r"(?<!\w)(?:" + _RU_CUE + "|" + _EN_CUE + r")\s+(\d{1,2})\.(\d{1,2})\.(\d{4})\b", F)),
    # KY: "2026-жылдын 1-мартынан тарта", "1-сентябрдан баштап"
    ("ky_ydm", re.compile(r"(\d{4})-жыл\w*\s+(\d{1,2})-" + _KY_MON + r"\s+(?:баштап|тарта|тартып|кийин|чейин)", F)),
    ("ky_dm", re.compile(r"(?<![\d-])(\d{1,2})-" + _KY_MON + r"\s+(?:баштап|тарта|тартып|чейин)", F)),
    ("ky_y", re.compile(r"(\d{4})-жыл\w*\s+(?:баштап|тарта|тартып)", F)),
]


def _ru_month(word: str) -> int | None:
    w = word.lower()
    for stem, n in _RU_MONTH_STEMS:
        if re.match(stem, w):
            return n
    return None


def _ky_month(word: str) -> int | None:
    w = word.lower()
    for stem, n in _KY_MONTH_STEMS:
        if w.startswith(stem.replace("[яйе]", "")):
            return n
    return None


def _en_month(word: str) -> int | None:
    return _MONTHS.get(word.lower().rstrip("."))


def _pub_date(published: Any) -> date | None:
    if published is None:
        return None
    if isinstance(published, datetime):
        return published.date()
    if isinstance(published, date):
        return published
    s = str(published).strip()
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(s[:10])
        except ValueError:
            return None


def _resolve_year(month: int, day: int, pub: date | None) -> int | None:
    """Year for a day+month without one: the publication year, or the next year when that date
    would lie more than ~6 months before publication ("с 1 января" written in December)."""
    if pub is None:
        return None
    try:
        cand = date(pub.year, month, day)
    except ValueError:
        return None
    return pub.year + 1 if (pub - cand).days > 183 else pub.year


def _valid(y: int, m: int | None = None, d: int | None = None) -> bool:
    if not 1900 <= y <= 2100:
        return False
    if m is None:
        return True
    if not 1 <= m <= 12:
        return False
    if d is None:
        return True
    try:
        date(y, m, d)
        return True
    except ValueError:
        return False


def _iso(y: int, m: int | None = None, d: int | None = None) -> str:
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}-{m:02d}-{d:02d}"


@dataclass(frozen=True)
class DateHit:
    iso: str
    start: int
    end: int
    text: str


def find_dates(text: str, published: Any = None) -> list[DateHit]:
    """Effective-date mentions introduced by a temporal cue, in text order (deduplicated spans)."""
    pub = _pub_date(published)
    hits: list[DateHit] = []
    taken: list[tuple[int, int]] = []
    for kind, rx in _DATE_RX:
        for m in rx.finditer(text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            g = m.groups()
            y = mo = d = None
            if kind == "en_dmy":
                d, mo, y = int(g[0]), _en_month(g[1]), int(g[2])
            elif kind == "en_mdy":
                mo, d, y = _en_month(g[0]), int(g[1]), int(g[2])
            elif kind == "en_my":
                mo, y = _en_month(g[0]), int(g[1])
            elif kind == "en_dm":
                d, mo = int(g[0]), _en_month(g[1])
                y = _resolve_year(mo, d, pub) if mo else None
            elif kind == "en_md":
                mo, d = _en_month(g[0]), int(g[1])
                y = _resolve_year(mo, d, pub) if mo else None
            elif kind in ("en_y", "ru_y", "ky_y"):
                y = int(g[0])
            elif kind == "ru_dmy":
                d, mo, y = int(g[0]), _ru_month(g[1]), int(g[2])
            elif kind == "ru_dm":
                d, mo = int(g[0]), _ru_month(g[1])
                y = _resolve_year(mo, d, pub) if mo else None
            elif kind == "ru_my":
                mo, y = _ru_month(g[0]), int(g[1])
            elif kind == "num":
                d, mo, y = int(g[0]), int(g[1]), int(g[2])
            elif kind == "ky_ydm":
                y, d, mo = int(g[0]), int(g[1]), _ky_month(g[2])
            elif kind == "ky_dm":
                d, mo = int(g[0]), _ky_month(g[1])
                y = _resolve_year(mo, d, pub) if mo else None
            if y is None or not _valid(y, mo, d) or (kind.endswith(("dm", "md")) and mo is None):
                continue
            hits.append(DateHit(_iso(y, mo, d), s, e, m.group(0)))
            taken.append((s, e))
    hits.sort(key=lambda h: h.start)
    return hits


@dataclass
class ChangeSignal:
    is_change: bool
    stage: str | None
    effective_dates: list[str]
    evidence: list[dict] = field(default_factory=list)
    stage_scores: dict[str, float] = field(default_factory=dict)
    cues: list[dict] = field(default_factory=list)        # every stage cue found (evidence picks)
    dates_evidence: list[dict] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"is_change": self.is_change, "stage": self.stage,
                "effective_dates": list(self.effective_dates), "evidence": list(self.evidence)}


def stage_scores(text: str, title: str = "") -> tuple[dict[str, float], list[dict]]:
    scores = {st: 0.0 for st in STAGES}
    ev: list[dict] = []
    for fld, s in (("title", title or ""), ("text", text or "")):
        for st, cues in _CUE_RX.items():
            if not s or (_CUE_ANY[st] is not None and _CUE_ANY[st].search(s) is None):
                continue
            for rx, w in cues:
                for m in rx.finditer(s):
                    pos_w = TITLE_WEIGHT if fld == "title" else (LEAD_WEIGHT if m.start() < LEAD_CHARS else 1.0)
                    scores[st] += w * pos_w
                    ev.append({"text": m.group(0), "start": m.start(), "end": m.end(), "stage": st,
                               "field": fld, "weight": round(w * pos_w, 2)})
    # obligations: pilot in a pilot/limited-rollout context, else in force
    pilot_ctx = scores["pilot"] > 0 or any(rx.search(s) for rx in _PCTX_RX for s in (title or "", text or ""))
    target = "pilot" if pilot_ctx else "in_force"
    n = 0 if _AUTH_RX.search(title or "") or _AUTH_RX.search(text or "") else OBLIGATION_MAX
    for fld, s in (("title", title or ""), ("text", text or "")):
        if not s or (_OBL_ANY is not None and _OBL_ANY.search(s) is None):
            continue
        for rx, w in _OBL_RX:
            for m in rx.finditer(s):
                if n >= OBLIGATION_MAX:
                    break
                n += 1
                pos_w = TITLE_WEIGHT if fld == "title" else (LEAD_WEIGHT if m.start() < LEAD_CHARS else 1.0)
                scores[target] += w * pos_w
                ev.append({"text": m.group(0), "start": m.start(), "end": m.end(), "stage": target,
                           "field": fld, "weight": round(w * pos_w, 2)})
    return scores, ev


# A stage needs at least this much weighted cue evidence (one strong cue in the body, or a weak
# one in the lead) before an item counts as reporting a change.
MIN_STAGE_SCORE = 1.0


def detect(text: str, title: str = "", published: Any = None, lang: str | None = None) -> ChangeSignal:
    text = text or ""
    scores, ev = stage_scores(text, title)
    best = max(STAGE_ORDER, key=lambda st: (round(scores[st], 6), STAGE_ORDER.index(st)))
    stage = best if scores[best] >= MIN_STAGE_SCORE else None
    dates = find_dates(text, published)
    tdates = find_dates(title or "", published)
    iso: list[str] = []
    for h in tdates + dates:
        if h.iso not in iso:
            iso.append(h.iso)
    date_ev = [{"text": h.text, "start": h.start, "end": h.end, "date": h.iso, "field": "title"} for h in tdates]
    date_ev += [{"text": h.text, "start": h.start, "end": h.end, "date": h.iso, "field": "text"} for h in dates[:5]]
    return ChangeSignal(stage is not None, stage, iso, _stage_evidence(ev, stage) + date_ev,
                        {k: round(v, 2) for k, v in scores.items()}, ev, date_ev)


def _stage_evidence(cues: list[dict], stage: str | None) -> list[dict]:
    return sorted([e for e in cues if e["stage"] == stage], key=lambda e: -e["weight"])[:3] if stage else []


def with_stage(sig: ChangeSignal, stage: str | None) -> ChangeSignal:
    """The same signal with another stage decision (None: not a change): its evidence is that
    stage's strongest cues, if the text has any, plus the dates. Pure."""
    if stage is not None and stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    return ChangeSignal(stage is not None, stage, list(sig.effective_dates),
                        _stage_evidence(sig.cues, stage) + list(sig.dates_evidence),
                        dict(sig.stage_scores), list(sig.cues), list(sig.dates_evidence))


def rule_features(sig: ChangeSignal) -> list[float]:
    """What the learned change model (classify.change_model) takes from the rules: each stage's
    weighted cue total (log1p), whether the rules call it a change, and their stage (one-hot)."""
    return ([math.log1p(max(sig.stage_scores.get(st, 0.0), 0.0)) for st in STAGES]
            + [1.0 if sig.is_change else 0.0] + [1.0 if sig.stage == st else 0.0 for st in STAGES])
