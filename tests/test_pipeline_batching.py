"""The batched/vectorised pipeline paths give what the one-at-a-time code gives.

- classify.developments.CandidateIndex.screen + best_match == best_match over every candidate;
- alerts.match.needs_similarity says exactly when match_rule needs vectors;
- store.articles.upsert_articles == upsert_article record by record;
- classify.embed: CachedEmbedder.encode_groups encodes each group's misses by its own call,
  fork_map gives map's results in order (in worker processes).
"""
from __future__ import annotations

import operator
import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from alerts import match as M
from classify.developments import COURT_TOPICS, CandidateIndex, best_match
from classify.embed import CachedEmbedder, encode_many, fork_map
from store.articles import upsert_article, upsert_articles
from store.db import Store
from store.records import ArticleRecord

TOPICS = ["chi", "biometrics", "registration", "entry_ban", "patent", *sorted(COURT_TOPICS)]
ANCHORS = ["2025", "2026", "EAEU", "MVD", "30", "90", "P-7/25", "CHI", "15%", "1000"]
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _cand(rng, i, dim):
    v = np.random.default_rng(1000 + i).normal(size=dim).astype(np.float32)
    return {"id": f"dev-{i:04d}", "first": None,
            "last": None if rng.random() < 0.05 else T0 + timedelta(days=rng.uniform(0, 400)),
            "topics": sorted(rng.sample(TOPICS, rng.randint(1, 3))),
            "centroid": v / (np.linalg.norm(v) if rng.random() < 0.7 else 1.0),
            "anchors": set(rng.sample(ANCHORS, rng.randint(0, 4))),
            "cases": {"P-7/25"} if rng.random() < 0.1 else set(), "n": None}


def test_screen_then_best_match_equals_best_match_over_all():
    rng = random.Random(7)
    dim = 16
    base = np.random.default_rng(7).normal(size=(6, dim)).astype(np.float32)
    cands = [_cand(rng, i, dim) for i in range(150)]
    for c in cands:  # a few clusters, so that joins happen at every threshold
        c["centroid"] = (base[rng.randrange(6)] + 0.3 * c["centroid"]).astype(np.float32)
    index = CandidateIndex(dim, cap=8)
    for c in cands:
        index.add(c)
    joined = 0
    for k in range(400):
        c = rng.choice(cands)
        v = (c["centroid"] + rng.uniform(0.05, 1.5) * np.random.default_rng(k).normal(size=dim)
             ).astype(np.float32)
        topics = sorted(rng.sample(TOPICS, rng.randint(1, 3)))
        anc = set(rng.sample(ANCHORS, rng.randint(0, 4)))
        cases = {"P-7/25"} if rng.random() < 0.1 else ({"P-1/24"} if rng.random() < 0.05 else set())
        pub = None if rng.random() < 0.05 else T0 + timedelta(days=rng.uniform(0, 400))
        threshold, window = rng.choice([0.3, 0.45, 0.55, 0.7]), rng.choice([7.0, 30.0])
        short = index.screen(v, anc, topics, cases, pub, threshold, window)
        assert {d["id"] for d in short} <= {d["id"] for d in cands}
        want = best_match(v, anc, topics, cands, threshold, cases, pub, window)
        got = best_match(v, anc, topics, short, threshold, cases, pub, window)
        assert got[0] == want[0], (k, got, want)
        if want[0] is not None:
            assert got[1] == want[1]
            joined += 1
            # the candidate changes as update_developments changes it; the index follows
            d = next(x for x in cands if x["id"] == want[0])
            added = anc - d["anchors"]
            d["anchors"] |= anc
            d["cases"] = set(d["cases"]) | cases
            d["topics"] = sorted(set(d["topics"]) | set(topics))
            d["last"] = max(filter(None, [d["last"], pub]), default=None)
            d["centroid"] = d["centroid"] + (v - d["centroid"]) / 2.0
            index.refresh(d, added)
    assert joined > 20


def test_needs_similarity_is_exactly_when_match_rule_compares_vectors():
    rng = random.Random(3)
    for _ in range(500):
        kw = dict(rule_topics=rng.sample(TOPICS, 2), dev_topics=rng.sample(TOPICS, rng.randint(0, 2)),
                  stage=rng.choice([None, "proposed", "signed"]),
                  effective_dates=rng.choice([[], ["2026-03-01"]]),
                  any_change_signal=rng.random() < 0.3, require_change=rng.random() < 0.7,
                  last_reviewed=rng.choice([None, "2025-06-01", "2027-01-01"]),
                  last_seen=rng.choice([None, datetime(2026, 1, 10, tzinfo=timezone.utc)]))
        # without vectors match_rule fails open exactly when it got as far as comparing them
        res = M.match_rule(rule_vecs=None, snippet_vecs=None, threshold=0.35, **kw)
        assert M.needs_similarity(**kw) == res.matched, kw


def _rec(i, body=None, **kw):
    return ArticleRecord(canonical_url=f"https://24.kg/x/{i}/", source_id="kg24_ru", title=f"t{i}",
                         body=f"текст {i}" if body is None else body, lang="ru",
                         published_at=datetime(2026, 1, 1, i % 24, tzinfo=timezone.utc), **kw)


def _rows(store):
    with store.read() as con:
        return (con.execute("SELECT * EXCLUDE (fetched_at, first_seen_at) FROM articles ORDER BY id").fetchall(),
                con.execute("SELECT * EXCLUDE (fetched_at) FROM article_versions ORDER BY ALL").fetchall())


