"""The report built from real runs (recorded/): its JSON, Markdown and HTML, and the
HTML as a real headless Chromium draws it."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from conformance import report
from conformance.approaches import load_all
from conformance.checks import CHECKS, Subject, evaluate_all
from conformance.paths import REPORTS_DIR
from conformance.report import html, markdown, model, waterfall
from conformance.runs import Run, load_scenario
from conformance.semconv.classify import JAEGER_FIELDS
from conformance.spans import traces_from_jaeger

RECORDED = Path(__file__).resolve().parent / "recorded"
SCENARIO = load_scenario()
JAEGER = "http://127.0.0.1:16686"
APPROACHES = load_all()
# One real, linked run per approach (python -m conformance.tests.record refreshes them).
LINKED = {approach.id: approach.slug for approach in APPROACHES}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
BROWSER_TIMEOUT_S = 60


def recorded_run(name: str) -> Run:
    record = json.loads((RECORDED / f"{name}.run.json").read_text())
    return Run(record=record, trace=traces_from_jaeger(json.loads((RECORDED / f"{name}.trace.json").read_text()))[0])


def results_of(runs: dict[str, Run | None]) -> dict:
    """The matrix as the suite records it: checks of each run, `not run` without one."""
    results = {}
    for language, run in runs.items():
        if run is None:
            results[language] = {check: {"outcome": "not run", "reason": "not run: no run record"} for check in CHECKS}
        else:
            checks = evaluate_all(run, SCENARIO)
            results[language] = {c.name: {"outcome": "passed" if c.passed else "failed", "reason": c.reason} for c in checks}
    return results


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return {language: recorded_run(name) for language, name in LINKED.items()}


@pytest.fixture(scope="module")
def built(runs) -> dict:
    return model.build(results_of(runs), runs, APPROACHES, SCENARIO, JAEGER)


def test_json_keeps_the_matrix_and_adds_differences_per_approach(built):
    assert list(built["approaches"]) == list(LINKED)
    assert all(row == {"outcome": "passed", "reason": "ok"} for checks in built["approaches"].values() for row in checks.values())
    assert set(built["differences"]) == set(LINKED)
    json.dumps(built)  # serialisable as is


# As the README says; an approach added later keeps these as they are.
EXPECTED_SCHEMES = {
    "python/sdk": ["/{rpc.service}/{rpc.method}"],
    "python/zero-code": ["/{rpc.service}/{rpc.method}"],
    "java/agent": ["{rpc.service}/{rpc.method}"],
    "java/sdk": ["{rpc.service}/{rpc.method}"],
    "go/otelgrpc": ["{rpc.service}/{rpc.method}"],
    # gRPC's own plugin (A72) names the call and sets no rpc.* attribute at all.
    "go/grpc-otel": ["Sent.{rpc.service}.{rpc.method} (no rpc.* attributes)"],
    "node/zero-code": ["grpc.{rpc.service}/{rpc.method}"],
    "node/sdk": ["grpc.{rpc.service}/{rpc.method}"],
}


def test_naming_schemes_differ_as_the_readme_says(built):
    schemes = {approach: d["rpc_span_naming"]["schemes"] for approach, d in built["differences"].items()}
    assert {approach: schemes.get(approach) for approach in EXPECTED_SCHEMES} == EXPECTED_SCHEMES


def test_attribute_keys_and_their_classification(built):
    attrs = {language: d["rpc_span_attributes"] for language, d in built["differences"].items()}
    semconv = {language: d["semconv"]["client"] for language, d in built["differences"].items()}
    assert "server.address" not in attrs["python/sdk"]["keys"]
    assert semconv["python/sdk"]["missing"]["required"] == ["rpc.system.name", "rpc.status_code", "server.address"]
    assert semconv["go/otelgrpc"]["generation"] == "old"
    assert semconv["go/otelgrpc"]["deprecated"]["net.sock.peer.addr"] == ["network.peer.address"]
    assert semconv["java/agent"]["attributes"]["server.address"]["class"] == "stable"
    assert semconv["java/agent"]["attributes"]["thread.id"]["class"] == "experimental"
    assert semconv["node/zero-code"]["attributes"]["grpc.error_name"]["class"] == "not in the conventions"
    assert {d["semconv"]["server"]["generation"] for d in built["differences"].values()} == {"old"}
    assert built["semconv_release"] == "1.45.0"
    # Node's failed ClientHeartbeat (UNIMPLEMENTED in Milvus 2.3) carries error keys the others never set.
    assert attrs["node/zero-code"]["on_some_spans"] == ["grpc.error_message", "grpc.error_name"]
    assert attrs["go/grpc-otel"]["keys"] == []
    assert semconv["go/grpc-otel"]["generation"] == "none"
    # Jaeger's renderings of kind, scope and status are not attributes.
    assert not any(key in JAEGER_FIELDS for a in attrs.values() for key in a["keys"])


def test_scopes_and_sdks(built):
    diffs = built["differences"]
    for approach in ("java/agent", "java/sdk"):  # the agent runs the same library instrumentation
        [scope] = diffs[approach]["scopes"]["rpc_client_spans"]
        assert (scope["name"], scope["version"]) == ("io.opentelemetry.grpc-1.6", "2.31.1-alpha")
    assert diffs["go/otelgrpc"]["scopes"]["rpc_client_spans"][0]["name"].endswith("/otelgrpc")
    assert diffs["go/grpc-otel"]["scopes"]["rpc_client_spans"][0]["name"] == "grpc-go"
    assert {d["sdk"]["telemetry.sdk.language"] for d in diffs.values()} == {"python", "java", "go", "nodejs"}
    assert diffs["java/agent"]["sdk"]["telemetry.distro.name"] == "opentelemetry-java-instrumentation"
    assert "telemetry.distro.name" not in diffs["java/sdk"]["sdk"]
    assert "telemetry.auto.version" in diffs["python/zero-code"]["sdk"]  # the distro says so
    # Milvus's own spans (process tag NodeID only) must not leak in.
    assert all("NodeID" not in d["sdk"] for d in diffs.values())


def test_spans_per_step_show_each_sdks_own_calls(built):
    steps = {approach: d["spans_per_step"] for approach, d in built["differences"].items()}
    assert steps["java/agent"]["has_collection"] == steps["java/sdk"]["has_collection"] == {"HasCollection": 1}
    assert steps["python/sdk"]["has_collection"] == {"DescribeCollection": 1}
    assert steps["java/agent"]["load"]["LoadCollection"] == 1 and steps["java/agent"]["load"]["GetLoadState"] > 0
    assert steps["node/zero-code"]["connect"] == steps["node/sdk"]["connect"] == {"Connect": 1, "ClientHeartbeat": 1}
    # Milvus's internal gRPC calls (RootCoord, DataCoord ...) are CLIENT spans too, but not the client's.
    assert steps["go/otelgrpc"]["expected_failure"] == steps["go/grpc-otel"]["expected_failure"] == {"DescribeCollection": 1}


def test_failure_representation(built):
    failures = {approach: d["failure"] for approach, d in built["differences"].items()}
    assert {f["status"] for f in failures.values()} == {"ERROR"}
    assert all(f["rpc_spans"][0]["status_code"] in ("rpc.grpc.status_code=0", None) for f in failures.values())
    assert failures["go/grpc-otel"]["rpc_spans"][0]["status_code"] is None  # no attributes on A72 spans
    assert failures["python/sdk"]["exception_type"] == "pymilvus.exceptions.DescribeCollectionException"
    assert failures["python/sdk"]["milvus_error_code"] == 100
    assert failures["java/agent"]["milvus_error_code"] == 100  # from the stack trace's "ServerCode: 100"
    assert failures["go/otelgrpc"]["milvus_error_code"] is None


def test_durations_pair_client_and_server_spans(built):
    insert = built["differences"]["go/otelgrpc"]["durations_ms"]["Insert"]
    assert insert["calls"] == insert["linked"] == 1
    assert insert["client"] > insert["server"] > 0
    assert insert["overhead"] == pytest.approx(insert["client"] - insert["server"], abs=0.02)
    assert "HasCollection" in built["differences"]["java/agent"]["durations_ms"]


def test_unlinked_run_fails_server_links_in_the_matrix_and_flags_03():
    runs = {"python/zero-code": recorded_run("python-zero-code-unlinked"), "java/agent": None}
    built = model.build(results_of(runs), runs, APPROACHES, SCENARIO, JAEGER)
    assert built["approaches"]["python/zero-code"]["server_links"]["outcome"] == "failed"
    assert built["differences"]["java/agent"] is None
    python = built["differences"]["python/zero-code"]
    assert python["traceparent"] == {
        "header": runs["python/zero-code"].record["traceparent"],
        "flags": "03",
        "sampled": True,
        "random_trace_id": True,
    }
    assert python["durations_ms"]["Insert"]["server"] is None
    md = markdown.render(built, SCENARIO)
    assert re.search(r"\| server_links \| \*\*failed\*\*: 11 of 11 Milvus RPC client spans", md)
    assert "| not run |" in md
    assert "03 (sampled, random trace id)" in md
    page = html.render(built, runs, SCENARIO)
    assert page.count('class="failed"') == 3  # server_links, server_internal_spans and reaches_query_node
    assert page.count("<svg") == 1


def test_linked_runs_send_flags_01(built):
    assert {d["traceparent"]["flags"] for d in built["differences"].values()} == {"01"}


def test_markdown_has_the_matrix_and_the_differences_side_by_side(built):
    md = markdown.render(built, SCENARIO)
    assert "| check | " + " | ".join(LINKED) + " |" in md
    assert "| run_succeeded |" + " passed |" * len(LINKED) in md
    assert "| what it took to link with Milvus 2.3.5 | " + " | ".join(a.link_fix for a in APPROACHES) + " |" in md
    for title in ("At a glance", "Client RPC spans per contract step", "The deliberate failure", "Client vs server"):
        assert f"### {title}" in md
    assert "grpc.{rpc.service}/{rpc.method}" in md
    assert f"{JAEGER}/api/traces/{built['differences']['go/grpc-otel']['trace_id']}" in md


def test_the_dashboard_table_has_a_row_per_approach_and_one_for_milvus(built, runs):
    md = markdown.render(built, SCENARIO)
    assert "### What your dashboards will see" in md and "semantic conventions 1.45.0" in md
    go = next(line for line in md.splitlines() if line.startswith("| go/otelgrpc | {rpc.service}/{rpc.method} ✓"))
    assert "| old |" in go and "net.sock.peer.addr → network.peer.address" in go and "rpc.service → rpc.method" in go
    assert "| python/sdk | /{rpc.service}/{rpc.method} ✗ |" in md
    assert "| Milvus (its own SERVER spans) | {rpc.service}/{rpc.method} ✓ |" in md
    assert "| rpc.service | " + " | ".join("" if a == "go/grpc-otel" else "deprecated → rpc.method" for a in LINKED) + " |" in md
    assert "| span kind (the rule's: client) |" + " client |" * len(LINKED) in md
    assert "| required / recommended attributes missing | rpc.system.name, rpc.status_code, server.address / network.peer.address, network.peer.port |" in md
    page = html.render(built, runs, SCENARIO)
    assert "<tr><th>approach</th><th>span name</th><th>method</th>" in page


def test_html_has_one_waterfall_per_approach_self_contained(built, runs):
    page = html.render(built, runs, SCENARIO)
    assert re.findall(r'<svg class="waterfall" data-approach="([\w/-]+)"', page) == list(LINKED)
    for run in runs.values():
        assert f'href="{JAEGER}/api/traces/{run.trace.trace_id}"' in page
    assert not re.search(r'(src|href)="(https?:)?//(?!127\.0\.0\.1:16686/api/traces/)', page), "no external resources"
    assert "<title>" in page and "server.address = 127.0.0.1" in page
    # Each approach's expected_failure step, and the two Node approaches' ClientHeartbeat.
    assert page.count('class="span error"') == len(APPROACHES) + 2
    for language in ("python", "java", "go", "node"):
        columns = sum(1 for approach in APPROACHES if approach.language == language)
        assert f'<th colspan="{columns}" class="language">{language}</th>' in page


def test_waterfall_draws_client_and_first_server_level_only(runs):
    run = runs["python/sdk"]
    rows = waterfall.waterfall_rows(run.trace, SCENARIO, "milvus-client-python-sdk")
    services = {row.span.service for row in rows}
    assert services == {"milvus-client-python-sdk", "standalone"}
    assert len([r for r in rows if r.span.kind == "server"]) == len(Subject(run, SCENARIO).client_rpc_spans())
    assert all(r.depth == 3 for r in rows if r.span.service == "standalone")
    assert sum(r.folded for r in rows) + len(rows) < len(run.trace.spans)  # the rest are other Milvus roots
    insert = next(r for r in rows if r.span.name == "milvus.proto.milvus.MilvusService/Insert")
    assert insert.folded > 0


def test_write_creates_three_files(tmp_path, runs):
    paths = report.write(tmp_path, results_of(runs), runs, APPROACHES, SCENARIO, JAEGER)
    assert [p.name for p in paths] == ["conformance.json", "conformance.md", "conformance.html"]
    assert json.loads(paths[0].read_text())["differences"]["node/zero-code"]["traceparent"]["flags"] == "01"


# --- the page in a real browser -------------------------------------------------


@contextmanager
def headless_chromium():
    """Debian's Chromium through chromedriver, with a throwaway profile; fails the test when missing."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail("headless Chromium is missing: apt-get install -y chromium chromium-driver", pytrace=False)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the pip package selenium is missing (the nox `tests` session installs it)", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1000"):
            options.add_argument(flag)
        session = webdriver.Chrome(options=options, service=Service(driver))
        try:
            session.set_page_load_timeout(BROWSER_TIMEOUT_S)
            session.set_script_timeout(BROWSER_TIMEOUT_S)
            yield session
        finally:
            session.quit()


