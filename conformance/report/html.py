"""reports/conformance.html, self-contained: the matrix, a waterfall per approach
(waterfall.py), the difference tables (views.py) and, when there is one, the last
`nox -s faults`, `nox -s sampling` and `nox -s load` (their reports/*.json). Pure."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from conformance.load import render as load_render
from conformance.report.views import difference_tables, matrix, trace_url
from conformance.report.waterfall import Row, extent_us, waterfall_rows, waterfall_svg
from conformance.runs import Run
from conformance.sampling.report import delay_line, tail_table
from conformance.sampling.report import table as sampling_table

CSS_FILE = Path(__file__).with_name("page.css")


def _head(header: list[str]) -> str:
    """Two header rows: each language over its approaches' columns, then the approaches; one
    row when the columns are not approaches (the dashboard table's)."""
    first, ids = header[0], header[1:]
    if not all("/" in column for column in ids):
        return "<tr>" + "".join(f"<th>{escape(column)}</th>" for column in header) + "</tr>"
    groups: list[list] = []
    for approach in ids:
        language, _, name = approach.partition("/")
        if groups and groups[-1][0] == language:
            groups[-1][1].append(name)
        else:
            groups.append([language, [name]])
    top = f'<th rowspan="2">{escape(first)}</th>' + "".join(
        f'<th colspan="{len(names)}" class="language">{escape(language)}</th>' for language, names in groups
    )
    names = "".join(f"<th>{escape(name)}</th>" for _, group in groups for name in group)
    return f"<tr>{top}</tr><tr>{names}</tr>"


def _table(header: list[str], rows: list[list[str]]) -> str:
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table>{_head(header)}{body}</table>"


def _outcome(result: dict) -> str:
    css = result["outcome"].replace(" ", "-")
    reason = escape(result["reason"])
    detail = f"<small>{reason}</small>" if result["outcome"] == "failed" else ""
    return f'<td class="{css}" title="{reason}">{escape(result["outcome"])}{detail}</td>'


def _matrix(report: dict) -> str:
    body = "".join(f"<tr><th>{check}</th>{''.join(map(_outcome, results))}</tr>" for check, results in matrix(report))
    return f'<table class="matrix">{_head(["check", *report["approaches"]])}{body}</table>'


def _why_no_trace(checks: dict) -> str:
    reasons = [c["reason"] for c in checks.values() if c["outcome"] != "passed"]
    return reasons[0] if reasons else "no trace"


def _approach(approach: str, run: Run | None, rows: list[Row], report: dict, scenario: dict, scale_us: int) -> str:
    anchor = approach.replace("/", "-")
    about = report["about"][approach]
    title = f'<h3 id="trace-{escape(anchor)}">{escape(approach)}</h3><p>{escape(about["description"])}</p>'
    if run is None or run.trace is None:
        return f"<section>{title}<p>No trace: {escape(_why_no_trace(report['approaches'][approach]))}</p></section>"
    url = escape(trace_url(report, run.trace.trace_id))
    link = f'Trace <a href="{url}">{escape(run.trace.trace_id)}</a>'
    if not rows:
        return f"<section>{title}<p>{link} has no span of {escape(run.expected_service(scenario))}.</p></section>"
    return (
        f'<section class="approach">{title}<p>{link}: {len(run.trace.spans)} spans, {len(rows)} drawn (the client\'s '
        "spans and the Milvus span answering each call; (+N) = Milvus-internal spans folded below it). "
        "Hover a span for its attributes.</p>"
        f"{waterfall_svg(run, rows, scenario, scale_us)}</section>"
    )


def _fault_cell(cell: dict | None) -> str:
    """One approach under one fault, as faults.json records it: exit status and wall time."""
    if cell is None:
        return '<td class="not-run">not run</td>'
    figures = f"exit {cell['exit_status']}, {cell['wall_s']:.1f} s"
    if cell["problems"]:
        return f'<td class="failed">{figures}<small>{escape("; ".join(cell["problems"]))}</small></td>'
    return f'<td class="passed" title="{escape(cell.get("first_new_stderr_line") or "")}">{figures}</td>'


def _faults(faults: dict | None) -> str:
    """The last `nox -s faults` (reports/faults.json), when there is one."""
    if not faults:
        return ""
    names = list(faults["faults"])
    rows = [
        f"<tr><th>{escape(approach)}</th><td>{result['normal']['wall_s']:.1f} s</td>"
        f"{''.join(_fault_cell(result['faults'].get(name)) for name in names)}</tr>"
        for approach, result in faults["approaches"].items()
    ]
    head = "".join(f'<th title="{escape(faults["faults"][n]["expect"])}">{escape(n)}</th>' for n in names)
    return (
        f"<h2>When things go wrong</h2><p>The last <code>nox -s faults</code> ({escape(faults['generated_at'])}): "
        "exit status and wall time per fault; hover a fault for its bound, a cell for the line the client printed.</p>"
        f'<table class="faults"><tr><th>approach</th><th>normal</th>{head}</tr>{"".join(rows)}</table>'
    )


def _plain_table(table) -> str:
    """A table whose columns are not approaches: one header row."""
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in table.header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in table.rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _sampling(sampling: dict | None) -> str:
    """The last `nox -s sampling` (reports/sampling.json), when there is one: does Milvus follow
    the client's sampling, the tail pipeline, and each approach's Milvus log lines with one example."""
    if not sampling:
        return ""
    head, tail = sampling_table(sampling), tail_table(sampling)
    examples = "".join(
        f"<li><b>{escape(approach)}</b>: {len(lines)} traces, {min(lines)}-{max(lines)} Milvus log lines each"
        f"<br><code>{escape(result['summary']['log_example'] or '')}</code></li>"
        for approach, result in sampling["approaches"].items()
        if (lines := result["summary"]["log_lines"])
    )
    logs = f"<p>Milvus's log: {escape(sampling['logs'])}</p>" if sampling["logs"] else f"<h3>Milvus's log lines per trace</h3><ul>{examples}</ul>"
    return (
        f"<h2>Sampling</h2><p>The last <code>nox -s sampling</code> ({escape(sampling['generated_at'])}).</p>"
        f"<h3>{escape(head.title)}</h3>{_plain_table(head)}{logs}"
        f"<h3>{escape(tail.title)}</h3><p>{escape(delay_line(sampling))}</p>{_plain_table(tail)}"
        f"<p>{escape(sampling['tail'].get('note', ''))}</p>"
    )


def _load(load: dict | None, pictures: dict[str, bytes]) -> str:
    """The last `nox -s load` (reports/load.json and its PNG pictures), when there is one."""
    if not load:
        return ""
    images = "".join(
        f'<p><img alt="{escape(name)}" src="data:image/png;base64,{base64.b64encode(data).decode()}"></p>' for name, data in pictures.items()
    )
    tables = "".join(
        f"<h3>{escape(t.title)}</h3>{_plain_table(t)}" + (f"<p>{escape(t.note)}</p>" if t.note else "") for t in load_render.sections(load)
    )
    return f"<h2>Under load</h2><p>The last <code>nox -s load</code>: {escape(load_render.heading(load))}.</p>{images}{tables}"


def render(
    report: dict,
    runs: dict[str, Run | None],
    scenario: dict,
    faults: dict | None = None,
    sampling: dict | None = None,
    load: dict | None = None,
    load_pictures: dict[str, bytes] | None = None,
) -> str:
    rows = {
        approach: waterfall_rows(run.trace, scenario, run.expected_service(scenario))
        for approach, run in runs.items()
        if run is not None and run.trace is not None
    }
    scale_us = max(map(extent_us, rows.values()), default=0) or 1
    legend = (
        '<p class="legend"><span><i class="svc-client"></i>milvus-client-&lt;language&gt;-&lt;approach&gt;</span>'
        f'<span><i class="svc-milvus"></i>{escape(", ".join(scenario["server_services"]))} (Milvus)</span>'
        '<span><i class="svc-other"></i>other service</span><span>✖ error status</span></p>'
    )
    tables = "".join(
        f"<h3>{escape(t.title)}</h3><p>{escape(t.note)}</p>{_table(t.header, t.rows)}" for t in difference_tables(report, scenario)
    )
    waterfalls = "".join(
        _approach(approach, runs.get(approach), rows.get(approach, []), report, scenario, scale_us)
        for approach in report["approaches"]
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Milvus + OpenTelemetry conformance</title>'
        f"<style>\n{CSS_FILE.read_text()}</style></head><body><h1>Milvus + OpenTelemetry conformance</h1>"
        f"<h2>Matrix</h2>{_matrix(report)}"
        f"<h2>Traces</h2><p>One time axis for all approaches, from each client's root span.</p>{legend}{waterfalls}"
        f"<h2>Differences</h2>{tables}{_faults(faults)}{_sampling(sampling)}{_load(load, load_pictures or {})}</body></html>\n"
    )
