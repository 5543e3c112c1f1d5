"""What the bench asks Jaeger: how soon a traced run's trace is returned, and whether an
untraced client really sent nothing (no span, no traceparent to Milvus)."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from conformance.bench.clients import Client
from conformance.jaeger import Jaeger, complete
from conformance.spans import SERVER, traces_from_jaeger
from stack.addresses import jaeger_api_url

ROOT_VISIBLE_TIMEOUT_S = 30
COMPLETE_TIMEOUT_S = 120
UNTRACED_CHECK_TIMEOUT_S = 90
SERVER_SEARCH_OPERATION = "milvus.proto.milvus.MilvusService/Search"


def raw_traces(**params) -> list:
    response = requests.get(f"{jaeger_api_url()}/api/traces", params=params, timeout=30)
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return traces_from_jaeger(response.json())


def measure_visibility(jaeger: Jaeger, client: Client, exited_at: float, scenario: dict, say: Callable[[str], None]) -> dict:
    """Seconds from the client's exit until Jaeger returns (a) the root span, (b) the
    complete trace: every contract RPC client span with its Milvus SERVER child."""
    trace_id = (client.record or {}).get("trace_id")
    result = {"trace_id": trace_id, "root_s": None, "complete_s": None, "polls": 0}
    if not client.ok or not trace_id:
        result["error"] = client.failure() if not client.ok else "no trace id in the run record"
        return result
    deadline = exited_at + ROOT_VISIBLE_TIMEOUT_S
    while time.monotonic() < deadline:
        trace = jaeger.trace(trace_id)
        result["polls"] += 1
        if trace is not None and any(span.name == scenario["root_span"] for span in trace.roots):
            result["root_s"] = round(time.monotonic() - exited_at, 3)
            break
        time.sleep(0.02)
    else:
        result["error"] = f"root span not returned within {ROOT_VISIBLE_TIMEOUT_S} s"
        return result
    deadline = exited_at + COMPLETE_TIMEOUT_S
    next_note = time.monotonic() + 10
    while time.monotonic() < deadline:
        if complete(trace, scenario):
            result["complete_s"] = round(time.monotonic() - exited_at, 3)
            return result
        if time.monotonic() >= next_note:
            say(f"  ... waiting for Milvus's spans of trace {trace_id}: {time.monotonic() - exited_at:.0f} s")
            next_note += 10
        time.sleep(0.2)
        trace = jaeger.trace(trace_id)
    result["error"] = f"Milvus's server spans incomplete after {COMPLETE_TIMEOUT_S} s"
    return result


def server_search_spans(server_service: str, windows: list[tuple[int, int]]) -> tuple[int, int]:
    """(Milvus Search SERVER spans that started in the windows (µs), how many of them have a parent)."""
    seen = linked = 0
    for start_us, end_us in windows:
        traces = raw_traces(service=server_service, operation=SERVER_SEARCH_OPERATION, start=start_us, end=end_us, limit=20)
        for span in (span for trace in traces for span in trace.spans):
            if span.kind == SERVER and span.name == SERVER_SEARCH_OPERATION and start_us <= span.start_us <= end_us:
                seen += 1
                linked += span.parent_id is not None
    return seen, linked


def check_untraced(service: str, server_service: str, start_us: int, end_us: int, windows: list[tuple[int, int]]) -> dict:
    """An untraced client is really untraced: Milvus's Search spans that started while only it
    ran (its blocks: every other client was paused) have no parent, and its own service
    name (the bench gives each client one) sent no span at all.

    Every block is looked at: at the hot path's rate (hundreds of calls a second) Milvus
    2.3.5's own exporter drops most of its spans, so some blocks have none in Jaeger.
    Another client of the shared Milvus (another session) calling Search traced during
    those blocks would fail the check."""
    if not windows:
        return {"passed": False, "error": "no measured block to check"}
    deadline = time.monotonic() + UNTRACED_CHECK_TIMEOUT_S
    seen, linked = server_search_spans(server_service, windows)
    while seen == 0 and time.monotonic() < deadline:  # Milvus exports in batches, seconds late
        time.sleep(0.5)
        seen, linked = server_search_spans(server_service, windows)
    # After Milvus's spans arrived, the client's would be there by now.
    client_spans = sum(len(trace.spans) for trace in raw_traces(service=service, start=start_us, end=end_us, limit=100))
    return {
        "client_spans": client_spans,
        "server_search_spans": seen,
        "server_search_spans_with_parent": linked,
        "blocks_checked": len(windows),
        "passed": client_spans == 0 and seen > 0 and linked == 0,
    }


def verify_untraced(report: dict, server_service: str) -> list[str]:
    """Every untraced client of the report sent no span and no traceparent (check_untraced),
    its pending checks replaced by their results; the failures."""
    failures = []
    for approach, result in report["approaches"].items():
        for name, pending in (result.get("untraced_checks") or {}).items():
            check = check_untraced(pending["service"], server_service, *pending["span_us"], pending["windows"])
            result["untraced_checks"][name] = check
            if not check["passed"]:
                failures.append(f"{approach} {name}: not proven untraced: {check}")
    return failures