DRAWN = """
return [...document.querySelectorAll('svg.waterfall')].map(svg => ({
  approach: svg.dataset.approach,
  height: svg.getBoundingClientRect().height,
  bars: [...svg.querySelectorAll('rect.bar')].filter(r => r.getBoundingClientRect().width > 0).length,
  server_bars: svg.querySelectorAll('rect.bar.svc-milvus').length,
}));
"""


def test_html_draws_a_waterfall_per_approach_in_chromium(runs):
    """Writes the recorded runs' report to reports/recorded/ and screenshots it there."""
    out = REPORTS_DIR / "recorded"
    report.write(out, results_of(runs), runs, APPROACHES, SCENARIO, JAEGER)
    screenshot = out / "conformance.png"
    with headless_chromium() as browser:
        browser.get((out / "conformance.html").as_uri())
        drawn = {row["approach"]: row for row in browser.execute_script(DRAWN)}
        browser.set_window_size(1400, browser.execute_script("return document.documentElement.scrollHeight"))
        assert browser.save_screenshot(str(screenshot))
    assert list(drawn) == list(LINKED)
    for language, row in drawn.items():
        client_rpcs = len(Subject(runs[language], SCENARIO).client_rpc_spans())
        assert row["bars"] >= client_rpcs + len(SCENARIO["steps"]) - 1, row  # root, steps (not drop_existing), RPCs
        assert row["server_bars"] > 0 and row["height"] > 500, row
    assert screenshot.stat().st_size > 10_000


