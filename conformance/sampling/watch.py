"""Milvus's export delay: how long after a client span ends its Milvus child can be read
from Jaeger. A thread polls Jaeger's search for the Milvus service while a client runs and
after, noting when each span is first seen; the delay is that moment minus the client
span's end (one clock: this machine's). Polling every POLL_S bounds the error."""

from __future__ import annotations

import statistics
import threading
import time

import requests

from conformance.spans import CLIENT, Trace, server_child

POLL_S = 0.25
WINDOW_S = 60  # spans that started this long ago or less: a Milvus span is exported within seconds


class ExportWatch:
    """A context around client runs and the wait for their traces; first_seen maps (trace
    id, span id) to the epoch second the span was first readable. It asks only for spans
    started in the last WINDOW_S, so that each poll stays small however long it runs."""

    def __init__(self, api_url: str, services: list[str]):
        self.api_url, self.services = api_url.rstrip("/"), services
        self.start_s = time.time()
        self.first_seen: dict[tuple[str, str], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ExportWatch:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _poll(self) -> None:
        while not self._stop.is_set():
            for service in self.services:
                start_s = max(self.start_s, time.time() - WINDOW_S)
                params = {"service": service, "start": int(start_s * 1e6), "end": int((time.time() + 60) * 1e6), "limit": 500}
                try:
                    payload = requests.get(f"{self.api_url}/api/traces", params=params, timeout=5).json()
                except (requests.RequestException, ValueError):
                    payload = {}
                now = time.time()
                for trace in payload.get("data") or []:
                    for span in trace.get("spans", []):
                        self.first_seen.setdefault((span["traceID"], span["spanID"]), now)
            self._stop.wait(POLL_S)


def export_delays(trace: Trace, first_seen: dict[tuple[str, str], float], scenario: dict) -> list[float]:
    """Seconds from each client RPC span's end to its Milvus child's first sighting."""
    delays = []
    for client in (span for span in trace.spans if span.kind == CLIENT):
        child = server_child(scenario, client)
        seen = child and first_seen.get((trace.trace_id, child.span_id))
        if seen:
            delays.append(round(seen - client.end_us / 1e6, 3))
    return delays


def summary(delays: list[float]) -> dict | None:
    """p50, p95 and max in seconds, and how many delays they are from."""
    if not delays:
        return None
    ordered = sorted(delays)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(ordered), "p50_s": round(statistics.median(ordered), 2), "p95_s": round(p95, 2), "max_s": round(ordered[-1], 2)}


def arrivals(trace: Trace, first_seen: dict[tuple[str, str], float], scenario: dict) -> dict:
    """When the trace's spans became readable, in seconds after its first one: its first
    error span (what the error policy needs before deciding), Milvus's last span and the
    last of all."""
    seen = {span.span_id: first_seen[key] for span in trace.spans if (key := (trace.trace_id, span.span_id)) in first_seen}
    if not seen:
        return {}
    first = min(seen.values())

    def after(spans, pick) -> float | None:
        times = [seen[s.span_id] for s in spans if s.span_id in seen]
        return round(pick(times) - first, 2) if times else None

    milvus = [s for s in trace.spans if s.service in scenario["server_services"]]
    return {
        "first_error_after_s": after((s for s in trace.spans if s.is_error), min),
        "milvus_last_after_s": after(milvus, max),
        "last_after_s": after(trace.spans, max),
    }
