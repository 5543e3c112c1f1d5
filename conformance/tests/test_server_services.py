"""Any Milvus: the server services to link to (MILVUS_SERVER_SERVICES) and where the
suite reads traces (JAEGER_API_URL), and the one line each says when it is wrong."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

from conformance.checks import evaluate
from conformance.runs import Run, load_scenario
from conformance.spans import traces_from_jaeger

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).resolve().parent / "recorded"


def recorded_run(rename: dict[str, str] | None = None) -> Run:
    """A real linked run, its services renamed (standalone -> proxy: Milvus on Kubernetes)."""
    payload = json.loads((RECORDED / "go-otelgrpc.trace.json").read_text())
    payload = copy.deepcopy(payload)
    for process in payload["data"][0]["processes"].values():
        process["serviceName"] = (rename or {}).get(process["serviceName"], process["serviceName"])
    record = json.loads((RECORDED / "go-otelgrpc.run.json").read_text())
    return Run(record=record, trace=traces_from_jaeger(payload)[0])


def scenario_with(monkeypatch, services: str) -> dict:
    monkeypatch.setenv("MILVUS_SERVER_SERVICES", services)
    return load_scenario()


def test_default_is_the_scenarios_server_service(monkeypatch):
    monkeypatch.delenv("MILVUS_SERVER_SERVICES", raising=False)
    monkeypatch.delenv("STACK_MILVUS_MODE", raising=False)
    assert load_scenario()["server_services"] == ["standalone"]


def test_a_distributed_milvus_links_through_proxy(monkeypatch):
    run = recorded_run({"standalone": "proxy"})
    for services in ("proxy", "standalone, proxy"):
        scenario = scenario_with(monkeypatch, services)
        for check in ("server_links", "server_internal_spans"):
            result = evaluate(run, scenario, check)
            assert result.passed, (services, result.reason)


def test_a_service_name_absent_from_the_trace_is_named_with_what_the_trace_has(monkeypatch):
    result = evaluate(recorded_run(), scenario_with(monkeypatch, "proxy"), "server_links")
    assert not result.passed
    assert "\n" not in result.reason
    assert result.reason.startswith("no span of MILVUS_SERVER_SERVICES=proxy in trace ")
    assert "standalone (" in result.reason and "milvus-client-go-otelgrpc (" in result.reason


def test_an_unreachable_jaeger_is_one_line_naming_the_variable(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "JAEGER_API_URL": "http://127.0.0.1:9", "DEMO_REPORTS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance/test_conformance.py", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    [line] = [line for line in result.stdout.splitlines() if "JAEGER_API_URL" in line]
    assert "Jaeger's query API at JAEGER_API_URL=http://127.0.0.1:9 is not reachable" in line
