"""Pure rendering helpers: escaped evidence highlighting, diffs, dates, badges.

Everything that came from the web (titles, bodies, evidence, errors) is escaped here before it
reaches HTML; markup is only ever built around escaped segments.
"""
from __future__ import annotations

import difflib
import html
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import pandas as pd

TOPIC_COLORS = {
    "chi": "#e0f2fe", "biometrics": "#fef3c7", "entry_ban": "#fee2e2", "eaeu_court": "#ede9fe",
    "registration": "#dcfce7", "work_permit": "#ffedd5", "amina_app": "#fce7f3",
}
STAGE_ORDER = ["proposed", "draft", "bill", "first_reading", "second_reading", "adopted",
               "signed", "published", "in_force", "court_case", "ruling", "repealed"]
STATE_ICONS = {"open": ":material/error:", "acknowledged": ":material/pending:",
               "resolved": ":material/check_circle:", "dismissed": ":material/block:"}
KIND_LABELS = {"rule_review": "Rule review", "source_silent": "Source silent",
               "needs_human": "Needs a human"}

CSS = """
<style>
[data-testid="stMainBlockContainer"]{padding-top:2.2rem}
[data-testid="stMetricValue"]{font-size:1.9rem}
.lw-body{font-size:0.95rem;line-height:1.6;white-space:pre-wrap;max-height:28rem;overflow:auto;
 padding:0.75rem 1rem;border:1px solid #e5e7eb;border-radius:8px;background:#fff}
.lw-body mark{padding:0 2px;border-radius:3px;border-bottom:2px solid #f59e0b}
.lw-note{color:#6b7280;font-size:0.85rem}
.lw-diff{font-family:ui-monospace,Menlo,monospace;font-size:0.82rem;white-space:pre-wrap;
 border:1px solid #e5e7eb;border-radius:8px;padding:0.5rem;max-height:24rem;overflow:auto}
.lw-diff .add{background:#dcfce7;display:block}
.lw-diff .del{background:#fee2e2;display:block}
.lw-diff .hdr{color:#6b7280;display:block}
.lw-diff ins{background:#bbf7d0;text-decoration:none}
.lw-diff del{background:#fecaca}
</style>
"""


def esc(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


# -- evidence highlighting ----------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    start: int
    end: int
    topic: str
    terms: tuple[str, ...] = ()
    score: float | None = None


def parse_evidence(evidence: Any) -> list[dict]:
    """Tag evidence as stored (JSON text or list) -> list of dicts."""
    if evidence is None:
        return []
    if isinstance(evidence, str):
        evidence = json.loads(evidence) if evidence.strip() else []
    if isinstance(evidence, dict):
        evidence = [evidence]
    return [e for e in evidence if isinstance(e, dict)]


def locate_evidence(text: str, topic: str, evidence: Iterable[dict]) -> tuple[list[Span], list[dict]]:
    """Spans whose stored offsets match `text`; the rest are returned as unplaced.

    An offset is trusted only when text[start:end] equals the evidence text (the classifier's
    offsets are into the article text it saw). When it does not match (the outlet edited the
    article since it was classified) the caller shows the evidence separately and says so.
    """
    spans, unplaced = [], []
    for e in evidence:
        s, t, snippet = e.get("start"), e.get("end"), e.get("text") or ""
        ok = (isinstance(s, int) and isinstance(t, int) and 0 <= s < t <= len(text)
              and (not snippet or text[s:t] == snippet))
        if ok:
            spans.append(Span(s, t, topic, tuple(e.get("terms") or ()), e.get("score")))
        else:
            unplaced.append(e)
    return spans, unplaced


def highlight_html(text: str, spans: Iterable[Span], topic_labels: dict[str, str] | None = None) -> str:
    """Escaped `text` with <mark> around the spans (overlaps merged, labels combined)."""
    text = text or ""
    events: list[tuple[int, int, list[Span]]] = []
    for sp in sorted(spans, key=lambda s: (s.start, s.end)):
        if events and sp.start < events[-1][1]:
            s0, e0, members = events[-1]
            events[-1] = (s0, max(e0, sp.end), members + [sp])
        else:
            events.append((sp.start, sp.end, [sp]))
    out, pos = [], 0
    for s, e, members in events:
        out.append(esc(text[pos:s]))
        labels = []
        for m in members:
            lab = (topic_labels or {}).get(m.topic, m.topic)
            terms = ", ".join(m.terms)
            labels.append(f"{lab}: {terms}" if terms else lab)
        color = TOPIC_COLORS.get(members[0].topic, "#fef9c3")
        out.append(f'<mark style="background:{color}" title="{esc("; ".join(labels))}">'
                   f"{esc(text[s:e])}</mark>")
        pos = e
    out.append(esc(text[pos:]))
    return "".join(out)


def body_block(inner_html: str) -> str:
    return f'<div class="lw-body">{inner_html}</div>'


# -- diffs ----------------------------------------------------------------------------------
def unified_diff(old: str, new: str, old_label: str = "before", new_label: str = "after",
                 context: int = 2) -> str:
    return "\n".join(difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(),
                                          old_label, new_label, lineterm="", n=context))


