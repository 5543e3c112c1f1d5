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
import report
from conftest import REPORTS_DIR
from traces import CHECKS, Checker, Run, load_scenario, traces_from_jaeger

RECORDED = Path(__file__).resolve().parent / "recorded"
SCENARIO = load_scenario()
JAEGER = "http://127.0.0.1:16686"
LINKED = {"python": "python-linked", "java": "java-linked", "go": "go-linked", "node": "node-linked"}
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
            checks = Checker(run, SCENARIO).evaluate()
            results[language] = {c.name: {"outcome": "passed" if c.passed else "failed", "reason": c.reason} for c in checks}
    return results


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return {language: recorded_run(name) for language, name in LINKED.items()}


@pytest.fixture(scope="module")
def built(runs) -> dict:
    return report.build(results_of(runs), runs, SCENARIO, JAEGER)


def test_json_keeps_the_matrix_and_adds_differences_per_language(built):
    assert list(built["languages"]) == list(LINKED)
    assert all(row == {"outcome": "passed", "reason": "ok"} for checks in built["languages"].values() for row in checks.values())
    assert set(built["differences"]) == set(LINKED)
    json.dumps(built)  # serialisable as is


def test_naming_schemes_differ_as_the_readme_says(built):
    schemes = {language: d["rpc_span_naming"]["schemes"] for language, d in built["differences"].items()}
    assert schemes == {
        "python": ["/{rpc.service}/{rpc.method}"],
        "java": ["{rpc.service}/{rpc.method}"],
        "go": ["{rpc.service}/{rpc.method}"],
        "node": ["grpc.{rpc.service}/{rpc.method}"],
    }


def test_attribute_keys_and_their_semantic_convention_generation(built):
    attrs = {language: d["rpc_span_attributes"] for language, d in built["differences"].items()}
    assert "server.address" not in attrs["python"]["keys"]
    assert attrs["python"]["generation"] == "none"
    assert attrs["go"]["generation"] == "old"
    assert attrs["go"]["by_generation"]["old"] == ["net.sock.peer.addr", "net.sock.peer.port"]
    assert attrs["java"]["generation"] == "stable"
    assert {"server.address", "network.peer.address"} <= set(attrs["java"]["by_generation"]["stable"])
    assert attrs["node"]["by_generation"]["stable"] == ["server.address", "server.port"]
    # Node's failed ClientHeartbeat (UNIMPLEMENTED in Milvus 2.3) carries error keys the others never set.
    assert attrs["node"]["on_some_spans"] == ["grpc.error_message", "grpc.error_name"]
    # Jaeger's renderings of kind, scope and status are not attributes.
    assert not any(key in report.JAEGER_FIELDS for a in attrs.values() for key in a["keys"])


def test_scopes_and_sdks(built):
    diffs = built["differences"]
    assert diffs["java"]["scopes"]["rpc_client_spans"] == [
        {"name": "io.opentelemetry.grpc-1.6", "version": "2.33.1-alpha", "spans": 27}
    ]
    assert diffs["go"]["scopes"]["rpc_client_spans"][0]["name"].endswith("/otelgrpc")
    assert {d["sdk"]["telemetry.sdk.language"] for d in diffs.values()} == {"python", "java", "go", "nodejs"}
    assert diffs["java"]["sdk"]["telemetry.distro.name"] == "opentelemetry-java-instrumentation"
    # Milvus's own spans (process tag NodeID only) must not leak in.
    assert all("NodeID" not in d["sdk"] for d in diffs.values())


def test_spans_per_step_show_each_sdks_own_calls(built):
    steps = {language: d["spans_per_step"] for language, d in built["differences"].items()}
    assert steps["java"]["has_collection"] == {"HasCollection": 1}
    assert steps["python"]["has_collection"] == {"DescribeCollection": 1}
    assert steps["java"]["load"] == {"LoadCollection": 1, "GetLoadState": 8}
    assert steps["node"]["connect"] == {"Connect": 1, "ClientHeartbeat": 1}
    # Milvus's internal gRPC calls (RootCoord, DataCoord ...) are CLIENT spans too, but not the client's.
    assert steps["go"]["expected_failure"] == {"DescribeCollection": 1}


def test_failure_representation(built):
    failures = {language: d["failure"] for language, d in built["differences"].items()}
    assert {f["status"] for f in failures.values()} == {"ERROR"}
    assert all(f["rpc_spans"][0]["grpc_status_code"] == 0 for f in failures.values())
    assert failures["python"]["exception_type"] == "pymilvus.exceptions.DescribeCollectionException"
    assert failures["python"]["milvus_error_code"] == 100
    assert failures["java"]["milvus_error_code"] == 100  # from the stack trace's "ServerCode: 100"
    assert failures["go"]["milvus_error_code"] is None
    assert failures["java"]["status_description"] is None


