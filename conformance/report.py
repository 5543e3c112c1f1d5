"""The conformance report: the check matrix and what differs between the approaches'
traces, as conformance.json, conformance.md and a self-contained conformance.html.

Everything but write() is pure (Run objects and check results in, dicts and strings
out), so it is unit-tested on the recorded traces."""

from __future__ import annotations

import html
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from conformance.approaches import Approach
from conformance.checks import CHECKS
from conformance.faults import fault_rows, figures
from conformance.runs import Run
from conformance.spans import CLIENT, Span, Trace, root_span, server_child, step_spans, traceparent_flags

# Jaeger turns span kind, scope and status into tags: they are not attributes the instrumentation chose.
JAEGER_FIELDS = {"span.kind", "otel.scope.name", "otel.scope.version", "otel.status_code", "otel.status_description", "error"}
# The network attributes changed names when the semantic conventions went stable; rpc.* did not.
OLD_PREFIXES = ("net.",)
STABLE_PREFIXES = ("server.", "client.", "network.")
GENERATIONS = ("rpc", "old", "stable", "other")
# pymilvus says "(code=100, ...)", milvus-sdk-java "ServerCode: 100"; Go and Node clients give no code.
MILVUS_ERROR_CODE = re.compile(r"\b(?:ServerCode|code)\s*[=:]\s*(\d+)")


# --- what differs between the approaches ------------------------------------------


def client_service(run: Run, scenario: dict) -> str:
    return run.expected_service(scenario)


def own_spans(run: Run, scenario: dict) -> list[Span]:
    """The client's spans; the rest of the trace is Milvus's."""
    service = client_service(run, scenario)
    return [span for span in run.trace.spans if span.service == service]


def rpc_client_spans(run: Run, scenario: dict) -> list[Span]:
    """The client's gRPC CLIENT spans (Milvus's calls between its own components are CLIENT spans too)."""
    return [s for s in own_spans(run, scenario) if s.kind == CLIENT and s.rpc_call()]


def naming_scheme(span: Span) -> str:
    """The span name with its rpc.service and rpc.method replaced by placeholders."""
    name, (service, method) = span.name, span.rpc_call() or (None, None)
    if method and name.endswith(("/" + method, "." + method)):
        name = name[: -len(method)] + "{rpc.method}"
    name = name.replace(service, "{rpc.service}", 1) if service else name
    return name + (" (no rpc.* attributes)" if span.rpc_from_name else "")


def naming(spans: list[Span]) -> dict:
    schemes = Counter(naming_scheme(span) for span in spans)
    first = min(spans, key=lambda span: span.start_us, default=None)
    return {"schemes": [scheme for scheme, _ in schemes.most_common()], "example": first.name if first else None}


def semconv_generation(key: str) -> str:
    if key.startswith(OLD_PREFIXES):
        return "old"
    if key.startswith(STABLE_PREFIXES):
        return "stable"
    return "rpc" if key.startswith("rpc.") else "other"


def attributes(spans: list[Span]) -> dict:
    keys = sorted({key for span in spans for key in span.tags} - JAEGER_FIELDS)
    by_generation = {generation: [key for key in keys if semconv_generation(key) == generation] for generation in GENERATIONS}
    network = [generation for generation in ("old", "stable") if by_generation[generation]]
    return {
        "keys": keys,
        # Keys only some spans have, e.g. error details on failed calls.
        "on_some_spans": [key for key in keys if not all(key in span.tags for span in spans)],
        "generation": "mixed" if len(network) == 2 else (network[0] if network else "none"),
        "by_generation": by_generation,
    }


def scopes(spans: list[Span]) -> list[dict]:
    counts = Counter((span.tags.get("otel.scope.name"), span.tags.get("otel.scope.version")) for span in spans)
    return [{"name": name, "version": version, "spans": count} for (name, version), count in counts.most_common()]


def sdk(spans: list[Span]) -> dict:
    """telemetry.* resource attributes: Jaeger shows the resource as the process's tags."""
    tags = spans[0].process_tags if spans else {}
    return {key: value for key, value in sorted(tags.items()) if key.startswith("telemetry.")}


