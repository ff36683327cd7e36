from pathlib import Path

from classify.legal_change import detect, find_dates

SEEDS = Path("/work/shared/seeds")


def dates(text, pub=None):
    return [h.iso for h in find_dates(text, pub)]


def test_english_dates():
    assert dates("The rules apply from 1 September 2026.") == ["2026-09-01"]
    assert dates("in force since December 29, 2021") == ["2021-12-29"]
    assert dates("Changes take effect from September 2025.") == ["2025-09"]
    assert dates("Required from 2027 onwards") == ["2027"]
    assert dates("starting from September 1", "2025-07-20") == ["2025-09-01"]


def test_russian_dates():
    assert dates("Закон вступает в силу с 1 января 2025 года.") == ["2025-01-01"]
    assert dates("Эксперимент продлится до 30 июня 2026 г.") == ["2026-06-30"]
    assert dates("с сентября 2025 года") == ["2025-09"]
    assert dates("Новые правила заработают с 2027 года") == ["2027"]
    # year from the published date; "с 1 января" written in December means next year
    assert dates("С 1 сентября в Москве стартует эксперимент", "2025-08-10") == ["2025-09-01"]
    assert dates("с 1 января патент подорожает", "2025-12-15") == ["2026-01-01"]
    assert dates("с 01.09.2025") == ["2025-09-01"]
    # a bare date with no temporal cue is not an effective date
    assert dates("Москва, 5 марта 2024 года — сообщили в МВД") == []


def test_kyrgyz_dates():
    assert dates("1-сентябрдан баштап мигранттар тиркемени жүктөшү керек", "2025-08-20") == ["2025-09-01"]
    assert dates("2026-жылдын 1-мартынан тарта маалымат берилет") == ["2026-03-01"]
    assert dates("11-сентябрдан тартып мажбурлап чыгарылат", "2025-09-05") == ["2025-09-11"]


def test_stages():
    assert detect("Законопроект внесён в Госдуму.").stage == "proposed"
    assert detect("Закон принят Госдумой в третьем чтении.").stage == "adopted"
    assert detect("Путин подписал закон о мигрантах.").stage == "signed"
    assert detect("Закон вступает в силу с 1 января 2025 года.").stage == "in_force"
    assert detect("The law comes into force on Monday.").stage == "in_force"
    assert detect("Суд ЕАЭС вынес консультативное заключение.").stage == "court"
    assert detect("Kyrgyzstan filed a lawsuit against Russia", title="Kyrgyzstan sues Russia").stage == "court"
    assert detect("В Москве стартует эксперимент с приложением.").stage == "pilot"
    assert detect("Норма утратила силу.").stage == "repealed"
    none = detect("Денежные переводы из России в Кыргызстан выросли на 12%.")
    assert none.is_change is False and none.stage is None


def test_evidence_offsets_slice_text():
    text = "Мигранты в Москве. Закон вступает в силу с 1 января 2025 года."
    sig = detect(text)
    assert sig.is_change and sig.effective_dates == ["2025-01-01"]
    for e in sig.evidence:
        if e["field"] == "text":
            assert text[e["start"]:e["end"]] == e["text"]


def test_seeds():
    t = (SEEDS / "eaeu_court_advisory_opinion_chi.txt").read_text(encoding="utf-8")
    assert detect(t).stage == "court"
    t = (SEEDS / "moscowtimes_kyrgyzstan_sues_russia_eaeu_court.txt").read_text(encoding="utf-8")
    assert detect(t).stage == "court"
    t = (SEEDS / "guide_for_migrants_from_kyrgyzstan.txt").read_text(encoding="utf-8")
    sig = detect(t, published="2025-09-15")
    assert "2025-01-01" in sig.effective_dates


def test_court_advisory_opinions_and_clarifications():
    # an EAEU Court advisory opinion reported without "вынес": the court "разъяснила" / the title names the court
    sig = detect("Большая коллегия суда Евразийского экономического союза (ЕАЭС) разъяснила, что государства "
                 "объединения не обязаны автоматически оформлять полисы ОМС членам семей мигрантов.",
                 title="Суд ЕАЭС: Семьи мигрантов не должны автоматически получать полисы ОМС в РФ")
    assert sig.is_change and sig.stage == "court"
    assert detect("Суд ЕАЭС пришел к выводу, что договор не предусматривает автоматического страхования.").stage == "court"
    assert detect("The EAEU Court clarified that member states need not issue policies.").stage == "court"
    assert detect("The Grand Chamber delivered an advisory opinion on Article 98.").stage == "court"
    assert detect("Why Kyrgyzstan took Russia to EAEU court over migrant rights",
                  title="Why Kyrgyzstan took Russia to EAEU court").stage == "court"


def test_obligations_pilot_or_in_force():
    # a new obligation announced by an authority in a limited-rollout context -> pilot
    t = ("Трудовые мигранты, прибывшие в Москву, обязаны ежедневно заходить в приложение, заявил начальник "
         "управления МВД. Если иностранец приезжает в регион, где приложение еще не функционирует, он подлежит "
         "миграционному учету по адресу пребывания.")
    sig = detect(t, title="МВД России: Мигранты в Москве должны каждый день заходить в приложение")
    assert sig.is_change and sig.stage == "pilot"
    # same kind of obligation without any pilot context -> in force
    sig = detect("Иностранцы обязаны уведомлять МВД о смене адреса в течение семи дней, сообщили в ведомстве.",
                 title="МВД: иностранцы должны сообщать о смене адреса")
    assert sig.stage == "in_force"
    assert detect("Under the new decree, foreign workers are required to register within 7 days, the ministry said.",
                  title="Foreign workers must register within a week").stage == "in_force"
    # an obligation with no authority (a how-to, a sports report) is not a change
    assert detect("Каждый игрок должен быть готов к матчу.", title="Тренер: команда должна побеждать").stage is None


def test_more_stage_cues():
    assert detect("Госдума приняла закон о реестре контролируемых лиц.").stage == "adopted"
    assert detect("Путин подписал закон об изгнании мигрантов.").stage == "signed"
    assert detect("Законопроект внесен в Госдуму депутатами.").stage == "proposed"
    assert detect("Закон вступает в силу 5 февраля.").stage == "in_force"
    assert detect("Президент России ужесточил условия получения мигрантами полиса ОМС.").stage == "signed"
    assert detect("The moratorium on expulsions will lose effect on September 30.").stage == "repealed"
    assert detect("Мораторий отменен, норма утратила силу.").stage == "repealed"
    assert detect("Russia lifted the entry ban on 47,000 Kyrgyz citizens.").stage == "in_force"
