"""TopicClassifier: term patterns + embeddings + a small trained head, blended with a character
n-gram model (classify.lexical) -> tags with evidence.

Contract (docs/contracts.md §2): ``get_classifier(cfg).classify(items) -> list[Classification]``;
an item has ``text`` and optional ``title, url, lang, published``.
``Classification.to_json()`` = ``{url, topics, scores, evidence, change}``.

Evidence offsets: ``start``/``end`` index into the item's ``text`` exactly as given
(``item["text"][start:end] == evidence["text"]``). A snippet found in the title instead carries
``"field": "title"`` and offsets into ``title``; body snippets carry ``"field": "text"``.
"""
from __future__ import annotations

import hashlib
import json
import threading
import tomllib
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from classify import CLASSIFIER_VERSION
from classify import legal_change
from classify.change_model import ChangeModel
from classify.embed import Embedder, backend_name, chunk_spans, clean_for_embedding, get_embedder
from classify.lexical import LexicalModel, lexical_text
from classify.patterns import (CompiledTopic, Match, compile_topics, host_counts, sentence_of,
                               split_sentences)
from classify.scoring import (Head, blend, design, doc_vector, evidence_score, feature_matrix,
                              final_scores, prototype_sims, setting_gate, term_stats, term_vector)

MODEL_DIR = Path(__file__).with_name("model")
REPO_ROOT = Path(__file__).resolve().parents[1]
# Evidence snippets per topic shown to an editor: enough to judge, short enough to read.
MAX_EVIDENCE = 3
# Chunks embedded per article besides the title: the first chunk (the lead) plus the chunks with
# the most term matches. Bounded so a 50-page act costs as much as a news item (throughput).
DEFAULT_MAX_CHUNKS = 4
# Items longer than LONG_WINDOWS chunks are also scored per window (at most MAX_WINDOWS windows).
LONG_WINDOWS = 2
MAX_WINDOWS = 8
# Version of the feature layout (scoring.feature_names + patterns.HOST_GROUPS); part of the topics
# fingerprint so a head trained on another layout is refused.
FEATURE_SET = "terms+sims+setting-3+gate"


class ClassifierError(RuntimeError):
    """The classifier cannot run as configured (missing/mismatched model, bad topic config)."""


def _as_list(v) -> list:
    return list(v) if isinstance(v, (list, tuple)) else []


def load_topics_file(path: str | Path = REPO_ROOT / "config" / "topics.toml") -> list[dict]:
    """Validated [[topic]] entries of one topics.toml (used when no Config is given)."""
    from classify.config_schema import TOPIC
    from lawwatch.schema import validate
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return [validate(TOPIC, t, str(path), f"topic[{t.get('id', i)}]")
            for i, t in enumerate(data.get("topic", []))]


def classify_settings(cfg: Any) -> dict:
    settings = getattr(cfg, "settings", None)
    if isinstance(settings, Mapping):
        return dict(settings.get("classify", {}))
    if isinstance(cfg, Mapping) and "classify" in cfg:
        return dict(cfg["classify"])
    return {}


def topics_of(cfg: Any) -> list[dict]:
    topics = getattr(cfg, "topics", None)
    if topics is None and isinstance(cfg, Mapping):
        topics = cfg.get("topics")
    if topics is None:
        topics = load_topics_file()
    return [dict(t) for t in topics]


