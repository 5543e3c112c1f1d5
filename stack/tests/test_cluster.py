"""The cluster stack (STACK_MILVUS_MODE=cluster) from an empty state dir on free ports:
etcd, Kafka and Milvus's roles as separate processes, one approach per language and the
suite against it, the proxy and a query node in Jaeger, then stopped with nothing left."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from stack import cluster_plan
from stack.addresses import PORT_DEFAULTS
from stack.processes import port_holder, stray_groups
from stack.tests.ports import side_stack_env
from stack.tests.test_side_by_side import APPROACHES, outcomes, run

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster_stack(tmp_path_factory):
    """The environment of a cluster stack with its own state dir and free ports; stopped at the end."""
    state = tmp_path_factory.mktemp("cluster")
    env = side_stack_env(state, STACK_MILVUS_MODE="cluster")
    yield env
    subprocess.run([sys.executable, "stack/stackctl.py", "down"], cwd=ROOT, env=env, timeout=180)


def test_one_approach_per_language_conforms_against_the_cluster(cluster_stack, tmp_path):
    up = run([sys.executable, "stack/stackctl.py", "up"], cluster_stack)
    for process in cluster_plan.processes():
        assert f"{process.name} ready in" in up
    result = run([sys.executable, "-m", "nox", "--no-color", "-s", *APPROACHES.values(), "conformance"],
                 {**cluster_stack, "DEMO_REPORTS_DIR": str(tmp_path)})
    checks = outcomes(tmp_path)
    assert all(set(row.values()) == {"passed"} for row in checks.values()), checks
    assert all("reaches_query_node" in row for row in checks.values()), result[-2000:]
    api = f"http://127.0.0.1:{cluster_stack['STACK_JAEGER_QUERY_PORT']}/api/services"
    with urllib.request.urlopen(api, timeout=10) as response:
        services = set(json.load(response)["data"])
    assert {"proxy", "querynode"} <= services, services


def test_down_stops_every_process_of_the_cluster(cluster_stack):
    run([sys.executable, "stack/stackctl.py", "down"], cluster_stack)
    state = Path(cluster_stack["STACK_STATE_DIR"])
    assert stray_groups(state) == set()
    assert [port for variable in PORT_DEFAULTS if port_holder(port := int(cluster_stack[variable]))] == []
    # Kafka runs as `java -cp <state dir>/...`: found by its command line, not its program's path.
    assert [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and str(state) in command_line(p)] == []
    assert not (state / "state.json").exists()


def command_line(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""
