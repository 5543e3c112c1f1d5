"""Collects the conformance matrix and each approach's run, and writes the report
(reports/conformance.json, .md, .html) at the end of the session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance import report
from conformance.approaches import Approach, load_all
from conformance.runs import Run, load_scenario
from stack.addresses import jaeger_api_url

REPORTS_DIR = Path(os.environ.get("DEMO_REPORTS_DIR", Path(__file__).resolve().parent.parent / "reports"))


class Results:
    def __init__(self):
        self.rows: dict[str, dict[str, dict]] = {}
        self.runs: dict[str, Run | None] = {}

    def add(self, approach: Approach, check: str, outcome: str, reason: str) -> None:
        self.rows.setdefault(approach.id, {})[check] = {"outcome": outcome, "reason": reason}

    def add_run(self, approach: Approach, run: Run | None) -> None:
        self.runs[approach.id] = run


_results = Results()


@pytest.fixture(scope="session")
def conformance_results() -> Results:
    return _results


def pytest_terminal_summary(terminalreporter):
    if not _results.rows:
        return
    paths = report.write(REPORTS_DIR, _results.rows, _results.runs, load_all(), load_scenario(), jaeger_api_url())
    terminalreporter.section("conformance matrix")
    for approach, checks in _results.rows.items():
        outcomes = [c["outcome"] for c in checks.values()]
        if "not run" in outcomes:
            verdict = "not run"
        elif all(o == "passed" for o in outcomes):
            verdict = f"passed ({len(outcomes)} checks)"
        else:
            failed = [name for name, c in checks.items() if c["outcome"] == "failed"]
            verdict = f"FAILED: {', '.join(failed)}"
        terminalreporter.write_line(f"{approach:20} {verdict}")
    for path in paths:
        terminalreporter.write_line(f"written to {path}")
