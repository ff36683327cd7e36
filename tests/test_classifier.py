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
    # the same story set in the US is gated out (another host dominates); the Russian one is tagged
    assert out[1]["topics"] == [] and out[1]["scores"]["entry_ban"] == 0.0
    assert "entry_ban" in out[2]["topics"]


def test_setting_gate_is_a_pure_rule():
    from classify.scoring import setting_gate
    assert setting_gate({"russia": 3, "migrant": 2}) is None
    assert "another host" in setting_gate({"other_host": 3, "russia": 1, "migrant": 2})
    assert "own citizens" in setting_gate({"own_citizens": 2, "russia": 2})
    # needs_foreigners: nobody foreign and no entry named -> out; entry into a country is enough
    assert setting_gate({"russia": 2}) is None
    assert "no migrants" in setting_gate({"russia": 2}, needs_foreigners=True)
    assert setting_gate({"russia": 2, "entry": 1}, needs_foreigners=True) is None
    assert setting_gate({"russia": 2, "migrant": 1}, needs_foreigners=True) is None


def test_gate_suppresses_other_settings_and_says_why(clf):
    """The EU's border biometrics and Russians' Gosuslugi biometrics are not `biometrics`; Kazakhstan's
    registration rules are not `registration`; the Russian versions are. The EAEU Court is not
    gated (it rules on every member state)."""
    items = [
        {"title": "EU launches biometric Entry/Exit System for non-EU travellers",
         "text": "The European Union's Entry/Exit System will register fingerprints and facial images of "
                 "non-EU travellers at the Schengen external border. Travellers from outside the EU will "
                 "have their biometrics taken at their first crossing into Europe."},
        {"title": "Не сдавшим биометрию россиянам ограничат доступ к услугам",
         "text": "Граждане России, не сдавшие биометрию в Единую биометрическую систему, не смогут получать "
                 "часть услуг банков. Сдать биометрию можно в отделении банка."},
        {"title": "Kazakhstan approves new registration rules for foreigners",
         "text": "Kazakhstan has approved new rules requiring foreign nationals to register with the "
                 "Interior Ministry of Kazakhstan if they stay in Kazakhstan for more than 30 days."},
        {"title": "Russia to fingerprint all foreigners at the border",
         "text": "Foreign citizens entering Russia will have their fingerprints and photographs taken at "
                 "border checkpoints, the Russian Interior Ministry said. Migrants must also register at "
                 "their place of stay within seven days."},
        {"title": "EAEU Court rules on Kazakhstan's and Belarus's dispute over workers' pensions",
         "text": "The Court of the Eurasian Economic Union delivered its ruling in the case brought by "
                 "Kazakhstan against Belarus over the pension rights of workers of member states."},
    ]
    res = clf.classify(items)
    out = [check_contract(c, it) for c, it in zip(res, items)]
    assert "biometrics" not in out[0]["topics"] and "biometrics" not in out[1]["topics"]
    assert "registration" not in out[2]["topics"]
    assert {"biometrics", "registration"} <= set(out[3]["topics"]), out[3]["scores"]
    assert "eaeu_court" in out[4]["topics"]
    # a topic the head wanted but the gate removed says why (not in the CLI contract)
    for c in res[:3]:
        for why in c.suppressed.values():
            assert why.startswith("setting: ")
    assert res[0].suppressed or res[0].scores["biometrics"] == 0.0


def test_long_general_articles_get_no_topic(clf):
    """Long items are also scored window by window (the guide's CHI section counts); windows of
    long unrelated articles (the extraction benchmark's news pages: games, space, politics)
    must not produce tags."""
    gt = json.loads((Path("/work/shared/fixtures/article-extraction-benchmark") / "ground-truth.json")
                    .read_text(encoding="utf-8"))
    bodies = sorted((v.get("articleBody") or "" for v in gt.values()), key=len, reverse=True)[:15]
    assert all(len(b) > 2400 for b in bodies)
    res = clf.classify([{"title": "", "text": b} for b in bodies])
    assert [r.topics for r in res if r.topics] == []