def traceparent(record: dict) -> dict:
    flags = traceparent_flags(record.get("traceparent"))
    bits = int(flags, 16) if flags and re.fullmatch(r"[0-9a-f]{2}", flags) else None
    return {
        "header": record.get("traceparent"),
        "flags": flags,
        "sampled": None if bits is None else bool(bits & 0x01),
        # W3C trace context level 2: the trace id's right part is random. Milvus 2.3 rejects it.
        "random_trace_id": None if bits is None else bool(bits & 0x02),
    }


def spans_per_step(steps: dict[str, Span], rpc_spans: list[Span], scenario: dict) -> dict[str, dict[str, int]]:
    """rpc.method -> count of the client's RPC spans below each step span, in call order."""
    ids = {span.span_id for span in rpc_spans}
    return {
        step["name"]: dict(Counter(s.rpc_call()[1] for s in steps[step["name"]].descendants() if s.span_id in ids))
        for step in scenario["steps"]
        if step["name"] in steps
    }


def milvus_error_code(texts: list[str | None]) -> int | None:
    for text in texts:
        found = MILVUS_ERROR_CODE.search(text or "")
        if found:
            return int(found.group(1))
    return None


def failure(steps: dict[str, Span], rpc_spans: list[Span], scenario: dict) -> dict | None:
    """How the client shows the deliberate failure (describing a missing collection)."""
    step = next(step for step in scenario["steps"] if step.get("expect_error"))
    span = steps.get(step["name"])
    if span is None:
        return None
    exception = next((event for event in span.events if event.get("event") == "exception"), {})
    ids = {s.span_id for s in rpc_spans}
    calls = [s for s in span.descendants() if s.span_id in ids]
    stacktrace = exception.get("exception.stacktrace") or ""
    return {
        "step": step["name"],
        "status": span.tags.get("otel.status_code", "UNSET"),
        "status_description": span.tags.get("otel.status_description"),
        "rpc_spans": [_failed_call(call, scenario) for call in calls],
        "exception_type": exception.get("exception.type"),
        "exception_message": exception.get("exception.message"),
        # A Java exception's first stack-trace line is its toString(), which has the server code.
        "milvus_error_code": milvus_error_code(
            [exception.get("exception.message"), span.tags.get("otel.status_description"), stacktrace.split("\n")[0]]
        ),
    }


def _failed_call(call: Span, scenario: dict) -> dict:
    server = server_child(scenario, call)
    return {
        "method": call.rpc_call()[1],
        "status": call.tags.get("otel.status_code", "UNSET"),
        "grpc_status_code": call.tags.get("rpc.grpc.status_code"),
        "server_grpc_status_code": server.tags.get("rpc.grpc.status_code") if server else None,
    }


def _median_ms(values_us: list[int]) -> float | None:
    return round(statistics.median(values_us) / 1000, 2) if values_us else None


def durations(rpc_spans: list[Span], scenario: dict) -> dict[str, dict]:
    """Per Milvus method, medians of the client span, its linked server span, and the gap between them."""
    by_method: dict[str, list[Span]] = {}
    for span in rpc_spans:
        method = span.rpc_method(scenario["rpc_service"])
        if method:
            by_method.setdefault(method, []).append(span)
    result = {}
    for method, calls in sorted(by_method.items()):
        linked = [(call, server_child(scenario, call)) for call in calls]
        linked = [(call, server) for call, server in linked if server is not None]
        result[method] = {
            "calls": len(calls),
            "linked": len(linked),
            "client": _median_ms([call.duration_us for call in calls]),
            "server": _median_ms([server.duration_us for _, server in linked]),
            # Client-side work plus the network, call by call.
            "overhead": _median_ms([call.duration_us - server.duration_us for call, server in linked]),
        }
    return result


def differences(run: Run | None, scenario: dict) -> dict | None:
    if run is None or run.trace is None:
        return None
    own = own_spans(run, scenario)
    rpc_spans = rpc_client_spans(run, scenario)
    rpc_ids = {span.span_id for span in rpc_spans}
    steps = step_spans(run.trace, scenario)
    return {
        "trace_id": run.trace.trace_id,
        "rpc_span_naming": naming(rpc_spans),
        "rpc_span_attributes": attributes(rpc_spans),
        "scopes": {"rpc_client_spans": scopes(rpc_spans), "other_spans": scopes([s for s in own if s.span_id not in rpc_ids])},
        "sdk": sdk(own),
        "traceparent": traceparent(run.record),
        "spans_per_step": spans_per_step(steps, rpc_spans, scenario),
        "failure": failure(steps, rpc_spans, scenario),
        "durations_ms": durations(rpc_spans, scenario),
    }