def test_the_page_shows_the_last_faults_run_when_there_is_one(tmp_path, runs):
    faults = {
        "generated_at": "2026-11-30T02:00:00+00:00",
        "faults": {"collector_down": {"what": "nothing listens", "expect": "exit 0, +2 s at most"}},
        "approaches": {
            "go/otelgrpc": {"normal": {"wall_s": 7.0}, "faults": {"collector_down": {
                "exit_status": 0, "wall_s": 12.5, "problems": ["12.5 s against 7.0 s normally (> +2 s)"]}}},
            "node/sdk": {"normal": {"wall_s": 8.0}, "faults": {"collector_down": {
                "exit_status": 0, "wall_s": 8.4, "problems": [], "first_new_stderr_line": "spans not exported"}}},
        },
    }
    without = report.write(tmp_path, results_of(runs), runs, APPROACHES, SCENARIO, JAEGER)[2].read_text()
    assert "When things go wrong" not in without
    (tmp_path / "faults.json").write_text(json.dumps(faults))
    page = report.write(tmp_path, results_of(runs), runs, APPROACHES, SCENARIO, JAEGER)[2].read_text()
    assert '<td class="failed">exit 0, 12.5 s<small>12.5 s against 7.0 s normally (&gt; +2 s)</small></td>' in page
    assert '<td class="passed" title="spans not exported">exit 0, 8.4 s</td>' in page


def test_a_dashboard_row_names_the_switch_value_its_approach_runs_with(built):
    from conformance.report import dashboard

    report = {**built, "about": {**built["about"], "java/agent": {**built["about"]["java/agent"], "semconv_opt_in": "rpc/dup"}}}
    rows = {row[0]: row for row in dashboard.dashboard_table(report).rows}
    assert "java/agent (OTEL_SEMCONV_STABILITY_OPT_IN=rpc/dup)" in rows and "java/sdk" in rows
    assert built["about"]["java/agent"]["semconv_opt_in"] is None  # the manifests set none today
