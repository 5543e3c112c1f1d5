"""Fixtures of the end-to-end tests (helpers: e2e.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.tests.e2e import nox_on_path, run_nox, stack_command, without_pythonpath
from stack.components import MILVUS_START_TIMEOUT_S
from stack.installs import JAEGER_BUILD_TIMEOUT_S


@pytest.fixture(scope="session")
def stack():
    """Starts the stack; stops it at the end unless it was running before. Yields whether it was."""
    was_running = stack_command("status", 60) == 0
    assert stack_command("up", JAEGER_BUILD_TIMEOUT_S + MILVUS_START_TIMEOUT_S + 60) == 0
    yield was_running
    if not was_running:
        stack_command("down", 120)


@dataclass(frozen=True)
class MainJob:
    returncode: int
    output: str
    reports: Path


@pytest.fixture(scope="session")
def main_job(stack, tmp_path_factory) -> MainJob:
    """The main job as most people start it, plain `nox` from the project's folder, once: it
    builds every approach's client, which the tests that run one then use."""
    reports = tmp_path_factory.mktemp("main-job-reports")
    returncode, output = run_nox(env={**without_pythonpath(), "DEMO_REPORTS_DIR": str(reports)}, nox=nox_on_path())
    return MainJob(returncode, output, reports)
