"""End to end with real parts: the stack, every approach through nox, the conformance
suite, a deliberately unplugged link, and a stop that leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.approaches import find, load_all
from conformance.bench.jaeger import check_untraced
from conformance.checks import evaluate
from conformance.jaeger import Jaeger, load_run
from conformance.runs import load_scenario
from stack import stackctl

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
SCENARIO = load_scenario()
APPROACHES = load_all()
STACKCTL = [sys.executable, str(ROOT / "stack" / "stackctl.py")]
MAIN_JOB_TIMEOUT_S = 60 * 60


def stack_command(command: str, timeout_s: int) -> int:
    """Runs stackctl with its progress shown live (a first start builds Jaeger for minutes)."""
    return subprocess.run([*STACKCTL, command], timeout=timeout_s, stdout=sys.__stderr__, stderr=sys.__stderr__).returncode


@pytest.fixture(scope="module")
def stack():
    """Starts the stack; stops it at the end unless it was running before."""
    was_running = stack_command("status", 60) == 0
    assert stack_command("up", stackctl.JAEGER_BUILD_TIMEOUT_S + stackctl.MILVUS_START_TIMEOUT_S + 60) == 0
    yield was_running
    if not was_running:
        stack_command("down", 120)


def run_nox(*args: str, env: dict) -> tuple[int, str]:
    """`python -m nox ARGS`, its output relayed as it comes (a first run builds for minutes)."""
    command = ["timeout", str(MAIN_JOB_TIMEOUT_S), sys.executable, "-m", "nox", "--no-color", *args]
    lines = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as nox:
        for line in nox.stdout:
            lines.append(line)
            print(f"  | {line}", end="", file=sys.__stderr__, flush=True)
    return nox.returncode, "".join(lines)


def test_main_job_conforms_in_every_approach(stack, tmp_path):
    returncode, output = run_nox(env=dict(os.environ, DEMO_REPORTS_DIR=str(tmp_path)))
    assert "already running and healthy" in output, "the sessions should reuse the running stack"
    report = json.loads((tmp_path / "conformance.json").read_text())["approaches"]
    failures = {
        f"{approach}: {check}": row["reason"]
        for approach, checks in report.items()
        for check, row in checks.items()
        if row["outcome"] != "passed"
    }
    assert not failures, json.dumps(failures, indent=2)
    assert list(report) == [approach.id for approach in APPROACHES]
    page = (tmp_path / "conformance.html").read_text()
    for approach in APPROACHES:
        assert f'<svg class="waterfall" data-approach="{approach.id}"' in page
    assert "| server_links |" in (tmp_path / "conformance.md").read_text()
    assert returncode == 0, output[-3000:]


def run_client(approach, record_file: Path, **overrides: str) -> subprocess.CompletedProcess:
    """One approach's client as its nox session runs it, with some settings changed (any of them)."""
    env = {
        **os.environ,
        "MILVUS_URI": stackctl.MILVUS_URI,
        "MILVUS_TOKEN": stackctl.milvus_token() or "",
        "OTEL_SERVICE_NAME": approach.service_name(SCENARIO),
        "OTEL_EXPORTER_OTLP_ENDPOINT": stackctl.OTLP_GRPC_ENDPOINT,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",  # the Java agent's default is http/protobuf
        "DEMO_APPROACH": approach.name,
        "DEMO_RUN_RECORD": str(record_file),
        **approach.env,
        **overrides,
    }
    return subprocess.run(approach.run, cwd=approach.folder, env=env, capture_output=True, text=True, timeout=300)


def test_unplugged_link_fails_and_names_the_cause(stack, tmp_path):
    """OTel Python's default id generator (traceparent flags 03) must break the link, visibly:
    the zero-code approach as the main job built it, with its one fix undone by a setting."""
    approach = find(APPROACHES, "python/zero-code")
    venv_bin = ROOT / ".nox" / "python-approach-zero-code" / "bin"
    assert venv_bin.is_dir(), "the main job's test builds this virtualenv first"
    record_file = tmp_path / "python.json"
    client = run_client(approach, record_file, PATH=f"{venv_bin}:{os.environ['PATH']}", OTEL_PYTHON_ID_GENERATOR="random")
    assert client.returncode == 0, client.stderr[-2000:]
    record = json.loads(record_file.read_text())
    assert record["traceparent"].endswith("-03")

    run = load_run(Jaeger(), record, SCENARIO)
    result = evaluate(run, SCENARIO, "server_links")
    assert not result.passed
    assert "ROOT spans of other traces" in result.reason, result.reason
    assert "flags 03" in result.reason, result.reason


FAULTED = ["python/sdk", "go/otelgrpc"]  # the session covers every approach; the tests a fast pair


def test_faults_stay_within_bounds(stack, tmp_path):
    """Collector down or a black hole, Milvus down or killed mid-run, a malformed URI: each
    within its bound (conformance/faults.py), and Milvus back after `up`."""
    returncode, output = run_nox("-s", "faults", "--", "--approaches", ",".join(FAULTED), env=dict(os.environ, DEMO_REPORTS_DIR=str(tmp_path)))
    report = json.loads((tmp_path / "faults.json").read_text())
    missed = {f"{a} {name}": cell["problems"] for a, r in report["approaches"].items() for name, cell in r["faults"].items() if cell["problems"]}
    assert not missed, json.dumps(missed, indent=2)
    assert list(report["approaches"]) == FAULTED
    for result in report["approaches"].values():
        assert set(result["faults"]) == {"collector_down", "collector_black_hole", "milvus_down", "milvus_killed", "bad_uri"}
        assert result["faults"]["milvus_killed"]["next_run_exit_status"] == 0
        assert "flush" in result["faults"]["milvus_killed"]["steps_exported"]
    assert returncode == 0, output[-3000:]
    assert stackctl.MILVUS.healthy()


