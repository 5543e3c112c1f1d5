"""A malformed DEMO_* setting is a usage error in every client: the same one line (the run's
error, on stderr after the language's usual prefix), exit status 2, before connecting (no
Milvus at MILVUS_URI is needed). The clients are those the main job built."""

from __future__ import annotations

import json

import pytest

from conformance.approaches import find
from conformance.tests.e2e import APPROACHES, run_client, text

pytestmark = pytest.mark.e2e
NOWHERE = "http://127.0.0.1:1"  # nothing listens: a client that got as far as connecting would say so
BAD = {
    "DEMO_BENCH_REPEAT": ("abc", "DEMO_BENCH_REPEAT='abc' is not a whole number >= 0"),
    "DEMO_LOAD_CONCURRENCY": ("0", "DEMO_LOAD_CONCURRENCY='0' is not a whole number >= 1"),
    "DEMO_PAUSE_S": ("soon", "DEMO_PAUSE_S='soon' is not a number of seconds >= 0"),
}


@pytest.mark.parametrize("variable", sorted(BAD))
@pytest.mark.parametrize("approach_id", [approach.id for approach in APPROACHES])
def test_a_bad_setting_is_one_line_and_exit_status_2(approach_id, variable, main_job, tmp_path):
    approach = find(APPROACHES, approach_id)
    value, line = BAD[variable]
    record_file = tmp_path / f"{approach.slug}.json"
    client = run_client(approach, record_file, MILVUS_URI=NOWHERE, **{variable: value})
    assert client.exit_status == 2, text(client.stderr)[-2000:]
    record = json.loads(record_file.read_text())
    assert (record["exit_status"], record["error"]) == (2, line)
    said = [printed for printed in client.stderr if line in printed]
    assert len(said) == 1 and said[0].endswith(line), text(client.stderr)[-2000:]
    assert "cannot reach Milvus" not in text(client.stdout + client.stderr)
