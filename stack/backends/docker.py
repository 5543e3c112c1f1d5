"""The docker backend (STACK_BACKEND=docker): stack/docker-compose.yaml, on the ports of
the same STACK_* variables."""

from __future__ import annotations

import shutil
import subprocess

from stack import state
from stack.addresses import STACK_DIR, StackError, port_env
from stack.components import MILVUS_START_TIMEOUT_S, components
from stack.processes import say, wait_until

COMPOSE_FILE = STACK_DIR / "docker-compose.yaml"


def docker_compose(*args: str, timeout_s: int = 600) -> None:
    if not shutil.which("docker"):
        raise StackError(
            "STACK_BACKEND=docker needs Docker, but `docker` is not on PATH; unset STACK_BACKEND to use the embedded stack"
        )
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    if info.returncode != 0:
        raise StackError(
            "STACK_BACKEND=docker needs a running Docker engine, but `docker info` cannot reach one; "
            "unset STACK_BACKEND to use the embedded stack"
        )
    cmd = ["docker", "compose", "-f", str(COMPOSE_FILE), *args]
    say("$ " + " ".join(cmd))
    try:
        result = subprocess.run(cmd, timeout=timeout_s, env=port_env())
    except subprocess.TimeoutExpired:
        raise StackError(f"`{' '.join(cmd)}` took longer than {timeout_s} s") from None
    if result.returncode != 0:
        raise StackError(f"`{' '.join(cmd)}` failed with exit code {result.returncode}")


def up() -> None:
    docker_compose("up", "-d")
    for component in components():
        took = wait_until(component.name, component.healthy, MILVUS_START_TIMEOUT_S)
        say(f"{component.name} ready in {took:.1f} s")
    state.save({"backend": "docker"})


def down() -> None:
    docker_compose("down")  # volumes stay, as the embedded stack's data: traces outlive a restart
    state.clear()
