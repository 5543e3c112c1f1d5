"""End to end with real parts: the stack, every approach through nox, the conformance
suite, a deliberately unplugged link, and a stop that leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conformance.approaches import find
from conformance.bench.jaeger import check_untraced
from conformance.checks import evaluate
from conformance.jaeger import Jaeger, load_run
from conformance.tests.e2e import (
    APPROACHES,
    PYTHON_M_NOX,
    ROOT,
    SCENARIO,
    STACKCTL,
    nox_on_path,
    run_client,
    run_nox,
    stack_command,
    text,
    without_pythonpath,
)
from stack.addresses import MILVUS_TOKEN_FILE, etcd_url, milvus_token, port
from stack.components import MILVUS_START_TIMEOUT_S, components, jaeger, milvus
from stack.milvus_sessions import session_keys
from stack.milvus_user import milvus_answer
from stack.processes import port_holder, stray_groups

pytestmark = pytest.mark.e2e


def test_nox_on_path_lists_what_python_m_nox_lists():
    listings = [
        subprocess.run([*nox, "--no-color", "-l"], cwd=ROOT, env=without_pythonpath(), capture_output=True, text=True, timeout=120)
        for nox in (nox_on_path(), PYTHON_M_NOX)
    ]
    for listing in listings:
        assert listing.returncode == 0, listing.stderr[-2000:]
    assert listings[0].stdout == listings[1].stdout
    assert "* conformance ->" in listings[0].stdout


def test_main_job_conforms_in_every_approach(main_job):
    """The main job as most people start it: plain `nox` from the project's folder."""
    returncode, output, reports = main_job.returncode, main_job.output, main_job.reports
    assert "already running and healthy" in output, "the sessions should reuse the running stack"
    report = json.loads((reports / "conformance.json").read_text())["approaches"]
    failures = {
        f"{approach}: {check}": row["reason"]
        for approach, checks in report.items()
        for check, row in checks.items()
        if row["outcome"] != "passed"
    }
    assert not failures, json.dumps(failures, indent=2)
    assert list(report) == [approach.id for approach in APPROACHES]
    page = (reports / "conformance.html").read_text()
    for approach in APPROACHES:
        assert f'<svg class="waterfall" data-approach="{approach.id}"' in page
    assert "| server_links |" in (reports / "conformance.md").read_text()
    assert returncode == 0, output[-3000:]


def test_unplugged_link_fails_and_names_the_cause(main_job, tmp_path):
    """OTel Python's default id generator (traceparent flags 03) must break the link, visibly:
    the zero-code approach as the main job built it, with its one fix undone by a setting."""
    approach = find(APPROACHES, "python/zero-code")
    record_file = tmp_path / "python.json"
    client = run_client(approach, record_file, OTEL_PYTHON_ID_GENERATOR="random")
    assert client.exit_status == 0, text(client.stderr)[-2000:]
    record = json.loads(record_file.read_text())
    assert record["traceparent"].endswith("-03")

    run = load_run(Jaeger(), record, SCENARIO)
    result = evaluate(run, SCENARIO, "server_links")
    assert not result.passed
    assert "ROOT spans of other traces" in result.reason, result.reason
    assert "flags 03" in result.reason, result.reason


FAULTED = ["python/sdk", "go/otelgrpc"]  # the session covers every approach; the tests a fast pair


def test_faults_stay_within_bounds(stack, tmp_path):
    """Collector down or a black hole, Milvus down or killed mid-run, a malformed URI: each
    within its bound (conformance/faults.py), and Milvus back after `up`."""
    returncode, output = run_nox("-s", "faults", "--", "--approaches", ",".join(FAULTED), env=dict(os.environ, DEMO_REPORTS_DIR=str(tmp_path)))
    report = json.loads((tmp_path / "faults.json").read_text())
    missed = {f"{a} {name}": cell["problems"] for a, r in report["approaches"].items() for name, cell in r["faults"].items() if cell["problems"]}
    assert not missed, json.dumps(missed, indent=2)
    assert list(report["approaches"]) == FAULTED
    for result in report["approaches"].values():
        assert set(result["faults"]) == {"collector_down", "collector_black_hole", "milvus_down", "milvus_killed", "bad_uri"}
        assert result["faults"]["milvus_killed"]["next_run_exit_status"] == 0
        assert "flush" in result["faults"]["milvus_killed"]["steps_exported"]
    assert returncode == 0, output[-3000:]
    assert milvus().healthy()


def sets_with_a_pair(result: dict) -> int:
    """The bench's sets with a round where traced and an untraced client both have a block."""
    p50 = {mode: result["block_p50_ms"][mode]["Search"] for mode in ("traced", "untraced", "untraced-again")}
    count, start = 0, 0
    for found in result["sets"]:
        rounds = range(start, start + found["rounds"])
        count += any(p50["traced"][r] is not None and (p50["untraced"][r] is not None or p50["untraced-again"][r] is not None) for r in rounds)
        start += found["rounds"]
    return count


