"""The table helper every tool writes its tables with."""

from __future__ import annotations

from conformance import tables


def test_markdown_escapes_what_would_break_a_row():
    table = tables.Table("t", ["a", "b|c"], [["x | y", "one\ntwo"], [1, None]])
    assert tables.markdown(table).splitlines() == ["| a | b\\|c |", "|---|---|", "| x \\| y | one two |", "| 1 | None |"]


def test_text_aligns_columns():
    table = tables.Table("t", ["h1", "h2"], [["a", "bbb"], ["cc", "d"]])
    assert tables.text(table).splitlines() == ["h1  h2", "--  ---", "a   bbb", "cc  d"]
