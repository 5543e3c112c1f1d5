"""A refused MILVUS_TOKEN, a missing one, and a MILVUS_URI that holds a password, against the
real stack (authorization on): every client says which, in the same one line, exits with the
same status, never prints the token nor the password, and does not claim that Milvus is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.approaches import find
from conformance.runner import Outcome
from conformance.tests.e2e import APPROACHES, run_client, text
from stack.addresses import milvus_token, port

pytestmark = pytest.mark.e2e
# Every approach: the 24 runs take about 26 s here (2 cores), most of it the JVMs' and Node's starts.
TRIED = [approach.id for approach in APPROACHES]

REFUSED = "Milvus refused the credentials in MILVUS_TOKEN; the stack's are in .stack/milvus-token"
MISSING = "Milvus requires credentials: MILVUS_TOKEN is not set; the stack's are in .stack/milvus-token"
MALFORMED = "MILVUS_URI is malformed: want http(s)://host:port or host:port, e.g. http://127.0.0.1:19530"
UNREACHABLE = "cannot reach Milvus"
PASSWORD = "s3cret-pw"


@pytest.fixture(scope="module")
def token(main_job):
    """The stack's token; the main job has built every client."""
    token = milvus_token()
    assert token, "the stack makes the demo's Milvus user at its first start"
    return token


def run(approach, tmp_path: Path, **overrides: str) -> tuple[Outcome, dict, str]:
    """The client with some settings changed: its outcome, its run record, all it said."""
    record_file = tmp_path / f"{approach.slug}.json"
    client = run_client(approach, record_file, **overrides)
    record_text = record_file.read_text() if record_file.exists() else ""
    assert record_text, f"no run record; stderr: {text(client.stderr)[-2000:]}"
    return client, json.loads(record_text), text(client.stdout + client.stderr) + record_text


def assert_says(client: Outcome, record: dict, line: str, status: int) -> None:
    """The line is the run's error, printed once on stderr (after the language's usual prefix, if any)."""
    stderr = text(client.stderr)
    assert record["error"] == line, stderr[-2000:]
    assert record["exit_status"] == status
    assert client.exit_status == status, stderr[-2000:]
    said = [printed for printed in client.stderr if line in printed]
    assert len(said) == 1 and said[0].endswith(line), stderr[-2000:]


@pytest.mark.parametrize("approach_id", TRIED)
def test_a_wrong_token_is_named_as_refused(approach_id, token, tmp_path):
    approach = find(APPROACHES, approach_id)
    wrong = f"{token.split(':')[0]}:not-the-{PASSWORD}"
    client, record, said = run(approach, tmp_path, MILVUS_TOKEN=wrong)
    assert_says(client, record, REFUSED, 1)
    assert UNREACHABLE not in said
    for secret in (wrong, wrong.split(":", 1)[1], PASSWORD, token, token.split(":", 1)[1]):
        assert secret not in said


@pytest.mark.parametrize("approach_id", TRIED)
def test_no_token_is_named_as_missing(approach_id, token, tmp_path):
    approach = find(APPROACHES, approach_id)
    client, record, said = run(approach, tmp_path, MILVUS_TOKEN="")
    assert_says(client, record, MISSING, 1)
    assert UNREACHABLE not in said
    assert token.split(":", 1)[1] not in said


@pytest.mark.parametrize("approach_id", TRIED)
def test_a_uri_with_a_password_is_never_echoed(approach_id, token, tmp_path):
    approach = find(APPROACHES, approach_id)
    client, record, said = run(approach, tmp_path, MILVUS_URI=f"http://demo:{PASSWORD}@127.0.0.1:{port('STACK_MILVUS_PORT')}")
    assert_says(client, record, MALFORMED, 2)
    assert UNREACHABLE not in said
    for secret in (PASSWORD, token, token.split(":", 1)[1]):
        assert secret not in said