def diff_html(diff_text: str) -> str:
    """A unified diff (text) -> escaped, coloured HTML."""
    if not diff_text.strip():
        return '<div class="lw-diff"><span class="hdr">no textual changes</span></div>'
    rows = []
    for line in diff_text.splitlines():
        cls = ("hdr" if line.startswith(("---", "+++", "@@")) else
               "add" if line.startswith("+") else "del" if line.startswith("-") else "")
        rows.append(f'<span class="{cls}">{esc(line) or "&nbsp;"}</span>' if cls
                    else f"{esc(line)}\n")
    return '<div class="lw-diff">' + "".join(rows) + "</div>"


def _sentences(text: str) -> list[str]:
    import re
    parts = re.split(r"(?<=[.!?…])\s+|\n+", text or "")
    return [p for p in parts if p.strip()]


def inline_diff_html(old: str, new: str) -> str:
    """Sentence-level diff of two article texts with words marked inside changed sentences."""
    a, b = _sentences(old), _sentences(new)
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    out = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and (i2 - i1) == (j2 - j1):
            for x, y in zip(a[i1:i2], b[j1:j2]):
                out.append(f'<span class="del">− {_word_diff(x, y, "del")}</span>')
                out.append(f'<span class="add">+ {_word_diff(x, y, "ins")}</span>')
            continue
        for x in a[i1:i2]:
            out.append(f'<span class="del">− {esc(x)}</span>')
        for y in b[j1:j2]:
            out.append(f'<span class="add">+ {esc(y)}</span>')
    if not out:
        return '<div class="lw-diff"><span class="hdr">no textual changes</span></div>'
    return '<div class="lw-diff">' + "".join(out) + "</div>"


def _word_diff(old: str, new: str, side: str) -> str:
    wa, wb = old.split(" "), new.split(" ")
    sm = difflib.SequenceMatcher(a=wa, b=wb, autojunk=False)
    out = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        words = wa[i1:i2] if side == "del" else wb[j1:j2]
        if not words:
            continue
        chunk = esc(" ".join(words))
        out.append(chunk if op == "equal" else f"<{side}>{chunk}</{side}>")
    return " ".join(out)


def rule_text(rule: dict) -> str:
    """Canonical text of a rule version for diffs (one field per line)."""
    keys = ["statement_en", "statement_ru", "topics", "jurisdiction", "effective_from",
            "source_url", "owner", "last_reviewed"]
    lines = []
    for k in keys:
        v = rule.get(k)
        if isinstance(v, (list, tuple)) or hasattr(v, "tolist"):
            v = ", ".join(map(str, list(v)))
        lines.append(f"{k}: {'' if v is None or (isinstance(v, float) and pd.isna(v)) else v}")
    return "\n".join(lines)


# -- dates ------------------------------------------------------------------------------------
def to_local(ts: Any, tz: ZoneInfo) -> datetime | None:
    # pd.NaT is an instance of datetime, so test for it before the datetime branch
    # (a source that never succeeded has a NULL last_success_at).
    if ts is None or ts is pd.NaT or (not isinstance(ts, (datetime, date)) and pd.isna(ts)):
        return None
    if isinstance(ts, pd.Timestamp):
        if pd.isna(ts):
            return None
        ts = ts.to_pydatetime()
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=timezone.utc)
        return ts.astimezone(tz)
    return None


def fmt_dt(ts: Any, tz: ZoneInfo, with_time: bool = True) -> str:
    d = to_local(ts, tz)
    if d is None:
        return "—"
    return d.strftime("%d %b %Y %H:%M") if with_time else d.strftime("%d %b %Y")


def localize(df: pd.DataFrame, cols: Iterable[str], tz: ZoneInfo) -> pd.DataFrame:
    """Convert tz-aware timestamp columns to `tz` for display (dataframes)."""
    df = df.copy()
    for c in cols:
        if c in df.columns and len(df):
            s = pd.to_datetime(df[c], utc=True)
            df[c] = s.dt.tz_convert(tz)
    return df


def ago(ts: Any, now: datetime | None = None) -> str:
    d = to_local(ts, timezone.utc)
    if d is None:
        return "never"
    now = now or datetime.now(timezone.utc)
    secs = (now - d).total_seconds()
    if secs < 0:
        return "just now"
    for unit, n in (("d", 86400), ("h", 3600), ("min", 60)):
        if secs >= n:
            return f"{int(secs // n)} {unit} ago"
    return "just now"


def as_list(v: Any) -> list:
    # NULL lists arrive as None, NaN, pd.NA or NaT depending on the column's dtype
    if v is None or v is pd.NA or v is pd.NaT:
        return []
    if isinstance(v, float) and pd.isna(v):
        return []
    if hasattr(v, "tolist"):
        v = v.tolist()
    return list(v)


def as_date(v: Any) -> date | None:
    """A DB/pandas date value -> datetime.date, or None for NULL/NaT/NaN."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, datetime):
        return v.date()
    return v if isinstance(v, date) else None


def stage_label(stage: Any) -> str:
    if stage is None or (isinstance(stage, float) and pd.isna(stage)) or stage == "":
        return "no stage"
    return str(stage).replace("_", " ")
