"""The checks of one run against the scenario contract. Each check is one function
registered with @check, in report order; it returns None when it passes, else the
one-line reason. Subject holds the span lookups the checks and the report share.
Pure logic, unit-tested on recorded Jaeger JSON."""

from __future__ import annotations

import base64
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from conformance import hops, spans
from conformance.runs import Run
from conformance.spans import CLIENT, SERVER, Span, server_child, traceparent_flags


@dataclass
class Check:
    name: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class Registered:
    function: Callable[[Subject], str | None]
    needs_trace: bool


CHECKS: dict[str, Registered] = {}


def check(needs_trace: bool = True):
    """Registers a check under its function's name; without a trace it fails as 'no trace'."""

    def register(function):
        CHECKS[function.__name__] = Registered(function, needs_trace)
        return function

    return register


class Subject:
    """One run seen through the contract: the lookups the checks share."""

    def __init__(self, run: Run, scenario: dict):
        self.run = run
        self.scenario = scenario
        self.trace = run.trace
        self.rpc_service = scenario["rpc_service"]

    def root(self) -> Span | None:
        return spans.root_span(self.trace, self.scenario)

    @cached_property
    def steps(self) -> dict[str, Span]:
        return spans.step_spans(self.trace, self.scenario)

    def required_steps(self) -> list[dict]:
        return [step for step in self.scenario["steps"] if not step.get("conditional")]

    def step_client_spans(self, step: dict) -> list[Span]:
        span = self.steps.get(step["name"])
        if span is None:
            return []
        return [s for s in span.descendants() if s.kind == CLIENT and s.rpc_method(self.rpc_service) in step["rpcs"]]

    def contract_client_spans(self) -> list[Span]:
        return [span for step in self.scenario["steps"] if step["rpcs"] for span in self.step_client_spans(step)]

    def failing_step(self) -> dict:
        """The step the contract makes fail on purpose (describing a missing collection)."""
        return next(step for step in self.scenario["steps"] if step.get("expect_error"))

    def own_spans(self) -> list[Span]:
        """The client's spans; the rest of the trace is Milvus's."""
        service = self.run.expected_service(self.scenario)
        return [span for span in self.trace.spans if span.service == service]

    def client_rpc_spans(self) -> list[Span]:
        """Every gRPC CLIENT span the client itself made, whatever the service (Milvus's calls
        between its own components are CLIENT spans too, of Milvus's services)."""
        return [s for s in self.own_spans() if s.kind == CLIENT and s.rpc_call()]


def evaluate(run: Run, scenario: dict, name: str) -> Check:
    registered = CHECKS[name]
    if registered.needs_trace and run.trace is None:
        return Check(name, False, "no trace to check (see trace_found)")
    problem = registered.function(Subject(run, scenario))
    return Check(name, problem is None, problem or "ok")


def evaluate_all(run: Run, scenario: dict) -> list[Check]:
    return [evaluate(run, scenario, name) for name in CHECKS]


@check(needs_trace=False)
def run_succeeded(s: Subject) -> str | None:
    record = s.run.record
    if record.get("exit_status") != 0:
        return f"the {s.run.approach_id} client exited with status {record.get('exit_status')}: {record.get('error')}"
    return None


@check(needs_trace=False)
def trace_found(s: Subject) -> str | None:
    if s.trace is None:
        return (
            f"trace {s.run.record.get('trace_id')} (run of {s.run.record.get('started_at')}) not found in "
            f"Jaeger after waiting {s.run.waited_s:.0f} s; is JAEGER_API_URL the Jaeger the client exported to, and is the run older than its retention?"
        )
    return None


@check()
def root_span(s: Subject) -> str | None:
    root = s.root()
    if root is None:
        names = sorted({span.name for span in s.trace.roots})
        return f"no root span named {s.scenario['root_span']!r}; roots are {names}"
    expected = s.run.expected_service(s.scenario)
    if root.service != expected:
        return f"root span's service is {root.service!r}, expected {expected!r}"
    if root.tags.get("demo.run_id") != s.run.record.get("run_id"):
        return f"root span's demo.run_id is {root.tags.get('demo.run_id')!r}, the run record says {s.run.record.get('run_id')!r}"
    return None


@check()
def step_spans(s: Subject) -> str | None:
    steps = s.steps
    missing = [step["name"] for step in s.required_steps() if step["name"] not in steps]
    if missing:
        return f"missing step spans under the root: {', '.join(missing)}"
    expected = [step["name"] for step in s.scenario["steps"] if step["name"] in steps]
    actual = [span.name for span in sorted(steps.values(), key=lambda span: span.start_us) if span.name in expected]
    if actual != expected:
        return f"step spans out of order: {actual}"
    return None


@check()
def rpc_client_spans(s: Subject) -> str | None:
    if s.root() is None:
        return "no root span (see root_span)"
    missing = [f"{step['name']} ({' or '.join(step['rpcs'])})" for step in s.required_steps() if step["rpcs"] and not s.step_client_spans(step)]
    if missing:
        seen = sorted({span.tags.get("rpc.method", span.name) for span in s.trace.spans if span.kind == CLIENT})
        return (
            "no CLIENT span with rpc.system=grpc, rpc.service and rpc.method, or rpc.system.name=grpc and a "
            "fully qualified rpc.method (or an A72 name) for: "
            + "; ".join(missing)
            + f". Client RPC spans seen: {seen or 'none'}"
        )
    return None