def test_quick_bench_cuts_every_approachs_blocks_and_proves_the_untraced_clients(stack, tmp_path):
    """`nox -s bench -- --quick` over every approach: each client's hot path waits for go, takes
    its turns and ends when told (DEMO_BENCH_CONTROL); its calls fall into the bench's blocks by
    their start; the untraced clients sent no span; both reports say QUICK."""
    returncode, output = run_nox("-s", "bench", "--", "--quick", "--no-stack-starts", env=dict(os.environ, DEMO_REPORTS_DIR=str(tmp_path)))
    assert returncode == 0, output[-3000:]
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["quick"] and list(report["approaches"]) == [a.id for a in APPROACHES]
    settings = report["settings"]
    for approach, result in report["approaches"].items():
        # --quick: the base sets only (no budget for more), each of its fresh clients.
        assert [s["rounds"] for s in result["sets"]] == [settings["rounds"]] * settings["processes"], approach
        # A block is lost when it holds fewer than MIN_CALLS (10) calls per RPC. On a quiet machine a
        # 0.3 s block holds 25-40 Search calls (java/agent); with the machine's load at 5-12 from other
        # work, calls took 30-90 ms at times and a set could lose every block of a mode: over all sets,
        # the fewest kept were 5 of 15 (node/sdk, load 12), 4 of 10 (java/sdk), 5 of 10 (python/sdk).
        assert all(4 * found >= result["rounds"] for found in result["blocks"].values()), (approach, result["blocks"])
        for name, comparison in result["comparisons"].items():
            assert set(comparison["rpcs"]) == {"Search", "Query"}, (approach, name)
            assert comparison["cpu_us_per_call"]["b"]["value"] > 0, (approach, name)
        # Each set with a paired round has its own ratio: the spread is there whenever two sets have one.
        paired = sets_with_a_pair(result)
        spread = result["comparisons"]["traced"]["rpcs"]["Search"].get("p50_ratio_sets")
        assert (spread and len(spread["values"]) == paired) if paired >= 2 else not spread, (approach, paired, spread)
        assert result["untraced_checks"] and all(check["passed"] for check in result["untraced_checks"].values()), approach
    assert (tmp_path / "bench.md").read_text().count("QUICK RUN") == 1


def test_quick_load_counts_every_clients_spans_and_milvus_cpu(stack, tmp_path):
    """`nox -s load -- --quick`: every mode's client runs its hot path in workers (DEMO_LOAD_CONCURRENCY)
    and takes its turns; Jaeger's span counts (STACK_SPAN_COUNTS) hold each traced client's Query
    spans, never more than it made, and none of an untraced or unsampled one; Milvus's CPU is
    read per block; the pictures are PNG files; the stack is as it was (no span counts)."""
    returncode, output = run_nox("-s", "load", "--", "--quick", env=dict(os.environ, DEMO_REPORTS_DIR=str(tmp_path)))
    assert returncode == 0, output[-3000:]
    report = json.loads((tmp_path / "load.json").read_text())
    assert report["quick"] and report["settings"]["levels"] == [1, 16]
    assert sorted(report["approaches"]) == sorted({a.language: a.id for a in reversed(APPROACHES)}.values())
    for approach, result in report["approaches"].items():
        for name, mode in result["modes"].items():
            query = mode["spans"]["Query"]
            if mode["kind"] in ("untraced", "unsampled"):
                assert query["received"] == 0 and mode["spans_total"] == 0, (approach, name, query)
            else:
                assert 0 < query["received"] <= query["made"], (approach, name, query)
        # 16 in flight: over a hundred calls a block, so every round has a block
        sixteen = result["levels"]["16"]
        assert sixteen["rounds"] == report["settings"]["rounds"] and sixteen["throughput_ratio"], approach
        assert sixteen["server_cpu_us_per_call"]["b"]["value"] > 0, approach
    for name in report["pictures"]:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    assert (tmp_path / "load.md").read_text().count("QUICK RUN") == 1
    assert port_holder(port("STACK_SPAN_COUNTS_PORT")) is None, "the span counts outlived the tool"


@pytest.mark.parametrize("traced", [True, False], ids=["traced-fails", "untraced-passes"])
def test_the_untraced_check_fails_on_a_traced_client(main_job, tmp_path, traced):
    """The bench's proof that an untraced client sent nothing (bench/jaeger.py), on a real
    hot path: it fails for a traced client, for both reasons, and passes for an untraced one."""
    approach = find(APPROACHES, "go/otelgrpc")
    service = f"{approach.service_name(SCENARIO)}-untraced-check-{traced}"
    record_file = tmp_path / "go.json"
    disabled = {} if traced else {"OTEL_SDK_DISABLED": "true"}
    client = run_client(approach, record_file, OTEL_SERVICE_NAME=service, DEMO_BENCH_REPEAT="200", **disabled)
    assert client.exit_status == 0, text(client.stderr)[-2000:]
    calls = json.loads(record_file.read_text())["bench"]["Search"]
    window = (int(calls[0][0]), int(calls[-1][0] + calls[-1][1] * 1000))
    check = check_untraced(service, SCENARIO["server_service"], window[0] - 60_000_000, window[1] + 60_000_000, [window])
    assert check["server_search_spans"] > 0, check
    if traced:
        assert not check["passed"] and check["client_spans"] > 0 and check["server_search_spans_with_parent"] > 0, check
    else:
        assert check["passed"], check