def test_durations_pair_client_and_server_spans(built):
    insert = built["differences"]["go"]["durations_ms"]["Insert"]
    assert insert["calls"] == insert["linked"] == 1
    assert insert["client"] > insert["server"] > 0
    assert insert["overhead"] == pytest.approx(insert["client"] - insert["server"], abs=0.02)
    assert "HasCollection" in built["differences"]["java"]["durations_ms"]


def test_unlinked_run_fails_server_links_in_the_matrix_and_flags_03():
    runs = {"python": recorded_run("python-unlinked"), "java": None}
    built = report.build(results_of(runs), runs, SCENARIO, JAEGER)
    assert built["languages"]["python"]["server_links"]["outcome"] == "failed"
    assert built["differences"]["java"] is None
    python = built["differences"]["python"]
    assert python["traceparent"] == {
        "header": runs["python"].record["traceparent"],
        "flags": "03",
        "sampled": True,
        "random_trace_id": True,
    }
    assert python["durations_ms"]["Insert"]["server"] is None
    md = report.markdown(built, SCENARIO)
    assert re.search(r"\| server_links \| \*\*failed\*\*: 11 of 11 Milvus RPC client spans", md)
    assert "| not run |" in md
    assert "03 (sampled, random trace id)" in md
    page = report.html_page(built, runs, SCENARIO)
    assert page.count('class="failed"') == 2  # server_links and server_internal_spans
    assert page.count("<svg") == 1


def test_linked_runs_send_flags_01(built):
    assert {d["traceparent"]["flags"] for d in built["differences"].values()} == {"01"}


def test_markdown_has_the_matrix_and_the_differences_side_by_side(built):
    md = report.markdown(built, SCENARIO)
    assert "| check | python | java | go | node |" in md
    assert "| run_succeeded | passed | passed | passed | passed |" in md
    for title in ("At a glance", "Client RPC spans per contract step", "The deliberate failure", "Client vs server"):
        assert f"### {title}" in md
    assert "grpc.{rpc.service}/{rpc.method}" in md
    assert f"{JAEGER}/api/traces/{built['differences']['go']['trace_id']}" in md


def test_html_has_one_waterfall_per_language_self_contained(built, runs):
    page = report.html_page(built, runs, SCENARIO)
    assert re.findall(r'<svg class="waterfall" data-language="(\w+)"', page) == list(LINKED)
    for run in runs.values():
        assert f'href="{JAEGER}/api/traces/{run.trace.trace_id}"' in page
    assert not re.search(r'(src|href)="(https?:)?//(?!127\.0\.0\.1:16686/api/traces/)', page), "no external resources"
    assert "<title>" in page and "server.address = 127.0.0.1" in page
    assert page.count('class="span error"') == 5  # the four expected_failure steps, and Node's ClientHeartbeat


def test_waterfall_draws_client_and_first_server_level_only(runs):
    run = runs["python"]
    rows = report.waterfall_rows(run.trace, SCENARIO, "milvus-client-python")
    services = {row.span.service for row in rows}
    assert services == {"milvus-client-python", "standalone"}
    assert len([r for r in rows if r.span.kind == "server"]) == 40  # one per client RPC span
    assert all(r.depth == 3 for r in rows if r.span.service == "standalone")
    assert sum(r.folded for r in rows) + len(rows) < len(run.trace.spans)  # the rest are other Milvus roots
    insert = next(r for r in rows if r.span.name == "milvus.proto.milvus.MilvusService/Insert")
    assert insert.folded > 0


def test_write_creates_three_files(tmp_path, runs):
    paths = report.write(tmp_path, results_of(runs), runs, SCENARIO, JAEGER)
    assert [p.name for p in paths] == ["conformance.json", "conformance.md", "conformance.html"]
    assert json.loads(paths[0].read_text())["differences"]["node"]["traceparent"]["flags"] == "01"


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
  language: svg.dataset.language,
  height: svg.getBoundingClientRect().height,
  bars: [...svg.querySelectorAll('rect.bar')].filter(r => r.getBoundingClientRect().width > 0).length,
  server_bars: svg.querySelectorAll('rect.bar.svc-milvus').length,
}));
"""


def test_html_draws_a_waterfall_per_language_in_chromium(runs):
    """Writes the recorded runs' report to reports/recorded/ and screenshots it there."""
    out = REPORTS_DIR / "recorded"
    report.write(out, results_of(runs), runs, SCENARIO, JAEGER)
    screenshot = out / "conformance.png"
    with headless_chromium() as browser:
        browser.get((out / "conformance.html").as_uri())
        drawn = {row["language"]: row for row in browser.execute_script(DRAWN)}
        browser.set_window_size(1400, browser.execute_script("return document.documentElement.scrollHeight"))
        assert browser.save_screenshot(str(screenshot))
    assert list(drawn) == list(LINKED)
    for language, row in drawn.items():
        client_rpcs = len(report.rpc_client_spans(runs[language], SCENARIO))
        assert row["bars"] >= client_rpcs + len(SCENARIO["steps"]) - 1, row  # root, steps (not drop_existing), RPCs
        assert row["server_bars"] > 0 and row["height"] > 500, row
    assert screenshot.stat().st_size > 10_000
