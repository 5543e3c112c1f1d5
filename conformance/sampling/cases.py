"""One approach's client runs under each sampling case, and what Milvus did with each:
its spans in Jaeger under the client's trace id, its own root traces while the client ran
(where its spans go when it does not take the client's parent), and its log lines.

    unsampled   the client samples nothing (e.g. always_off): flags 00, Milvus should record nothing
    ratio       parentbased_traceidratio=<r>: Milvus's spans exist iff the client sampled
    no_parent   the approach's untraced switch: no traceparent; Milvus samples at trace.sampleFraction
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from conformance.approaches import Approach
from conformance.jaeger import Jaeger, load_run
from conformance.milvus_log import LogUnavailable, calls_logged, lines_of
from conformance.runner import launch, run
from conformance.sampling.report import LOGGED_CALLS
from conformance.sampling.settings import Sampler
from conformance.sampling.watch import arrivals, export_delays
from conformance.spans import traceparent_flags

CLIENT_TIMEOUT_S = 180
TRACE_WAIT_S = 30  # a sampled run's trace: until Milvus's spans are all in (load_run's polling)


def client_run(approach: Approach, record: Path, case: str, env: dict, untraced: bool = False) -> dict:
    """One run: its exit, what its record says it sent, and its time window (epoch µs)."""
    started_us = int(time.time() * 1e6)
    outcome = run(launch(approach, record, untraced=untraced, env=env), CLIENT_TIMEOUT_S)
    record_ = outcome.record or {}
    traceparent = record_.get("traceparent")
    return {
        "case": case,
        "exit_status": outcome.exit_status,
        "error": record_.get("error") or ("; ".join(outcome.stderr[-1:]) if outcome.exit_status else None),
        "trace_id": record_.get("trace_id"),
        "traceparent": traceparent,
        "flags": traceparent_flags(traceparent),
        "window_us": [started_us, int(time.time() * 1e6)],
    }


def sampled_run(approach: Approach, record: Path, case: str, sampler: Sampler) -> dict:
    result = client_run(approach, record, case, sampler.env())
    result["sampler"] = str(sampler)
    return result


def arrival_times(result: dict, jaeger: Jaeger, scenario: dict, first_seen: dict[tuple[str, str], float]) -> None:
    """For a run the client sampled: its trace, once whole (or after TRACE_WAIT_S), against
    when ExportWatch first saw each span: Milvus's export delays and the trace's arrivals."""
    if result["flags"] != "01":
        return
    loaded = load_run(jaeger, {"trace_id": result["trace_id"]}, scenario, TRACE_WAIT_S)
    if loaded.trace:
        result["export_delays_s"] = export_delays(loaded.trace, first_seen, scenario)
        result["arrivals"] = arrivals(loaded.trace, first_seen, scenario)


def milvus_recorded(result: dict, jaeger: Jaeger, scenario: dict) -> None:
    """What Milvus recorded for the run: spans under its trace id, and root traces of its own
    for MilvusService calls in the run's window. Call it once the export delay has passed."""
    trace = jaeger.trace(result["trace_id"]) if result.get("trace_id") and set(result["trace_id"]) != {"0"} else None
    services = scenario["server_services"]
    result["milvus_spans"] = sum(1 for span in trace.spans if span.service in services) if trace else 0
    result["client_spans"] = sum(1 for span in trace.spans if span.service not in services) if trace else 0
    roots = jaeger.server_roots(services, scenario["rpc_service"], *result["window_us"])
    result["milvus_roots"] = dict(Counter(root.rpc_method(scenario["rpc_service"]) or root.name for root in roots))


def log_lines(results: list[dict]) -> str | None:
    """Each run's Milvus log lines (count, per logged call, one example); the reason when the
    backend's log cannot be read."""
    ids = [r["trace_id"] for r in results if r.get("trace_id") and set(r["trace_id"]) != {"0"}]
    try:
        found = lines_of(ids)
    except LogUnavailable as error:
        return str(error)
    for result in results:
        lines = found.get(result.get("trace_id") or "", [])
        result["log_lines"] = len(lines)
        result["log_calls"] = calls_logged(lines, LOGGED_CALLS)
        result["log_example"] = next((line for line in lines if "proxy/" in line), lines[0] if lines else None)
    return None