def about(approach: Approach) -> dict:
    return {
        "language": approach.language,
        "approach": approach.name,
        "description": approach.description,
        "link_fix": approach.link_fix,
        "token_leak": approach.token_leak,
    }


def build(
    results: dict[str, dict[str, dict]], runs: dict[str, Run | None], approaches: list[Approach], scenario: dict, jaeger_url: str
) -> dict:
    """The JSON report. `approaches` is the check matrix as the suite recorded it, unchanged,
    in the order of the approaches' declarations (grouped by language)."""
    ids = [approach.id for approach in approaches if approach.id in results]
    return {
        "approaches": {approach_id: results[approach_id] for approach_id in ids},
        "about": {approach.id: about(approach) for approach in approaches if approach.id in results},
        "jaeger_api_url": jaeger_url,
        "differences": {approach_id: differences(runs.get(approach_id), scenario) for approach_id in ids},
    }


# --- tables, shared by the Markdown and the HTML ------------------------------------


@dataclass
class Table:
    title: str
    note: str
    header: list[str]
    rows: list[list[str]]


def matrix(report: dict) -> list[tuple[str, list[dict]]]:
    """(check, one {"outcome", "reason"} per approach) in the suite's order."""
    missing = {"outcome": "not run", "reason": "not run"}
    return [(check, [checks.get(check, missing) for checks in report["approaches"].values()]) for check in CHECKS]


def _cell(value) -> str:
    return "—" if value is None or value == "" else str(value)


def _by_approach(report: dict, render) -> list[str]:
    return [_cell(render(diff)) if diff else "—" for diff in report["differences"].values()]


def _flags(tp: dict) -> str | None:
    meaning = [name for name, on in (("sampled", tp["sampled"]), ("random trace id", tp["random_trace_id"])) if on]
    return f"{tp['flags']} ({', '.join(meaning) or 'not sampled'})" if tp["flags"] else None


def _scopes(entries: list[dict]) -> str:
    return "; ".join(f"{e['name']} {e['version'] or '(no version)'} ×{e['spans']}" for e in entries)


def _generation(attrs: dict) -> str:
    network = attrs["by_generation"]["old"] + attrs["by_generation"]["stable"]
    if not network:
        return "none: no network attributes"
    return f"{attrs['generation']}: {', '.join(network)}"


def glance_table(report: dict) -> Table:
    rows = [
        ("trace id", lambda d: d["trace_id"]),
        ("RPC span name", lambda d: " | ".join(d["rpc_span_naming"]["schemes"]) + f", e.g. {d['rpc_span_naming']['example']}"),
        ("RPC span attributes", lambda d: ", ".join(d["rpc_span_attributes"]["keys"])),
        ("only on some RPC spans", lambda d: ", ".join(d["rpc_span_attributes"]["on_some_spans"])),
        ("semantic conventions (network attributes)", lambda d: _generation(d["rpc_span_attributes"])),
        ("scope of the RPC spans", lambda d: _scopes(d["scopes"]["rpc_client_spans"])),
        ("scope of the other spans", lambda d: _scopes(d["scopes"]["other_spans"])),
        ("SDK (telemetry.* resource)", lambda d: ", ".join(f"{k}={v}" for k, v in d["sdk"].items())),
        ("traceparent flags sent", lambda d: _flags(d["traceparent"])),
    ]
    return Table(
        "At a glance",
        "The client's own gRPC CLIENT spans. Network attribute names: net.* is the old semantic-convention "
        "generation, server.*/network.* the stable one.",
        ["", *report["differences"]],
        [link_fix_row(report), token_leak_row(report)] + [[title, *_by_approach(report, render)] for title, render in rows],
    )


def link_fix_row(report: dict) -> list[str]:
    return ["what it took to link with Milvus 2.3.5", *(report["about"][approach]["link_fix"] for approach in report["differences"])]


