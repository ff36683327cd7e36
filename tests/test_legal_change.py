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