# The Java agent's own option to record gRPC request metadata: it puts the authorization header on every span.
CAPTURE_AUTHORIZATION = {"OTEL_INSTRUMENTATION_GRPC_CLIENT_REQUEST_METADATA_INCLUDED": "authorization"}


def test_capturing_grpc_metadata_leaks_the_token_and_no_credentials_names_it(main_job, tmp_path):
    approach = find(APPROACHES, "java/agent")
    token = milvus_token()
    assert token, "the stack makes a Milvus user at each start"
    record_file = tmp_path / "java.json"
    client = run_client(approach, record_file, **CAPTURE_AUTHORIZATION)
    assert client.exit_status == 0, text(client.stderr)[-2000:]
    assert token not in text(client.stdout + client.stderr)

    run = load_run(Jaeger(), json.loads(record_file.read_text()), SCENARIO)
    run.secrets = [token]
    result = evaluate(run, SCENARIO, "no_credentials")
    assert not result.passed
    assert "'rpc.grpc.request.metadata.authorization'" in result.reason, result.reason
    assert "holds the Milvus token" in result.reason
    assert token not in result.reason and token.split(":")[1] not in result.reason


def test_rotate_makes_a_new_user_and_drops_the_old_one(main_job, tmp_path):
    """`stackctl.py rotate`: a new user and password, private; the old token is refused from then on."""
    approach = find(APPROACHES, "go/otelgrpc")
    old = milvus_token()
    rotated = subprocess.run([*STACKCTL, "rotate"], capture_output=True, text=True, timeout=360)
    assert rotated.returncode == 0, rotated.stderr[-2000:]
    new = milvus_token()
    assert new and new.split(":")[0] != old.split(":")[0] and new.split(":")[1] != old.split(":")[1]
    assert MILVUS_TOKEN_FILE.stat().st_mode & 0o777 == 0o600
    assert new.split(":")[1] not in rotated.stdout + rotated.stderr
    works = run_client(approach, tmp_path / "new.json")
    assert works.exit_status == 0, text(works.stderr)[-2000:]
    refused = run_client(approach, tmp_path / "old.json", MILVUS_TOKEN=old)
    assert refused.exit_status != 0
    assert "Milvus refused the credentials in MILVUS_TOKEN" in text(refused.stderr), text(refused.stderr)[-2000:]


def test_up_replaces_a_token_that_no_longer_works(main_job, tmp_path):
    """A stored token that Milvus refuses (here: a wrong password) is not kept: `up` makes a new user."""
    original = milvus_token()
    user = original.split(":")[0]
    MILVUS_TOKEN_FILE.write_text(f"{user}:not-its-password")
    try:
        assert milvus_answer(milvus_token()) == "refused"
        assert stack_command("up", 360) == 0
    finally:
        if milvus_answer(milvus_token()) == "refused":  # `up` failed: the later tests need a token that works
            MILVUS_TOKEN_FILE.write_text(original)
    assert milvus_token().split(":")[0] != user and milvus_answer(milvus_token()) == "serves"
    works = run_client(find(APPROACHES, "go/otelgrpc"), tmp_path / "new.json")
    assert works.exit_status == 0, text(works.stderr)[-2000:]


def assert_nothing_left() -> None:
    assert stray_groups() == set()
    taken = {port: port_holder(port) for c in components() for port in c.ports}
    assert {port: holder for port, holder in taken.items() if holder} == {}
    assert stack_command("status", 60) == 3


def test_three_up_down_cycles_leave_nothing_and_keep_the_ports(stack):
    if stack:
        pytest.skip("the stack was running before the tests; leaving it as found")
    token = milvus_token()
    sessions = session_keys(etcd_url())
    assert len(sessions) >= 5, sessions  # its coordinators and nodes: 8 in Milvus 2.3.5
    down = subprocess.run([*STACKCTL, "down"], capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    # Left behind, the next Milvus would wait a session TTL for them (milvus_sessions.py).
    assert f"ended Milvus's {len(sessions)} etcd sessions" in down.stdout + down.stderr
    assert_nothing_left()
    # Right after a stop the old connections are in TIME_WAIT: Milvus must still get its ports.
    for _ in range(3):
        assert stack_command("up", MILVUS_START_TIMEOUT_S + 60) == 0
        assert milvus().healthy() and jaeger().healthy()
        assert milvus_token() == token, "a warm start keeps the demo's Milvus user"
        assert stack_command("down", 120) == 0
        assert_nothing_left()
