"""The checks on traces that real runs left in Jaeger (recorded/), untouched and altered."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from conformance import checks
from conformance.approaches import load_all
from conformance.checks import CHECKS, evaluate
from conformance.jaeger import complete
from conformance.runs import Run, load_scenario
from conformance.spans import traces_from_jaeger

RECORDED = Path(__file__).resolve().parent / "recorded"
SCENARIO = load_scenario()


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text())


def run_of(name: str, trace_payload: dict | None = None, server_roots: str | None = None) -> Run:
    payload = trace_payload or recorded(f"{name}.trace.json")
    roots = []
    if server_roots:
        roots = [root for trace in traces_from_jaeger(recorded(server_roots)) for root in trace.roots]
    return Run(record=recorded(f"{name}.run.json"), trace=traces_from_jaeger(payload)[0], server_roots=roots)


def outcome(run: Run, check: str):
    return evaluate(run, SCENARIO, check)


def without_spans(payload: dict, predicate) -> dict:
    altered = copy.deepcopy(payload)
    altered["data"][0]["spans"] = [s for s in altered["data"][0]["spans"] if not predicate(s)]
    return altered


def span_named(payload: dict, name: str) -> dict:
    return next(s for s in payload["data"][0]["spans"] if s["operationName"] == name)


# One real, linked run per approach (python -m conformance.tests.record refreshes them).
LINKED = [approach.slug for approach in load_all()]
UNLINKED = "python-zero-code-unlinked"  # a real run with OTEL_PYTHON_ID_GENERATOR=random


@pytest.mark.parametrize("name", LINKED)
@pytest.mark.parametrize("check", CHECKS)
def test_linked_run_passes_every_check(name, check):
    result = outcome(run_of(name), check)
    assert result.passed, result.reason


@pytest.mark.parametrize("name", LINKED)
def test_linked_trace_is_complete(name):
    assert complete(run_of(name).trace, SCENARIO)


def test_span_tree_links_client_spans_to_server_children():
    trace = run_of("python-sdk").trace
    insert = next(s for s in trace.spans if s.kind == "client" and s.tags.get("rpc.method") == "Insert")
    servers = [c for c in insert.children if c.kind == "server"]
    assert [s.service for s in servers] == ["standalone"]
    assert servers[0].name == "milvus.proto.milvus.MilvusService/Insert"
    assert any(s.name.startswith("Proxy-Insert") for s in servers[0].descendants())


def test_unlinked_run_fails_server_links_and_names_the_random_flag():
    run = run_of(UNLINKED, server_roots=f"{UNLINKED}.standalone-window.json")
    assert not complete(run.trace, SCENARIO)
    result = outcome(run, "server_links")
    assert not result.passed
    assert "ROOT spans of other traces" in result.reason
    assert "flags 03" in result.reason
    assert "is_trace_id_random" in result.reason
    # The rest of the client side is fine: only the link is broken.
    for check in ("trace_found", "root_span", "step_spans", "rpc_client_spans", "expected_failure"):
        assert outcome(run, check).passed, check


def test_unlinked_run_without_server_spans_anywhere_says_so():
    result = outcome(run_of(UNLINKED), "server_links")
    assert not result.passed
    assert "recorded no span for these calls" in result.reason


def test_server_internal_spans_fail_when_nothing_links():
    result = outcome(run_of(UNLINKED), "server_internal_spans")
    assert not result.passed


def test_server_span_without_internal_spans_fails():
    payload = recorded("python-sdk.trace.json")
    trace = traces_from_jaeger(payload)[0]
    server = next(s for s in trace.spans if s.name == "milvus.proto.milvus.MilvusService/Insert")
    below = {s.span_id for s in server.descendants()}
    result = outcome(run_of("python-sdk", without_spans(payload, lambda s: s["spanID"] in below)), "server_internal_spans")
    assert not result.passed
    assert "MilvusService/Insert" in result.reason


def test_failed_run_is_reported_with_its_error():
    run = run_of("python-sdk")
    run.record = dict(run.record, exit_status=1, error="RuntimeError: search returned 3 hits, expected 5")
    result = outcome(run, "run_succeeded")
    assert not result.passed
    assert "search returned 3 hits" in result.reason


def test_missing_trace_fails_with_wait_time_and_other_checks_defer():
    run = Run(record=recorded("python-sdk.run.json"), trace=None, waited_s=20.4)
    found = outcome(run, "trace_found")
    assert not found.passed
    assert "after waiting 20 s" in found.reason
    assert not outcome(run, "server_links").passed


def test_missing_step_span_is_named():
    payload = without_spans(recorded("python-sdk.trace.json"), lambda s: s["operationName"] == "flush")
    result = outcome(run_of("python-sdk", payload), "step_spans")
    assert not result.passed
    assert "flush" in result.reason


def test_root_span_of_wrong_service_or_run_fails():
    payload = recorded("python-sdk.trace.json")
    span_named(payload, "milvus-otel-demo")["tags"] = [
        t for t in span_named(payload, "milvus-otel-demo")["tags"] if t["key"] != "demo.run_id"
    ]
    assert "demo.run_id" in outcome(run_of("python-sdk", payload), "root_span").reason
    run = run_of("python-sdk")
    run.record = dict(run.record, language="go")
    assert "expected 'milvus-client-go-sdk'" in outcome(run, "root_span").reason


def test_expected_failure_without_exception_event_fails():
    payload = recorded("python-sdk.trace.json")
    span_named(payload, "expected_failure")["logs"] = []
    result = outcome(run_of("python-sdk", payload), "expected_failure")
    assert not result.passed
    assert "no exception event" in result.reason


def test_client_spans_without_rpc_attributes_fail():
    payload = recorded("python-sdk.trace.json")
    for span in payload["data"][0]["spans"]:
        span["tags"] = [t for t in span["tags"] if t["key"] != "rpc.method"]
    result = outcome(run_of("python-sdk", payload), "rpc_client_spans")
    assert not result.passed
    assert "insert (Insert)" in result.reason


def test_credentials_in_attributes_are_caught():
    payload = recorded("python-sdk.trace.json")
    span_named(payload, "connect")["tags"].append({"key": "milvus.password", "type": "string", "value": "Milvus"})
    result = outcome(run_of("python-sdk", payload), "no_credentials")
    assert not result.passed
    assert "milvus.password" in result.reason


def test_an_rpc_outside_the_contract_and_optional_rpcs_is_named():
    payload = recorded("python-sdk.trace.json")
    insert = next(s for s in payload["data"][0]["spans"] if s["operationName"].endswith("/Insert") and any(
        t["key"] == "span.kind" and t["value"] == "client" for t in s["tags"]))
    for tag in insert["tags"]:
        if tag["key"] == "rpc.method":
            tag["value"] = "GetReplicateInfo"
    result = outcome(run_of("python-sdk", payload), "known_rpcs")
    assert not result.passed
    assert "GetReplicateInfo" in result.reason


def test_a_check_is_one_registered_function(monkeypatch):
    monkeypatch.setattr(checks, "CHECKS", dict(CHECKS))

    @checks.check()
    def root_is_short(subject):
        return None if len(subject.root().name) < 5 else f"root name {subject.root().name!r} is long"

    assert list(checks.CHECKS)[-1] == "root_is_short"
    result = checks.evaluate(run_of("python-sdk"), SCENARIO, "root_is_short")
    assert (result.passed, result.reason) == (False, "root name 'milvus-otel-demo' is long")
    no_trace = Run(record=recorded("python-sdk.run.json"), trace=None)
    assert checks.evaluate(no_trace, SCENARIO, "root_is_short").reason == "no trace to check (see trace_found)"


TOKEN = "otel_demo:s3cr3t-Pa55word"


@pytest.mark.parametrize(
    "where,value",
    [
        ("a client span's attribute, as is", TOKEN),
        ("gRPC metadata, base64 as Basic auth sends it", "Basic " + base64.b64encode(TOKEN.encode()).decode()),
        ("the password alone, inside a longer text", "login failed for s3cr3t-Pa55word, retrying"),
    ],
)
def test_the_token_is_found_wherever_it_hides(where, value):
    payload = recorded("python-sdk.trace.json")
    span_named(payload, "connect")["tags"].append({"key": "app.note", "type": "string", "value": value})
    run = run_of("python-sdk", payload)
    run.secrets = [TOKEN]
    result = outcome(run, "no_credentials")
    assert not result.passed, where
    assert "'app.note'" in result.reason and "holds the Milvus token" in result.reason


def test_the_token_is_found_on_milvus_spans_and_in_resources_too():
    payload = recorded("python-sdk.trace.json")
    milvus = next(p for p in payload["data"][0]["processes"].values() if p["serviceName"] == "standalone")
    milvus["tags"].append({"key": "host.note", "type": "string", "value": TOKEN})
    run = run_of("python-sdk", payload)
    run.secrets = [TOKEN]
    result = outcome(run, "no_credentials")
    assert not result.passed
    assert "resource 'host.note'" in result.reason and "standalone" in result.reason


def test_a_run_without_the_token_anywhere_passes():
    run = run_of("python-sdk")
    run.secrets = [TOKEN]
    assert outcome(run, "no_credentials").passed


GRPC_CODES = {0: "OK", 5: "NOT_FOUND"}


def as_generation(payload: dict, service: str, generation: str) -> dict:
    """The recorded (old) client spans of `service` rewritten the way otelgrpc v0.72.0 writes
    them for OTEL_SEMCONV_STABILITY_OPT_IN unset ("stable") and rpc/dup ("dup")."""
    altered = copy.deepcopy(payload)
    processes = {pid for pid, p in altered["data"][0]["processes"].items() if p["serviceName"] == service}
    for span in altered["data"][0]["spans"]:
        tags = {t["key"]: t for t in span["tags"]}
        if span["processID"] not in processes or "rpc.method" not in tags:
            continue
        tags["rpc.method"]["value"] = f"{tags['rpc.service']['value']}/{tags['rpc.method']['value']}"
        code = GRPC_CODES[tags["rpc.grpc.status_code"]["value"]]
        if generation == "stable":
            for key in ("rpc.system", "rpc.service", "rpc.grpc.status_code"):
                span["tags"].remove(tags[key])
        span["tags"] += [
            {"key": "rpc.system.name", "type": "string", "value": "grpc"},
            {"key": "rpc.response.status_code", "type": "string", "value": code},
        ]
    return altered


@pytest.mark.parametrize("generation", ["stable", "dup"])
@pytest.mark.parametrize("check", CHECKS)
def test_a_call_reads_the_same_from_either_rpc_generation(generation, check):
    payload = as_generation(recorded("go-otelgrpc.trace.json"), "milvus-client-go-otelgrpc", generation)
    result = outcome(run_of("go-otelgrpc", payload), check)
    assert result.passed, result.reason


def test_a_stable_span_names_its_call_from_the_fully_qualified_method():
    payload = as_generation(recorded("go-otelgrpc.trace.json"), "milvus-client-go-otelgrpc", "stable")
    flush = next(s for s in run_of("go-otelgrpc", payload).trace.spans
                 if s.service == "milvus-client-go-otelgrpc" and s.tags.get("rpc.method", "").endswith("/Flush"))
    assert "rpc.service" not in flush.tags and "rpc.system" not in flush.tags
    assert flush.rpc_call() == ("milvus.proto.milvus.MilvusService", "Flush")


def test_a_stable_span_without_rpc_system_name_is_not_a_call():
    payload = as_generation(recorded("go-otelgrpc.trace.json"), "milvus-client-go-otelgrpc", "stable")
    for span in payload["data"][0]["spans"]:
        span["tags"] = [t for t in span["tags"] if t["key"] != "rpc.system.name"]
    result = outcome(run_of("go-otelgrpc", payload), "rpc_client_spans")
    assert not result.passed
    assert "flush (Flush)" in result.reason and "rpc.system.name=grpc" in result.reason