def test_upsert_articles_equals_one_by_one(tmp_path):
    one, many = Store(tmp_path / "one.duckdb"), Store(tmp_path / "many.duckdb")
    first = [_rec(i, authors=["a"], tags=["x", "y"], extra={"stage": "signed"}) for i in range(20)]
    second = ([_rec(i) for i in range(0, 20, 2)] + [_rec(i, body=f"новый текст {i}") for i in range(1, 20, 4)]
              + [_rec(100 + i) for i in range(5)] + [_rec(200, body="   ")])
    for batch in (first, second):
        want = []
        with one.write() as con:
            for r in batch:
                try:
                    want.append(upsert_article(con, r))
                except ValueError as exc:
                    want.append(str(exc))
        with many.write() as con:
            got = [str(x) if isinstance(x, ValueError) else x
                   for x in upsert_articles(con, [(r, None) for r in batch])]
        assert got == want
    assert _rows(one) == _rows(many)


class Counting:
    model_id, dim = "counting@1", 4

    def __init__(self):
        self.calls = []

    def encode(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), t.count("a"), 1.0, i] for i, t in enumerate(texts)], dtype=np.float32)


def test_encode_groups_one_call_per_group_and_cache(tmp_store):
    c = Counting()
    ce = CachedEmbedder(tmp_store, c)
    out = ce.encode_groups([["a", "bb", "a"], ["bb", "ccc"], [], ["dddd"]])
    # misses of each group by their own call, a text an earlier group encodes is not repeated
    assert c.calls == [["a", "bb"], ["ccc"], ["dddd"]]
    assert [o.shape for o in out] == [(3, 4), (2, 4), (0, 4), (1, 4)]
    assert np.array_equal(out[0][1], out[1][0]) and np.array_equal(out[0][0], out[0][2])
    fresh = CachedEmbedder(tmp_store, c)            # from the embeddings table
    again = fresh.encode(["ccc", "a", "dddd", "bb"])
    assert len(c.calls) == 3
    assert np.array_equal(again, np.vstack([out[1][1], out[0][0], out[3][0], out[0][1]]))
    pieces = CachedEmbedder(tmp_store, c).encode(["a", "e", "ff", "ggg", "bb"], piece=2)
    assert c.calls[3:] == [["e"], ["ff", "ggg"]] and pieces.shape == (5, 4)


@pytest.mark.parametrize("workers", [1, 2])
def test_fork_map_keeps_order(workers):
    tasks = list(range(-50, 50))
    assert list(fork_map(operator.neg, tasks, workers)) == [-t for t in tasks]


def test_encode_many_in_workers_equals_in_process():
    c = Counting()
    groups = [[f"text {i} " + "a" * (i % 7) for i in range(j, j + 10)] for j in range(0, 100, 10)]
    inproc = encode_many(c, groups, workers=1, min_texts=0)
    forked = encode_many(Counting(), groups, workers=2, min_texts=0)
    assert all(np.array_equal(a, b) for a, b in zip(inproc, forked))


def _alert_tables(store) -> dict:
    with store.read() as con:
        return {
            "alerts": con.execute("SELECT id, kind, rule_id, development_id, state, title, score, "
                                  "details::VARCHAR, created_at, updated_at, seq, topics "
                                  "FROM alerts ORDER BY id").fetchall(),
            "events": con.execute("SELECT alert_id, seq, from_state, to_state, actor, occurred_at, "
                                  "note FROM alert_events ORDER BY alert_id, seq").fetchall(),
            "outbox": con.execute("SELECT event_id, alert_id, event_type, payload::VARCHAR, "
                                  "created_at FROM outbox ORDER BY event_id").fetchall(),
        }


def test_batched_alert_writes_equal_one_by_one(tmp_path, monkeypatch):
    """alerts.events.upsert_alerts (new alerts in set-based statements) leaves the same alerts,
    history and outbox — seq numbers and payload bytes included — as upsert_alert called alert by
    alert: on a first run (raises), a rerun (nothing changes) and a run after an editor resolved
    one alert and another's title drifted (an update)."""
    import alerts.engine as AE
    from alerts.events import upsert_alert
    from bench.pipeline import build_recording
    from lawwatch.config import load_config
    from lawwatch.pipeline import run_once

    warc, cfgdir, _ = build_recording(60, tmp_path)
    cfg = load_config(cfgdir)
    fixed = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    monkeypatch.setattr(AE, "utcnow", lambda: fixed)

    def one_by_one(con, specs):
        return [upsert_alert(con, **{k: v for k, v in s.items() if k != "current"}) for s in specs]

    stores = {}
    for name in ("batched", "one_by_one"):
        with monkeypatch.context() as m:
            if name == "one_by_one":
                m.setattr(AE, "upsert_alerts", one_by_one)
            store = Store(tmp_path / f"{name}.duckdb")
            run_once(cfg, store, replay=warc, deliver=False, mode="replay")
            first = _alert_tables(store)
            assert first["alerts"], "the recording must raise alerts"
            run_once(cfg, store, replay=warc, deliver=False, mode="replay")
            assert _alert_tables(store) == first
            with store.write() as con:
                ids = [r[0] for r in con.execute("SELECT id FROM alerts ORDER BY id LIMIT 2").fetchall()]
                con.execute("UPDATE alerts SET title = 'drifted' WHERE id = ?", [ids[0]])
                con.execute("UPDATE alerts SET state = 'resolved' WHERE id = ?", [ids[-1]])
            AE.process(store, cfg)
            stores[name] = _alert_tables(store)
    assert stores["batched"] == stores["one_by_one"]
    assert any(e[2] == "alert.updated" for e in stores["batched"]["outbox"])
