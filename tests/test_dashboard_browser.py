"""A real browser: `streamlit run dashboard/app.py` on the test store, pages loaded in headless
Debian Chromium (/usr/bin/chromium). Skipped only when Chromium is not installed."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_helpers import (ALERT_OPEN, ALERT_OPEN_TITLE, DEV_AMINA, DEV_XSS,  # noqa: E402
                               EN_TITLE, RU_EVIDENCE, build_store)

from dashboard.screenshots import (best_screenshot, chromium_path, rendered_dom,  # noqa: E402
                                   screenshot,
                                   streamlit_server)

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="chromium is not installed (the Makefile's browser-deps target installs it: "
           "apt-get install -y chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = build_store(tmp_path_factory.mktemp("browser") / "b.duckdb")
    with streamlit_server(db) as base:
        # Warm-up: the first paint after start is a grey skeleton.
        screenshot(f"{base}/?page=overview", tmp_path_factory.mktemp("warm") / "warm.png")
        yield base


def test_overview(server):
    dom = rendered_dom(f"{server}/?page=overview", "Open alerts")
    assert "Overview" in dom
    assert "Мигрантов в Москве" in dom                       # Cyrillic development title
    assert "Articles per topic per week" in dom


def test_development_detail_highlights_escaped_evidence(server):
    dom = rendered_dom(f"{server}/?page=development&id={DEV_AMINA}", "Coverage")
    assert RU_EVIDENCE in dom and "<mark" in dom
    assert EN_TITLE in dom
    dom = rendered_dom(f"{server}/?page=development&id={DEV_XSS}", "Coverage")
    assert "<script>alert('xss')" not in dom and "<img src=\"x\"" not in dom
    assert "&lt;script&gt;alert('xss')&lt;/script&gt;" in dom


def test_alert_inbox_shows_the_alert(server, tmp_path):
    url = f"{server}/?page=alert&id={ALERT_OPEN}"
    dom = rendered_dom(url, ["Alerts inbox", "Sign in as an editor"])
    assert ALERT_OPEN_TITLE in dom or "приложение «Амина»" in dom
    assert "Sign in as an editor" in dom                      # viewer: no actions
    # Chromium sometimes paints before Streamlit has rendered (a skeleton is a ~7 KB PNG);
    # keep the most detailed of five shots, as the screenshot script does.
    png = best_screenshot(url, tmp_path / "alerts.png", tries=5)
    assert png.stat().st_size > 20_000


@pytest.mark.parametrize("page,needle", [("developments", "Developments"), ("rules", "Registry"),
                                         ("sources", "Runs of one source")])
def test_other_pages(server, page, needle):
    dom = rendered_dom(f"{server}/?page={page}", needle)
    assert "lawwatch" in dom
