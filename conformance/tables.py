"""The one table helper of the suite's tools: a table as data, and its Markdown and
plain-text renderings (the report, bench, faults and matrix write theirs with it). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Table:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    note: str = ""


def _md_cell(value: object) -> str:
    """A cell's text that cannot end the cell or the row early."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(map(_md_cell, cells)) + " |"


def markdown(table: Table) -> str:
    """The header, its separator and the rows, one line each (no title, no trailing newline)."""
    lines = [_md_row(table.header), "|" + "---|" * len(table.header)]
    return "\n".join(lines + [_md_row(row) for row in table.rows])


def text(table: Table) -> str:
    """Left-aligned columns two spaces apart under a dashed rule, for a terminal."""
    header = list(table.header)
    widths = [max(len(str(row[i])) for row in [header, *table.rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *table.rows]]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])