def topics_fingerprint(topics: Sequence[Mapping]) -> str:
    """Hash of what the features depend on (ids, terms, exclude, prototypes)."""
    norm = [{"features": FEATURE_SET}] + [{"id": t["id"], "context": _as_list(t.get("context")), "terms": t.get("terms") if isinstance(t.get("terms"), Mapping) else {},
             "exclude": t.get("exclude") if isinstance(t.get("exclude"), (list, Mapping)) else [],
             "prototypes": _as_list(t.get("prototypes")),
             "setting_gate": bool(t.get("setting_gate", True)),
             "needs_foreigners": bool(t.get("needs_foreigners", False))} for t in topics]
    return hashlib.sha256(json.dumps(norm, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


@dataclass
class Classification:
    url: str | None
    topics: list[str]
    scores: dict[str, float]
    evidence: dict[str, list[dict]]
    change: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    # topic -> why it was not tagged although the head scored it over its threshold (the setting
    # gate); not part of the CLI contract (to_json), its score there is 0
    suppressed: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "topics": list(self.topics), "scores": dict(self.scores),
                "evidence": {k: list(v) for k, v in self.evidence.items()},
                "change": dict(self.change)}


@dataclass
class ItemFeatures:
    """Everything the head and the evidence builder need about one item."""
    title: str
    text: str
    title_matches: dict[str, list[Match]]
    body_matches: dict[str, list[Match]]
    sentences: list                       # Span list of text
    features: np.ndarray                   # shared feature row (scoring.feature_matrix)
    doc_vec: np.ndarray
    unit_spans: list[tuple[int, int]]      # embedded chunks of text (title is unit 0, not listed)
    unit_sims: dict[str, np.ndarray]       # topic -> sims of [title] + chunks to its prototypes
    setting: dict[str, int] = field(default_factory=dict)   # patterns.host_counts


class Featurizer:
    """Computes ItemFeatures for a batch: patterns for all text, embeddings for bounded chunks."""

    def __init__(self, topics: Sequence[Mapping], embedder: Embedder, chunk_chars: int = 1200,
                 max_chunks: int = DEFAULT_MAX_CHUNKS):
        self.topics = [dict(t) for t in topics]
        self.topic_ids = [t["id"] for t in self.topics]
        self.gate_opts = [(bool(t.get("setting_gate", True)), bool(t.get("needs_foreigners", False)))
                          for t in self.topics]
        self.compiled: dict[str, CompiledTopic] = compile_topics(self.topics)
        self.embedder = embedder
        self.chunk_chars = chunk_chars
        self.max_chunks = max_chunks
        self.protos: dict[str, np.ndarray] = {}
        for t in self.topics:
            p = _as_list(t.get("prototypes"))
            self.protos[t["id"]] = (embedder.encode([clean_for_embedding(x) for x in p]) if p
                                    else np.zeros((0, embedder.dim), dtype=np.float32))

    def _select_chunks(self, text: str, body_matches: Mapping[str, list[Match]]) -> list[tuple[int, int]]:
        """The lead chunk plus, topic by topic, the chunk where that topic's terms are densest
        (a guide's CHI section is embedded even if its patent section has more terms), up to
        max_chunks, in text order."""
        spans = chunk_spans(text, self.chunk_chars) if text.strip() else []
        if len(spans) <= self.max_chunks:
            return spans
        keep = [0]
        best = []
        for ms in body_matches.values():
            if not ms:
                continue
            counts = [sum(1 for m in ms if sp[0] <= m.start < sp[1]) for sp in spans]
            i = max(range(len(spans)), key=lambda k: (counts[k], -k))
            best.append((-counts[i], i))
        for _, i in sorted(best):
            if i not in keep and len(keep) < self.max_chunks:
                keep.append(i)
        return [spans[i] for i in sorted(keep)]

    def featurize(self, items: Sequence[Mapping],
                  memo: dict[str, np.ndarray] | None = None) -> list[ItemFeatures]:
        """`memo` (text -> vector) lets calls share vectors: a text embedded once is not embedded
        again (a long item's windows repeat its title and its selected chunks)."""
        pre = []
        units: list[str] = []
        for it in items:
            title = it.get("title") or ""
            text = it.get("text") or ""
            tm = {tid: ct.find(title) for tid, ct in self.compiled.items()}
            bm = {tid: ct.find(text) for tid, ct in self.compiled.items()}
            sents = split_sentences(text)
            chunks = self._select_chunks(text, bm)
            texts = ([clean_for_embedding(title)] if title.strip() else []) + \
                    [clean_for_embedding(text[s:e]) for s, e in chunks]
            if not texts:
                raise ClassifierError(f"item {it.get('url') or it.get('id') or '?'}: empty title and text")
            pre.append((title, text, tm, bm, sents, chunks, len(units), len(texts), bool(title.strip())))
            units.extend(texts)
        vecs = self._encode_units(units, {} if memo is None else memo)
        out = []
        for title, text, tm, bm, sents, chunks, off, n, has_title in pre:
            windows = chunk_spans(text, self.chunk_chars) if len(text) > self.chunk_chars else []
            uv = vecs[off:off + n]
            # title counts as much as the lead chunk; later chunks a little less
            w = ([1.0] if has_title else []) + [1.0 if i == 0 else 0.7 for i in range(len(chunks))]
            dv = doc_vector(uv, w)
            tvecs, sims, usims = {}, {}, {}
            ctx_cache: dict[tuple, int] = {}   # topics sharing one context list count it once
            for tid in self.topic_ids:
                ck = tuple(rx.pattern for rx in self.compiled[tid].context)
                if ck not in ctx_cache:
                    ctx_cache[ck] = self.compiled[tid].count_context(title) + self.compiled[tid].count_context(text)
                ctx = ctx_cache[ck]
                st = self._term_stats(tm[tid], bm[tid], text, sents, windows, ctx)
                tvecs[tid] = term_vector(st)
                sims[tid] = prototype_sims(uv, dv, self.protos[tid])
                P = self.protos[tid]
                usims[tid] = (uv @ P.T).max(axis=1) if P.size else np.zeros(len(uv))
            if not has_title:
                usims = {k: np.concatenate([[0.0], v]) for k, v in usims.items()}
            setting = host_counts(title, text)
            totals = {tid: len(tm[tid]) + len(bm[tid]) for tid in self.topic_ids}
            feats = feature_matrix(tvecs, sims, self.topic_ids, setting, totals)
            out.append(ItemFeatures(title, text, tm, bm, sents, feats, dv, chunks, usims, setting))
        return out

    def _encode_units(self, units: list[str], memo: dict[str, np.ndarray]) -> np.ndarray:
        """Vectors of `units`, each distinct text embedded once (titles repeat across a feed's
        items and a long item's windows; ~20 % of a news batch's texts)."""
        if not units:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        todo = list(dict.fromkeys(u for u in units if u not in memo))
        if todo:
            for u, v in zip(todo, self.embedder.encode(todo)):
                memo[u] = v
        return np.stack([memo[u] for u in units])

    @staticmethod
    def _term_stats(title_m: list[Match], body_m: list[Match], text: str, sents: list,
                    windows: list[tuple[int, int]], ctx: int):
        """Term statistics of one topic. A long text (several chunk windows) is measured on the
        topic's densest window, so the position/density features of a guide's CHI section look
        like those of a CHI news item rather than being diluted by the rest of the guide; a text
        of one window (the training excerpts, most news items) is measured whole, as before."""
        if len(windows) > 1 and body_m:
            starts = [m.start for m in body_m]
            w_s, w_e = max(windows, key=lambda w: (sum(w[0] <= x < w[1] for x in starts), -w[0]))
            inside = [m for m in body_m if w_s <= m.start < w_e]
            sub = [sp for sp in sents if w_s <= sp.start < w_e]
            hit = {sentence_of(sub, m.start) for m in inside} if sub else set()
            # offsets relative to the window (term_stats reads start for the first position)
            rel = [dc_replace(m, start=m.start - w_s, end=m.end - w_s) for m in inside]
            return term_stats(title_m, rel, w_e - w_s, len(sub), len(hit), ctx)
        hit_sents = {sentence_of(sents, m.start) for m in body_m} if sents else set()
        return term_stats(title_m, body_m, len(text), len(sents), len(hit_sents), ctx)

    def gate_reasons(self, f: ItemFeatures) -> list[str | None]:
        """Per topic: why the setting gate removes it from this item (scoring.setting_gate), or None."""
        return [setting_gate(f.setting, nf) if on else None for on, nf in self.gate_opts]

    def gate_mask(self, feats: Sequence[ItemFeatures]) -> np.ndarray:
        """(items, topics) True where the setting gate removes the topic."""
        if not feats:
            return np.zeros((0, len(self.topic_ids)), dtype=bool)
        return np.array([[r is not None for r in self.gate_reasons(f)] for f in feats], dtype=bool)

    def no_terms_mask(self, feats: Sequence[ItemFeatures]) -> np.ndarray:
        """(items, topics) True where no term of the topic matched in title or text."""
        if not feats:
            return np.zeros((0, len(self.topic_ids)), dtype=bool)
        return np.array([[not (f.title_matches[t] or f.body_matches[t]) for t in self.topic_ids]
                         for f in feats], dtype=bool)

    def serve(self, feats: Sequence[ItemFeatures], P: np.ndarray) -> np.ndarray:
        """Head scores -> served scores (scoring.final_scores)."""
        return final_scores(P, self.gate_mask(feats), self.no_terms_mask(feats))


# -- the trained head on disk ------------------------------------------------------------
def head_path(model_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in model_id.split("@")[0])
    return MODEL_DIR / f"head-{safe}.json"


def lexical_path(head_file: Path) -> Path:
    """The lexical member trained with a head sits beside it: head-<model>.lexical.npz."""
    return head_file.with_name(head_file.name.removesuffix(".json") + ".lexical.npz")


@dataclass
class HeadFile:
    head: Head
    emb_scale: float
    meta: dict
    lexical: LexicalModel | None = None
    head_weight: float = 1.0

    def scores(self, feats: Sequence["ItemFeatures"]) -> np.ndarray:
        """Calibrated scores of the head, blended with the lexical member's if it has one."""
        X = np.vstack([f.features for f in feats])
        E = np.vstack([f.doc_vec for f in feats])
        P = self.head.scores(design(X, E, self.emb_scale))
        if self.lexical is None:
            return P
        L = self.lexical.scores([lexical_text(f.title, f.text) for f in feats])
        return blend(P, L, self.head_weight)


def load_head(model_id: str, topic_ids: Sequence[str], fingerprint: str) -> HeadFile:
    p = head_path(model_id)
    if not p.exists():
        raise ClassifierError(
            f"{p}: no trained topic head for embedding model {model_id!r}. Train it with "
            f"`python -m classify.train --backend <backend>` (see classify/README.md), or set "
            f"settings.toml [classify] backend to one that has a head in {MODEL_DIR}.")
    d = json.loads(p.read_text(encoding="utf-8"))
    if list(d["topic_ids"]) != list(topic_ids):
        raise ClassifierError(f"{p}: trained for topics {d['topic_ids']} but config has "
                              f"{list(topic_ids)}; retrain: `python -m classify.train`")
    if d.get("topics_fingerprint") != fingerprint:
        raise ClassifierError(f"{p}: trained with different topic terms/prototypes "
                              f"({d.get('topics_fingerprint')} != {fingerprint}); config/topics.toml "
                              f"changed since training. Retrain: `python -m classify.train`")
    if d.get("model_id") != model_id:
        raise ClassifierError(f"{p}: trained with embedding model {d.get('model_id')!r}, "
                              f"running {model_id!r}; retrain: `python -m classify.train`")
    head = Head(list(d["topic_ids"]), np.asarray(d["mu"], dtype=np.float64),
                np.asarray(d["sd"], dtype=np.float64), np.asarray(d["W"], dtype=np.float64),
                np.asarray(d["b"], dtype=np.float64))
    meta = {k: v for k, v in d.items() if k not in ("mu", "sd", "W", "b")}
    lex, weight = None, 1.0
    if d.get("lexical"):
        lx = d["lexical"]
        lp = p.with_name(lx["file"])
        if not lp.exists():
            raise ClassifierError(f"{lp}: missing; {p} was trained with this lexical member. "
                                  f"Retrain: `python -m classify.train`")
        digest = hashlib.sha256(lp.read_bytes()).hexdigest()
        if digest != lx["sha256"]:
            raise ClassifierError(f"{lp}: sha256 {digest[:12]} is not the {lx['sha256'][:12]} that "
                                  f"{p} was trained with; retrain: `python -m classify.train`")
        try:
            lex = LexicalModel.load(lp)
        except (ValueError, KeyError, OSError) as exc:
            raise ClassifierError(f"{lp}: cannot load the lexical member: {exc}") from None
        if lex.topic_ids != list(topic_ids):
            raise ClassifierError(f"{lp}: trained for topics {lex.topic_ids}, config has "
                                  f"{list(topic_ids)}; retrain: `python -m classify.train`")
        weight = float(lx["head_weight"])
    return HeadFile(head, float(d["emb_scale"]), meta, lex, weight)


CHANGE_MODEL = "change.npz"


def load_change_model(model_dir: Path | None = None) -> ChangeModel:
    p = (model_dir or MODEL_DIR) / CHANGE_MODEL
    if not p.exists():
        raise ClassifierError(f"{p}: no trained legal-change model. Train it with "
                              f"`python -m classify.train` (see classify/README.md)")
    try:
        return ChangeModel.load(p)
    except (ValueError, KeyError, OSError) as exc:
        raise ClassifierError(f"{p}: cannot load the legal-change model: {exc}") from None


class TopicClassifier:
    def __init__(self, topics: Sequence[Mapping], embedder: Embedder, head: HeadFile,
                 chunk_chars: int = 1200, max_chunks: int = DEFAULT_MAX_CHUNKS, batch_size: int = 32,
                 change_model: ChangeModel | None = None):
        self.topics = [dict(t) for t in topics]
        self.topic_ids = [t["id"] for t in self.topics]
        self.thresholds = {t["id"]: float(t.get("threshold", 0.5)) for t in self.topics}
        self.featurizer = Featurizer(self.topics, embedder, chunk_chars, max_chunks)
        self.head = head
        self.batch_size = batch_size
        self.version = CLASSIFIER_VERSION
        # None: the cue rules decide the stage alone (a classifier built by hand; get_classifier
        # always loads the trained model and refuses to run without it)
        self.change_model = change_model

    @property
    def model_id(self) -> str:
        return self.featurizer.embedder.model_id

    def raw_scores(self, feats: Sequence[ItemFeatures]) -> np.ndarray:
        """The calibrated scores (head blended with the lexical member), before the setting gate."""
        return self.head.scores(feats)

    def score_features(self, feats: Sequence[ItemFeatures]) -> np.ndarray:
        """Served scores: the head's, gated topics 0, evidence-less topics discounted."""
        return self.featurizer.serve(feats, self.raw_scores(feats))

    def classify(self, items: Sequence[Mapping]) -> list[Classification]:
        out: list[Classification] = []
        for i in range(0, len(items), self.batch_size):
            batch = items[i:i + self.batch_size]
            memo: dict[str, np.ndarray] = {}
            feats = self.featurizer.featurize(batch, memo)
            R = self.raw_scores(feats)
            S = self.featurizer.serve(feats, R)
            R, S = self._long_items(batch, feats, R, S, memo)
            changes = self.changes(batch, feats)
            for it, f, r, s, ch in zip(batch, feats, R, S, changes):
                out.append(self._build(it, f, r, s, self.featurizer.gate_reasons(f), ch))
        return out

    def changes(self, batch: Sequence[Mapping], feats: Sequence[ItemFeatures]
                ) -> list[legal_change.ChangeSignal]:
        """The legal-change signal per item: the cue rules' dates and evidence, the stage decided
        by the learned change model (classify.change_model) when there is one."""
        sigs = [legal_change.detect(f.text, title=f.title, published=it.get("published"),
                                    lang=it.get("lang")) for it, f in zip(batch, feats)]
        if self.change_model is None:
            return sigs
        return self.change_model.refine([f.title for f in feats], [f.text for f in feats], sigs)

    def _long_items(self, batch: Sequence[Mapping], feats: Sequence[ItemFeatures], R: np.ndarray,
                    S: np.ndarray, memo: dict[str, np.ndarray] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """A long item (a guide, an act: more than LONG_WINDOWS chunk windows) is also scored
        window by window, each window with the item's title, like the news-sized excerpts the
        head was trained on; a topic's score is the best of the whole item's and its windows'.
        A guide's CHI section then counts as much as a CHI news item instead of being averaged
        away by the rest of the guide. The whole item's setting gate still applies."""
        cc = self.featurizer.chunk_chars
        subs, owner = [], []
        for i, it in enumerate(batch):
            text = it.get("text") or ""
            if len(text) <= LONG_WINDOWS * cc:
                continue
            for ws, we in chunk_spans(text, cc)[:MAX_WINDOWS]:
                subs.append({"title": it.get("title") or "", "text": text[ws:we]})
                owner.append(i)
        if not subs:
            return R, S
        sf = self.featurizer.featurize(subs, memo)
        sr = self.raw_scores(sf)
        ss = self.featurizer.serve(sf, sr)
        # a window counts only with a term of the topic in it: meaning alone, on a fragment of
        # an unrelated long article (a space-launch story), is too weak a signal
        ss[self.featurizer.no_terms_mask(sf)] = 0.0
        gated = self.featurizer.gate_mask(feats)
        R, S = R.copy(), S.copy()
        for k, i in enumerate(owner):
            R[i] = np.maximum(R[i], sr[k])
            S[i] = np.where(gated[i], 0.0, np.maximum(S[i], ss[k]))
        return R, S

    def _build(self, item: Mapping, f: ItemFeatures, raw: np.ndarray, served: np.ndarray,
               gates: Sequence[str | None], ch: legal_change.ChangeSignal) -> Classification:
        scores, suppressed = {}, {}
        for tid, v, s, why in zip(self.topic_ids, raw, served, gates):
            scores[tid] = round(float(s), 4)
            if v >= self.thresholds[tid] > s:
                suppressed[tid] = (f"setting: {why}" if why else
                                   "meaning only: no term of the topic and the head is not confident")
                suppressed[tid] += f" (head score {float(v):.2f})"
        topics = [tid for tid in self.topic_ids if scores[tid] >= self.thresholds[tid]]
        evidence = {tid: self._evidence(f, tid, scores[tid]) for tid in topics}
        return Classification(item.get("url"), topics, scores, evidence, ch.to_json(),
                              suppressed=suppressed)

    def _evidence(self, f: ItemFeatures, tid: str, score: float) -> list[dict]:
        ev: list[dict] = []
        for m in f.title_matches[tid][:1]:
            terms = sorted({x.term for x in f.title_matches[tid]})
            ev.append({"text": f.title, "start": 0, "end": len(f.title), "terms": terms,
                       "score": evidence_score(len(f.title_matches[tid]), score), "field": "title"})
        by_sent: dict[int, list[Match]] = {}
        for m in f.body_matches[tid]:
            by_sent.setdefault(sentence_of(f.sentences, m.start), []).append(m)
        ranked = sorted(by_sent.items(), key=lambda kv: (-len({m.term.lower() for m in kv[1]}),
                                                         -len(kv[1]), kv[0]))
        for si, ms in ranked[:MAX_EVIDENCE]:
            sp = f.sentences[si]
            ev.append({"text": f.text[sp.start:sp.end], "start": sp.start, "end": sp.end,
                       "terms": sorted({m.term for m in ms}),
                       "score": evidence_score(len(ms), score), "field": "text",
                       "matches": [[m.start, m.end] for m in ms]})
        if not by_sent and f.unit_spans:
            # tagged on meaning alone: show the chunk closest to the topic's prototypes
            sims = f.unit_sims[tid][1:]
            j = int(np.argmax(sims))
            s, e = f.unit_spans[j]
            first = next((sp for sp in f.sentences if sp.start >= s), None)
            if first is not None:
                s, e = first.start, first.end
            ev.append({"text": f.text[s:e], "start": s, "end": e, "terms": [],
                       "score": round(float(sims[j]) * score, 4), "field": "text",
                       "similarity": round(float(sims[j]), 4)})
        ev.sort(key=lambda d: -d["score"])
        return ev[:MAX_EVIDENCE]


_CLF: dict[str, TopicClassifier] = {}
_CLF_LOCK = threading.Lock()


def get_classifier(cfg: Any = None) -> TopicClassifier:
    """The classifier for a Config (or None: repo config/topics.toml, backend "use"); cached."""
    cs = classify_settings(cfg)
    backend = backend_name({"classify": cs}) if cs else "use"
    topics = topics_of(cfg)
    fp = topics_fingerprint(topics)
    key = json.dumps([backend, fp, cs.get("chunk_chars", 1200), cs.get("max_chunks", DEFAULT_MAX_CHUNKS),
                      {t["id"]: t.get("threshold") for t in topics}], sort_keys=True)
    with _CLF_LOCK:
        if key not in _CLF:
            emb = get_embedder(backend)
            head = load_head(emb.model_id, [t["id"] for t in topics], fp)
            _CLF[key] = TopicClassifier(topics, emb, head, chunk_chars=int(cs.get("chunk_chars", 1200)),
                                        max_chunks=int(cs.get("max_chunks", DEFAULT_MAX_CHUNKS)),
                                        batch_size=int(cs.get("batch_size", 32)),
                                        change_model=load_change_model())
        return _CLF[key]
