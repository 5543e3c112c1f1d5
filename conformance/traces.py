"""Span trees from Jaeger's JSON, and the checks of a client's trace against the
scenario contract. Pure logic: no network, so it is unit-tested on recorded JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SCENARIO_FILE = Path(__file__).resolve().parent / "scenario.json"

CLIENT, SERVER = "client", "server"


def load_scenario(path: Path = SCENARIO_FILE) -> dict:
    return json.loads(path.read_text())


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

    def rpc_method(self, rpc_service: str) -> str | None:
        """The gRPC method of a span that calls or serves rpc_service, else None."""
        if self.tags.get("rpc.system") == "grpc" and self.tags.get("rpc.service") == rpc_service:
            return self.tags.get("rpc.method")
        return None

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
    """Milvus's SERVER span for the same method directly below a client RPC span: the link."""
    method = client.rpc_method(scenario["rpc_service"])
    return next(
        (
            child
            for child in client.children
            if child.kind == SERVER
            and child.service == scenario["server_service"]
            and child.rpc_method(scenario["rpc_service"]) == method
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


# --- checks ---------------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    reason: str


@dataclass
class Run:
    """What one client run left behind: its run record and its trace."""

    record: dict
    trace: Trace | None
    waited_s: float = 0.0
    # Root spans of other traces recorded by Milvus while the client ran: where
    # server spans go when Milvus did not accept the client's traceparent.
    server_roots: list[Span] = field(default_factory=list)


CHECKS = (
    "run_succeeded",
    "trace_found",
    "root_span",
    "step_spans",
    "rpc_client_spans",
    "server_links",
    "server_internal_spans",
    "expected_failure",
    "no_credentials",
)

CREDENTIAL_KEY = re.compile(r"pass(word|wd)?|secret|token|authorization|api[_-]?key|credential", re.I)
CREDENTIAL_VALUE = re.compile(r"^(basic|bearer)\s+\S+|root:milvus", re.I)


class Checker:
    """Evaluates one run against the scenario contract."""

    def __init__(self, run: Run, scenario: dict):
        self.run = run
        self.scenario = scenario
        self.rpc_service = scenario["rpc_service"]
        self.language = run.record.get("language", "?")

    def evaluate(self) -> list[Check]:
        return [self.check(name) for name in CHECKS]

    def check(self, name: str) -> Check:
        if name not in ("run_succeeded", "trace_found") and self.run.trace is None:
            return Check(name, False, "no trace to check (see trace_found)")
        problem = getattr(self, f"_{name}")()
        return Check(name, problem is None, problem or "ok")

    # Each _check returns None when it passes, else the one-line reason.

    def _run_succeeded(self):
        record = self.run.record
        if record.get("exit_status") != 0:
            return f"the {self.language} client exited with status {record.get('exit_status')}: {record.get('error')}"
        return None

    def _trace_found(self):
        if self.run.trace is None:
            return (
                f"trace {self.run.record.get('trace_id')} (run of {self.run.record.get('started_at')}) not found in "
                f"Jaeger after waiting {self.run.waited_s:.0f} s; Jaeger keeps traces in memory: was it restarted since?"
            )
        return None

    def _root(self) -> Span | None:
        return root_span(self.run.trace, self.scenario)

    def _root_span(self):
        root = self._root()
        if root is None:
            names = sorted({s.name for s in self.run.trace.roots})
            return f"no root span named {self.scenario['root_span']!r}; roots are {names}"
        expected_service = self.scenario["client_service_prefix"] + self.language
        if root.service != expected_service:
            return f"root span's service is {root.service!r}, expected {expected_service!r}"
        if root.tags.get("demo.run_id") != self.run.record.get("run_id"):
            return f"root span's demo.run_id is {root.tags.get('demo.run_id')!r}, the run record says {self.run.record.get('run_id')!r}"
        return None

    def _steps(self) -> dict[str, Span]:
        return step_spans(self.run.trace, self.scenario)

    def _required_steps(self) -> list[dict]:
        return [step for step in self.scenario["steps"] if not step.get("conditional")]

    def _step_spans(self):
        steps = self._steps()
        missing = [step["name"] for step in self._required_steps() if step["name"] not in steps]
        if missing:
            return f"missing step spans under the root: {', '.join(missing)}"
        expected = [step["name"] for step in self.scenario["steps"] if step["name"] in steps]
        actual = [span.name for span in sorted(steps.values(), key=lambda s: s.start_us) if span.name in expected]
        if actual != expected:
            return f"step spans out of order: {actual}"
        return None

    def _step_client_spans(self, step: dict) -> list[Span]:
        span = self._steps().get(step["name"])
        if span is None:
            return []
        return [s for s in span.descendants() if s.kind == CLIENT and s.rpc_method(self.rpc_service) in step["rpcs"]]

    def _rpc_client_spans(self):
        if self._root() is None:
            return "no root span (see root_span)"
        missing = []
        for step in self._required_steps():
            if step["rpcs"] and not self._step_client_spans(step):
                missing.append(f"{step['name']} ({' or '.join(step['rpcs'])})")
        if missing:
            seen = sorted({s.tags.get("rpc.method", s.name) for s in self.run.trace.spans if s.kind == CLIENT})
            return (
                "no CLIENT span with rpc.system=grpc, rpc.service and rpc.method for: "
                + "; ".join(missing)
                + f". Client RPC spans seen: {seen or 'none'}"
            )
        return None

    def _contract_client_spans(self) -> list[Span]:
        return [span for step in self.scenario["steps"] if step["rpcs"] for span in self._step_client_spans(step)]

    def _server_links(self):
        clients = self._contract_client_spans()
        if not clients:
            return "no contract RPC client spans to link (see rpc_client_spans)"
        unlinked = [span for span in clients if server_child(self.scenario, span) is None]
        if not unlinked:
            return None
        return self._explain_unlinked(unlinked, len(clients))

    def _explain_unlinked(self, unlinked: list[Span], total: int) -> str:
        methods = ", ".join(sorted({s.rpc_method(self.rpc_service) for s in unlinked}))
        message = (
            f"{len(unlinked)} of {total} Milvus RPC client spans have no {self.scenario['server_service']!r} "
            f"SERVER child in trace {self.run.trace.trace_id} ({methods})."
        )
        elsewhere = [self._server_root_during(span) for span in unlinked]
        found = [root for root in elsewhere if root is not None]
        flags = traceparent_flags(self.run.record.get("traceparent"))
        if found:
            example = found[0]
            message += (
                f" Milvus recorded {len(found)} of these calls as ROOT spans of other traces "
                f"(e.g. {example.name} in trace {example.trace_id}): it did not accept the client's traceparent."
            )
            if flags not in (None, "00", "01"):
                message += (
                    f" The client sends traceparent flags {flags} (W3C level-2 'random' trace-id bit);"
                    " Milvus 2.3's propagator accepts only 00/01 and starts a new trace."
                    " Fix: an IdGenerator whose is_trace_id_random() returns False (see python/)."
                )
            elif flags:
                message += f" The client's traceparent flags are {flags}; check the propagator Milvus receives."
        else:
            message += (
                " Milvus recorded no span for these calls in any trace while the client ran: is Milvus "
                "exporting to this Jaeger (TRACE_* settings), and does the client's gRPC instrumentation run?"
            )
        return message

    def _server_root_during(self, client: Span) -> Span | None:
        method = client.rpc_method(self.rpc_service)
        for root in self.run.server_roots:
            if (
                root.kind == SERVER
                and root.rpc_method(self.rpc_service) == method
                and client.start_us <= root.start_us <= client.end_us
            ):
                return root
        return None

    def _server_internal_spans(self):
        servers = [server_child(self.scenario, client) for client in self._contract_client_spans()]
        servers = [server for server in servers if server is not None]
        if not servers:
            return "no linked server spans to look into (see server_links)"
        bare = [
            server.label()
            for server in servers
            if not any(s.service == self.scenario["server_service"] for s in server.descendants())
        ]
        if bare:
            return f"server spans without Milvus-internal spans below them: {', '.join(bare)}"
        return None

    def _expected_failure(self):
        step = next(s for s in self.scenario["steps"] if s.get("expect_error"))
        span = self._steps().get(step["name"])
        if span is None:
            return f"no {step['name']!r} step span"
        problems = []
        if not span.is_error:
            problems.append("its status is not ERROR")
        if not any(event.get("event") == "exception" for event in span.events):
            problems.append("it has no exception event")
        if not self._step_client_spans(step):
            problems.append(f"it has no {' or '.join(step['rpcs'])} client span below it")
        if problems:
            return f"the {step['name']!r} span does not show the failure: " + "; ".join(problems)
        return None

    def _no_credentials(self):
        leaks = []
        for span in self.run.trace.spans:
            for where, items in (("tag", span.tags), ("resource", span.process_tags)):
                leaks += [f"{where} {key!r} on {span.label()}" for key, value in items.items() if _looks_secret(key, value)]
            for event in span.events:
                leaks += [f"event field {key!r} on {span.label()}" for key, value in event.items() if _looks_secret(key, value)]
        if leaks:
            return f"{len(leaks)} attribute(s) look like credentials: " + "; ".join(sorted(set(leaks))[:5])
        return None


def _looks_secret(key: str, value) -> bool:
    return bool(CREDENTIAL_KEY.search(key)) or (isinstance(value, str) and bool(CREDENTIAL_VALUE.search(value)))


def traceparent_flags(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[3] if len(parts) == 4 else None
