"""What the end-to-end tests share: running nox, stackctl and one approach's client as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conformance.approaches import load_all
from conformance.runs import load_scenario
from stack.addresses import milvus_token, milvus_uri, otlp_grpc_endpoint

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = load_scenario()
APPROACHES = load_all()
STACKCTL = [sys.executable, str(ROOT / "stack" / "stackctl.py")]
MAIN_JOB_TIMEOUT_S = 60 * 60
PYTHON_M_NOX = (sys.executable, "-m", "nox")


def stack_command(command: str, timeout_s: int) -> int:
    """Runs stackctl with its progress shown live (a first start builds Jaeger for minutes)."""
    return subprocess.run([*STACKCTL, command], timeout=timeout_s, stdout=sys.__stderr__, stderr=sys.__stderr__).returncode


def nox_on_path() -> tuple[str]:
    """The `nox` console script, as most people run it (the tests session installs it)."""
    script = shutil.which("nox")
    assert script, "no `nox` on PATH"
    return (script,)


def without_pythonpath() -> dict:
    """The environment a user has: nothing makes the project importable but the noxfile."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def run_nox(*args: str, env: dict, nox: tuple[str, ...] = PYTHON_M_NOX) -> tuple[int, str]:
    """`python -m nox ARGS` (or another `nox`), its output relayed as it comes (a first run builds for minutes)."""
    command = ["timeout", str(MAIN_JOB_TIMEOUT_S), *nox, "--no-color", *args]
    lines = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            lines.append(line)
            print(f"  | {line}", end="", file=sys.__stderr__, flush=True)
    return process.returncode, "".join(lines)


def venv_bin(approach) -> Path:
    """Where the approach's nox session installed it (Python approaches): .nox/<session>/bin."""
    return ROOT / ".nox" / f"{approach.language}-approach-{approach.name}" / "bin"


def run_client(approach, record_file: Path, **overrides: str) -> subprocess.CompletedProcess:
    """One approach's client as its nox session runs it (built by the main job), with some
    settings changed (any of them)."""
    env = {
        **os.environ,
        "MILVUS_URI": milvus_uri(),
        "MILVUS_TOKEN": milvus_token() or "",
        "OTEL_SERVICE_NAME": approach.service_name(SCENARIO),
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_grpc_endpoint(),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",  # the Java agent's default is http/protobuf
        "DEMO_APPROACH": approach.name,
        "DEMO_RUN_RECORD": str(record_file),
        **({"PATH": f"{venv_bin(approach)}:{os.environ['PATH']}"} if approach.install else {}),
        **approach.env,
        **overrides,
    }
    return subprocess.run(approach.run, cwd=approach.folder, env=env, capture_output=True, text=True, timeout=300)
