"""reports/conformance.md: the matrix and the difference tables (views.py). Pure."""

from __future__ import annotations

from conformance import tables
from conformance.report.views import difference_tables, matrix, trace_url
from conformance.tables import Table


def _outcome(result: dict) -> str:
    if result["outcome"] == "failed":
        return f"**failed**: {result['reason']}"
    return result["outcome"]


def render(report: dict, scenario: dict) -> str:
    outcomes = Table("Matrix", ["check", *report["approaches"]], [[check, *map(_outcome, results)] for check, results in matrix(report)])
    lines = ["# Conformance report", "", "## Matrix", "", "Columns are approaches, `<language>/<approach>`, grouped by language.", ""]
    lines.append(tables.markdown(outcomes))
    links = [f"[{approach}]({trace_url(report, d['trace_id'])})" for approach, d in report["differences"].items() if d]
    lines += ["", "## Differences", "", f"Traces in Jaeger: {', '.join(links) or 'none'}."]
    for table in difference_tables(report, scenario):
        lines += ["", f"### {table.title}", "", table.note, "", tables.markdown(table)]
    return "\n".join(lines) + "\n"
