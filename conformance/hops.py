"""Inside Milvus, for the calls a query node serves (Search, Query): the serving process's
SERVER span (the proxy's, or the standalone's), its gRPC calls to a query node, and the
query node's SERVER span below each; where the time goes between them. Pure logic on the
trace, shared by the reaches_query_node check and the report."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.spans import CLIENT, SERVER, Span, Trace, server_child, step_spans

QUERY_NODE_RPC_SERVICE = "milvus.proto.query.QueryNode"
ENGINE_SERVICE = "segcore"  # Milvus's C++ search engine, whose spans a query node records under this service
STEPS = ("search", "query")  # the scenario's steps that Milvus executes on query nodes


@dataclass(frozen=True)
class Hop:
    """One client call's way into the query node(s)."""

    step: str
    server: Span  # the serving process's SERVER span of the client's call
    calls: tuple[tuple[Span, Span | None], ...]  # (its QueryNode CLIENT span, the query node's SERVER span or None)

    def query_node_spans(self) -> list[Span]:
        return [served for _, served in self.calls if served is not None]

    def split_ms(self) -> dict[str, float | None]:
        """serving process, hop (the calls minus the query nodes' own time) and query node(s),
        in ms; concurrent calls (one per shard) count once (their union). Without a query
        node's SERVER span (the standalone: one process, no call) all of it is the serving process's."""
        if not self.query_node_spans():
            return {"proxy": self.server.duration_us / 1000, "hop": None, "querynode": None}
        calls = covered_us([client for client, _ in self.calls])
        nodes = covered_us(self.query_node_spans())
        return {"proxy": (self.server.duration_us - calls) / 1000, "hop": (calls - nodes) / 1000, "querynode": nodes / 1000}


def covered_us(spans: list[Span]) -> int:
    """The time the spans cover together, overlaps once."""
    total, reach = 0, None
    for span in sorted(spans, key=lambda s: s.start_us):
        start = span.start_us if reach is None else max(span.start_us, reach)
        if span.end_us > start:
            total += span.end_us - start
        reach = span.end_us if reach is None else max(reach, span.end_us)
    return total


def query_node_calls(server: Span) -> tuple[tuple[Span, Span | None], ...]:
    """The serving process's QueryNode client spans below `server`, each with its SERVER child."""
    calls = []
    for span in server.descendants():
        call = span.rpc_call()
        if span.kind == CLIENT and call and call[0] == QUERY_NODE_RPC_SERVICE:
            served = next((c for c in span.children if c.kind == SERVER and c.rpc_call() == call), None)
            calls.append((span, served))
    return tuple(calls)


def hops(trace: Trace, scenario: dict) -> list[Hop]:
    """Every linked Search / Query call of a run: the client's RPC spans below those steps' spans."""
    steps = step_spans(trace, scenario)
    found = []
    for step in (step for step in scenario["steps"] if step["name"] in STEPS and step["name"] in steps):
        for client in steps[step["name"]].descendants():
            if client.kind == CLIENT and client.rpc_method(scenario["rpc_service"]) in step["rpcs"]:
                if server := server_child(scenario, client):
                    found.append(Hop(step["name"], server, query_node_calls(server)))
    return found


def distributed(scenario: dict) -> bool:
    """The clients are served by another service than the single-process standalone's."""
    return scenario["server_service"] not in scenario["server_services"]


def problem(hop: Hop, scenario: dict) -> str | None:
    """Why this call does not reach a query node: one of another process when Milvus is
    distributed; in the standalone, whose proxy calls its query node in-process (no gRPC,
    no span of the call), the query node's engine spans (segcore) below the server span."""
    where = f"{hop.step}: {hop.server.label()}"
    if not distributed(scenario):
        if any(span.service == ENGINE_SERVICE for span in hop.server.descendants()):
            return None
        return f"{where} has no {ENGINE_SERVICE} span below it: the query node's search engine recorded nothing of this call"
    if not hop.calls:
        return f"{where} made no {QUERY_NODE_RPC_SERVICE} call below it (did Milvus's tracing stop inside the proxy?)"
    unserved = [client.rpc_call()[1] for client, served in hop.calls if served is None]
    if unserved:
        return (
            f"{where}: its {QUERY_NODE_RPC_SERVICE}/{unserved[0]} call has no query node SERVER span below it: Milvus did not carry "
            "the trace context between its components, or the query node does not export to this Jaeger"
        )
    if not [span for span in hop.query_node_spans() if span.service != hop.server.service]:
        return (
            f"{where}: the query node's span is of service {hop.server.service!r}, the process that serves the client; "
            "a distributed Milvus runs its query nodes as other processes"
        )
    return None
