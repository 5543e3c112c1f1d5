"""Reads client runs back from Jaeger's HTTP query API."""

from __future__ import annotations

import json
import time

import requests

from conformance import hops
from conformance.runs import Run
from conformance.spans import SERVER, Span, Trace, root_span, server_child, traces_from_jaeger
from stack.addresses import jaeger_api_url  # the variable and its default, shared with the stack

REQUEST_TIMEOUT_S = 10


class JaegerUnreachable(Exception):
    pass


class Jaeger:
    def __init__(self, base_url: str | None = None):
        self.base_url = (base_url or jaeger_api_url()).rstrip("/")

    def _get(self, path: str, **params) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            return requests.get(url, params=params, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as error:
            raise JaegerUnreachable(
                f"Jaeger's query API at JAEGER_API_URL={self.base_url} is not reachable ({type(error).__name__}); "
                "start the stack with `nox -s up`, or point JAEGER_API_URL at your Jaeger's query API"
            ) from None

    def check_reachable(self) -> None:
        response = self._get("/api/services")
        if response.status_code != 200:
            raise JaegerUnreachable(
                f"JAEGER_API_URL={self.base_url}: /api/services answered HTTP {response.status_code}, not Jaeger's query API"
            )

    def trace(self, trace_id: str) -> Trace | None:
        response = self._get(f"/api/traces/{trace_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        found = traces_from_jaeger(response.json())
        return found[0] if found else None

    def server_roots(self, services: list[str], rpc_service: str, start_us: int, end_us: int) -> list[Span]:
        """Root spans that the Milvus services recorded for rpc_service calls in a time window."""
        roots = []
        for service in services:  # the query API takes one service at a time
            response = self._get(
                "/api/traces",
                service=service,
                start=start_us,
                end=end_us,
                limit=2000,
                tags=json.dumps({"rpc.service": rpc_service}),
            )
            response.raise_for_status()
            roots += [
                root
                for trace in traces_from_jaeger(response.json())
                for root in trace.roots
                if root.kind == SERVER and root.service == service
            ]
        return roots


def complete(trace: Trace | None, scenario: dict) -> bool:
    """Root span present, every client RPC span answered by a server span, and Search and
    Query reaching the query node (hops.py: its SERVER span, or the standalone's engine spans).

    Milvus exports in batches, seconds after the client, each of its processes on its own
    schedule: until then their spans are missing."""
    if trace is None or root_span(trace, scenario) is None:
        return False
    step_rpcs = {rpc for step in scenario["steps"] for rpc in step["rpcs"]}
    clients = [s for s in trace.spans if s.kind == "client" and s.rpc_method(scenario["rpc_service"]) in step_rpcs]
    return (
        bool(clients)
        and all(server_child(scenario, client) is not None for client in clients)
        and all(hops.problem(hop, scenario) is None for hop in hops.hops(trace, scenario))
    )


def load_run(jaeger: Jaeger, record: dict, scenario: dict, wait_s: float = 60.0) -> Run:
    """Fetch a run's trace, polling until it is complete or wait_s has passed."""
    started = time.monotonic()
    trace = jaeger.trace(record["trace_id"]) if record.get("trace_id") else None
    while not complete(trace, scenario) and time.monotonic() - started < wait_s and record.get("trace_id"):
        time.sleep(1.0)
        trace = jaeger.trace(record["trace_id"])
    run = Run(record=record, trace=trace, waited_s=time.monotonic() - started)
    if trace is not None and not complete(trace, scenario):
        start_us = min(s.start_us for s in trace.spans)
        end_us = max(s.end_us for s in trace.spans) + 1_000_000
        run.server_roots = jaeger.server_roots(scenario["server_services"], scenario["rpc_service"], start_us, end_us)
    return run
