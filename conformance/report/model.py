"""The report's data: the check matrix as the suite recorded it and what differs between
the approaches' traces, as one JSON-ready dict (reports/conformance.json). Built on the
checks' own span lookups (checks.Subject). Pure: unit-tested on the recorded traces."""

from __future__ import annotations

import re
import statistics
from collections import Counter

from conformance import hops
from conformance.approaches import Approach
from conformance.checks import Subject
from conformance.runs import Run
from conformance.semconv import classify
from conformance.semconv.classify import JAEGER_FIELDS, naming_scheme
from conformance.spans import Span, server_child, traceparent_flags

# pymilvus says "(code=100, ...)", milvus-sdk-java "ServerCode: 100"; Go and Node clients give no code.
MILVUS_ERROR_CODE = re.compile(r"\b(?:ServerCode|code)\s*[=:]\s*(\d+)")


def naming(spans: list[Span]) -> dict:
    schemes = Counter(naming_scheme(span) for span in spans)
    first = min(spans, key=lambda span: span.start_us, default=None)
    return {"schemes": [scheme for scheme, _ in schemes.most_common()], "example": first.name if first else None}


def attributes(spans: list[Span]) -> dict:
    keys = sorted({key for span in spans for key in span.tags} - JAEGER_FIELDS)
    # Keys only some spans have, e.g. error details on failed calls.
    return {"keys": keys, "on_some_spans": [key for key in keys if not all(key in span.tags for span in spans)]}


def semconv(subject: Subject, rpc_spans: list[Span]) -> dict:
    """The client's RPC spans and Milvus's SERVER spans answering its calls, against the pinned conventions."""
    servers = [server for call in subject.contract_client_spans() if (server := server_child(subject.scenario, call))]
    return {"client": classify.classify(rpc_spans, "client"), "server": classify.classify(servers, "server")}


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


def rpc_spans_below(span: Span, rpc_spans: list[Span]) -> list[Span]:
    """The client's RPC spans below a span, in call order."""
    ids = {s.span_id for s in rpc_spans}
    return [s for s in span.descendants() if s.span_id in ids]


def spans_per_step(subject: Subject, rpc_spans: list[Span]) -> dict[str, dict[str, int]]:
    """rpc.method -> count of the client's RPC spans below each step span, in call order."""
    steps = subject.steps
    return {
        step["name"]: dict(Counter(s.rpc_call()[1] for s in rpc_spans_below(steps[step["name"]], rpc_spans)))
        for step in subject.scenario["steps"]
        if step["name"] in steps
    }


def milvus_error_code(texts: list[str | None]) -> int | None:
    for text in texts:
        found = MILVUS_ERROR_CODE.search(text or "")
        if found:
            return int(found.group(1))
    return None


def failure(subject: Subject, rpc_spans: list[Span]) -> dict | None:
    """How the client shows the deliberate failure (describing a missing collection)."""
    step = subject.failing_step()
    span = subject.steps.get(step["name"])
    if span is None:
        return None
    exception = span.exception or {}
    stacktrace = exception.get("exception.stacktrace") or ""
    return {
        "step": step["name"],
        "status": span.tags.get("otel.status_code", "UNSET"),
        "status_description": span.tags.get("otel.status_description"),
        "rpc_spans": [_failed_call(call, subject.scenario) for call in rpc_spans_below(span, rpc_spans)],
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
        "status_code": classify.status_code(call),
        "server_status_code": classify.status_code(server) if server else None,
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


def _median_of(values) -> float | None:
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 2) if present else None


def inside_milvus(subject: Subject) -> dict[str, dict]:
    """Per step that a query node serves (hops.py): medians of the time in the serving process,
    in the hop to the query node(s) and in the query node(s), and which services those were."""
    every = hops.hops(subject.trace, subject.scenario)
    result = {}
    for step in hops.STEPS:
        found = [hop for hop in every if hop.step == step]
        splits = [hop.split_ms() for hop in found]
        if found:
            result[step] = {
                "calls": len(found),
                **{part: _median_of(split[part] for split in splits) for part in ("proxy", "hop", "querynode")},
                "serving": sorted({hop.server.service for hop in found}),
                "query_nodes": sorted({span.service for hop in found for span in hop.query_node_spans()}),
            }
    return result


def differences(run: Run | None, scenario: dict) -> dict | None:
    if run is None or run.trace is None:
        return None
    subject = Subject(run, scenario)
    own = subject.own_spans()
    rpc_spans = subject.client_rpc_spans()
    rpc_ids = {span.span_id for span in rpc_spans}
    return {
        "trace_id": run.trace.trace_id,
        "rpc_span_naming": naming(rpc_spans),
        "rpc_span_attributes": attributes(rpc_spans),
        "semconv": semconv(subject, rpc_spans),
        "scopes": {"rpc_client_spans": scopes(rpc_spans), "other_spans": scopes([s for s in own if s.span_id not in rpc_ids])},
        "sdk": sdk(own),
        "traceparent": traceparent(run.record),
        "spans_per_step": spans_per_step(subject, rpc_spans),
        "failure": failure(subject, rpc_spans),
        "durations_ms": durations(rpc_spans, scenario),
        "inside_milvus_ms": inside_milvus(subject),
    }


def about(approach: Approach) -> dict:
    return {
        "language": approach.language,
        "approach": approach.name,
        "description": approach.description,
        "link_fix": approach.link_fix,
        "token_leak": approach.token_leak,
        "semconv_opt_in": approach.env.get(classify.OPT_IN),
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
        "semconv_release": classify.load()["release"],
        "differences": {approach_id: differences(runs.get(approach_id), scenario) for approach_id in ids},
    }
