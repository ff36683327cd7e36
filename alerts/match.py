"""Pure rule/development matching: topics, vectors and dates in; a score and reasons out.

No database, no model: the engine passes normalised embedding vectors (from
`classify.embed`), so everything here is testable with hand-made vectors.

A development matches a rule when
  1. it reports a change (`stage` or effective dates, or a member's change signal) — only when
     `require_change` is set;
  2. their topics overlap;
  3. the best cosine similarity between the rule's statements (en, ru) and the development's
     title/evidence snippets reaches `threshold`; when no similarity could be computed the
     match fails OPEN (topic overlap alone raises the alert, and the reason says so);
  4. it carries news after the rule was last reviewed: last_seen or an effective date later
     than `last_reviewed` (a rule never reviewed always qualifies).
The score is the best similarity (0..1); reasons are short sentences for the alert.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

# Stage ladder of the legal-change classifier (classify/data/dev.jsonl uses these labels).
# "court" sits with "adopted": a filed case or ruling is more concrete than a proposal or
# pilot, and the ruling may still be followed by a law that is signed and comes into force.
STAGE_RANK = {"proposed": 1, "pilot": 2, "court": 3, "adopted": 3, "signed": 4, "in_force": 5}


@dataclass
class MatchResult:
    matched: bool
    score: float
    reasons: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)          # overlap
    similarity: float | None = None
    best_rule_text: int | None = None                         # index into rule texts
    best_snippet: int | None = None                           # index into snippets
    snippet_scores: list[float] = field(default_factory=list)  # best similarity per snippet


def topic_overlap(rule_topics: Iterable[str], dev_topics: Iterable[str]) -> list[str]:
    return sorted(set(rule_topics or []) & set(dev_topics or []))


def similarity_matrix(rule_vecs: np.ndarray, snippet_vecs: np.ndarray) -> np.ndarray:
    """Cosine similarities (rows: rule texts, cols: snippets). Inputs need not be normalised."""
    a = np.asarray(rule_vecs, dtype=np.float64)
    b = np.asarray(snippet_vecs, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0] if a.ndim == 2 else 0, b.shape[0] if b.ndim == 2 else 0))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"vector sizes differ: rule {a.shape[1]} vs snippet {b.shape[1]}")
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def _to_date(v) -> _dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    try:
        return _dt.date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def reports_change(stage: str | None, effective_dates: Sequence[str] | None,
                   any_change_signal: bool = False) -> bool:
    return bool(stage) or bool(effective_dates) or bool(any_change_signal)


def news_after_review(last_reviewed, last_seen, effective_dates: Sequence[str] | None) -> bool:
    """True when the development was seen, or a date it names falls, after the rule's review."""
    reviewed = _to_date(last_reviewed)
    if reviewed is None:
        return True
    seen = _to_date(last_seen)
    if seen is not None and seen > reviewed:
        return True
    return any((d := _to_date(x)) is not None and d > reviewed for x in (effective_dates or []))


def stage_advanced(old: str | None, new: str | None) -> bool:
    """Did the development move to a later stage? Unknown labels: any new, different non-empty
    stage counts as an advance (fail open: a human looks once more)."""
    if not new or new == old:
        return False
    if not old:
        return True
    if old in STAGE_RANK and new in STAGE_RANK:
        return STAGE_RANK[new] > STAGE_RANK[old]
    return True


def needs_similarity(*, rule_topics: Sequence[str], dev_topics: Sequence[str],
                     stage: str | None, effective_dates: Sequence[str] | None,
                     any_change_signal: bool = False, require_change: bool = True,
                     last_reviewed=None, last_seen=None) -> bool:
    """Would `match_rule` with these arguments get as far as comparing vectors? (False: it
    decides on change, topics and dates alone, so the development's texts need no embedding.)"""
    if require_change and not reports_change(stage, effective_dates, any_change_signal):
        return False
    if not topic_overlap(rule_topics, dev_topics):
        return False
    return news_after_review(last_reviewed, last_seen, effective_dates)


def match_rule(*, rule_topics: Sequence[str], dev_topics: Sequence[str],
               rule_vecs: np.ndarray | None, snippet_vecs: np.ndarray | None,
               threshold: float, stage: str | None, effective_dates: Sequence[str] | None,
               any_change_signal: bool = False, require_change: bool = True,
               last_reviewed=None, last_seen=None) -> MatchResult:
    reasons: list[str] = []
    overlap = topic_overlap(rule_topics, dev_topics)
    changed = reports_change(stage, effective_dates, any_change_signal)
    res = MatchResult(False, 0.0, reasons, overlap)
    if require_change and not changed:
        reasons.append("development reports no legal change (no stage or effective date)")
        return res
    if not overlap:
        reasons.append("no topic in common")
        return res
    reasons.append(f"shared topics: {', '.join(overlap)}")
    if changed:
        bits = []
        if stage:
            bits.append(f"stage {stage}")
        if effective_dates:
            bits.append(f"effective {', '.join(effective_dates)}")
        reasons.append("reports a change: " + ("; ".join(bits) if bits else "change signal"))
    if not news_after_review(last_reviewed, last_seen, effective_dates):
        reasons.append(f"nothing newer than the rule's last review ({last_reviewed})")
        return res
    if last_reviewed is not None:
        reasons.append(f"news after the rule's last review ({last_reviewed})")
    if rule_vecs is None or snippet_vecs is None:
        # Fail open: without a similarity we cannot rule the development out.
        reasons.append("semantic similarity unavailable; matched on topics alone")
        res.matched, res.score = True, 0.0
        return res
    sims = similarity_matrix(rule_vecs, snippet_vecs)
    if sims.size == 0:
        reasons.append("no text to compare; matched on topics alone")
        res.matched, res.score = True, 0.0
        return res
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    best = float(sims[i, j])
    res.similarity = best
    res.score = max(0.0, min(1.0, best))
    res.best_rule_text, res.best_snippet = int(i), int(j)
    res.snippet_scores = [float(x) for x in sims.max(axis=0)]
    if best < threshold:
        reasons.append(f"similarity {best:.2f} below threshold {threshold:.2f}")
        return res
    reasons.append(f"similarity {best:.2f} ≥ threshold {threshold:.2f}")
    res.matched = True
    return res


def select_matches(scored: Sequence[tuple[str, float]], *, margin: float,
                   max_rules: int) -> list[str]:
    """Which matched rules one development should raise reviews on.

    `scored` is (rule id, similarity) for every rule that passed `match_rule`. A development
    about one event usually touches one or two statements closely and others only through a
    shared topic; keeping rules within `margin` of the best similarity (and at most
    `max_rules`) stops one article from opening a review on every rule of its topic.
    Topic-only matches (similarity unavailable, score 0) all stay: failing open.
    """
    if not scored:
        return []
    if all(s <= 0.0 for _, s in scored):
        return [rid for rid, _ in scored]
    best = max(s for _, s in scored)
    kept = sorted((x for x in scored if x[1] >= best - margin), key=lambda x: (-x[1], x[0]))
    return [rid for rid, _ in kept[:max_rules]]
