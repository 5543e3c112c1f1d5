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


def test_main_job_conforms_in_every_approach(stack, tmp_path):
    env = dict(os.environ, DEMO_REPORTS_DIR=str(tmp_path))
    command = ["timeout", str(MAIN_JOB_TIMEOUT_S), sys.executable, "-m", "nox", "--no-color"]
    lines = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as nox:
        for line in nox.stdout:  # relayed as it comes: the first run builds for minutes
            lines.append(line)
            print(f"  | {line}", end="", file=sys.__stderr__, flush=True)
    output = "".join(lines)
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
    assert nox.returncode == 0, output[-3000:]


def test_unplugged_link_fails_and_names_the_cause(stack, tmp_path):
    """OTel Python's default id generator (traceparent flags 03) must break the link, visibly:
    the zero-code approach as the main job built it, with its one fix undone by a setting."""
    approach = find(APPROACHES, "python/zero-code")
    venv_bin = ROOT / ".nox" / "python-approach-zero-code" / "bin"
    assert venv_bin.is_dir(), "the main job's test builds this virtualenv first"
    record_file = tmp_path / "python.json"
    env = dict(
        os.environ,
        PATH=f"{venv_bin}:{os.environ['PATH']}",
        MILVUS_URI=stackctl.MILVUS_URI,
        OTEL_SERVICE_NAME=approach.service_name(SCENARIO),
        OTEL_EXPORTER_OTLP_ENDPOINT=stackctl.OTLP_GRPC_ENDPOINT,
        DEMO_APPROACH=approach.name,
        DEMO_RUN_RECORD=str(record_file),
        **{**approach.env, "OTEL_PYTHON_ID_GENERATOR": "random"},
    )
    client = subprocess.run(approach.run, cwd=approach.folder, env=env, capture_output=True, text=True, timeout=300)
    assert client.returncode == 0, client.stderr[-2000:]
    record = json.loads(record_file.read_text())
    assert record["traceparent"].endswith("-03")

    run = load_run(Jaeger(), record, SCENARIO)
    result = evaluate(run, SCENARIO, "server_links")
    assert not result.passed
    assert "ROOT spans of other traces" in result.reason, result.reason
    assert "flags 03" in result.reason, result.reason


def assert_nothing_left() -> None:
    assert stackctl.stray_groups() == set()
    taken = {port: stackctl.port_holder(port) for c in stackctl.COMPONENTS for port in c.ports}
    assert {port: holder for port, holder in taken.items() if holder} == {}
    assert stack_command("status", 60) == 3


def test_down_leaves_nothing_and_a_quick_restart_keeps_the_ports(stack):
    if stack:
        pytest.skip("the stack was running before the tests; leaving it as found")
    assert stack_command("down", 120) == 0
    assert_nothing_left()
    # Right after a stop the old connections are in TIME_WAIT: Milvus must still get 19530 and 9091.
    assert stack_command("up", stackctl.MILVUS_START_TIMEOUT_S + 60) == 0
    assert stackctl.MILVUS.healthy()
    assert stack_command("down", 120) == 0
    assert_nothing_left()