def test_quick_bench_cuts_every_approachs_blocks_and_proves_the_untraced_clients(stack, tmp_path):
    """`nox -s bench -- --quick` over every approach: each client's hot path waits for go, takes
    its turns and ends when told (DEMO_BENCH_CONTROL); its calls fall into the bench's blocks by
    their start; the untraced clients sent no span; both reports say QUICK."""
    returncode, output = run_nox("-s", "bench", "--", "--quick", "--no-stack-starts", env=dict(os.environ, DEMO_REPORTS_DIR=str(tmp_path)))
    assert returncode == 0, output[-3000:]
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["quick"] and list(report["approaches"]) == [a.id for a in APPROACHES]
    rounds = report["settings"]["rounds"]
    for approach, result in report["approaches"].items():
        assert result["rounds"] == rounds, approach
        # A block is lost only when it holds fewer than MIN_CALLS calls per RPC (a stall).
        assert all(found >= rounds - 1 for found in result["blocks"].values()), (approach, result["blocks"])
        for name, comparison in result["comparisons"].items():
            assert set(comparison["rpcs"]) == {"Search", "Query"}, (approach, name)
            assert comparison["cpu_us_per_call"]["b"]["value"] > 0, (approach, name)
        assert result["untraced_checks"] and all(check["passed"] for check in result["untraced_checks"].values()), approach
    assert (tmp_path / "bench.md").read_text().count("QUICK RUN") == 1


@pytest.mark.parametrize("traced", [True, False], ids=["traced-fails", "untraced-passes"])
def test_the_untraced_check_fails_on_a_traced_client(stack, tmp_path, traced):
    """The bench's proof that an untraced client sent nothing (bench/jaeger.py), on a real
    hot path: it fails for a traced client, for both reasons, and passes for an untraced one."""
    approach = find(APPROACHES, "go/otelgrpc")
    assert (approach.folder / approach.run[0]).exists(), "the main job's test builds this client first"
    service = f"{approach.service_name(SCENARIO)}-untraced-check-{traced}"
    record_file = tmp_path / "go.json"
    disabled = {} if traced else {"OTEL_SDK_DISABLED": "true"}
    client = run_client(approach, record_file, OTEL_SERVICE_NAME=service, DEMO_BENCH_REPEAT="200", **disabled)
    assert client.returncode == 0, client.stderr[-2000:]
    calls = json.loads(record_file.read_text())["bench"]["Search"]
    window = (int(calls[0][0]), int(calls[-1][0] + calls[-1][1] * 1000))
    check = check_untraced(service, SCENARIO["server_service"], window[0] - 60_000_000, window[1] + 60_000_000, [window])
    assert check["server_search_spans"] > 0, check
    if traced:
        assert not check["passed"] and check["client_spans"] > 0 and check["server_search_spans_with_parent"] > 0, check
    else:
        assert check["passed"], check


# The Java agent's own option to record gRPC request metadata: it puts the authorization header on every span.
CAPTURE_AUTHORIZATION = {"OTEL_INSTRUMENTATION_GRPC_CLIENT_REQUEST_METADATA_INCLUDED": "authorization"}


def test_capturing_grpc_metadata_leaks_the_token_and_no_credentials_names_it(stack, tmp_path):
    approach = find(APPROACHES, "java/agent")
    token = stackctl.milvus_token()
    assert token, "the stack makes a Milvus user at each start"
    record_file = tmp_path / "java.json"
    client = run_client(approach, record_file, **CAPTURE_AUTHORIZATION)
    assert client.returncode == 0, client.stderr[-2000:]
    assert token not in client.stdout + client.stderr

    run = load_run(Jaeger(), json.loads(record_file.read_text()), SCENARIO)
    run.secrets = [token]
    result = evaluate(run, SCENARIO, "no_credentials")
    assert not result.passed
    assert "'rpc.grpc.request.metadata.authorization'" in result.reason, result.reason
    assert "holds the Milvus token" in result.reason
    assert token not in result.reason and token.split(":")[1] not in result.reason


def assert_nothing_left() -> None:
    assert stackctl.stray_groups() == set()
    taken = {port: stackctl.port_holder(port) for c in stackctl.COMPONENTS for port in c.ports}
    assert {port: holder for port, holder in taken.items() if holder} == {}
    assert stack_command("status", 60) == 3


def test_three_up_down_cycles_leave_nothing_and_keep_the_ports(stack):
    if stack:
        pytest.skip("the stack was running before the tests; leaving it as found")
    assert stack_command("down", 120) == 0
    assert_nothing_left()
    # Right after a stop the old connections are in TIME_WAIT: Milvus must still get its ports.
    for _ in range(3):
        assert stack_command("up", stackctl.MILVUS_START_TIMEOUT_S + 60) == 0
        assert stackctl.MILVUS.healthy() and stackctl.JAEGER.healthy()
        assert stackctl.milvus_token()
        assert stack_command("down", 120) == 0
        assert_nothing_left()
