"""The conformance suite: each language's last run, read back from Jaeger, against
the scenario contract. One test per (language, check), so the output is a matrix.

Run it with `nox -s conformance` after one or more client sessions."""

from __future__ import annotations

import pytest
from jaeger import RUNS_DIR, Jaeger, JaegerUnreachable, load_run, read_record
from traces import CHECKS, Checker, load_scenario

SCENARIO = load_scenario()


@pytest.fixture(scope="session")
def jaeger() -> Jaeger:
    client = Jaeger()
    try:
        client.check_reachable()
    except JaegerUnreachable as error:
        pytest.exit(str(error), returncode=2)
    return client


@pytest.fixture(scope="session")
def runs(jaeger, conformance_results):
    """Each language's run, fetched once, shared by its checks and kept for the report."""
    cache = {}

    def get(language: str):
        if language not in cache:
            record = read_record(language)
            cache[language] = record and load_run(jaeger, record, SCENARIO)
            conformance_results.add_run(language, cache[language])
        return cache[language]

    return get


@pytest.mark.parametrize(
    "language,check",
    [(language, check) for language in SCENARIO["languages"] for check in CHECKS],
    ids=lambda value: value,
)
def test_conformance(language, check, runs, conformance_results):
    run = runs(language)
    if run is None:
        reason = f"not run: no run record {RUNS_DIR / (language + '.json')}; `nox -s {language}` makes one"
        conformance_results.add(language, check, "not run", reason)
        pytest.skip(reason)
    result = Checker(run, SCENARIO).check(check)
    conformance_results.add(language, check, "passed" if result.passed else "failed", result.reason)
    if not result.passed:
        pytest.fail(result.reason, pytrace=False)
