"""The conformance suite: each approach's last run, read back from Jaeger, against
the scenario contract. One test per (approach, check), so the output is a matrix.

Run it with `nox -s conformance` after one or more client sessions."""

from __future__ import annotations

import pytest

from conformance.approaches import load_all
from conformance.checks import CHECKS, evaluate
from conformance.jaeger import Jaeger, JaegerUnreachable, load_run
from conformance.runs import known_secrets, load_scenario, read_record, record_path

SCENARIO = load_scenario()
APPROACHES = load_all()


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
    """Each approach's run, fetched once, shared by its checks and kept for the report."""
    cache = {}

    def get(approach):
        if approach.id not in cache:
            record = read_record(approach)
            cache[approach.id] = record and load_run(jaeger, record, SCENARIO)
            if cache[approach.id]:
                cache[approach.id].secrets = known_secrets()
            conformance_results.add_run(approach, cache[approach.id])
        return cache[approach.id]

    return get


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("approach", APPROACHES, ids=lambda approach: approach.id)
def test_conformance(approach, check, runs, conformance_results):
    run = runs(approach)
    if run is None:
        reason = f"not run: no run record {record_path(approach)}; `nox -s \"{approach.session()}\"` makes one"
        conformance_results.add(approach, check, "not run", reason)
        pytest.skip(reason)
    result = evaluate(run, SCENARIO, check)
    conformance_results.add(approach, check, "passed" if result.passed else "failed", result.reason)
    if not result.passed:
        pytest.fail(result.reason, pytrace=False)
