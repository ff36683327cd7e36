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
