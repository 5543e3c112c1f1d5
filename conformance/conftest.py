"""Collects the conformance matrix and writes it to reports/conformance.json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPORTS_DIR = Path(os.environ.get("DEMO_REPORTS_DIR", Path(__file__).resolve().parent.parent / "reports"))


class Results:
    def __init__(self):
        self.rows: dict[str, dict[str, dict]] = {}

    def add(self, language: str, check: str, outcome: str, reason: str) -> None:
        self.rows.setdefault(language, {})[check] = {"outcome": outcome, "reason": reason}


_results = Results()


@pytest.fixture(scope="session")
def conformance_results() -> Results:
    return _results


def pytest_terminal_summary(terminalreporter):
    if not _results.rows:
        return
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    path = REPORTS_DIR / "conformance.json"
    path.write_text(json.dumps({"languages": _results.rows}, indent=2) + "\n")
    terminalreporter.section("conformance matrix")
    for language, checks in _results.rows.items():
        outcomes = [c["outcome"] for c in checks.values()]
        if "not run" in outcomes:
            verdict = "not run"
        elif all(o == "passed" for o in outcomes):
            verdict = f"passed ({len(outcomes)} checks)"
        else:
            failed = [name for name, c in checks.items() if c["outcome"] == "failed"]
            verdict = f"FAILED: {', '.join(failed)}"
        terminalreporter.write_line(f"{language:8} {verdict}")
    terminalreporter.write_line(f"written to {path}")