def token_leak_row(report: dict) -> list[str]:
    return ["the setting that would put MILVUS_TOKEN on a span", *(report["about"][a]["token_leak"] for a in report["differences"])]


def steps_table(report: dict, scenario: dict) -> Table:
    def calls(step):
        return lambda d: ", ".join(f"{method} ×{n}" for method, n in d["spans_per_step"].get(step, {}).items()) or None

    return Table(
        "Client RPC spans per contract step",
        "rpc.method × count of the client's RPC spans below each step span, in call order.",
        ["step", *report["differences"]],
        [[step["name"], *_by_approach(report, calls(step["name"]))] for step in scenario["steps"]],
    )


def _failed_calls(failure: dict) -> str:
    return "; ".join(
        f"{c['method']}: status {c['status']}, rpc.grpc.status_code {_cell(c['grpc_status_code'])}"
        f" (server {_cell(c['server_grpc_status_code'])})"
        for c in failure["rpc_spans"]
    )


def failure_table(report: dict) -> Table:
    def field(render):
        return lambda d: render(d["failure"]) if d["failure"] else None

    rows = [
        ("step span status", field(lambda f: f["status"])),
        ("status description", field(lambda f: f["status_description"])),
        ("its RPC span(s)", field(_failed_calls)),
        ("exception type", field(lambda f: f["exception_type"])),
        ("exception message", field(lambda f: f["exception_message"])),
        ("Milvus error code", field(lambda f: f["milvus_error_code"])),
    ]
    return Table(
        "The deliberate failure",
        "Describing a missing collection: Milvus puts the error in the status field of a gRPC OK reply, "
        "so rpc.grpc.status_code is 0 and the error shows on the client's step span.",
        ["", *report["differences"]],
        [[title, *_by_approach(report, render)] for title, render in rows],
    )


def durations_table(report: dict) -> Table:
    methods = sorted({m for d in report["differences"].values() if d for m in d["durations_ms"]})

    def timing(method):
        def render(d):
            t = d["durations_ms"].get(method)
            if t is None:
                return None
            return f"{t['client']} / {_cell(t['server'])} / {_cell(t['overhead'])} (n={t['calls']})"

        return render

    return Table(
        "Client vs server span duration (median ms)",
        "client / linked Milvus server span / overhead per call (client-side work + network), "
        "medians over the method's calls; — where no server span is linked.",
        ["method", *report["differences"]],
        [[method, *_by_approach(report, timing(method))] for method in methods],
    )


def difference_tables(report: dict, scenario: dict) -> list[Table]:
    return [glance_table(report), steps_table(report, scenario), failure_table(report), durations_table(report)]


# --- Markdown -----------------------------------------------------------------------


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]


def _md_outcome(result: dict) -> str:
    if result["outcome"] == "failed":
        return f"**failed**: {result['reason']}"
    return result["outcome"]


def markdown(report: dict, scenario: dict) -> str:
    lines = ["# Conformance report", "", "## Matrix", "", "Columns are approaches, `<language>/<approach>`, grouped by language.", ""]
    lines += _md_table(["check", *report["approaches"]], [[check, *map(_md_outcome, results)] for check, results in matrix(report)])
    links = [f"[{approach}]({_trace_url(report, d['trace_id'])})" for approach, d in report["differences"].items() if d]
    lines += ["", "## Differences", "", f"Traces in Jaeger: {', '.join(links) or 'none'}."]
    for table in difference_tables(report, scenario):
        lines += ["", f"### {table.title}", "", table.note, ""] + _md_table(table.header, table.rows)
    return "\n".join(lines) + "\n"


def _trace_url(report: dict, trace_id: str) -> str:
    return f"{report['jaeger_api_url'].rstrip('/')}/api/traces/{trace_id}"


# --- HTML: the matrix, a waterfall per approach, the tables -------------------------

ROW_H = 15  # px per span row
AXIS_H = 22
LABEL_W = 440  # span names, indented by depth
BARS_W = 760  # the time axis, the same scale for every approach
INDENT = 12
MAX_TITLE_VALUE = 200

