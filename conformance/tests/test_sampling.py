"""nox -s sampling's pure parts (the samplers it accepts, Milvus's log by trace id, the tail
verdict on real recorded traces, whole and with Milvus's half cut off) and, end to end, a
tail-sampling pipeline that decides too early."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest

from conformance import milvus_log
from conformance.jaeger import Jaeger
from conformance.milvus_log import calls_logged, lines_of
from conformance.report.html import _sampling
from conformance.sampling.report import problems, render_markdown, summarize
from conformance.sampling.settings import SettingError, ratio, sampler
from conformance.sampling.tail import trial, whole
from conformance.sampling.watch import export_delays, summary
from conformance.spans import traces_from_jaeger
from conformance.tests.e2e import APPROACHES, ROOT, SCENARIO
from conformance.tests.test_checks import LINKED, recorded

TRACE = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
LOG = [  # real lines of Milvus 2.3.5 at debug level, the second one earlier than the first
    f'[2026/12/02 07:09:13.474 +00:00] [DEBUG] [proxy/impl.go:2493] ["Search received"] [traceID={TRACE}] [role=proxy]',
    f'[2026/12/02 07:09:12.101 +00:00] [DEBUG] [proxy/task_insert.go:240] ["Detail of insert request in Proxy"] [traceID={TRACE}]',
    f'[2026/12/02 07:09:13.500 +00:00] [INFO] [querycoordv2/services.go:57] ["show collections request received"] [traceID={OTHER}]',
    "[2026/12/02 07:09:14.000 +00:00] [INFO] [proxy/impl.go:100] [\"no trace id here\"]",
]


@pytest.mark.parametrize(
    "text, expected",
    [("always_off", ("always_off", None)), ("parentbased_traceidratio=0", ("parentbased_traceidratio", 0.0)),
     ("traceidratio", ("traceidratio", 1.0))],
)
def test_known_samplers_become_the_sdks_settings(text, expected):
    chosen = sampler(text)
    assert (chosen.name, chosen.arg) == expected
    assert chosen.env()["OTEL_TRACES_SAMPLER"] == expected[0]


@pytest.mark.parametrize(
    "text, message",
    [("alwaysoff", "unknown sampler 'alwaysoff'"), ("parentbased_traceidratio=1.5", "'1.5' is not a number in [0, 1]"),
     ("traceidratio=-0.1", "'-0.1' is not a number in [0, 1]"), ("traceidratio=nan", "'nan' is not a number"),
     ("always_off=0", "takes no ratio")],
)
def test_bad_samplers_are_refused_in_one_line(text, message):
    with pytest.raises(SettingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        sampler(text)


def test_the_tool_refuses_a_bad_sampler_before_anything_starts():
    for args in (["--unsampled", "sometimes"], ["--ratio", "2"]):
        done = subprocess.run([sys.executable, "-m", "conformance.sampling", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("nox -s sampling --: error: ")
    assert ratio("0") == 0.0


def test_the_tool_refuses_the_cluster_in_one_line():
    env = {**os.environ, "STACK_MILVUS_MODE": "cluster"}
    done = subprocess.run([sys.executable, "-m", "conformance.sampling"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "nox -s sampling --: error: runs against the standalone Milvus; unset STACK_MILVUS_MODE=cluster"


def test_the_cluster_s_log_is_every_role_s_output_merged_in_time_order(tmp_path, monkeypatch):
    proxy, querynode = LOG[0], LOG[1]  # one trace; the proxy's file, read first, holds the later line
    (tmp_path / "milvus-proxy.log").write_text(proxy + "\n")
    (tmp_path / "milvus-querynode.log").write_text(querynode + "\n")
    (tmp_path / "jaeger.log").write_text(proxy + "\n")  # not Milvus's
    monkeypatch.setattr(milvus_log, "LOG_DIR", tmp_path)
    monkeypatch.setenv("STACK_MILVUS_MODE", "cluster")
    monkeypatch.delenv("STACK_BACKEND", raising=False)
    assert lines_of([TRACE])[TRACE] == [querynode, proxy]


def test_log_lines_of_a_trace_come_in_time_order_and_name_the_calls():
    found = lines_of([TRACE], LOG)[TRACE]
    assert [line[12:24] for line in found] == ["07:09:12.101", "07:09:13.474"]
    assert calls_logged(found, ["Insert", "Search", "Query"]) == {"Insert": 1, "Search": 1, "Query": 0}


def test_a_bad_trace_id_is_refused():
    with pytest.raises(ValueError, match="is not a trace id"):
        lines_of(["xyz"], LOG)


@pytest.mark.parametrize("name", LINKED)
def test_a_whole_recorded_trace_is_whole(name):
    assert whole(traces_from_jaeger(recorded(f"{name}.trace.json"))[0], SCENARIO) is None


def test_a_trace_without_milvus_spans_is_named_incomplete():
    payload = copy.deepcopy(recorded("go-otelgrpc.trace.json"))
    data = payload["data"][0]
    milvus = {key for key, process in data["processes"].items() if process["serviceName"] in SCENARIO["server_services"]}
    data["spans"] = [span for span in data["spans"] if span["processID"] not in milvus]
    reason = whole(traces_from_jaeger(payload)[0], SCENARIO)
    assert reason.startswith("kept without Milvus's server half: ") and "standalone SERVER span" in reason
    assert "Search" in reason and "Insert" in reason
    assert whole(None, SCENARIO).startswith("not kept")


def test_export_delays_run_from_the_client_span_end_to_the_first_sighting():
    trace = traces_from_jaeger(recorded("go-otelgrpc.trace.json"))[0]
    client = next(s for s in trace.spans if s.kind == "client" and s.rpc_method(SCENARIO["rpc_service"]) == "Search")
    child = next(s for s in client.children if s.service == "standalone")
    seen = {(trace.trace_id, child.span_id): client.end_us / 1e6 + 2.5}
    assert export_delays(trace, seen, SCENARIO) == [2.5]
    assert summary([1.0, 2.0, 3.0, 10.0]) == {"n": 4, "p50_s": 2.5, "p95_s": 10.0, "max_s": 10.0}


@pytest.mark.e2e
def test_a_decision_wait_shorter_than_the_trace_takes_to_arrive_loses_the_errored_trace(main_job, tmp_path, monkeypatch):
    """The negative case: at decision_wait=1 s the tail pipeline decides before the failing
    step's span arrives; the suite names what it did not keep (the whole trace: this
    processor forwards the late spans of a trace it keeps, so it never keeps half of one).
    The same run in the main pipeline: whole."""
    go = next(a for a in APPROACHES if a.id == "go/otelgrpc")
    result = trial(go, 1.0, tmp_path / "record.json", Jaeger(), SCENARIO)
    assert result["exit_status"] == 0, result["error"]
    assert result["main"] == "whole"
    assert result["tail"] != "whole"
    assert result["tail"].startswith(("not kept", "kept without Milvus's server half"))
    assert result["arrivals"]["first_error_after_s"] > 2.0  # the error came after the decision was due


def test_a_real_sampling_report_renders_its_tables_and_html_section():
    report = recorded("sampling.json")  # a real `nox -s sampling` of the eight approaches
    assert problems(report) == []
    page = render_markdown(report)
    assert "| go/otelgrpc | 00 | yes: 0 spans, 0 roots | 3/3" in page
    section = _sampling(report)
    assert section.startswith("<h2>Sampling</h2>") and "traceID=" in section
    broken = copy.deepcopy(report)
    broken["approaches"]["go/otelgrpc"]["runs"][0]["milvus_spans"] = 12
    broken["approaches"]["go/otelgrpc"]["summary"] = summarize(broken["approaches"]["go/otelgrpc"]["runs"])
    assert problems(broken) == ["go/otelgrpc: Milvus recorded 12 spans and 0 root traces for unsampled calls"]
