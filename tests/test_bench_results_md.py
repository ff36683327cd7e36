"""bench/results_md: each benchmark replaces only its own section of bench/results.md."""
from bench.results_md import generation_note, loads_line, publish, write_section


def test_replace_insert_after_and_append(tmp_path):
    p = tmp_path / "results.md"
    p.write_text("# Benchmarks\n\n## A\n\nold a\n\n## B\n\nb stays\n", encoding="utf-8")
    write_section("## A", "## A\n\nnew a\n", p)                       # replaced in place
    assert p.read_text() == "# Benchmarks\n\n## A\n\nnew a\n\n## B\n\nb stays\n"
    write_section("## C", "## C\n\nc\n", p, after="## A")             # inserted after A
    assert p.read_text() == "# Benchmarks\n\n## A\n\nnew a\n\n## C\n\nc\n\n## B\n\nb stays\n"
    write_section("## D", "## D\n\nd\n", p, after="## missing")       # appended
    assert p.read_text().endswith("## B\n\nb stays\n\n## D\n\nd\n")
    write_section("## C", "## C\n\nc2\n", p, after="## A")            # replaced, not duplicated
    assert p.read_text().count("## C") == 1 and "c2" in p.read_text() and "\nc\n" not in p.read_text()


def test_publish_writes_or_not(tmp_path, capsys):
    p = tmp_path / "results.md"
    publish("## X", "body\n", write=False, path=p)
    assert not p.exists()
    publish("## X", "body\n", path=p)
    assert p.read_text() == "# Benchmarks\n\n## X\n\nbody\n"
    assert "wrote section '## X'" in capsys.readouterr().err


def test_report_lines():
    assert loads_line({1000: (0.4, 0.9), 10000: (1.25, 1.5)}) == "1,000: 0.4/0.9, 10,000: 1.2/1.5"
    assert generation_note({}) == ""
    assert generation_note({100000: 40.2}) == " Store generation: 100,000 articles 40 s."
