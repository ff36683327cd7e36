import json
from pathlib import Path

import pytest

from classify import CLASSIFIER_VERSION
from classify.classifier import get_classifier

SEEDS = Path("/work/shared/seeds")
TOPICS = ["chi", "biometrics", "entry_ban", "eaeu_court", "registration", "work_permit", "amina_app"]


@pytest.fixture(scope="module")
def clf():
    return get_classifier(None)


def seed(name):
    t = (SEEDS / name).read_text(encoding="utf-8")
    title, _, body = t.partition("\n")
    return {"url": f"file://{name}", "title": title.strip(), "text": body.strip(), "published": "2025-06-20"}


def check_contract(c, item):
    j = c.to_json()
    assert set(j) == {"url", "topics", "scores", "evidence", "change"}
    assert set(j["scores"]) == set(TOPICS) and all(0.0 <= v <= 1.0 for v in j["scores"].values())
    assert set(j["evidence"]) == set(j["topics"])
    assert {"is_change", "stage", "effective_dates"} <= set(j["change"])
    json.dumps(j)
    for t, evs in j["evidence"].items():
        assert evs, f"{t} tagged without evidence"
        for e in evs:
            src = item["title"] if e.get("field") == "title" else item["text"]
            assert src[e["start"]:e["end"]] == e["text"]
            assert {"text", "start", "end", "terms", "score"} <= set(e)
    return j


def test_court_opinion_is_chi_and_eaeu_court(clf):
    item = seed("eaeu_court_advisory_opinion_chi.txt")
    j = check_contract(clf.classify([item])[0], item)
    assert set(j["topics"]) == {"chi", "eaeu_court"}
    assert j["change"]["stage"] == "court"
    body_ev = [e for e in j["evidence"]["chi"] if e["field"] == "text"]
    assert body_ev and any("insurance" in t for e in body_ev for t in e["terms"])


def test_guide_gets_many_topics(clf):
    item = seed("guide_for_migrants_from_kyrgyzstan.txt")
    j = check_contract(clf.classify([item])[0], item)
    assert {"entry_ban", "registration", "work_permit", "biometrics"} <= set(j["topics"])


def test_other_seeds(clf):
    for name in ("moscowtimes_kyrgyzstan_sues_russia_eaeu_court.txt", "analysis_eaeu_court_stress_test.txt"):
        item = seed(name)
        j = check_contract(clf.classify([item])[0], item)
        assert {"chi", "eaeu_court"} <= set(j["topics"])


def test_sports_and_remittances_get_nothing(clf):
    items = [{"title": "Manchester City beat Arsenal 3-1",
              "text": "Erling Haaland scored twice as Manchester City beat Arsenal 3-1 on Sunday to go top of "
                      "the Premier League. The Norwegian striker now has 20 goals this season."},
             {"title": "Кыргызстанцы получают биометрические паспорта",
              "text": "В Бишкеке начали выдачу биометрических паспортов нового образца гражданам Кыргызстана. "
                      "Паспорт будет стоить 1500 сомов."}]
    for c, it in zip(clf.classify(items), items):
        assert check_contract(c, it)["topics"] == []


def test_kyrgyz_item(clf):
    item = {"title": "Москвада мигранттар \"Амина\" тиркемесин жүктөшү керек", "lang": "ky",
            "text": "Орусиянын Москва шаарында чет элдик жарандар 1-сентябрдан тарта телефонуна милдеттүү "
                    "түрдө \"Амина\" тиркемесин жүктөп алып, ал аркылуу катталууга тийиш.",
            "published": "2025-08-25"}
    j = check_contract(clf.classify([item])[0], item)
    assert "amina_app" in j["topics"]
    assert "2025-09-01" in j["change"]["effective_dates"]


def test_version():
    assert isinstance(CLASSIFIER_VERSION, str) and CLASSIFIER_VERSION


def test_setting_without_migrants_gets_no_topic(clf):
    """Right terms, wrong setting: a regional act on hospital managers' bonuses and an OMS change for
    Russian citizens are not `chi`; US deportations are not `entry_ban`."""
    items = [
        {"title": "Постановление Правительства Амурской области от 14.01.2026 № 11 \"Об утверждении порядка "
                  "поощрения руководителям государственных учреждений здравоохранения Амурской области\"",
         "text": "В соответствии с постановлением Правительства Российской Федерации Правительство Амурской области "
                 "постановляет: утвердить порядок выплаты поощрения руководителям государственных учреждений "
                 "здравоохранения Амурской области за достижение показателей медицинской помощи, оказываемой в "
                 "рамках программы обязательного медицинского страхования."},
        {"title": "ICE deportations surge under the Trump administration",
         "text": "US Immigration and Customs Enforcement deported record numbers of immigrants this year as the "
                 "Trump administration expanded expedited removal and entry bans at the southern border."},
    ]
    items.append({"title": "Deportations of migrants surge in Russia",
                  "text": "The Russian Interior Ministry deported record numbers of migrants this year as the Kremlin "
                          "expanded expulsion and entry bans for Central Asian labour migrants."})
    out = [check_contract(c, it) for c, it in zip(clf.classify(items), items)]
    assert "chi" not in out[0]["topics"]
    # the same story set in the US scores far below the Russian one (a short US item may still
    # cross the threshold: see classify/README.md "Current numbers")
    assert out[1]["scores"]["entry_ban"] < 0.8 < out[2]["scores"]["entry_ban"]
    assert "entry_ban" in out[2]["topics"]
