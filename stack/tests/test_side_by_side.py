"""A second embedded stack on other ports, beside the shared one: one approach per
language and the suite run against it through nox, its traces still there after a
restart (Badger), then stopped with nothing left."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stack.addresses import PORT_DEFAULTS
from stack.processes import port_holder, stray_groups
from stack.tests.ports import side_stack_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
# One per language: each language's client, its build and its OTLP path.
APPROACHES = {"python/sdk": "python(approach='sdk')", "java/agent": "java(approach='agent')",
              "go/otelgrpc": "go(approach='otelgrpc')", "node/zero-code": "node(approach='zero-code')"}
TIMEOUT_S = 30 * 60


def run(command: list[str], env: dict) -> str:
    """Runs a command with its output relayed live (a first build takes minutes); its output."""
    lines = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            lines.append(line)
            print(f"  | {line}", end="", file=sys.__stderr__, flush=True)
    output = "".join(lines)
    assert proc.wait(timeout=TIMEOUT_S) == 0, output[-3000:]
    return output


def outcomes(reports: Path) -> dict[str, dict[str, str]]:
    report = json.loads((reports / "conformance.json").read_text())["approaches"]
    return {approach: {check: row["outcome"] for check, row in report[approach].items()} for approach in APPROACHES}


@pytest.fixture(scope="module")
def other_stack(tmp_path_factory):
    """The environment of a stack with its own state dir and free ports; stopped at the end."""
    state = tmp_path_factory.mktemp("stack")
    env = side_stack_env(state)
    yield env
    subprocess.run([sys.executable, "stack/stackctl.py", "down"], cwd=ROOT, env=env, timeout=120)


def nox(env: dict, reports: Path, *sessions: str) -> dict[str, dict[str, str]]:
    run([sys.executable, "-m", "nox", "--no-color", "-s", *sessions], {**env, "DEMO_REPORTS_DIR": str(reports)})
    return outcomes(reports)


def test_one_approach_per_language_conforms_on_other_ports(other_stack, tmp_path):
    up = run([sys.executable, "stack/stackctl.py", "up"], other_stack)
    assert f"Jaeger API http://127.0.0.1:{other_stack['STACK_JAEGER_QUERY_PORT']}" in up
    result = nox(other_stack, tmp_path, *APPROACHES.values(), "conformance")
    assert all(set(checks.values()) == {"passed"} for checks in result.values()), result
    for approach in APPROACHES:  # written where DEMO_RUNS_DIR says, traced into this stack's Jaeger
        record = json.loads((Path(other_stack["DEMO_RUNS_DIR"]) / f"{approach.replace('/', '-')}.json").read_text())
        assert record["exit_status"] == 0


def test_traces_survive_a_restart(other_stack, tmp_path):
    run([sys.executable, "stack/stackctl.py", "down"], other_stack)
    run([sys.executable, "stack/stackctl.py", "up"], other_stack)
    result = nox(other_stack, tmp_path, "conformance")  # no client runs: the traces come from Badger
    assert all(set(checks.values()) == {"passed"} for checks in result.values()), result


def test_down_leaves_nothing(other_stack):
    run([sys.executable, "stack/stackctl.py", "down"], other_stack)
    state = Path(other_stack["STACK_STATE_DIR"])
    assert stray_groups(state) == set()
    assert [port for variable in PORT_DEFAULTS if port_holder(port := int(other_stack[variable]))] == []
    assert not (state / "state.json").exists()
