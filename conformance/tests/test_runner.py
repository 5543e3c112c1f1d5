"""The client runner (conformance/runner.py): the environment each purpose gives a client,
and one run of it (a `python3 -c` stands in for a client)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conformance import runs
from conformance.approaches import Approach, find, load_all
from conformance.paths import RUNS_DIR, SCENARIO_FILE
from conformance.runner import Launch, inherited, launch, run
from stack.addresses import milvus_uri, otlp_grpc_endpoint

CALLER = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/someone",
    "OTEL_SDK_DISABLED": "true",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://elsewhere:4317",
    "DEMO_BENCH_CONTROL": "/tmp/control",
    "DEMO_RUNS_DIR": "/tmp/runs",
    "JAVA_TOOL_OPTIONS": "-javaagent:other.jar",
    "NODE_OPTIONS": "--require other",
}


def demo(tmp_path: Path, **fields) -> Approach:
    return Approach(
        **{
            "language": "demo", "name": "one", "folder": tmp_path, "order": 1, "requires": [], "description": "d",
            "run": ["demo-client"], "link_fix": "", "untraced_switch": "", "env": {"OTEL_TRACES_EXPORTER": "otlp"},
            **fields,
        }
    )


@pytest.fixture
def token_file(monkeypatch):
    """The embedded stack's token file holds file:token."""
    monkeypatch.setattr(runs, "milvus_token", lambda: "file:token")


def test_inherited_drops_what_only_the_purpose_decides():
    assert inherited(CALLER) == {"PATH": "/usr/bin:/bin", "HOME": "/home/someone"}
    assert inherited({"MILVUS_TOKEN": "u:p", "MILVUS_URI": "http://x"}) == {"MILVUS_URI": "http://x"}


def test_the_token_of_the_environment_wins_over_the_token_file(token_file, monkeypatch):
    assert runs.token({"MILVUS_TOKEN": "env:token"}) == "env:token"
    assert runs.token({}) == "file:token"
    monkeypatch.setattr(runs, "milvus_token", lambda: None)
    assert runs.token({}) is None


def test_the_normal_run_gets_the_settings_of_every_client(tmp_path, token_file):
    client = launch(demo(tmp_path), environ=CALLER)
    assert (client.command, client.cwd, client.record) == (["demo-client"], tmp_path, RUNS_DIR / "demo-one.json")
    assert client.env == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/someone",
        "MILVUS_URI": milvus_uri(),
        "MILVUS_TOKEN": "file:token",
        "OTEL_SERVICE_NAME": "milvus-client-demo-one",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_grpc_endpoint(),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_TRACES_EXPORTER": "otlp",
        "DEMO_APPROACH": "one",
        "DEMO_SCENARIO": str(SCENARIO_FILE),
        "DEMO_RUN_RECORD": str(RUNS_DIR / "demo-one.json"),
    }
    assert launch(demo(tmp_path), environ={**CALLER, "MILVUS_TOKEN": "env:token"}).env["MILVUS_TOKEN"] == "env:token"
    assert launch(demo(tmp_path), environ={**CALLER, "MILVUS_TOKEN": ""}).env["MILVUS_TOKEN"] == "file:token"


def test_untraced_takes_the_approachs_untraced_run_and_env(tmp_path, token_file):
    record = tmp_path / "u.json"
    default = launch(demo(tmp_path), record, untraced=True, environ=CALLER)
    assert default.command == ["demo-client"] and default.env["OTEL_SDK_DISABLED"] == "true"
    agent = find(load_all(), "java/agent")
    untraced = launch(agent, record, untraced=True, environ=CALLER)
    assert untraced.command == agent.untraced_run and "OTEL_SDK_DISABLED" not in untraced.env
    assert launch(agent, record, environ=CALLER).command == agent.run


def test_a_matrix_cell_runs_under_its_own_name_command_and_settings(tmp_path, token_file):
    cell = tmp_path / "cell"
    client = launch(
        demo(tmp_path), tmp_path / "r.json", name="one-matrix", command=["venv/bin/python", "cell.py"], cwd=cell,
        env={"MATRIX_FIX": "1", "OTEL_TRACES_EXPORTER": None},
        environ=CALLER,
    )
    assert (client.command, client.cwd) == (["venv/bin/python", "cell.py"], cell)
    assert client.env["OTEL_SERVICE_NAME"] == "milvus-client-demo-one-matrix" and client.env["DEMO_APPROACH"] == "one-matrix"
    assert client.env["MATRIX_FIX"] == "1" and "OTEL_TRACES_EXPORTER" not in client.env


def test_a_test_runs_overrides_win_over_everything_but_the_record(tmp_path, token_file):
    record = tmp_path / "t.json"
    overrides = {"MILVUS_TOKEN": "old:token", "OTEL_TRACES_EXPORTER": "none", "DEMO_RUN_RECORD": "elsewhere"}
    client = launch(demo(tmp_path), record, venv=tmp_path / "bin", env=overrides, environ=CALLER)
    assert client.env["MILVUS_TOKEN"] == "old:token" and client.env["OTEL_TRACES_EXPORTER"] == "none"
    assert client.env["DEMO_RUN_RECORD"] == str(record)
    assert client.env["PATH"] == f"{tmp_path / 'bin'}:/usr/bin:/bin"


CLIENT = """
import json, os, sys
print("first"); print("second", flush=True); print("oops", file=sys.stderr)
json.dump({"exit_status": 3}, open(os.environ["DEMO_RUN_RECORD"], "w"))
sys.exit(3)
"""


def python(tmp_path: Path, code: str) -> Launch:
    record = tmp_path / "records" / "run.json"
    return Launch([sys.executable, "-c", code], tmp_path, {"DEMO_RUN_RECORD": str(record)}, record)


def test_run_captures_the_output_the_exit_status_and_the_run_record(tmp_path):
    seen = []
    outcome = run(python(tmp_path, CLIENT), 30, on_line=seen.append)
    assert (outcome.exit_status, outcome.stdout, outcome.stderr) == (3, ["first", "second"], ["oops"])
    assert outcome.record == {"exit_status": 3} and not outcome.timed_out and 0 < outcome.wall_s < 30
    assert seen == ["first", "second"]


def test_run_removes_an_old_record_and_kills_the_client_at_the_deadline(tmp_path):
    client = python(tmp_path, "import time; print('started', flush=True); time.sleep(60)")
    client.record.parent.mkdir()
    client.record.write_text(json.dumps({"exit_status": 0}))
    outcome = run(client, 0.5)
    assert outcome.timed_out and outcome.exit_status < 0 and outcome.wall_s < 10
    assert outcome.record is None and outcome.stdout == ["started"]