@check()
def known_rpcs(s: Subject) -> str | None:
    """Every gRPC call the client made is a contract RPC or one of optional_rpcs: a new SDK
    release that starts sending other calls shows here first."""
    known = {rpc for step in s.scenario["steps"] for rpc in step["rpcs"]} | set(s.scenario["optional_rpcs"])
    unknown = sorted({span.rpc_call()[1] for span in s.client_rpc_spans()} - known)
    if unknown:
        return f"the client called RPCs that are neither in a step nor in optional_rpcs: {', '.join(unknown)}"
    return None


@check()
def server_links(s: Subject) -> str | None:
    clients = s.contract_client_spans()
    if not clients:
        return "no contract RPC client spans to link (see rpc_client_spans)"
    unlinked = [span for span in clients if server_child(s.scenario, span) is None]
    if not unlinked:
        return None
    return explain_unlinked(s, unlinked, len(clients))


def explain_unlinked(s: Subject, unlinked: list[Span], total: int) -> str:
    services = s.scenario["server_services"]
    in_trace = Counter(span.service for span in s.trace.spans)
    if not set(services) & set(in_trace) and set(in_trace) - {s.run.expected_service(s.scenario)}:
        contained = ", ".join(f"{name} ({count} spans)" for name, count in sorted(in_trace.items()))
        return (
            f"no span of MILVUS_SERVER_SERVICES={','.join(services)} in trace {s.trace.trace_id}, whose services are "
            f"{contained}: set MILVUS_SERVER_SERVICES to the Milvus service that answers the client's calls"
        )
    methods = ", ".join(sorted({span.rpc_method(s.rpc_service) for span in unlinked}))
    message = (
        f"{len(unlinked)} of {total} Milvus RPC client spans have no {'/'.join(services)!r} "
        f"SERVER child in trace {s.trace.trace_id} ({methods})."
    )
    found = [root for root in (server_root_during(s, span) for span in unlinked) if root is not None]
    flags = traceparent_flags(s.run.record.get("traceparent"))
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


def server_root_during(s: Subject, client: Span) -> Span | None:
    method = client.rpc_method(s.rpc_service)
    for root in s.run.server_roots:
        if root.kind == SERVER and root.rpc_method(s.rpc_service) == method and client.start_us <= root.start_us <= client.end_us:
            return root
    return None


@check()
def server_internal_spans(s: Subject) -> str | None:
    servers = [server for client in s.contract_client_spans() if (server := server_child(s.scenario, client))]
    if not servers:
        return "no linked server spans to look into (see server_links)"
    bare = [
        server.label()
        for server in servers
        if not any(span.service in s.scenario["server_services"] for span in server.descendants())
    ]
    if bare:
        return f"server spans without Milvus-internal spans below them: {', '.join(bare)}"
    return None


@check()
def reaches_query_node(s: Subject) -> str | None:
    """Search and Query reach past the serving process: a query node's SERVER span below it,
    of another Milvus process when Milvus is distributed (hops.py)."""
    found = hops.hops(s.trace, s.scenario)
    if not found:
        return f"no linked {' or '.join(hops.STEPS)} server span to follow (see server_links)"
    problems = [problem for hop in found if (problem := hops.problem(hop, s.scenario))]
    return "; ".join(problems) or None


@check()
def expected_failure(s: Subject) -> str | None:
    step = s.failing_step()
    span = s.steps.get(step["name"])
    if span is None:
        return f"no {step['name']!r} step span"
    problems = []
    if not span.is_error:
        problems.append("its status is not ERROR")
    if span.exception is None:
        problems.append("it has no exception event")
    if not s.step_client_spans(step):
        problems.append(f"it has no {' or '.join(step['rpcs'])} client span below it")
    if problems:
        return f"the {step['name']!r} span does not show the failure: " + "; ".join(problems)
    return None


CREDENTIAL_KEY = re.compile(r"pass(word|wd)?|secret|token|authorization|api[_-]?key|credential", re.I)
CREDENTIAL_VALUE = re.compile(r"^(basic|bearer)\s+\S+|root:milvus", re.I)


def secret_forms(secret: str) -> set[str]:
    """The ways a `user:password` token travels: as is, its password, and base64 (gRPC metadata)."""
    forms = {secret, base64.b64encode(secret.encode()).decode().rstrip("=")}
    _, _, password = secret.partition(":")
    if password:
        forms.add(password)
    return {form for form in forms if len(form) >= 6}


def looks_secret(key: str, value) -> bool:
    return bool(CREDENTIAL_KEY.search(key)) or (isinstance(value, str) and bool(CREDENTIAL_VALUE.search(value)))


@check()
def no_credentials(s: Subject) -> str | None:
    """No span of the trace, the client's or Milvus's, carries the token (in any of its forms)
    in an attribute, an event or its resource, nor anything that looks like a credential."""
    forms = set().union(*map(secret_forms, s.run.secrets)) if s.run.secrets else set()
    leaks = []
    for span in s.trace.spans:
        places = [("tag", span.tags), ("resource", span.process_tags), *(("event field", event) for event in span.events)]
        for where, items in places:
            for key, value in items.items():
                if any(form in str(value) for form in forms):
                    leaks.append(f"{where} {key!r} on {span.label()} holds the Milvus token")
                elif looks_secret(key, value):
                    leaks.append(f"{where} {key!r} on {span.label()} looks like a credential")
    if leaks:
        return f"{len(leaks)} attribute(s) leak credentials: " + "; ".join(sorted(set(leaks))[:5])
    return None
