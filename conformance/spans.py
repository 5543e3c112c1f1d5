"""Span trees from Jaeger's JSON: the model the checks and the report work on.
Pure logic: no network, so it is unit-tested on recorded JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CLIENT, SERVER = "client", "server"
# gRPC's own OpenTelemetry plugins (gRFC A72) set no rpc.* attributes: the call is in the
# span name, `Sent.<service>.<method>` for the call and `Attempt.<service>.<method>` below it.
A72_NAME = re.compile(r"^(?:Sent|Attempt|Recv)\.(?P<service>.+)\.(?P<method>[^.]+)$")


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str
    start_us: int
    duration_us: int
    tags: dict
    events: list[dict]
    process_tags: dict
    children: list[Span] = field(default_factory=list, repr=False)

    @property
    def kind(self) -> str:
        return self.tags.get("span.kind", "internal")

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us

    @property
    def is_error(self) -> bool:
        return self.tags.get("otel.status_code") == "ERROR" or self.tags.get("error") is True

    def rpc_call(self) -> tuple[str, str] | None:
        """(service, method) of a gRPC span: from its rpc.* attributes of either generation, or
        else from an A72 span name. Old: rpc.system, rpc.service and a bare rpc.method; stable:
        rpc.system.name and a fully qualified rpc.method (`service/Method`); dup: both."""
        tags = self.tags
        method = tags.get("rpc.method")
        if "grpc" in (tags.get("rpc.system.name"), tags.get("rpc.system")) and method:
            service, slash, name = method.rpartition("/")
            return (service, name) if slash else (tags.get("rpc.service"), method)
        match = A72_NAME.match(self.name)
        return (match["service"], match["method"]) if match else None

    @property
    def exception(self) -> dict | None:
        """The span's first exception event, None when it recorded none."""
        return next((event for event in self.events if event.get("event") == "exception"), None)

    @property
    def rpc_from_name(self) -> bool:
        """True when the call is known only from the span name (no rpc.* attributes)."""
        return self.rpc_call() is not None and "rpc.method" not in self.tags

    def rpc_method(self, rpc_service: str) -> str | None:
        """The gRPC method of a span that calls or serves rpc_service, else None."""
        call = self.rpc_call()
        return call[1] if call and call[0] == rpc_service else None

    def descendants(self):
        for child in self.children:
            yield child
            yield from child.descendants()

    def label(self) -> str:
        return f"{self.name!r} (span {self.span_id}, {self.service})"


@dataclass
class Trace:
    trace_id: str
    spans: list[Span]

    def __post_init__(self):
        by_id = {span.span_id: span for span in self.spans}
        for span in sorted(self.spans, key=lambda s: s.start_us):
            parent = by_id.get(span.parent_id)
            if parent is not None:
                parent.children.append(span)

    @property
    def roots(self) -> list[Span]:
        ids = {span.span_id for span in self.spans}
        return [span for span in self.spans if span.parent_id not in ids]


def _tags(items: list[dict] | None) -> dict:
    return {item["key"]: item["value"] for item in items or []}


def traces_from_jaeger(payload: dict) -> list[Trace]:
    """Traces from a Jaeger query API response (`/api/traces/...`)."""
    traces = []
    for data in payload.get("data") or []:
        processes = data.get("processes", {})
        spans = []
        for raw in data.get("spans", []):
            parents = [ref["spanID"] for ref in raw.get("references") or [] if ref.get("refType") == "CHILD_OF"]
            process = processes.get(raw.get("processID"), {})
            spans.append(
                Span(
                    trace_id=raw["traceID"],
                    span_id=raw["spanID"],
                    parent_id=parents[0] if parents else None,
                    name=raw["operationName"],
                    service=process.get("serviceName", "?"),
                    start_us=raw["startTime"],
                    duration_us=raw["duration"],
                    tags=_tags(raw.get("tags")),
                    events=[_tags(log.get("fields")) for log in raw.get("logs") or []],
                    process_tags=_tags(process.get("tags")),
                )
            )
        traces.append(Trace(data["traceID"], spans))
    return traces


def server_child(scenario: dict, client: Span) -> Span | None:
    """Milvus's SERVER span for the same method below a client RPC span: the link. Directly
    below, or below one attempt span of the client's own (A72: call > attempt > server)."""
    method = client.rpc_method(scenario["rpc_service"])
    attempts = [child for child in client.children if child.service == client.service and child.kind != SERVER]
    candidates = [*client.children, *(span for attempt in attempts for span in attempt.children)]
    return next(
        (
            span
            for span in candidates
            if span.kind == SERVER
            and span.service in scenario["server_services"]
            and span.rpc_method(scenario["rpc_service"]) == method
        ),
        None,
    )


def root_span(trace: Trace, scenario: dict) -> Span | None:
    """The client's root span, named by the contract."""
    return next((span for span in trace.roots if span.name == scenario["root_span"]), None)


def step_spans(trace: Trace, scenario: dict) -> dict[str, Span]:
    """The root's children by name: one span per contract step."""
    root = root_span(trace, scenario)
    return {child.name: child for child in root.children} if root else {}


def traceparent_flags(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[3] if len(parts) == 4 else None
