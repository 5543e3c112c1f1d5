"""The pure parts of `nox -s faults`: what counts as a new stderr line, a stack trace, the black hole."""

from __future__ import annotations

import socket

import pytest

from conformance import faults
from conformance.approaches import load_all
from conformance.faults import __main__ as run_faults
from conformance.faults import table as faults_table
from conformance.runner import Outcome


def outcome(*stderr: str, exit_status: int = 0, wall_s: float = 8.0, work_s: float = 7.0) -> Outcome:
    return Outcome(exit_status, wall_s, [], list(stderr), {"duration_s": work_s})


def test_new_lines_ignore_timestamps_and_counts_of_a_normal_run():
    normal = outcome("2026/11/30 01:36:42 connect: ok", "2026/11/30 01:36:43 query: 3 rows")
    faulty = outcome(
        "2026/11/30 02:00:01 connect: ok",
        "2026/11/30 02:00:02 query: 3 rows",
        "2026/11/30 02:00:09 warning: telemetry: spans may be missing",
    )
    assert faults.new_lines(faulty, normal) == ["2026/11/30 02:00:09 warning: telemetry: spans may be missing"]
    # A line printed twice where the normal run printed it once is new the second time.
    assert faults.new_lines(outcome("a 1", "a 2"), outcome("a 3")) == ["a 2"]


@pytest.mark.parametrize(
    "line",
    [
        "Traceback (most recent call last):",
        "\tat io.milvus.v2.client.MilvusClientV2.connect(MilvusClientV2.java:120)",
        "goroutine 1 [running]:",
        "    at Object.<anonymous> (/work/main/nodejs/run.js:12:3)",
    ],
)
def test_stack_traces_of_each_language_are_recognised(line):
    assert faults.describe(outcome(line))["stack_trace"]


def test_one_line_messages_are_not_stack_traces():
    message = "milvus-otel-demo: cannot reach Milvus at MILVUS_URI=http://127.0.0.1:19599: refused; is it running?"
    assert not faults.describe(outcome(message))["stack_trace"]


def test_telemetry_bounds_name_each_miss():
    normal = outcome()
    trial = faults.Trial(normal, None, None, {}, None, None)
    cell: dict = {}
    problems = faults.telemetry_bounds(trial, outcome("w 1", "w 2", exit_status=1, wall_s=21.0), cell)
    assert problems == [
        "exit 1: tracing broke the app",
        "21.0 s against 8.0 s normally, +13.0 s outside the work (> +2 s)",
        "2 new stderr lines, not one warning",
    ]
    assert cell["outside_work_s"] == 14.0 and cell["normal_outside_work_s"] == 1.0
    assert faults.telemetry_bounds(trial, outcome("warning: spans not exported", wall_s=9.5), {}) == []
    # A slow Milvus makes the whole run slower, not the tracing: the work's own time is left out.
    assert faults.telemetry_bounds(trial, outcome("warning: spans not exported", wall_s=14.0, work_s=12.5), {}) == []


def test_the_black_hole_accepts_and_never_answers():
    with faults.black_hole() as port:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as client:
            client.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            client.settimeout(0.5)
            with pytest.raises(socket.timeout):
                client.recv(1)


def test_every_fault_is_registered_with_its_bound():
    assert list(faults.FAULTS) == ["collector_down", "collector_black_hole", "milvus_down", "milvus_killed", "bad_uri"]
    assert all(f.what and f.expect for f in faults.FAULTS.values())


def test_an_unknown_fault_is_one_line(capsys):
    with pytest.raises(SystemExit) as error:
        run_faults.parse_args(["--faults", "collector_down,flood"])
    assert error.value.code == 2
    assert "unknown fault(s) flood; known: collector_down" in capsys.readouterr().err


def test_the_approaches_are_named_by_id_in_the_order_given(capsys):
    args = run_faults.parse_args(["--approaches", "go/otelgrpc,python/sdk"])
    assert [approach.id for approach in args.approaches] == ["go/otelgrpc", "python/sdk"]
    assert len(run_faults.parse_args([]).approaches) == len(load_all())
    with pytest.raises(SystemExit) as error:
        run_faults.parse_args(["--approaches", "python/sdk,python/nope"])
    assert error.value.code == 2
    assert "unknown approach 'python/nope'; known: python/sdk" in capsys.readouterr().err


def test_markdown_shows_misses_and_first_lines():
    report = {
        "generated_at": "2026-11-30T02:00:00+00:00",
        "faults": {"collector_down": {"what": "w", "expect": "e"}},
        "approaches": {
            "go/otelgrpc": {
                "normal": {"wall_s": 7.0},
                "faults": {"collector_down": {"exit_status": 0, "wall_s": 12.5, "problems": ["12.5 s against 7.0 s normally (> +2 s)"],
                                              "first_new_stderr_line": "warning: spans | lost"}},
            }
        },
    }
    md = faults_table.markdown(report)
    assert "| go/otelgrpc | 7.0 s | **missed**: 12.5 s against 7.0 s normally (> +2 s) (exit 0, 12.5 s) — `warning: spans \\| lost` |" in md
