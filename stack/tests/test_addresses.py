"""Import safety: a bad STACK_*_PORT never ends the process that imports the stack's
modules; it is one clear error where the port is used, and one line from the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stack import addresses, supervisor
from stack.addresses import StackError
from stack.components import jaeger

ROOT = Path(__file__).resolve().parents[2]
BAD_PORT = "STACK_MILVUS_PORT='abc' is not a TCP port number"


def test_importing_every_module_with_a_bad_port_does_not_exit(tmp_path):
    modules = "stack.addresses, stack.supervisor, stack.stackctl, conformance.jaeger, conformance.runs"
    env = {"PATH": "/usr/bin:/bin", "STACK_MILVUS_PORT": "abc", "STACK_STATE_DIR": str(tmp_path)}
    code = f"import {modules}; print('imported')"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "imported\n", "")


def test_a_bad_port_raises_one_line_where_it_is_used(monkeypatch):
    monkeypatch.setenv("STACK_MILVUS_PORT", "abc")
    monkeypatch.delenv("STACK_BACKEND", raising=False)
    for use in (lambda: addresses.port("STACK_MILVUS_PORT"), addresses.ports, addresses.local_milvus_uri, supervisor.status):
        with pytest.raises(StackError) as raised:
            use()
        assert str(raised.value) == BAD_PORT


def test_a_bad_port_that_is_not_used_is_not_read(monkeypatch):
    monkeypatch.setenv("STACK_MILVUS_PORT", "abc")
    monkeypatch.setenv("MILVUS_URI", "http://milvus.example:19530")
    assert addresses.milvus_uri() == "http://milvus.example:19530"


@pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", ""])
def test_the_cli_names_a_bad_port_in_one_line_and_starts_nothing(value, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "STACK_MILVUS_PORT": value, "STACK_STATE_DIR": str(tmp_path)}
    stackctl = ROOT / "stack" / "stackctl.py"
    result = subprocess.run([sys.executable, stackctl, "up"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"stack: error: STACK_MILVUS_PORT={value!r} is not a TCP port number"]
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "variable, value, line",
    [
        ("STACK_TAIL_SAMPLING", "soon", "STACK_TAIL_SAMPLING='soon' is not a decision wait in seconds (0 < s <= 600)"),
        ("STACK_TAIL_SAMPLING", "0", "STACK_TAIL_SAMPLING='0' is not a decision wait in seconds (0 < s <= 600)"),
        ("STACK_SPAN_COUNTS", "yes", "STACK_SPAN_COUNTS='yes' is not 0 or 1"),
        ("STACK_MILVUS_LOG_LEVEL", "verbose", "STACK_MILVUS_LOG_LEVEL='verbose' is not one of debug, info, warn, error"),
    ],
)
def test_the_cli_names_a_bad_stack_setting_in_one_line_and_starts_nothing(variable, value, line, tmp_path):
    env = {"PATH": "/usr/bin:/bin", variable: value, "STACK_STATE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, ROOT / "stack" / "stackctl.py", "up"], env=env, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr.splitlines(), result.stdout) == (1, [f"stack: error: {line}"], "")
    assert list(tmp_path.iterdir()) == []


def test_the_tail_pipeline_and_the_log_level_reach_jaeger_and_milvus(monkeypatch):
    from stack.backends import embedded

    monkeypatch.setattr(embedded, "ensure_jaeger_built", lambda: "jaeger")
    monkeypatch.delenv("STACK_TAIL_SAMPLING", raising=False)
    monkeypatch.delenv("STACK_MILVUS_LOG_LEVEL", raising=False)
    monkeypatch.delenv("STACK_SPAN_COUNTS", raising=False)
    assert [str(part) for part in embedded.jaeger_command()][1:] == ["--config", str(embedded.JAEGER_MODULE / "config.yaml")]
    assert "STACK_TAIL_DECISION_WAIT" not in embedded.jaeger_env() and embedded.milvus_env()["LOG_LEVEL"] == "info"
    monkeypatch.setenv("STACK_TAIL_SAMPLING", "2.5")
    monkeypatch.setenv("STACK_MILVUS_LOG_LEVEL", "debug")
    assert str(embedded.jaeger_command()[-1]).endswith("tail-sampling.yaml")
    assert embedded.jaeger_env()["STACK_TAIL_DECISION_WAIT"] == "2500ms" and embedded.milvus_env()["LOG_LEVEL"] == "debug"
    monkeypatch.setenv("STACK_SPAN_COUNTS", "1")
    overlays = [str(part) for part in embedded.jaeger_command()[3:]]
    assert overlays == ["--config", str(embedded.JAEGER_MODULE / "tail-sampling.yaml"), "--config", str(embedded.JAEGER_MODULE / "span-counts.yaml")]
    assert embedded.wanted(jaeger()) == {"tail_sampling": 2.5, "span_counts": True}
