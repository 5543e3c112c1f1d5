"""nox -s load's pure parts: its plan, the span counts' parsing, the figures, the pictures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.bench.blocks import Active
from conformance.load import __main__ as load_main
from conformance.report import html

RECORDED = Path(__file__).resolve().parent / "recorded" / "load.json"  # a real run's, two of its approaches
from conformance.load import counts, figures, plan, render

PROMETHEUS = """# HELP spans_calls_total
# TYPE spans_calls_total counter
spans_calls_total{job="jaeger",service_name="svc-a",span_kind="SPAN_KIND_CLIENT",span_name="/milvus.proto.milvus.MilvusService/Query",status_code="STATUS_CODE_UNSET"} 120
spans_calls_total{service_name="svc-a",span_kind="SPAN_KIND_INTERNAL",span_name="bench",status_code="STATUS_CODE_UNSET"} 1
spans_calls_total{service_name="svc-b",span_kind="SPAN_KIND_CLIENT",span_name="Sent.milvus.proto.milvus.MilvusService.Query",status_code="STATUS_CODE_UNSET"} 7
spans_calls_total{service_name="svc-b",span_kind="SPAN_KIND_CLIENT",span_name="Attempt.milvus.proto.milvus.MilvusService.Query",status_code="STATUS_CODE_UNSET"} 7
spans_calls_total{service_name="svc-b",span_kind="SPAN_KIND_CLIENT",span_name="milvus.proto.milvus.MilvusService/Query",status_code="STATUS_CODE_ERROR"} 2
target_info{job="jaeger"} 1
"""


def test_counts_parse_the_spanmetrics_counters_and_count_one_client_span_per_call():
    found = counts.parse(PROMETHEUS)
    assert found[("svc-a", "bench", "SPAN_KIND_INTERNAL")] == 1 and len(found) == 5
    assert counts.client_calls(found, "svc-a", "Query") == 120
    # gRPC's own plugin: the call's Sent. span counts, its Attempt. span below it does not
    assert counts.client_calls(found, "svc-b", "Query") == 9
    assert counts.client_calls(found, "svc-b", "Search") == 0 and counts.spans_of(found, "svc-a") == 121


def test_the_plan_has_both_ways_at_every_level_and_the_batch_and_unsampled_modes_once():
    planned = plan.modes((1, 4, 16, 64), plan.BATCH, 16)
    assert list(planned) == [f"{kind}-{level}" for level in (1, 4, 16, 64) for kind in ("traced", "untraced")] + ["batch-64", "unsampled-16"]
    assert planned["untraced-4"].mode.untraced and not planned["batch-64"].mode.untraced
    assert planned["batch-64"].mode.env["OTEL_BSP_MAX_QUEUE_SIZE"] == "32768"
    assert planned["unsampled-16"].mode.env["OTEL_TRACES_SAMPLER"] == "always_off"
    assert all(p.mode.env["DEMO_LOAD_CONCURRENCY"] == str(p.level) for p in planned.values())
    assert "unsampled-16" not in plan.modes((1, 4), {}, 16)
    # 64 in flight runs in a rotation of its own, in longer blocks
    (short, short_s), (long, long_s) = plan.groups(planned, 0.4)
    assert list(long) == ["traced-64", "untraced-64", "batch-64"] and len(short) == 7
    assert (short_s, long_s) == (0.4, pytest.approx(1.2))
    assert [len(g) for g, _ in plan.groups(plan.modes((1, 16), plan.BATCH, 16), 0.4)] == [6]


@pytest.mark.parametrize("text", ["0", "x", "4,-1", "", "1.5"])
def test_a_bad_level_is_refused_in_one_line(text, capsys):
    with pytest.raises(SystemExit) as exited:
        load_main.parse_args(["--levels", text])
    assert exited.value.code == 2
    assert "is not a whole number >= 1" in capsys.readouterr().err.splitlines()[-1]


def test_levels_and_settings_parse():
    assert plan.levels("16, 1,4,1") == (1, 4, 16)
    assert plan.settings("OTEL_BSP_MAX_QUEUE_SIZE=1,OTEL_BSP_SCHEDULE_DELAY=2") == {"OTEL_BSP_MAX_QUEUE_SIZE": "1", "OTEL_BSP_SCHEDULE_DELAY": "2"}
    for bad in ("foo", "X=1", "OTEL_A="):
        with pytest.raises(plan.PlanError):
            plan.settings(bad)


def test_quick_takes_the_first_approach_of_each_language():
    args = load_main.parse_args(["--quick"])
    assert [a.id for a in args.approaches] == ["python/sdk", "java/agent", "go/otelgrpc", "node/zero-code"]
    assert args.levels == plan.QUICK_LEVELS and args.rounds == 3 and args.block == 0.4


def turns(rates: list[float], ms: float, server_ns: int) -> tuple[list[dict], list[Active]]:
    """Rounds of one-second blocks, `rate` calls each, every call taking `ms`."""
    found, periods = [], []
    for number, rate in enumerate(rates):
        n = int(rate)
        found.append({"calls": {"Search": [ms] * (n // 2), "Query": [ms] * (n // 2)}, "cpu_us_per_call": 100.0, "cpu_ns": {}, "n": n})
        periods.append(Active(number, 0, 1_000_000, {}, server_ns))
    return found, periods


def test_compare_gives_throughput_latency_and_both_cpus_round_by_round():
    traced = figures.with_turns(*turns([90, 180, 90, 180], 2.2, 110_000_000))
    untraced = figures.with_turns(*turns([100, 200, 100, 200], 2.0, 100_000_000))
    f = figures.compare(traced, untraced)
    assert f["rounds"] == 4
    assert f["throughput_ratio"]["value"] == pytest.approx(0.9) and f["throughput_ratio"]["half_width"] == pytest.approx(0, abs=1e-9)
    assert f["Search"]["p50_ratio"]["value"] == pytest.approx(1.1) and f["Query"]["p99_ratio"]["value"] == pytest.approx(1.1)
    # server CPU per call: 110 ms over 91 or 181 calls against 100 ms over 101 or 201
    assert f["server_cpu_us_per_call"]["delta"]["value"] > 0 and f["cpu_us_per_call"]["delta"]["value"] == 0


def test_compare_has_no_figure_without_two_rounds():
    traced = figures.with_turns(*turns([90, 90], 2.0, 1))
    f = figures.compare(traced, [traced[0], None])
    assert f["rounds"] == 1 and f["throughput_ratio"] is None and f["Search"]["p50_ratio"] is None


def test_loss_counts_what_never_arrived():
    assert figures.loss(200, 150) == {"made": 200, "received": 150, "lost": 50, "lost_pct": 25.0}
    assert figures.loss(0, 0)["lost_pct"] is None and figures.loss(10, 12)["lost"] == 0


def test_sdk_says_finds_the_drop_lines():
    assert load_main.sdk_says("ok\nWARNING Queue is full, likely spans will be dropped.\n") == {
        "lines": 1, "first": "WARNING Queue is full, likely spans will be dropped."}
    assert load_main.sdk_says("all fine\n")["lines"] == 0


def report_of(lost_pct: float) -> dict:
    level = {"throughput_ratio": {"value": 0.95, "half_width": 0.02, "ci": [0.93, 0.97], "blocks": 4}}
    spans = {"Query": figures.loss(100, int(100 - lost_pct))}
    return {
        "quick": True,
        "settings": {"levels": [1, 16]},
        "approaches": {"go/otelgrpc": {"levels": {"1": level, "16": level}, "modes": {"traced-1": {"spans": spans}, "traced-16": {"spans": spans}}}},
    }


def test_pictures_are_drawn_with_one_line_per_approach(tmp_path):
    report = report_of(10)
    assert render.series(report, render._lost) == {"go/otelgrpc": ([1, 16], [10.0, 10.0], [0.0, 0.0])}
    names = render.pictures(report, tmp_path)
    assert names == ["load-throughput.png", "load-spans-lost.png"]
    for name in names:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_real_runs_report_renders_every_table_and_its_pictures_reach_the_html_page(tmp_path):
    report = json.loads(RECORDED.read_text())
    text, markdown = render.text(report), render.markdown(report)
    cost, batch, milvus = render.sections(report)
    for table in (cost, batch, milvus):
        assert table.title in text and f"## {table.title}" in markdown
    assert [row[:2] for row in cost.rows] == [[a, level] for a in ("go/otelgrpc", "node/sdk") for level in ("1", "4", "16", "64")]
    assert [row[:2] for row in batch.rows] == [["go/otelgrpc", 64], ["node/sdk", 64]]
    assert [row[:2] for row in milvus.rows] == [["go/otelgrpc", 16], ["node/sdk", 16]]
    assert "![load-throughput.png](load-throughput.png)" in markdown
    pictures = {name: (tmp_path / name).read_bytes() for name in render.pictures(report, tmp_path)}
    page = html._load(report, pictures)
    assert page.count('src="data:image/png;base64,') == 2 and "What client tracing costs Milvus" in page
    assert html._load(None, {}) == ""
