"""A small, hand-written lawwatch store for the dashboard tests (rows inserted with SQL).

Contents worth knowing in tests:
- development DEV_AMINA: a Russian 24.kg article and an English Moscow Times one (Cyrillic and
  Latin text, evidence offsets), the Russian one edited by the outlet (2 versions);
- development DEV_XSS: an article whose title and body carry a <script> tag;
- alerts: ALERT_OPEN (rule_review on rule RULE_AMINA), ALERT_OPEN2 (rule_review on RULE_STAY),
  ALERT_ACK (acknowledged), ALERT_DONE (resolved), ALERT_DISMISSED, ALERT_SILENT (source);
- source mlsp_kg is silent, sozd_duma is failing.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from store.db import Store

NOW = datetime.now(timezone.utc).replace(microsecond=0)
DEV_AMINA = "dev-a1"
DEV_XSS = "dev-x1"
RULE_AMINA = "amina-app-moscow"
RULE_STAY = "stay-90-days-per-year"
ALERT_OPEN = "al-open-1"
ALERT_OPEN2 = "al-open-2"
ALERT_ACK = "al-ack-1"
ALERT_DONE = "al-done-1"
ALERT_DISMISSED = "al-dis-1"
ALERT_SILENT = "al-silent-1"
EDITOR_NAME = "aigul"
EDITOR_TOKEN = "tok-aigul-0123456789"
TOKENS_ENV = f"{EDITOR_NAME}:{EDITOR_TOKEN},timur:tok-timur-9876543210"

RU_TITLE = "Мигрантов в Москве обяжут установить приложение «Амина»"
RU_EVIDENCE = "установить приложение «Амина»"
RU_BODY_V1 = ("С 1 сентября мигранты в Москве и Подмосковье должны установить приложение «Амина». "
              "Приложение передаёт геолокацию в МВД.")
RU_BODY = ("С 1 сентября мигранты в Москве и Подмосковье должны установить приложение «Амина». "
           "Приложение передаёт геолокацию в МВД. Расхождение с адресом регистрации — нарушение.")
EN_TITLE = "Moscow migrants must install the Amina app"
EN_BODY = ("Labour migrants in Moscow must install the Amina app, which sends their location to "
           "the Interior Ministry. A mismatch with the registered address is a violation.")
XSS_TITLE = "Patent fees <script>alert('t')</script> rise"
XSS_BODY = ("The cost of a patent rises next year. <script>alert('xss')</script> "
            "<img src=x onerror=alert(1)> Employers must pay more.")
ALERT_OPEN_TITLE = "Правило amina-app-moscow: приложение «Амина» — пересмотреть"


def _ev(body: str, text: str, terms: list[str]) -> str:
    s = body.index(text)
    return json.dumps([{"text": text, "start": s, "end": s + len(text), "terms": terms,
                        "score": 0.82}], ensure_ascii=False)


def build_store(path: str | Path) -> Path:
    path = Path(path)
    st = Store(path)
    t = NOW
    d1, d2, h3 = t - timedelta(days=1), t - timedelta(days=2), t - timedelta(hours=3)
    with st.write() as con:
        x = con.execute
        for sid, name, kind, lang, fails, silent, err in [
            ("kg24_ru", "24.kg (Russian)", "news", "ru", 0, 0, None),
            ("moscowtimes_en", "The Moscow Times", "news", "en", 0, 0, None),
            ("mlsp_kg", "Kyrgyz Ministry of Labour", "official", "ru", 0, 4, None),
            ("sozd_duma", "State Duma bills", "bills", "ru", 3, 0, "https://sozd.duma.gov.ru/: HTTP 503"),
        ]:
            x("INSERT INTO sources (id, name, adapter, kind, lang, last_run_at, last_success_at, "
              "consecutive_failures, last_error, last_items, silent_runs) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
              [sid, name, "kg24", kind, lang, h3, d1 if fails else h3, fails, err, 5, silent])
        for k in range(6):
            rid = f"run-{k}"
            start = t - timedelta(hours=6 - k)
            x("INSERT INTO runs VALUES (?, ?, ?, 'live', 'ok', NULL)", [rid, start, start + timedelta(minutes=2)])
            for sid in ("kg24_ru", "moscowtimes_en", "mlsp_kg", "sozd_duma"):
                status = ("failed" if sid == "sozd_duma" and k >= 3 else
                          "silent" if sid == "mlsp_kg" and k >= 2 else "ok")
                x("INSERT INTO source_runs (run_id, source_id, started_at, finished_at, requests, "
                  "items_found, items_new, errors, status, error) VALUES (?,?,?,?,?,?,?,?,?,?)",
                  [rid, sid, start, start + timedelta(minutes=1), 2, 0 if status != "ok" else 3 + k,
                   1, 1 if status == "failed" else 0, status,
                   "HTTP 503" if status == "failed" else None])

        arts = [
            ("a-ru-1", "https://24.kg/obschestvo/1_amina/", "kg24_ru", RU_TITLE, RU_BODY, "ru", d1, 2),
            ("a-en-1", "https://www.themoscowtimes.com/2026/amina", "moscowtimes_en", EN_TITLE, EN_BODY, "en", d1 + timedelta(hours=2), 1),
            ("a-x-1", "https://www.themoscowtimes.com/2026/patent", "moscowtimes_en", XSS_TITLE, XSS_BODY, "en", d2, 1),
        ]
        for aid, url, sid, title, body, lang, pub, ver in arts:
            x("INSERT INTO articles (id, canonical_url, source_id, title, lead, body, lang, "
              "published_at, first_seen_at, fetched_at, content_hash, version) "
              "VALUES (?,?,?,?,NULL,?,?,?,?,?,?,?)",
              [aid, url, sid, title, body, lang, pub, pub + timedelta(minutes=5),
               pub + timedelta(minutes=5), f"h-{aid}-{ver}", ver])
            x("INSERT INTO article_versions VALUES (?, 1, ?, ?, ?, ?)",
              [aid, title, RU_BODY_V1 if aid == "a-ru-1" else body, f"h-{aid}-1", pub])
        x("INSERT INTO article_versions VALUES ('a-ru-1', 2, ?, ?, 'h-a-ru-1-2', ?)",
          [RU_TITLE, RU_BODY, d1 + timedelta(hours=4)])

        x("INSERT INTO tags VALUES ('a-ru-1', 'amina_app', 0.91, ?, 'test', ?)",
          [_ev(RU_BODY, RU_EVIDENCE, ["«Амина»"]), d1])
        x("INSERT INTO tags VALUES ('a-en-1', 'amina_app', 0.88, ?, 'test', ?)",
          [_ev(EN_BODY, "install the Amina app", ["Amina app"]), d1])
        x("INSERT INTO tags VALUES ('a-x-1', 'work_permit', 0.7, ?, 'test', ?)",
          [_ev(XSS_BODY, "The cost of a patent rises", ["patent"]), d2])
        x("INSERT INTO change_signals VALUES ('a-ru-1', TRUE, 'in_force', ['2026-09-01'], NULL, 'test', ?)", [d1])
        x("INSERT INTO change_signals VALUES ('a-en-1', TRUE, 'in_force', ['2026-09-01'], NULL, 'test', ?)", [d1])
        x("INSERT INTO change_signals VALUES ('a-x-1', FALSE, NULL, [], NULL, 'test', ?)", [d2])

        x("INSERT INTO developments (id, title, first_seen, last_seen, topics, stage, "
          "effective_dates, n_articles, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
          [DEV_AMINA, RU_TITLE, d1, d1 + timedelta(hours=2), ["amina_app"], "in_force",
           ["2026-09-01"], 2, d1 + timedelta(hours=2)])
        x("INSERT INTO developments (id, title, first_seen, last_seen, topics, stage, "
          "effective_dates, n_articles, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
          [DEV_XSS, XSS_TITLE, d2, d2, ["work_permit"], None, [], 1, d2])
        for aid, dev in (("a-ru-1", DEV_AMINA), ("a-en-1", DEV_AMINA), ("a-x-1", DEV_XSS)):
            x("INSERT INTO development_members VALUES (?, ?, 0.8, ?)", [aid, dev, d1])

        rules = [
            (RULE_AMINA, "From September 2025, migrants in Moscow must install the Amina app.",
             "С сентября 2025 года мигранты в Москве обязаны установить приложение «Амина».",
             ["amina_app", "registration"]),
            (RULE_STAY, "Kyrgyz citizens may stay no more than 90 days per year.",
             "Граждане Киргизии могут находиться в России не более 90 дней в году.", ["entry_ban"]),
        ]
        for rid, en, ru, topics in rules:
            x("INSERT INTO rules VALUES (?, 1, ?, ?, ?, 'RU', DATE '2025-09-01', 'seed:guide', "
              "'guide-editors', DATE '2025-09-15', TRUE, ?)", [rid, en, ru, topics, d2])
            x("INSERT INTO rule_versions (rule_id, version, statement_en, statement_ru, topics, "
              "jurisdiction, effective_from, source_url, owner, last_reviewed, changed_by, "
              "changed_at, note, diff, active) VALUES (?, 1, ?, ?, ?, 'RU', DATE '2025-09-01', "
              "'seed:guide', 'guide-editors', DATE '2025-09-15', 'config', ?, 'seeded', NULL, TRUE)",
              [rid, en, ru, topics, d2])

        alerts = [
            (ALERT_OPEN, "rule_review", RULE_AMINA, DEV_AMINA, None, "open", ALERT_OPEN_TITLE, 0.81, h3),
            (ALERT_OPEN2, "rule_review", RULE_STAY, DEV_AMINA, None, "open",
             "Review rule stay-90-days-per-year", 0.55, h3),
            (ALERT_ACK, "rule_review", RULE_STAY, DEV_XSS, None, "acknowledged",
             "Acknowledged: patent fee change", 0.6, d1),
            (ALERT_DONE, "rule_review", RULE_STAY, DEV_XSS, None, "resolved", "Resolved earlier", 0.5, d2),
            (ALERT_DISMISSED, "rule_review", RULE_AMINA, DEV_XSS, None, "dismissed", "Dismissed earlier", 0.4, d2),
            (ALERT_SILENT, "source_silent", None, None, "mlsp_kg", "open", "Source mlsp_kg went silent", None, h3),
        ]
        for seq, (aid, kind, rule, dev, src, state, title, score, at) in enumerate(alerts, 1):
            details = {"stage": "in_force", "effective_dates": ["2026-09-01"],
                       "evidence": [{"text": RU_EVIDENCE, "topic": "amina_app"},
                                    {"text": "<b>bold</b> <script>alert(2)</script>"}],
                       "links": ["https://24.kg/obschestvo/1_amina/", "javascript:alert(3)"]} \
                if kind == "rule_review" else {"silent_runs": 4}
            x("INSERT INTO alerts (id, kind, rule_id, development_id, source_id, article_id, state, "
              "title, score, details, created_at, updated_at, seq) VALUES (?,?,?,?,?,NULL,?,?,?,?,?,?,?)",
              [aid, kind, rule, dev, src, state, title, score, json.dumps(details, ensure_ascii=False),
               at, at, seq])
            x("INSERT INTO alert_events (alert_id, seq, from_state, to_state, actor, occurred_at, note) "
              "VALUES (?, 1, NULL, 'open', 'engine', ?, NULL)", [aid, at])
            if state != "open":
                x("INSERT INTO alert_events (alert_id, seq, from_state, to_state, actor, occurred_at, note) "
                  "VALUES (?, 2, 'open', ?, 'timur', ?, ?)",
                  [aid, state, at + timedelta(hours=1), "not relevant" if state == "dismissed" else None])
        x("SELECT max(nextval('alert_seq')) FROM range(10)").fetchall()
        x("INSERT INTO processing_errors VALUES ('a-x-1', 'classify', 'ValueError: empty text', ?, FALSE)", [h3])
    return path


def scalar(path: str | Path, sql: str, params: list | None = None):
    with Store(path, migrate=False).read() as con:
        rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
