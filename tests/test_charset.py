import gzip

import pytest

from crawler.charset import charset_from_content_type, decode_html, read_html_file

RU_TEXT = (
    "Мигранты из Киргизии, работающие в России, должны оформить патент в течение тридцати "
    "дней после въезда. МВД напоминает, что срок временного пребывания продлевается только "
    "при своевременной оплате налога на доходы физических лиц. Ёлки и ЖКХ тут ни при чём."
)
RU_TITLE = "Новые правила для трудовых мигрантов"


def page(meta: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{RU_TITLE}</title></head>"
        f"<body><article><h1>{RU_TITLE}</h1><p>{RU_TEXT}</p><p>{RU_TEXT}</p></article></body></html>"
    )


@pytest.mark.parametrize("enc", ["cp1251", "koi8-r"])
def test_cyrillic_with_header(enc):
    body = page().encode(enc)
    d = decode_html(body, f"text/html; charset={enc}")
    assert d.text == page()
    assert d.decided_by == "header"
    assert d.encoding == {"cp1251": "cp1251", "koi8-r": "koi8-r"}[enc]


@pytest.mark.parametrize(
    "enc,meta",
    [
        ("cp1251", '<meta charset="windows-1251">'),
        ("koi8-r", '<meta http-equiv="Content-Type" content="text/html; charset=KOI8-R">'),
    ],
)
def test_cyrillic_with_meta(enc, meta):
    html = page(meta)
    d = decode_html(html.encode(enc), "text/html")
    assert d.text == html
    assert d.decided_by == "meta"


@pytest.mark.parametrize("enc", ["cp1251", "koi8-r"])
def test_cyrillic_without_declaration_is_detected(enc):
    html = page()
    d = decode_html(html.encode(enc))
    assert d.decided_by == "detection"
    assert d.text == html
    assert RU_TEXT in d.text


@pytest.mark.parametrize("enc", ["cp1251", "koi8-r"])
def test_cyrillic_never_decoded_as_latin1_despite_wrong_header(enc):
    # a misconfigured server default; urlwatch-style latin-1 fallback would produce mojibake
    html = page()
    d = decode_html(html.encode(enc), "text/html; charset=ISO-8859-1")
    assert d.text == html
    assert d.encoding not in {"latin-1", "iso8859-1", "cp1252"}
    assert "Ã" not in d.text and "Ð" not in d.text


def test_utf8_body_with_wrong_single_byte_header():
    html = page()
    d = decode_html(html.encode("utf-8"), "text/html; charset=windows-1251")
    assert d.text == html
    assert d.encoding == "utf-8"


def test_header_that_fails_hard_falls_through_to_meta():
    html = page('<meta charset="windows-1251">')
    # header claims UTF-8 but the bytes are cp1251: strict UTF-8 decoding fails on nearly every letter
    d = decode_html(html.encode("cp1251"), "text/html; charset=utf-8")
    assert d.text == html
    assert d.decided_by == "meta"
    assert d.encoding == "cp1251"


def test_utf8_without_declaration():
    html = page()
    d = decode_html(html.encode("utf-8"))
    assert d.text == html
    assert d.encoding == "utf-8"


def test_bom_wins_over_absent_or_conflicting_declarations():
    html = page('<meta charset="windows-1251">')
    d = decode_html(b"\xef\xbb\xbf" + html.encode("utf-8"))
    assert d.decided_by == "bom"
    assert d.text == html
    d16 = decode_html(html.encode("utf-16"), "text/html; charset=utf-8")
    assert d16.decided_by == "bom"
    assert d16.text == html


def test_western_latin1_stays_western():
    html = "<p>Le gouvernement a décidé que les élèves étrangers doivent être protégés. Ça va être très intéressant.</p>"
    d = decode_html(html.encode("latin-1"))
    assert d.text == html
    d2 = decode_html(html.encode("latin-1"), "text/html; charset=iso-8859-1")
    assert d2.text == html and d2.decided_by == "header"


def test_ascii_and_empty():
    assert decode_html(b"<p>hello</p>").text == "<p>hello</p>"
    d = decode_html(b"")
    assert d.text == ""


def test_undecodable_garbage_does_not_crash():
    d = decode_html(bytes(range(256)) * 4, "text/html; charset=no-such-charset")
    assert isinstance(d.text, str)


def test_charset_from_content_type():
    assert charset_from_content_type('text/html; charset="Windows-1251"') == "cp1251"
    assert charset_from_content_type("text/html; charset=koi8-r") == "koi8-r"
    assert charset_from_content_type("text/html") is None
    assert charset_from_content_type(None) is None
    assert charset_from_content_type("text/html; charset=bogus-xyz") is None


def test_read_html_file_plain_and_gz(tmp_path):
    html = page('<meta charset="koi8-r">')
    plain = tmp_path / "a.html"
    plain.write_bytes(html.encode("koi8-r"))
    gz = tmp_path / "a.html.gz"
    gz.write_bytes(gzip.compress(html.encode("koi8-r")))
    assert read_html_file(plain).text == html
    d = read_html_file(gz)
    assert d.text == html and d.encoding == "koi8-r"


def test_short_cp1251_snippet_without_declaration_is_cyrillic():
    from crawler.charset import decode_html
    for word in ("Новости", "Мигранты", "ОМС"):
        body = f"<p>{word}</p>".encode("cp1251")
        d = decode_html(body, "text/html")
        assert word in d.text, (word, d.encoding)
