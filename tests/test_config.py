"""Config loading: defaults validate; overlays; errors name file, key and problem."""
import pytest

from lawwatch.config import TOPIC_IDS, load_config
from lawwatch.schema import ConfigError


def test_packaged_config_is_valid():
    cfg = load_config()
    assert tuple(cfg.topic_ids) == TOPIC_IDS
    assert len(cfg.rules) >= 12
    ids = {s["id"] for s in cfg.sources}
    assert {"kg24_ru", "kg24_en", "moscowtimes_en", "pravo_gov", "eaeu_court"} <= ids
    assert cfg.settings["crawl"]["per_host_delay_s"] > 0


def test_overlay_overrides_only_named_keys(tmp_path):
    (tmp_path / "settings.toml").write_text("[crawl]\nper_host_delay_s = 0.5\n")
    cfg = load_config(tmp_path)
    assert cfg.settings["crawl"]["per_host_delay_s"] == 0.5
    assert cfg.settings["crawl"]["timeout_s"] == 20.0  # untouched default


def test_sources_overlay_merges_by_id_and_replace(tmp_path):
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nid = "kg24_en"\nenabled = false\n')
    cfg = load_config(tmp_path)
    assert cfg.source("kg24_en")["enabled"] is False
    assert cfg.source("kg24_ru")["enabled"] is True
    (tmp_path / "sources.toml").write_text(
        'replace = true\n[[source]]\nid = "only"\nname = "Only"\nadapter = "kg24"\n'
        'feeds = ["https://24.kg/rss/"]\n')
    cfg = load_config(tmp_path)
    assert [s["id"] for s in cfg.sources] == ["only"]


@pytest.mark.parametrize("fname,text,key,problem", [
    ("settings.toml", "[crawl]\nper_host_delay = 1\n", "crawl.per_host_delay", "unknown key"),
    ("settings.toml", "[crawl]\ntimeout_s = 'soon'\n", "crawl.timeout_s", "expected a number"),
    ("settings.toml", "[crawl]\ntimeout_s = -1\n", "crawl.timeout_s", "greater than 0"),
    ("settings.toml", "[crawl\n", "", "not valid TOML"),
    ("sources.toml", '[[source]]\nid = "x"\nname = "X"\nadapter = "nope"\n', "adapter", "unknown adapter"),
    ("sources.toml", '[[source]]\nid = "x"\nname = "X"\nadapter = "kg24"\nfeeds = ["ftp://a"]\n',
     "feeds[0]", "http(s) URL"),
    ("sources.toml", '[[source]]\nid = "x"\nname = "X"\nadapter = "kg24"\npoll_every = "often"\n',
     "poll_every", "duration"),
    ("rules.toml", '[[rule]]\nid = "r"\nstatement_en = "s"\ntopics = ["weather"]\n', "topics",
     "unknown topic"),
    ("rules.toml", '[[rule]]\nid = "r"\ntopics = ["chi"]\n', "statement_en", "required key is missing"),
])
def test_bad_config_names_file_key_and_problem(tmp_path, fname, text, key, problem):
    (tmp_path / fname).write_text(text)
    with pytest.raises(ConfigError) as ei:
        load_config(tmp_path)
    msg = str(ei.value)
    assert fname in msg and key in msg and problem in msg, msg


def test_missing_config_dir(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope")
