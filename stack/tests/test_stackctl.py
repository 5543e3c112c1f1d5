"""stackctl's answers to bad input: one line on stderr and a non-zero exit."""

from __future__ import annotations

import fcntl
import socket
import subprocess
import sys
from pathlib import Path

STACKCTL = Path(__file__).resolve().parent.parent / "stackctl.py"


def stackctl(*args: str, env: dict | None = None, state_dir: Path | None = None) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin", **(env or {})}
    if state_dir:
        environment["STACK_STATE_DIR"] = str(state_dir)
    return subprocess.run([sys.executable, str(STACKCTL), *args], capture_output=True, text=True, env=environment, timeout=60)


def test_unknown_command_prints_usage():
    result = stackctl("start")
    assert result.returncode == 2
    assert result.stderr.strip() == "usage: python stack/stackctl.py {up|down|status}"


def test_unknown_backend_is_one_line(tmp_path):
    result = stackctl("up", env={"STACK_BACKEND": "k8s"}, state_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "stack: error: unknown STACK_BACKEND='k8s'; use 'embedded' (default) or 'docker'"
    ]


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
