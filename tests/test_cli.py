"""The CLI contract other tools rely on: run as a real subprocess."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LAWWATCH_SHARED", REPO.parent / "shared"))
TOPICS = {"chi", "biometrics", "entry_ban", "eaeu_court", "registration", "work_permit", "amina_app"}
STAGES = {"proposed", "adopted", "signed", "in_force", "court", "pilot", "repealed", None}
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def lawwatch(*args, input=None, timeout=600):
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "lawwatch", *args], cwd=REPO, env=env,
                          input=input, capture_output=True, text=True, timeout=timeout)


def test_help_on_every_command():
    top = lawwatch("--help")
    assert top.returncode == 0
    for cmd in ["demo", "run", "watch", "extract", "classify", "stats", "dashboard",
                "eval-topics", "api", "deliver", "health"]:
        r = lawwatch(cmd, "--help")
        assert r.returncode == 0, (cmd, r.stderr)
        assert "usage: lawwatch" in r.stdout
    assert lawwatch("rules", "check", "--help").returncode == 0


def test_bad_usage_exits_2():
    assert lawwatch("no-such-command").returncode == 2
    r = lawwatch("watch", "--every", "sometimes", "--max-runs", "1", "--db", "/tmp/lw-never.duckdb")
    assert r.returncode == 2 and "--every" in r.stderr


def test_bad_config_exits_2_naming_file_and_key(tmp_path):
    (tmp_path / "settings.toml").write_text("[crawl]\ntimeout_s = 'x'\n")
    r = lawwatch("--config", str(tmp_path), "stats", "--db", str(tmp_path / "x.duckdb"))
    assert r.returncode == 2
    assert "settings.toml" in r.stderr and "crawl.timeout_s" in r.stderr


def test_classify_contract(tmp_path):
    seeds = SHARED / "seeds"
    items = [
        {"text": (seeds / "eaeu_court_advisory_opinion_chi.txt").read_text(), "url": "u:court",
         "lang": "en", "title": "EAEU Court: Russia not obliged to issue CHI policies to migrants' families"},
        {"text": "Мигранты в Москве обязаны установить приложение «Амина» с 1 сентября 2026 года.",
         "url": "u:amina"},
        {"text": "The national football team won 2-1 in Bishkek on Saturday.", "url": "u:none"},
    ]
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n")
    out = tmp_path / "out.jsonl"
    r = lawwatch("classify", "--input", str(inp), "--output", str(out))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(lines) == 3
    for item, res in zip(items, lines):
        assert res["url"] == item["url"]
        assert set(res["topics"]) <= TOPICS
        assert set(res["scores"]) == TOPICS and all(isinstance(v, float) for v in res["scores"].values())
        for t in res["topics"]:
            assert res["evidence"][t], f"tag {t} without evidence"
            for ev in res["evidence"][t]:
                assert {"text", "start", "end"} <= set(ev)
        ch = res["change"]
        assert isinstance(ch["is_change"], bool) and ch["stage"] in STAGES
        assert all(DATE_RE.match(d) for d in ch["effective_dates"])
    court, amina, none = lines
    assert {"chi", "eaeu_court"} <= set(court["topics"])
    assert court["change"]["stage"] == "court"
    assert "amina_app" in amina["topics"] and "2026-09-01" in amina["change"]["effective_dates"]
    assert none["topics"] == []


@pytest.mark.parametrize("content,needle", [
    (b'{"title": "no text"}\n', "field 'text' is missing"),
    (b'{"text": 5}\n', "'text' must be a string"),
    (b"not json\n", "not valid JSON"),
    (b"\x00\x01\x02binary", "binary data"),
    (b'{"text": "ok"}\n[1,2]\n', ":2: expected a JSON object"),
])
def test_classify_bad_input_names_file_and_line(tmp_path, content, needle):
    inp = tmp_path / "bad.jsonl"
    inp.write_bytes(content)
    r = lawwatch("classify", "--input", str(inp))
    assert r.returncode == 2
    assert "bad.jsonl" in r.stderr and needle in r.stderr, r.stderr
    assert r.stdout == ""


def test_extract_contract():
    page = SHARED / "fixtures" / "kommersant" / "Kommersant_2025_05_14.html.gz"
    r = lawwatch("extract", str(page))
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout.splitlines()[0])
    assert set(rec) >= {"path", "url", "title", "text", "published", "lang"}
    assert rec["lang"] == "ru" and len(rec["text"]) > 500 and rec["title"]


def test_extract_missing_file_exits_2(tmp_path):
    r = lawwatch("extract", str(tmp_path / "nope.html"))
    assert r.returncode == 2 and "nope.html" in r.stderr


def test_eval_topics_options_reach_the_evaluator(tmp_path):
    """`lawwatch eval-topics --data FILE --json` evaluates FILE with the shipped head (a file
    other than the training data is a held-out set), and a missing file exits 2 naming it."""
    rows = [{"id": "t1", "url": "u:1", "lang": "en", "title": "Russia changes patent fees",
             "text": "From 1 January 2026 the monthly patent fee for foreign workers in Moscow "
                     "rises, the Interior Ministry said.", "topics": ["work_permit"],
             "change": {"is_change": True, "stage": "adopted", "effective_dates": ["2026-01-01"]}},
            {"id": "t2", "url": "u:2", "lang": "en", "title": "Football",
             "text": "The national football team of Kyrgyzstan won 2-1 in Bishkek.", "topics": [],
             "change": {"is_change": False, "stage": None, "effective_dates": []}}]
    data = tmp_path / "held.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    r = lawwatch("eval-topics", "--data", str(data), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["n"] == 2 and res["mode"].startswith("held-out") and res["data"] == str(data)
    assert set(res["topics"]) == TOPICS
    missing = lawwatch("eval-topics", "--data", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr
