"""Fixtures of the conformance suite. The matrix it collects lives on the pytest config's
stash; at the end of the session the report (conformance/report/) is written from it."""

from __future__ import annotations

import pytest

from conformance import report
from conformance.approaches import load_all
from conformance.paths import REPORTS_DIR
from conformance.runs import load_scenario
from stack.addresses import jaeger_api_url

RESULTS = pytest.StashKey[report.Results]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RESULTS] = report.Results()


@pytest.fixture(scope="session")
def conformance_results(pytestconfig: pytest.Config) -> report.Results:
    return pytestconfig.stash[RESULTS]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    results = terminalreporter.config.stash[RESULTS]
    if not results.rows:
        return
    paths = report.write(REPORTS_DIR, results.rows, results.runs, load_all(), load_scenario(), jaeger_api_url())
    terminalreporter.section("conformance matrix")
    for line in report.summary(results.rows):
        terminalreporter.write_line(line)
    for path in paths:
        terminalreporter.write_line(f"written to {path}")
