"""Tail sampling in the collector: the stack's second Jaeger pipeline (STACK_TAIL_SAMPLING,
stack/jaeger/tail-sampling.yaml) keeps a trace only if it holds an error or lasts long,
decided `decision_wait` after the trace's first span arrived. Milvus exports its spans
seconds after the client: does what the pipeline keeps still hold Milvus's half?

whole() is the verdict, pure; trial() runs one client through a pipeline of a given wait."""

from __future__ import annotations

import time
from pathlib import Path

from conformance.approaches import Approach
from conformance.jaeger import Jaeger, load_run
from conformance.sampling.cases import TRACE_WAIT_S, client_run
from conformance.sampling.watch import ExportWatch, arrivals
from conformance.spans import CLIENT, Trace, root_span, server_child
from conformance.stack_settings import stack_with
from stack.addresses import tail_api_url

SETTLE_S = 3.0  # after the decision is due: the processor decides on a 1 s tick, then stores
# The client exports every 100 ms (its SDK's standard setting, in ms in every SDK), as a
# long-running service's spans arrive all along: a trace's first spans then reach the
# collector seconds before its failing step's. With the default 5 s, a short run's spans
# could arrive in one batch with the error, and a 1 s wait could see it or not, by chance.
PROMPT_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "100"}


def whole(trace: Trace | None, scenario: dict) -> str | None:
    """None when the kept trace is whole (its root, and a Milvus SERVER span under every call
    of the contract's steps); else one line naming what is missing."""
    if trace is None:
        return "not kept: the pipeline holds no span of the trace"
    if root_span(trace, scenario) is None:
        return "kept without the client's root span"
    step_rpcs = {rpc for step in scenario["steps"] for rpc in step["rpcs"]}
    calls = [s for s in trace.spans if s.kind == CLIENT and s.rpc_method(scenario["rpc_service"]) in step_rpcs]
    orphans = [s for s in calls if server_child(scenario, s) is None]
    if not orphans:
        return None
    named = sorted({s.rpc_method(scenario["rpc_service"]) for s in orphans})
    return (
        f"kept without Milvus's server half: {len(orphans)} of {len(calls)} calls have no "
        f"{'/'.join(scenario['server_services'])} SERVER span ({', '.join(named)})"
    )


def trial(approach: Approach, wait_s: float, record: Path, jaeger: Jaeger, scenario: dict) -> dict:
    """One traced run with the tail pipeline at decision_wait=wait_s: the main pipeline's trace
    (everything) against the tail pipeline's (what it kept)."""
    with stack_with(STACK_TAIL_SAMPLING=f"{wait_s:g}"):
        services = [*scenario["server_services"], approach.service_name(scenario)]
        with ExportWatch(jaeger.base_url, services) as watch:
            result = client_run(approach, record, "tail", PROMPT_EXPORT)
            main = load_run(jaeger, {"trace_id": result["trace_id"]}, scenario, TRACE_WAIT_S).trace
        time.sleep(max(0.0, result["window_us"][1] / 1e6 + wait_s + SETTLE_S - time.time()))
        kept = Jaeger(tail_api_url()).trace(result["trace_id"]) if result["trace_id"] else None
        main = (jaeger.trace(result["trace_id"]) or main) if result["trace_id"] else main  # as late as the kept one
    result.update(
        decision_wait_s=wait_s,
        main=whole(main, scenario) or "whole",
        tail=whole(kept, scenario) or "whole",
        tail_spans=len(kept.spans) if kept else 0,
        main_spans=len(main.spans) if main else 0,
        arrivals=arrivals(main, watch.first_seen, scenario) if main else {},
    )
    return result
