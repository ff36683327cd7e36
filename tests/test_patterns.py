from classify.classifier import load_topics_file
from classify.patterns import compile_topics, split_sentences, compile_topic, PatternError
import pytest

CT = compile_topics(load_topics_file())


def terms(topic, text):
    return [m.term.lower() for m in CT[topic].find(text)]


def test_russian_inflections_and_offsets():
    text = "Мигрантам откажут в полисах ОМС; обязательного медицинского страхования не будет."
    ms = CT["chi"].find(text)
    assert [text[m.start:m.end] for m in ms] == [m.term for m in ms]
    got = [m.term.lower() for m in ms]
    assert "полисах" in got and "омс" in got
    assert any("медицинского страхования" in g for g in got)
    assert terms("biometrics", "прошли дактилоскопическую регистрацию и сдали биометрию")[:2] == [
        "дактилоскопическую", "биометрию"]
    assert terms("entry_ban", "внесён в реестр контролируемых лиц, грозит выдворение")[:2] == [
        "реестр контролируемых", "выдворение"]
    assert "уведомления о прибытии" in terms("registration", "подача уведомления о прибытии")
    assert terms("work_permit", "стоимость патентов выросла") == ["патентов"]
    assert terms("amina_app", "через приложение «Амина» и в «Амине»") == ["амина", "амине"]


def test_exclusions():
    assert terms("biometrics", "Кыргызстанцы получают биометрические паспорта") == []
    assert terms("biometrics", "citizens apply for biometric passports") == []
    assert terms("biometrics", "иностранцы сдают биометрию при въезде") == ["биометрию"]
    # voluntary insurance bought as a patent condition is work_permit, not chi
    assert terms("chi", "полис добровольного медицинского страхования для патента") == []
    assert "добровольного медицинского страхования" in terms(
        "work_permit", "полис добровольного медицинского страхования нужен для патента")
    # ... but voluntary insurance as the way to medical care (no patent in the sentence) is chi
    assert terms("work_permit", "Депутат предложил обязать мигрантов покупать полис ДМС при въезде") == []
    assert "медицинского страхования" in terms(
        "chi", "мигранты должны иметь полис добровольного медицинского страхования для оплаты лечения")
    # fingerprint registration is biometrics, not migration registration; the EurAsEC Court
    # (2012-2014) is not the EAEU Court
    assert terms("registration", "Russia makes fingerprint registration mandatory") == []
    assert terms("eaeu_court", "The Court of the Eurasian Economic Community renders its first judgment") == []
    assert terms("eaeu_court", "Суд ЕврАзЭС: толкование норм") == []
    assert terms("eaeu_court", "the Court of the Eurasian Economic Union ruled") != []


def test_word_start_anchor():
    assert terms("work_permit", "компатентный") == []


def test_kyrgyz_forms():
    assert "кара тизмеге" in terms("entry_ban", 'мигранттар "кара тизмеге" илинип')
    assert "кирүүгө тыюу" in terms("entry_ban", "өлкөгө кирүүгө тыюу салынган")
    assert "медициналык камсыздандыруу" in terms("chi", "медициналык камсыздандыруу полиси")
    assert terms("registration", "мигранттар каттоодон өтүшү керек") == ["каттоодон"]
    assert terms("eaeu_court", "ЕАЭБ сотуна кайрылды") == ["еаэб сотуна"]


def test_english():
    assert "entry ban" in terms("entry_ban", "He got an entry ban and was deported.")
    assert "eaeu court" in terms("eaeu_court", "The EAEU Court issued an advisory opinion")


def test_bad_pattern_names_topic():
    with pytest.raises(PatternError, match=r"topic\[x\]\.terms\.en"):
        compile_topic({"id": "x", "terms": {"en": ["(unclosed"]}})


def test_sentence_splitter_offsets():
    text = "Суд ЕАЭС вынес заключение 7 дек. 2018 г. по делу. В. Путин подписал закон!\nНовая строка. Mr. Smith said so."
    spans = split_sentences(text)
    got = [s.of(text) for s in spans]
    assert got == ["Суд ЕАЭС вынес заключение 7 дек. 2018 г. по делу.", "В. Путин подписал закон!",
                   "Новая строка.", "Mr. Smith said so."]
    for s in spans:
        assert text[s.start:s.end] == s.of(text)


def test_host_setting_counts():
    from classify.patterns import host_counts
    from classify.scoring import setting_flags
    us = host_counts("ICE and deportations under Trump", "The US administration expanded ICE raids and asylum limits.")
    assert us["other_host"] >= 3 and us["russia"] == 0
    assert setting_flags(us)[2] == 1.0                      # another host country dominates
    ru = host_counts("Мигрантов из Кыргызстана обяжут сдавать биометрию",
                     "Иностранные граждане при въезде в Россию пройдут дактилоскопию.")
    assert ru["migrant"] >= 2 and ru["russia"] >= 1 and setting_flags(ru)[:3] == (1.0, 1.0, 0.0)
    # lower-case "us"/"ice" are ordinary words, not the USA or the agency
    assert host_counts("", "let us put ice on it")["other_host"] == 0
    kg = host_counts("Kyrgyzstan to simplify registration of foreigners",
                     "Foreigners arriving in Kyrgyzstan register with the SRS (Tunduk).")
    assert kg["kg_host"] >= 2
    act = host_counts('Постановление Правительства Амурской области от 14.01.2026 № 11',
                      "Об утверждении порядка поощрения руководителям государственных учреждений здравоохранения")
    assert act["migrant"] == 0 and setting_flags(act)[0] == 0.0 and setting_flags(act)[3] == 1.0


