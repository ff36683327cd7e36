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
    assert "добровольного медицинского страхования" in terms("work_permit", "полис добровольного медицинского страхования")


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
