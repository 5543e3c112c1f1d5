"""Inside Milvus (hops.py, the reaches_query_node check, the report's split), on recorded
traces of real runs: a cluster's (python/sdk against STACK_MILVUS_MODE=cluster) and the
standalone's, and on the cluster's with the query node's spans taken out."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from conformance import hops
from conformance.checks import Subject, evaluate
from conformance.jaeger import complete
from conformance.report.model import inside_milvus
from conformance.runs import Run, load_scenario
from conformance.spans import Span, traces_from_jaeger

RECORDED = Path(__file__).resolve().parent / "recorded"


def recorded(name: str, drop_service: str | None = None, rename: dict[str, str] | None = None) -> Run:
    payload = copy.deepcopy(json.loads((RECORDED / f"{name}.trace.json").read_text()))
    for process in payload["data"][0]["processes"].values():
        process["serviceName"] = (rename or {}).get(process["serviceName"], process["serviceName"])
    if drop_service:
        trace = payload["data"][0]
        dropped = {key for key, process in trace["processes"].items() if process["serviceName"] == drop_service}
        trace["spans"] = [span for span in trace["spans"] if span["processID"] not in dropped]
    record = json.loads((RECORDED / f"{name}.run.json").read_text())
    return Run(record=record, trace=traces_from_jaeger(payload)[0])


@pytest.fixture
def cluster(monkeypatch) -> dict:
    monkeypatch.delenv("MILVUS_SERVER_SERVICES", raising=False)
    monkeypatch.setenv("STACK_MILVUS_MODE", "cluster")
    return load_scenario()


@pytest.fixture
def standalone(monkeypatch) -> dict:
    monkeypatch.delenv("MILVUS_SERVER_SERVICES", raising=False)
    monkeypatch.delenv("STACK_MILVUS_MODE", raising=False)
    return load_scenario()


def test_the_cluster_serves_clients_from_the_proxy(cluster, standalone):
    assert cluster["server_services"] == ["proxy"] and standalone["server_services"] == ["standalone"]


def test_a_cluster_run_links_to_the_proxy_and_reaches_a_query_node(cluster):
    run = recorded("cluster-python-sdk")
    for check in ("server_links", "server_internal_spans", "reaches_query_node"):
        assert evaluate(run, cluster, check).passed, check


def test_the_standalone_reaches_its_query_nodes_engine_in_process(standalone):
    for name in ("python-sdk", "java-agent", "go-otelgrpc", "node-zero-code"):
        assert evaluate(recorded(name), standalone, "reaches_query_node").passed, name


def test_without_the_query_nodes_spans_the_cause_is_named(cluster):
    result = evaluate(recorded("cluster-python-sdk", drop_service="querynode"), cluster, "reaches_query_node")
    assert not result.passed and "\n" not in result.reason
    assert result.reason.startswith("search: 'milvus.proto.milvus.MilvusService/Search' (span ")
    assert "milvus.proto.query.QueryNode/Search call has no query node SERVER span below it: Milvus did not carry" in result.reason
    assert "query: " in result.reason


def test_a_single_process_trace_is_not_taken_for_a_distributed_one(cluster):
    # The standalone's trace, read as if a cluster's proxy had served it: no call to a query node.
    result = evaluate(recorded("python-sdk", rename={"standalone": "proxy"}), cluster, "reaches_query_node")
    assert not result.passed
    assert "made no milvus.proto.query.QueryNode call below it" in result.reason


def test_a_query_node_in_the_proxys_own_process_is_not_another_process(cluster):
    result = evaluate(recorded("cluster-python-sdk", rename={"querynode": "proxy"}), cluster, "reaches_query_node")
    assert not result.passed
    assert "the query node's span is of service 'proxy', the process that serves the client" in result.reason


def test_the_standalone_without_engine_spans_fails(standalone):
    result = evaluate(recorded("python-sdk", drop_service="segcore"), standalone, "reaches_query_node")
    assert not result.passed
    assert "has no segcore span below it: the query node's search engine recorded nothing of this call" in result.reason


def test_the_split_adds_up_to_the_proxys_server_span(cluster):
    run = recorded("cluster-python-sdk")
    subject = Subject(run, cluster)
    found = hops.hops(run.trace, cluster)
    assert [hop.step for hop in found] == ["search", "query"]
    for hop in found:
        split = hop.split_ms()
        assert all(part > 0 for part in split.values()), split
        assert sum(split.values()) == pytest.approx(hop.server.duration_us / 1000)
        assert {span.service for span in hop.query_node_spans()} == {"querynode"}
    report = inside_milvus(subject)
    assert report["search"]["serving"] == ["proxy"] and report["search"]["query_nodes"] == ["querynode"]


def test_the_standalone_split_is_one_process(standalone):
    report = inside_milvus(Subject(recorded("python-sdk"), standalone))
    assert report["search"]["hop"] is None and report["search"]["querynode"] is None
    assert report["search"]["proxy"] > 0 and report["search"]["serving"] == ["standalone"]


def span(start: int, end: int) -> Span:
    return Span("t", f"{start}", None, "s", "svc", start, end - start, {}, [], {})


def test_concurrent_calls_count_once():
    assert hops.covered_us([span(0, 10), span(5, 15), span(20, 30)]) == 25
    assert hops.covered_us([span(0, 30), span(5, 10)]) == 30
    assert hops.covered_us([]) == 0


def test_the_suite_waits_for_the_query_nodes_spans(cluster, standalone):
    # Each Milvus process, and Milvus's C++ engine, export on their own schedule: the proxy's
    # spans can be in before the query node's, the standalone's Go spans before segcore's.
    assert complete(recorded("cluster-python-sdk").trace, cluster)
    assert not complete(recorded("cluster-python-sdk", drop_service="querynode").trace, cluster)
    assert complete(recorded("node-sdk").trace, standalone)
    assert not complete(recorded("node-sdk", drop_service="segcore").trace, standalone)
