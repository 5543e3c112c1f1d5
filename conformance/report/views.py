"""The report's tables, from its JSON (model.py): the matrix and what differs between the
approaches, the same in the Markdown and the HTML. Pure."""

from __future__ import annotations

from collections import Counter

from conformance.checks import CHECKS
from conformance.report.dashboard import attributes_table, dashboard_table
from conformance.tables import Table


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


def _conventions(semconv: dict) -> str:
    client = semconv["client"]
    classes = Counter(a["class"] for a in client["attributes"].values())
    return f"{client['generation']} generation; " + ", ".join(f"{n} {name}" for name, n in sorted(classes.items())) if classes else "no attributes"


def _missing(missing: dict) -> str:
    return " / ".join(", ".join(names) or "none" for names in (missing["required"], missing["recommended"]))


def glance_table(report: dict) -> Table:
    rows = [
        ("trace id", lambda d: d["trace_id"]),
        ("RPC span name", lambda d: " | ".join(d["rpc_span_naming"]["schemes"]) + f", e.g. {d['rpc_span_naming']['example']}"),
        ("RPC span attributes", lambda d: ", ".join(d["rpc_span_attributes"]["keys"])),
        ("only on some RPC spans", lambda d: ", ".join(d["rpc_span_attributes"]["on_some_spans"])),
        ("semantic conventions (RPC span attributes)", lambda d: _conventions(d["semconv"])),
        ("required / recommended attributes missing", lambda d: _missing(d["semconv"]["client"]["missing"])),
        ("span kind (the rule's: client)", lambda d: ", ".join(d["semconv"]["client"]["span_kind"]["seen"])),
        ("scope of the RPC spans", lambda d: _scopes(d["scopes"]["rpc_client_spans"])),
        ("scope of the other spans", lambda d: _scopes(d["scopes"]["other_spans"])),
        ("SDK (telemetry.* resource)", lambda d: ", ".join(f"{k}={v}" for k, v in d["sdk"].items())),
        ("traceparent flags sent", lambda d: _flags(d["traceparent"])),
    ]
    return Table(
        "At a glance",
        ["", *report["differences"]],
        [link_fix_row(report), token_leak_row(report)] + [[title, *_by_approach(report, render)] for title, render in rows],
        note=f"The client's own gRPC CLIENT spans; attributes classified against semantic conventions "
        f"{report['semconv_release']} (see the dashboard table).",
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
        ["step", *report["differences"]],
        [[step["name"], *_by_approach(report, calls(step["name"]))] for step in scenario["steps"]],
        note="rpc.method × count of the client's RPC spans below each step span, in call order.",
    )


def _failed_calls(failure: dict) -> str:
    return "; ".join(
        f"{c['method']}: status {c['status']}, {_cell(c['status_code'])} (server {_cell(c['server_status_code'])})"
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
        ["", *report["differences"]],
        [[title, *_by_approach(report, render)] for title, render in rows],
        note="Describing a missing collection: Milvus puts the error in the status field of a gRPC OK reply, "
        "so the gRPC status code is 0 (OK) and the error shows on the client's step span.",
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
        ["method", *report["differences"]],
        [[method, *_by_approach(report, timing(method))] for method in methods],
        note="client / linked Milvus server span / overhead per call (client-side work + network), "
        "medians over the method's calls; — where no server span is linked.",
    )


def inside_milvus_table(report: dict) -> Table:
    steps = sorted({step for d in report["differences"].values() if d for step in d.get("inside_milvus_ms", {})})

    def split(step):
        def render(d):
            t = d.get("inside_milvus_ms", {}).get(step)
            if t is None:
                return None
            where = f"{'/'.join(t['serving'])} → {'/'.join(t['query_nodes'])}" if t["query_nodes"] else f"{'/'.join(t['serving'])}, one process"
            return f"{t['proxy']} / {_cell(t['hop'])} / {_cell(t['querynode'])} (n={t['calls']}; {where})"

        return render

    return Table(
        "Inside Milvus: serving process vs query node (median ms)",
        ["call", *report["differences"]],
        [[step, *_by_approach(report, split(step))] for step in steps],
        note="From the spans, per call: the serving process's SERVER span minus its calls to the query node(s) / "
        "those calls minus the query node's own SERVER span (the hop: gRPC, network, queueing) / the query node's "
        "SERVER span(s). A distributed Milvus shows proxy → querynode; the standalone is one process, both sides of the hop in it.",
    )


def difference_tables(report: dict, scenario: dict) -> list[Table]:
    return [
        dashboard_table(report),
        attributes_table(report),
        glance_table(report),
        steps_table(report, scenario),
        failure_table(report),
        durations_table(report),
        inside_milvus_table(report),
    ]


def trace_url(report: dict, trace_id: str) -> str:
    return f"{report['jaeger_api_url'].rstrip('/')}/api/traces/{trace_id}"