CSS = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 20px; }
th.language { text-align: center; background: #f3f3f3; }
th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; text-align: left; }
td { max-width: 300px; overflow-wrap: anywhere; }
td.passed { background: #e3f4e1; } td.failed { background: #fbe0df; } td.not-run { background: #eee; color: #777; }
td.failed small { display: block; color: #8a1c14; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; }
svg.waterfall { display: block; margin-bottom: 28px; }
svg text { font: 11px sans-serif; fill: #222; }
svg .axis line { stroke: #ddd; } svg .axis text { fill: #666; }
.svc-client, i.svc-client { fill: #4e79a7; background: #4e79a7; }
.svc-milvus, i.svc-milvus { fill: #f28e2b; background: #f28e2b; }
.svc-other, i.svc-other { fill: #9c9c9c; background: #9c9c9c; }
.error .bar { stroke: #c00; stroke-width: 2; } .error .band { fill: #fde4e4; } .band { fill: transparent; }
.error text.label { fill: #b00; font-weight: bold; }
g.span:hover .band { fill: #e8eef7; }
"""


@dataclass
class Row:
    span: Span
    depth: int
    folded: int  # Milvus-internal spans below this one, not drawn


def waterfall_rows(trace: Trace, scenario: dict, service: str) -> list[Row]:
    """The client's spans and the first Milvus level below them; deeper Milvus spans are folded."""
    root = root_span(trace, scenario)
    starts = [root] if root else [span for span in trace.roots if span.service == service]
    return [row for start in starts for row in _rows(start, 0, service)]


def _rows(span: Span, depth: int, service: str) -> list[Row]:
    if span.service != service:
        # Milvus's server span of a client call: what lies below is Milvus-internal (~300 spans a trace).
        return [Row(span, depth, sum(1 for _ in span.descendants()))]
    return [Row(span, depth, 0)] + [row for child in span.children for row in _rows(child, depth + 1, service)]


def _extent_us(rows: list[Row]) -> int:
    return max(row.span.end_us for row in rows) - min(row.span.start_us for row in rows) if rows else 0


def _tick_us(scale_us: int) -> int:
    """A round tick step giving at most ~10 ticks."""
    for step_ms in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000):
        if scale_us / (step_ms * 1000) <= 10:
            return step_ms * 1000
    return scale_us // 10 or 1


def _service_class(service: str, client: str, scenario: dict) -> str:
    if service == client:
        return "svc-client"
    return "svc-milvus" if service in scenario["server_services"] else "svc-other"


def _short(value) -> str:
    text = str(value).replace("\n", " ⏎ ")
    return text if len(text) <= MAX_TITLE_VALUE else text[: MAX_TITLE_VALUE - 1] + "…"


def _hover(row: Row, origin_us: int) -> str:
    span = row.span
    lines = [
        span.name,
        (
            f"service {span.service}, kind {span.kind}, at +{(span.start_us - origin_us) / 1000:.1f} ms, "
            f"lasting {span.duration_us / 1000:.2f} ms"
        ),
        *(f"{key} = {_short(value)}" for key, value in sorted(span.tags.items())),
        *(f"event: {_short(', '.join(f'{k}={v}' for k, v in event.items()))}" for event in span.events),
    ]
    if row.folded:
        lines.append(f"{row.folded} Milvus-internal spans below, not drawn: open the trace in Jaeger")
    return "\n".join(lines)


def _label(row: Row) -> str:
    label = ("✖ " if row.span.is_error else "") + row.span.name + (f" (+{row.folded})" if row.folded else "")
    room = int((LABEL_W - 8 - row.depth * INDENT) / 6)  # ~6 px per character at 11 px
    return label if len(label) <= room else label[: room - 1] + "…"


def _row_svg(index: int, row: Row, origin_us: int, scale_us: int, css_class: str) -> str:
    y = AXIS_H + index * ROW_H
    x = LABEL_W + (row.span.start_us - origin_us) * BARS_W / scale_us
    width = max(1.0, row.span.duration_us * BARS_W / scale_us)
    duration = f"{row.span.duration_us / 1000:.1f} ms"
    # The duration goes right of the bar, or left of it when the bar reaches the edge.
    after = x + width + 4 < LABEL_W + BARS_W - 50
    text_x, anchor = (x + width + 4, "start") if after else (x - 4, "end")
    classes = "span error" if row.span.is_error else "span"
    return (
        f'<g class="{classes}"><title>{html.escape(_hover(row, origin_us))}</title>'
        f'<rect class="band" x="0" y="{y}" width="{LABEL_W + BARS_W + 60}" height="{ROW_H}"/>'
        f'<text class="label" x="{4 + row.depth * INDENT}" y="{y + 11}">{html.escape(_label(row))}</text>'
        f'<rect class="bar {css_class}" x="{x:.1f}" y="{y + 2}" width="{width:.1f}" height="{ROW_H - 4}"/>'
        f'<text x="{text_x:.1f}" y="{y + 11}" text-anchor="{anchor}">{duration}</text></g>'
    )


def _axis_svg(height: int, scale_us: int) -> str:
    step = _tick_us(scale_us)
    ticks = []
    for at in range(0, scale_us + 1, step):
        x = LABEL_W + at * BARS_W / scale_us
        ticks.append(
            f'<line x1="{x:.1f}" y1="{AXIS_H - 4}" x2="{x:.1f}" y2="{height}"/>'
            f'<text x="{x:.1f}" y="{AXIS_H - 8}" text-anchor="middle">{at / 1e6:g} s</text>'
        )
    return '<g class="axis">' + "".join(ticks) + "</g>"


def waterfall_svg(run: Run, rows: list[Row], scenario: dict, scale_us: int) -> str:
    service = client_service(run, scenario)
    origin = min(row.span.start_us for row in rows)
    height = AXIS_H + len(rows) * ROW_H + 4
    width = LABEL_W + BARS_W + 60
    body = "".join(
        _row_svg(i, row, origin, scale_us, _service_class(row.span.service, service, scenario)) for i, row in enumerate(rows)
    )
    return (
        f'<svg class="waterfall" data-approach="{html.escape(run.approach_id)}" data-rows="{len(rows)}" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"{_axis_svg(height, scale_us)}{body}</svg>"
    )


def _html_head(header: list[str]) -> str:
    """Two header rows: each language over its approaches' columns, then the approaches."""
    first, ids = header[0], header[1:]
    groups: list[list] = []
    for approach in ids:
        language, _, name = approach.partition("/")
        if groups and groups[-1][0] == language:
            groups[-1][1].append(name)
        else:
            groups.append([language, [name]])
    top = f'<th rowspan="2">{html.escape(first)}</th>' + "".join(
        f'<th colspan="{len(names)}" class="language">{html.escape(language)}</th>' for language, names in groups
    )
    names = "".join(f"<th>{html.escape(name)}</th>" for _, group in groups for name in group)
    return f"<tr>{top}</tr><tr>{names}</tr>"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table>{_html_head(header)}{body}</table>"


def _html_outcome(result: dict) -> str:
    css = result["outcome"].replace(" ", "-")
    reason = html.escape(result["reason"])
    detail = f"<small>{reason}</small>" if result["outcome"] == "failed" else ""
    return f'<td class="{css}" title="{reason}">{html.escape(result["outcome"])}{detail}</td>'


def _html_matrix(report: dict) -> str:
    body = "".join(f"<tr><th>{check}</th>{''.join(map(_html_outcome, results))}</tr>" for check, results in matrix(report))
    return f'<table class="matrix">{_html_head(["check", *report["approaches"]])}{body}</table>'


def _why_no_trace(checks: dict) -> str:
    reasons = [c["reason"] for c in checks.values() if c["outcome"] != "passed"]
    return reasons[0] if reasons else "no trace"


def _html_approach(approach: str, run: Run | None, rows: list[Row], report: dict, scenario: dict, scale_us: int) -> str:
    anchor = approach.replace("/", "-")
    about = report["about"][approach]
    title = f'<h3 id="trace-{html.escape(anchor)}">{html.escape(approach)}</h3><p>{html.escape(about["description"])}</p>'
    if run is None or run.trace is None:
        return f"<section>{title}<p>No trace: {html.escape(_why_no_trace(report['approaches'][approach]))}</p></section>"
    url = html.escape(_trace_url(report, run.trace.trace_id))
    link = f'Trace <a href="{url}">{html.escape(run.trace.trace_id)}</a>'
    if not rows:
        return f"<section>{title}<p>{link} has no span of {html.escape(client_service(run, scenario))}.</p></section>"
    return (
        f'<section class="approach">{title}<p>{link}: {len(run.trace.spans)} spans, {len(rows)} drawn (the client\'s '
        "spans and the Milvus span answering each call; (+N) = Milvus-internal spans folded below it). "
        "Hover a span for its attributes.</p>"
        f"{waterfall_svg(run, rows, scenario, scale_us)}</section>"
    )


def _html_faults(faults: dict | None) -> str:
    """The last `nox -s faults` (reports/faults.json), when there is one."""
    if not faults:
        return ""
    def render(cell: dict | None) -> str:
        if cell is None:
            return '<td class="not-run">not run</td>'
        if cell["problems"]:
            return f'<td class="failed">{figures(cell)}<small>{html.escape("; ".join(cell["problems"]))}</small></td>'
        return f'<td class="passed" title="{html.escape(cell.get("first_new_stderr_line") or "")}">{figures(cell)}</td>'

    rows = [
        f"<tr><th>{html.escape(approach)}</th><td>{normal_s:.1f} s</td>{''.join(cells)}</tr>"
        for approach, normal_s, cells in fault_rows(faults, render)
    ]
    names = list(faults["faults"])
    head = "".join(f'<th title="{html.escape(faults["faults"][n]["expect"])}">{html.escape(n)}</th>' for n in names)
    return (
        f"<h2>When things go wrong</h2><p>The last <code>nox -s faults</code> ({html.escape(faults['generated_at'])}): "
        "exit status and wall time per fault; hover a fault for its bound, a cell for the line the client printed.</p>"
        f'<table class="faults"><tr><th>approach</th><th>normal</th>{head}</tr>{"".join(rows)}</table>'
    )


def html_page(report: dict, runs: dict[str, Run | None], scenario: dict, faults: dict | None = None) -> str:
    rows = {
        approach: waterfall_rows(run.trace, scenario, client_service(run, scenario))
        for approach, run in runs.items()
        if run is not None and run.trace is not None
    }
    scale_us = max(map(_extent_us, rows.values()), default=0) or 1
    legend = (
        '<p class="legend"><span><i class="svc-client"></i>milvus-client-&lt;language&gt;-&lt;approach&gt;</span>'
        f'<span><i class="svc-milvus"></i>{html.escape(", ".join(scenario["server_services"]))} (Milvus)</span>'
        '<span><i class="svc-other"></i>other service</span><span>✖ error status</span></p>'
    )
    tables = "".join(
        f"<h3>{html.escape(t.title)}</h3><p>{html.escape(t.note)}</p>{_html_table(t.header, t.rows)}"
        for t in difference_tables(report, scenario)
    )
    waterfalls = "".join(
        _html_approach(approach, runs.get(approach), rows.get(approach, []), report, scenario, scale_us)
        for approach in report["approaches"]
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Milvus + OpenTelemetry conformance</title>'
        f"<style>{CSS}</style></head><body><h1>Milvus + OpenTelemetry conformance</h1>"
        f"<h2>Matrix</h2>{_html_matrix(report)}"
        f"<h2>Traces</h2><p>One time axis for all approaches, from each client's root span.</p>{legend}{waterfalls}"
        f"<h2>Differences</h2>{tables}{_html_faults(faults)}</body></html>\n"
    )


def write(
    directory: Path, results: dict, runs: dict[str, Run | None], approaches: list[Approach], scenario: dict, jaeger_url: str
) -> list[Path]:
    """Writes conformance.json, .md and .html; returns their paths."""
    report = build(results, runs, approaches, scenario, jaeger_url)
    faults_file = directory / "faults.json"
    faults = json.loads(faults_file.read_text()) if faults_file.exists() else None
    outputs = {
        "conformance.json": json.dumps(report, indent=2) + "\n",
        "conformance.md": markdown(report, scenario),
        "conformance.html": html_page(report, runs, scenario, faults),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in outputs.items():
        (directory / name).write_text(text)
    return [directory / name for name in outputs]
