"""stackctl's answers to bad input: one line on stderr and a non-zero exit."""

from __future__ import annotations

import fcntl
import socket
import subprocess
import sys
from pathlib import Path

from stack.tests.ports import free_ports

STACKCTL = Path(__file__).resolve().parent.parent / "stackctl.py"


def stackctl(*args: str, env: dict | None = None, state_dir: Path | None = None) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin", **(env or {})}
    if state_dir:
        environment["STACK_STATE_DIR"] = str(state_dir)
    return subprocess.run([sys.executable, str(STACKCTL), *args], capture_output=True, text=True, env=environment, timeout=60)


def test_unknown_command_prints_usage():
    result = stackctl("start")
    assert result.returncode == 2
    assert result.stderr.strip() == "usage: python stack/stackctl.py {up|down|status|rotate}"


def test_unknown_backend_is_one_line(tmp_path):
    result = stackctl("up", env={"STACK_BACKEND": "k8s"}, state_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "stack: error: unknown STACK_BACKEND='k8s'; use 'embedded' (default), 'docker' or 'external'"
    ]


def test_a_port_that_is_not_a_number_is_one_line(tmp_path):
    result = stackctl("status", env={"STACK_OTLP_GRPC_PORT": "43l7"}, state_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["stack: error: STACK_OTLP_GRPC_PORT='43l7' is not a TCP port number"]


def test_status_names_the_ports_it_was_given(tmp_path):
    result = stackctl("status", env={"STACK_MILVUS_PORT": "29530", "STACK_JAEGER_QUERY_PORT": "26686"}, state_dir=tmp_path)
    assert "29530 Milvus gRPC" in result.stdout and "26686 Jaeger query API" in result.stdout


def test_external_backend_names_what_does_not_answer_in_one_line(tmp_path):
    env = {"STACK_BACKEND": "external", "MILVUS_URI": "http://127.0.0.1:9", "JAEGER_API_URL": "http://127.0.0.1:9"}
    result = stackctl("up", env=env, state_dir=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("stack: error: Jaeger's query API does not answer at JAEGER_API_URL=http://127.0.0.1:9; ")
    assert "nothing accepts connections at MILVUS_URI=http://127.0.0.1:9 (" in line
    assert "nothing of ours to stop" in stackctl("down", env=env, state_dir=tmp_path).stdout


def test_docker_backend_without_an_engine_is_one_line(tmp_path):
    result = stackctl("up", env={"STACK_BACKEND": "docker"}, state_dir=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("stack: error: STACK_BACKEND=docker needs")


def test_taken_port_is_named_in_one_line(tmp_path):
    # Hold the OTLP port ourselves, unless a running stack already holds it: either way it is taken.
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 4317))
        holder.listen()
    except OSError:
        pass
    try:
        result = stackctl("up", state_dir=tmp_path)
    finally:
        holder.close()
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("stack: error: port 4317 (OTLP gRPC) is already taken by ")


def test_status_of_a_stack_never_started(tmp_path):
    result = stackctl("status", state_dir=tmp_path)
    assert "no process of ours" in result.stdout


def test_a_second_up_waits_for_the_first(tmp_path):
    """Two ups at once would both build Jaeger and create the Milvus venv; the second waits."""
    with open(tmp_path / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        environment = {"PATH": "/usr/bin:/bin", "STACK_STATE_DIR": str(tmp_path), "STACK_BACKEND": "k8s"}
        second = subprocess.Popen([sys.executable, str(STACKCTL), "up"], stdout=subprocess.PIPE, text=True, env=environment)
        try:
            assert "another `stackctl.py up` or `down` is running; waiting" in second.stdout.readline()
            assert second.poll() is None
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        # Once the lock is free it goes on, here to the unknown backend's one line.
        assert second.wait(timeout=30) == 1
        second.stdout.close()


PORT_VARIABLES = (
    "STACK_OTLP_GRPC_PORT", "STACK_OTLP_HTTP_PORT", "STACK_JAEGER_QUERY_PORT", "STACK_JAEGER_GRPC_PORT",
    "STACK_MILVUS_PORT", "STACK_MILVUS_HEALTH_PORT", "STACK_ETCD_PORT", "STACK_ETCD_PEER_PORT",
)


def test_every_port_is_checked_before_anything_starts(tmp_path):
    """Milvus's port taken: `up` says so before it builds or starts Jaeger, the first component."""
    ports = dict(zip(PORT_VARIABLES, free_ports(len(PORT_VARIABLES))))
    holder = socket.socket()
    holder.bind(("127.0.0.1", ports["STACK_MILVUS_PORT"]))
    holder.listen()
    try:
        result = stackctl("up", env={name: str(port) for name, port in ports.items()}, state_dir=tmp_path)
    finally:
        holder.close()
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"stack: error: port {ports['STACK_MILVUS_PORT']} (Milvus gRPC) is already taken by ")
    assert not (tmp_path / "logs" / "jaeger.log").exists() and not (tmp_path / "bin").exists()
