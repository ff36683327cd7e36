"""Generate a realistic lawwatch store of N articles for dashboard benchmarks.

    python -m bench.genstore --articles 100000 --out /tmp/x.duckdb [--seed 7] [--days 730]

Deterministic for a seed: the same arguments give the same rows. Rows are built with numpy
and pandas and bulk-inserted through DuckDB (INSERT ... SELECT FROM a registered frame), so
100k articles take seconds. Shapes follow what the pipeline writes: sources from
config/sources.toml with runs every hour, ~40% of articles tagged (evidence offsets point into
the body), change signals, developments of a few articles each, rules from config/rules.toml
with edit history, alerts in every state with their events, processing errors and edits
(article versions) on ~5% of articles. The text-search index is built last, as migration 0005
builds it for an existing store (store/search.py rebuild()).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from store import search
from store.db import Store
from alerts.rules import create_rule_con, update_rule_con

REPO = Path(__file__).resolve().parents[1]
TOPICS = ["chi", "biometrics", "entry_ban", "eaeu_court", "registration", "work_permit", "amina_app"]
STAGES = ["proposed", "draft", "bill", "first_reading", "adopted", "signed", "in_force",
          "court_case", "ruling"]

TOPIC_SENTENCES = {
    "ru": {
        "chi": "Трудовые мигранты из Кыргызстана смогут получить полис ОМС и бесплатную медицинскую помощь.",
        "biometrics": "Иностранцы обязаны пройти дактилоскопию и фотографирование в течение 30 дней после въезда.",
        "entry_ban": "МВД сообщило о новых запретах на въезд и включении мигрантов в реестр контролируемых лиц.",
        "eaeu_court": "Суд ЕАЭС рассмотрит иск Кыргызстана о доступе трудящихся к медицинской помощи.",
        "registration": "Принимающая сторона должна подать уведомление о прибытии для миграционного учёта.",
        "work_permit": "Стоимость патента для иностранных работников в Москве вырастет со следующего года.",
        "amina_app": "Мигранты в Москве обязаны установить приложение «Амина» для контроля геолокации.",
    },
    "en": {
        "chi": "Labour migrants from Kyrgyzstan will be able to obtain a compulsory health insurance policy.",
        "biometrics": "Foreigners must undergo fingerprinting and photographing within 30 days of entry.",
        "entry_ban": "The Interior Ministry reported new entry bans and additions to the registry of controlled persons.",
        "eaeu_court": "The EAEU Court will hear Kyrgyzstan's claim on workers' access to medical care.",
        "registration": "The receiving party must submit a notification of arrival for migration registration.",
        "work_permit": "The cost of a patent for foreign workers in Moscow will rise next year.",
        "amina_app": "Migrants in Moscow must install the Amina app that reports their location.",
    },
}
TOPIC_TERMS = {
    "ru": {"chi": ["полис ОМС"], "biometrics": ["дактилоскопию"], "entry_ban": ["запретах на въезд"],
           "eaeu_court": ["Суд ЕАЭС"], "registration": ["миграционного учёта"],
           "work_permit": ["патента"], "amina_app": ["«Амина»"]},
    "en": {"chi": ["health insurance"], "biometrics": ["fingerprinting"], "entry_ban": ["entry bans"],
           "eaeu_court": ["EAEU Court"], "registration": ["migration registration"],
           "work_permit": ["patent"], "amina_app": ["Amina app"]},
}
FILLER = {
    "ru": [
        "Об этом сообщили в пресс-службе ведомства.", "Законопроект внесён в Государственную думу.",
        "Эксперты отмечают, что изменения затронут сотни тысяч человек.",
        "Ранее власти обсуждали ужесточение миграционной политики.",
        "В Бишкеке прошло совещание с представителями диаспоры.",
        "Министерство труда Кыргызстана дало разъяснения гражданам.",
        "Нововведения вступят в силу после официального опубликования.",
        "По данным ведомства, за год в Россию въехали более миллиона граждан Кыргызстана.",
        "Правозащитники призвали учитывать интересы трудящихся-мигрантов.",
        "Депутаты приняли документ в первом чтении.", "Погода в Бишкеке останется тёплой.",
        "Курс рубля к сому немного снизился.", "На границе образовались очереди из грузовиков.",
    ],
    "en": [
        "The ministry's press service reported this.", "The bill was submitted to the State Duma.",
        "Experts note that the changes will affect hundreds of thousands of people.",
        "Earlier the authorities discussed tightening migration policy.",
        "A meeting with diaspora representatives was held in Bishkek.",
        "Kyrgyzstan's Ministry of Labour issued clarifications to citizens.",
        "The innovations will take effect after official publication.",
        "According to the ministry, more than a million Kyrgyz citizens entered Russia in a year.",
        "Human rights defenders urged to take labour migrants' interests into account.",
        "Deputies passed the document in the first reading.", "The weather in Bishkek will stay warm.",
        "The rouble exchange rate against the som fell slightly.", "Queues of lorries formed at the border.",
    ],
}
TITLES = {
    "ru": {"chi": "Мигрантам из Кыргызстана разъяснили порядок получения полиса ОМС",
           "biometrics": "Сроки дактилоскопии для иностранцев могут измениться",
           "entry_ban": "Число запретов на въезд для граждан Кыргызстана выросло",
           "eaeu_court": "Суд ЕАЭС принял к рассмотрению иск Кыргызстана",
           "registration": "Правила миграционного учёта ужесточат",
           "work_permit": "Стоимость патента для мигрантов вырастет",
           "amina_app": "Приложение «Амина» станет обязательным для мигрантов",
           None: "Новости Кыргызстана"},
    "en": {"chi": "Kyrgyz migrants get guidance on health insurance policies",
           "biometrics": "Fingerprinting deadlines for foreigners may change",
           "entry_ban": "Number of entry bans for Kyrgyz citizens grows",
           "eaeu_court": "EAEU Court accepts Kyrgyzstan's claim",
           "registration": "Migration registration rules to be tightened",
           "work_permit": "Patent cost for migrants to rise",
           "amina_app": "Amina app to become mandatory for migrants",
           None: "Kyrgyzstan news"},
}


def _load_toml(name: str) -> dict:
    with (REPO / "config" / name).open("rb") as fh:
        return tomllib.load(fh)


def _hid(prefix: str, arr: np.ndarray) -> list[str]:
    return [hashlib.sha1(f"{prefix}{i}".encode()).hexdigest()[:16] for i in arr.tolist()]


def generate(out: str | Path, n_articles: int, *, seed: int = 7, days: int = 730,
             end: datetime | None = None, quiet: bool = False) -> dict:
    t0 = time.perf_counter()
    out = Path(out)
    if out.exists():
        out.unlink()
    for suffix in (".wal",):
        p = out.with_name(out.name + suffix)
        if p.exists():
            p.unlink()
    store = Store(out)
    rng = np.random.default_rng(seed)
    end = end or datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    start = end - timedelta(days=days)
    N = int(n_articles)

    # -- sources and runs -----------------------------------------------------------------
    src_cfg = _load_toml("sources.toml")["source"]
    src = pd.DataFrame([{k: s.get(k) for k in ("id", "name", "adapter", "kind", "lang")}
                        for s in src_cfg])
    S = len(src)
    hours = days * 24
    run_times = [start + timedelta(hours=h) for h in range(hours)]
    runs = pd.DataFrame({"id": [f"run-{h:06d}" for h in range(hours)],
                         "started_at": run_times,
                         "finished_at": [t + timedelta(minutes=3) for t in run_times],
                         "mode": "live", "status": "ok"})
    # articles per source: news outlets dominate
    weights = np.array([0.30 if k == "news" else 0.04 for k in src["kind"]], dtype=float)
    weights /= weights.sum()
    failing = {"sozd_duma"}
    silent = {"mlsp_kg"}

    # -- articles -------------------------------------------------------------------------
    idx = np.arange(N)
    src_idx = rng.choice(S, size=N, p=weights)
    langs = src["lang"].to_numpy()[src_idx]
    span = (end - start).total_seconds()
    offs = np.sort(rng.uniform(0, span, size=N))
    published = pd.to_datetime(start) + pd.to_timedelta(offs, unit="s")
    first_seen = published + pd.to_timedelta(rng.integers(60, 3600, size=N), unit="s")
    tagged = rng.random(N) < 0.40
    topic1 = rng.integers(0, len(TOPICS), size=N)
    two = tagged & (rng.random(N) < 0.35)
    topic2 = (topic1 + rng.integers(1, len(TOPICS), size=N)) % len(TOPICS)
    n_fill = rng.integers(6, 14, size=N)
    fill_pick = rng.integers(0, len(FILLER["ru"]), size=(N, 14))
    topic_pos = rng.integers(0, 4, size=N)

    titles, bodies, ev1, ev2 = [], [], [], []
    ids = _hid("a", idx)
    for i in range(N):
        lang = langs[i]
        fill = FILLER[lang]
        parts = [fill[j] for j in fill_pick[i, : n_fill[i]]]
        spans = []
        if tagged[i]:
            topics_i = [TOPICS[topic1[i]]] + ([TOPICS[topic2[i]]] if two[i] else [])
            for k, t in enumerate(topics_i):
                parts.insert(min(topic_pos[i] + 2 * k, len(parts)), TOPIC_SENTENCES[lang][t])
            body = " ".join(parts)
            for t in topics_i:
                sent = TOPIC_SENTENCES[lang][t]
                s = body.find(sent)
                spans.append({"text": sent, "start": s, "end": s + len(sent),
                              "terms": TOPIC_TERMS[lang][t], "score": 0.8})
            titles.append(f"{TITLES[lang][topics_i[0]]} ({i})")
        else:
            body = " ".join(parts)
            titles.append(f"{TITLES[lang][None]}: {fill[fill_pick[i, 0]][:-1]} ({i})")
        bodies.append(body)
        ev1.append(json.dumps([spans[0]], ensure_ascii=False) if spans else None)
        ev2.append(json.dumps([spans[1]], ensure_ascii=False) if len(spans) > 1 else None)
    edited = rng.random(N) < 0.05
    version = np.where(edited, rng.integers(2, 4, size=N), 1)
    src_ids = src["id"].to_numpy()[src_idx]
    arts = pd.DataFrame({
        "id": ids,
        "canonical_url": [f"https://example.{s}.test/news/{i}" for s, i in zip(src_ids, idx.tolist())],
        "source_id": src_ids, "kind": "article", "title": titles,
        "lead": [b[:160] for b in bodies], "body": bodies, "lang": langs,
        "published_at": published, "first_seen_at": first_seen,
        "fetched_at": first_seen, "content_hash": _hid("h", idx), "version": version,
    })
    arts["updated_at"] = (arts["first_seen_at"] + pd.Timedelta(hours=5)).where(edited)

    # versions: v1 for every article; edited ones get v2 (and v3) with one sentence changed
    ver_rows = [arts[["id", "title", "body", "content_hash", "first_seen_at"]]
                .rename(columns={"id": "article_id", "first_seen_at": "fetched_at"})
                .assign(version=1)]
    e = arts.loc[edited]
    for v in (2, 3):
        sub = e.loc[e["version"] >= v]
        changed = sub["body"].str.replace(FILLER["ru"][0], "Ведомство уточнило сведения позднее.",
                                          regex=False) \
                             .str.replace(FILLER["en"][0], "The ministry later clarified the details.",
                                          regex=False) + (" Обновлено." if v == 2 else " Updated again.")
        ver_rows.append(pd.DataFrame({"article_id": sub["id"], "title": sub["title"] + (" (upd)" if v == 3 else ""),
                                      "body": changed, "content_hash": sub["content_hash"] + f"v{v}",
                                      "fetched_at": sub["first_seen_at"] + pd.Timedelta(hours=5 * (v - 1)),
                                      "version": v}))
    versions = pd.concat(ver_rows, ignore_index=True)
    last_ver = versions.sort_values("version").groupby("article_id").tail(1).set_index("article_id")
    arts = arts.set_index("id")
    arts.loc[last_ver.index, "body"] = last_ver["body"]
    arts.loc[last_ver.index, "title"] = last_ver["title"]
    arts = arts.reset_index()

    # -- tags and change signals ------------------------------------------------------------
    now_ts = pd.Timestamp(end)
    t_idx = np.flatnonzero(tagged)
    tags = pd.DataFrame({"article_id": np.array(ids, dtype=object)[t_idx],
                         "topic": np.array(TOPICS, dtype=object)[topic1[t_idx]],
                         "score": rng.uniform(0.5, 0.98, size=len(t_idx)),
                         "evidence": np.array(ev1, dtype=object)[t_idx]})
    t2 = np.flatnonzero(two)
    tags2 = pd.DataFrame({"article_id": np.array(ids, dtype=object)[t2],
                          "topic": np.array(TOPICS, dtype=object)[topic2[t2]],
                          "score": rng.uniform(0.5, 0.9, size=len(t2)),
                          "evidence": np.array(ev2, dtype=object)[t2]})
    tags = pd.concat([tags, tags2], ignore_index=True)
    tags["classifier_version"] = "gen-1"
    tags["created_at"] = first_seen[np.concatenate([t_idx, t2])]
    is_change = rng.random(len(t_idx)) < 0.3
    stage_i = rng.integers(0, len(STAGES), size=len(t_idx))
    eff = [[f"{2025 + (k % 3)}-{1 + k % 12:02d}-01"] if c else []
           for k, c in zip(range(len(t_idx)), is_change)]
    signals = pd.DataFrame({"article_id": np.array(ids, dtype=object)[t_idx], "is_change": is_change,
                            "stage": np.where(is_change, np.array(STAGES, dtype=object)[stage_i], None),
                            "effective_dates": eff, "evidence": None,
                            "classifier_version": "gen-1",
                            "created_at": first_seen[t_idx]})

    # -- developments: runs of same-topic tagged articles close in time -------------------
    dev_of = np.empty(len(t_idx), dtype=np.int64)
    next_dev = 0
    for ti in range(len(TOPICS)):
        members = np.flatnonzero(topic1[t_idx] == ti)
        if not len(members):
            continue
        sizes = rng.geometric(0.3, size=len(members))
        labels = np.repeat(np.arange(len(sizes)), sizes)[: len(members)]
        dev_of[members] = labels + next_dev
        next_dev += int(labels.max()) + 1
    mem = pd.DataFrame({"article_id": np.array(ids, dtype=object)[t_idx], "dev": dev_of,
                        "published_at": published[t_idx], "first_seen_at": first_seen[t_idx],
                        "title": arts["title"].to_numpy()[t_idx],
                        "topic": np.array(TOPICS, dtype=object)[topic1[t_idx]],
                        "stage": signals["stage"].to_numpy(), "eff": eff})
    mem = mem.sort_values(["dev", "published_at"])
    g = mem.groupby("dev", sort=False)
    founders = g.head(1).set_index("dev")
    dev_stage = mem.dropna(subset=["stage"]).groupby("dev")["stage"].last()
    devs = pd.DataFrame({
        "dev": founders.index,
        "id": ["dev-" + a for a in founders["article_id"]],
        "title": founders["title"].str.replace(r" \(\d+\)$", "", regex=True) + " — " +
                 founders["article_id"].str[:4],
        "first_seen": g["first_seen_at"].min().to_numpy(),
        "last_seen": g["first_seen_at"].max().to_numpy(),
        "topics": [[t] for t in founders["topic"]],
        "n_articles": g.size().to_numpy(),
    })
    devs["stage"] = devs["dev"].map(dev_stage)
    devs["effective_dates"] = [[] for _ in range(len(devs))]
    devs["updated_at"] = devs["last_seen"]
    dev_ids = dict(zip(devs["dev"], devs["id"]))
    members_df = pd.DataFrame({"article_id": mem["article_id"], "development_id": mem["dev"].map(dev_ids),
                               "similarity": rng.uniform(0.55, 0.95, size=len(mem)),
                               "joined_at": mem["first_seen_at"]})

    # -- rules and their history (through the registry's own functions, see below) -------
    rules_cfg = _load_toml("rules.toml")["rule"]
    editors = ["aigul", "timur", "nadia"]

    # -- alerts -----------------------------------------------------------------------------
    rule_by_topic: dict[str, list[str]] = {}
    for r in rules_cfg:
        for t in r["topics"]:
            rule_by_topic.setdefault(t, []).append(r["id"])
    changed_devs = devs.loc[devs["stage"].notna()]
    pick = changed_devs.sample(frac=0.15, random_state=seed) if len(changed_devs) else changed_devs
    alert_rows, ev_rows = [], []
    states = ["open", "acknowledged", "resolved", "dismissed"]
    seq = 0
    for k, row in enumerate(pick.itertuples()):
        topic = row.topics[0]
        cands = rule_by_topic.get(topic) or [rules_cfg[0]["id"]]
        rule_id = cands[k % len(cands)]
        age = (now_ts - pd.Timestamp(row.last_seen)).days
        state = "open" if age < 30 and k % 3 else states[k % 4]
        seq += 1
        aid = hashlib.sha1(f"rule_review|{rule_id}|{row.id}".encode()).hexdigest()[:16]
        details = {"stage": row.stage, "effective_dates": [], "similarity": round(0.35 + (k % 50) / 100, 2),
                   "evidence": [{"text": TOPIC_SENTENCES["ru"][topic], "topic": topic}],
                   # shaped as alerts/engine.py writes them (the Atom feed reads url)
                   "links": [{"article_id": row.id[len("dev-"):], "title": row.title,
                              "url": f"https://example.test/dev/{row.id}"}]}
        alert_rows.append({"id": aid, "kind": "rule_review", "rule_id": rule_id,
                           "development_id": row.id, "source_id": None, "article_id": None,
                           "state": state, "title": f"Review rule {rule_id}: {row.title}",
                           "score": details["similarity"],
                           "details": json.dumps(details, ensure_ascii=False),
                           "created_at": row.last_seen, "updated_at": row.last_seen, "seq": seq})
        ev_rows.append({"alert_id": aid, "seq": 1, "from_state": None, "to_state": "open",
                        "actor": "engine", "occurred_at": row.last_seen, "note": None})
        if state != "open":
            ev_rows.append({"alert_id": aid, "seq": 2, "from_state": "open", "to_state": state,
                            "actor": editors[k % 3], "occurred_at": pd.Timestamp(row.last_seen) + pd.Timedelta(hours=3),
                            "note": "not relevant for Kyrgyz citizens" if state == "dismissed" else None})
    for s_id in sorted(failing | silent):
        seq += 1
        aid = hashlib.sha1(f"source_silent|{s_id}".encode()).hexdigest()[:16]
        alert_rows.append({"id": aid, "kind": "source_silent", "rule_id": None, "development_id": None,
                           "source_id": s_id, "article_id": None, "state": "open",
                           "title": f"Source {s_id} has gone silent", "score": None,
                           "details": json.dumps({"silent_runs": 5}), "created_at": end - timedelta(hours=6),
                           "updated_at": end - timedelta(hours=6), "seq": seq})
        ev_rows.append({"alert_id": aid, "seq": 1, "from_state": None, "to_state": "open",
                        "actor": "engine", "occurred_at": end - timedelta(hours=6), "note": None})
    err_idx = rng.choice(N, size=min(20, N), replace=False)
    errors = pd.DataFrame({"article_id": np.array(ids, dtype=object)[err_idx], "stage": "classify",
                           "error": "classifier raised ValueError: text is empty after cleaning",
                           "occurred_at": end - timedelta(hours=2), "resolved": False})
    for a in errors["article_id"][:3]:
        seq += 1
        aid = hashlib.sha1(f"needs_human|{a}".encode()).hexdigest()[:16]
        alert_rows.append({"id": aid, "kind": "needs_human", "rule_id": None, "development_id": None,
                           "source_id": None, "article_id": a, "state": "open",
                           "title": f"Article {a} could not be classified", "score": None,
                           "details": json.dumps({"stage": "classify"}), "created_at": end - timedelta(hours=2),
                           "updated_at": end - timedelta(hours=2), "seq": seq})
        ev_rows.append({"alert_id": aid, "seq": 1, "from_state": None, "to_state": "open",
                        "actor": "engine", "occurred_at": end - timedelta(hours=2), "note": None})
    alerts_df = pd.DataFrame(alert_rows)
    events_df = pd.DataFrame(ev_rows)

    # -- write --------------------------------------------------------------------------------
    with store.write() as con:
        con.register("src_df", src)
        con.execute("INSERT INTO sources (id, name, adapter, kind, lang) SELECT * FROM src_df")
        con.register("runs_df", runs)
        con.execute("INSERT INTO runs (id, started_at, finished_at, mode, status) "
                    "SELECT id, started_at, finished_at, mode, status FROM runs_df")
        # per-source runs: items follow article volume; failing / silent at the end
        con.execute("""
            INSERT INTO source_runs (run_id, source_id, started_at, finished_at, requests,
                                     not_modified, bytes, items_found, items_new, items_changed,
                                     errors, status, error)
            SELECT r.id, s.id, r.started_at, r.finished_at, 2, 1, 150000,
                   CASE WHEN s.id IN ('mlsp_kg') AND r.started_at > $end - INTERVAL 5 HOUR THEN 0
                        ELSE (hash(r.id || s.id) % 30)::INT END,
                   (hash(s.id || r.id) % 5)::INT, 0,
                   CASE WHEN s.id IN ('sozd_duma') AND r.started_at > $end - INTERVAL 4 HOUR THEN 1 ELSE 0 END,
                   CASE WHEN s.id IN ('sozd_duma') AND r.started_at > $end - INTERVAL 4 HOUR THEN 'failed'
                        WHEN s.id IN ('mlsp_kg') AND r.started_at > $end - INTERVAL 5 HOUR THEN 'silent'
                        ELSE 'ok' END,
                   CASE WHEN s.id IN ('sozd_duma') AND r.started_at > $end - INTERVAL 4 HOUR
                        THEN 'https://sozd.duma.gov.ru/: HTTP 503 Service Unavailable' END
            FROM runs r CROSS JOIN sources s""", {"end": end})
        con.execute("""
            UPDATE sources SET last_run_at = x.last_run, last_success_at = x.last_ok,
                   last_items = x.last_items,
                   consecutive_failures = CASE WHEN id = 'sozd_duma' THEN 4 ELSE 0 END,
                   silent_runs = CASE WHEN id = 'mlsp_kg' THEN 5 ELSE 0 END,
                   last_error = CASE WHEN id = 'sozd_duma'
                                THEN 'https://sozd.duma.gov.ru/: HTTP 503 Service Unavailable' END
            FROM (SELECT source_id, max(started_at) last_run,
                         max(started_at) FILTER (WHERE status = 'ok') last_ok,
                         arg_max(items_found, started_at) last_items
                  FROM source_runs GROUP BY 1) x
            WHERE x.source_id = sources.id""")
        con.register("arts_df", arts)
        con.execute("""INSERT INTO articles (id, canonical_url, source_id, kind, title, lead, body,
                            lang, published_at, updated_at, first_seen_at, fetched_at,
                            content_hash, version)
                       SELECT id, canonical_url, source_id, kind, title, lead, body, lang,
                              published_at, updated_at, first_seen_at, fetched_at,
                              content_hash, version FROM arts_df""")
        con.register("ver_df", versions)
        con.execute("""INSERT INTO article_versions SELECT article_id, version, title, body,
                       content_hash, fetched_at FROM ver_df""")
        con.register("tags_df", tags)
        con.execute("""INSERT INTO tags SELECT article_id, topic, score, evidence::JSON,
                       classifier_version, created_at FROM tags_df""")
        con.register("sig_df", signals)
        con.execute("""INSERT INTO change_signals SELECT article_id, is_change, stage,
                       effective_dates::VARCHAR[], NULL, classifier_version, created_at FROM sig_df""")
        con.register("dev_df", devs.drop(columns=["dev"]))
        con.execute("""INSERT INTO developments (id, title, first_seen, last_seen, topics, stage,
                            effective_dates, n_articles, model_id, updated_at)
                       SELECT id, title, first_seen, last_seen, topics::VARCHAR[], stage,
                              effective_dates::VARCHAR[], n_articles, 'gen', updated_at FROM dev_df""")
        con.register("mem_df", members_df)
        con.execute("""INSERT INTO development_members (article_id, development_id, similarity,
                       joined_at) SELECT * FROM mem_df""")
        for k, r in enumerate(rules_cfg):
            create_rule_con(con, dict(r), "config", "seeded from config/rules.toml", at=start)
            for v in range(2, 2 + (k % 3)):
                update_rule_con(con, r["id"], {
                    "statement_en": r["statement_en"] + f" (clarified, revision {v})",
                    "last_reviewed": (start + timedelta(days=100 * v)).date()},
                    editors[k % 3], "updated after review", at=start + timedelta(days=100 * v))
        if len(alerts_df):
            con.register("al_df", alerts_df)
            con.execute("""INSERT INTO alerts (id, kind, rule_id, development_id, source_id,
                           article_id, state, title, score, details, created_at, updated_at, seq)
                           SELECT id, kind, rule_id, development_id, source_id,
                           article_id, state, title, score, details::JSON, created_at, updated_at,
                           seq FROM al_df""")
            con.register("ev_df", events_df)
            con.execute("""INSERT INTO alert_events (alert_id, seq, from_state, to_state, actor,
                           occurred_at, note) SELECT * FROM ev_df""")
            # keep the sequence ahead of the generated cursors
            con.execute("SELECT max(nextval('alert_seq')) FROM range($1)", [seq]).fetchall()
        con.register("err_df", errors)
        con.execute("""INSERT INTO processing_errors (article_id, stage, error, occurred_at,
                       resolved) SELECT * FROM err_df""")
    # The text-search index (store/search.py): bulk inserts bypass upsert_article, so build it
    # the way migration 0005 backfills an existing store, sorted by term.
    del arts, versions, ver_rows, last_ver, bodies, titles, ev1, ev2   # free ~GBs at 1M first
    t_index = time.perf_counter()
    with store.write() as con:
        search.rebuild(con)
    index_seconds = time.perf_counter() - t_index
    with store.read() as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("articles", "article_versions", "tags", "developments",
                            "development_members", "alerts", "source_runs", "rule_versions")}
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    counts["index_seconds"] = round(index_seconds, 1)
    if not quiet:
        print(json.dumps(counts), file=sys.stderr)
    return counts


def cache_dir() -> Path:
    """Where benchmarks keep generated stores: $LAWWATCH_BENCH_STORES, else a temp folder."""
    import os
    import tempfile
    return Path(os.environ.get("LAWWATCH_BENCH_STORES")
                or Path(tempfile.gettempdir()) / "lawwatch-bench-stores")


def cached_store(n_articles: int, *, seed: int = 7, days: int = 730,
                 fresh: bool = False) -> tuple[Path, float | None]:
    """A generated store shared by the benchmarks of one `make bench` (and reruns): generated
    once per size, keyed by the arguments and by the code that shapes it (this file, the
    migrations, store/search.py, DuckDB's version), so a change regenerates it.
    Returns (path, seconds spent generating or None when it was already there)."""
    import duckdb
    h = hashlib.sha1(f"{n_articles}|{seed}|{days}|{duckdb.__version__}".encode())
    for f in [Path(__file__), REPO / "store" / "search.py",
              *sorted((REPO / "store" / "migrations").glob("*.sql"))]:
        h.update(f.read_bytes())
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"store-{n_articles}-{h.hexdigest()[:12]}.duckdb"
    if path.exists() and not fresh:
        return path, None
    for old in d.glob(f"store-{n_articles}-*.duckdb*"):
        old.unlink()                       # an older generation of this size
    tmp = d / f"tmp-{path.name}"
    t = time.perf_counter()
    generate(tmp, n_articles, seed=seed, days=days, quiet=True)
    for suffix in ("", ".lock"):
        src = tmp.with_name(tmp.name + suffix)
        if src.exists():
            src.rename(path.with_name(path.name + suffix))
    return path, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=730)
    a = ap.parse_args(argv)
    if a.articles <= 0:
        ap.error("--articles must be greater than 0")
    generate(a.out, a.articles, seed=a.seed, days=a.days)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