def _labelled_texts():
    import json
    from pathlib import Path
    data = Path(__file__).resolve().parents[1] / "classify" / "data"
    for f in sorted(data.glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            yield r.get("title") or ""
            yield r.get("text") or ""


def test_any_term_prefilter_changes_nothing():
    """The one-scan prefilter (CompiledTopic.any_term) must give exactly the per-term scan's
    matches: every topic over every labelled text, with and without it."""
    from dataclasses import replace
    compiled = compile_topics(load_topics_file())
    assert all(ct.any_term is not None for ct in compiled.values())
    plain = {tid: replace(ct, any_term=None) for tid, ct in compiled.items()}
    n = hits = 0
    for text in _labelled_texts():
        for tid in compiled:
            got, want = compiled[tid].find(text), plain[tid].find(text)
            assert got == want, (tid, text[:80])
            n += 1
            hits += bool(want)
    assert n > 10000 and hits > 500


def test_any_of_refuses_what_it_cannot_combine():
    from classify.patterns import any_of
    assert any_of([]) is None
    assert any_of([r"(a)\1", "b"]) is None            # backreference would change meaning
    assert any_of([r"(?P<x>a)(?P=x)"]) is None
    assert any_of([r"a(?i)b"]) is None                 # inline flag not at the start: invalid
    rx = any_of([r"патент\w*", r"work permits?"])
    assert rx.search("Новые ПАТЕНТЫ") and rx.search("a work permit") and not rx.search("компатентный")


def test_stage_cue_prefilter_changes_nothing(monkeypatch):
    import classify.legal_change as lc
    texts = list(_labelled_texts())
    fast = [lc.stage_scores(t, t[:120]) for t in texts]
    monkeypatch.setattr(lc, "_CUE_ANY", {st: None for st in lc._CUE_ANY})
    monkeypatch.setattr(lc, "_OBL_ANY", None)
    slow = [lc.stage_scores(t, t[:120]) for t in texts]
    assert fast == slow
    assert sum(1 for s, _ in slow if any(s.values())) > 500


def test_host_setting_groups():
    """Setting groups behind the gate (scoring.setting_gate): a list of EAEU member states is not a
    host country; Kyrgyzstan's own registration service, ministries and deportations from it are;
    the Kyrgyz Ministry of Justice filing an EAEU Court case is not (the case is about Russia)."""
    from classify.patterns import host_counts
    c = host_counts("", "Запрет не распространяется на граждан стран ЕАЭС (Армения, Беларусь, "
                        "Казахстан, Кыргызстан).")
    assert c["other_host"] == 0 and c["kg_host"] == 0
    assert host_counts("", "In Kazakhstan the quota is set by the akimat.")["other_host"] == 1
    assert host_counts("", "Chairman of the State Registration Service announced")["kg_host"] == 1
    assert host_counts("", "It is proposed to deport foreigners from Kyrgyzstan for offences")["kg_host"] == 1
    assert host_counts("", "Кыргыз Республикасынын Саламаттык сактоо министрлигинин буйругу")["kg_host"] == 1
    assert host_counts("Р-7/25 Центр судебного представительства при Министерстве юстиции "
                       "Кыргызской Республики", "")["kg_host"] == 0
    assert host_counts("", "Въезд в РК ограничен")["other_host"] == 1
    assert host_counts("", "въезд в рк")["other_host"] == 0          # only the abbreviation
    assert host_counts("", "the identity of Russians leaving the country")["own_citizens"] == 1


def test_other_countries_systems_and_non_labour_quotas():
    """Armenia's population register, Kazakhstan's social health insurance and quotas for
    residence permits or imports are not the Russian migrant rules the topics are about."""
    from classify.patterns import host_counts
    compiled = compile_topics(load_topics_file())
    assert host_counts("", "registration in Armenia by the Migration and Citizenship Service")["other_host"] == 2
    assert host_counts("", "Система ОСМС для трудящихся ЕАЭС")["other_host"] == 1
    assert not compiled["chi"].find("compulsory social health insurance for EAEU workers")
    assert compiled["chi"].find("compulsory health insurance for EAEU workers")
    assert not compiled["work_permit"].find("The quota for temporary residence permits was halved.")
    assert not compiled["work_permit"].find("Установлена квота на выдачу разрешений на временное проживание.")
    assert compiled["work_permit"].find("The quota for foreign workers in construction was cut.")


def test_non_migrant_patents_registrations_and_hosts():
    """A sole proprietor's tax patent, an invention patent and a car's registration are not the
    migrant patent / migration registration; Canada or Saudi Arabia as the place is another host."""
    from classify.patterns import host_counts
    compiled = compile_topics(load_topics_file())
    wp, reg = compiled["work_permit"], compiled["registration"]
    assert not wp.find("Патент для ИП в 2025 году: стоимость патентной системы налогообложения")
    assert not wp.find("Роспатент выдал патент на изобретение")
    assert wp.find("Стоимость патента для мигрантов в Москве выросла")
    assert not reg.find("Эстония запретила въезд машин с регистрацией в РФ")
    assert reg.find("Мигранты обязаны встать на миграционный учёт и пройти регистрацию")
    assert host_counts("", "Canada caps study permits; Saudi authorities fingerprint expatriates")["other_host"] == 2
