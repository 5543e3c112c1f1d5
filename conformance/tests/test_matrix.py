"""The SDK matrix's pure parts: version requests resolved against a recorded listing, the
bad-version cell, the table. No registry, no stack: the matrix itself runs in `nox -s matrix`
(minutes per run), and one real cell would need the stack and a virtualenv, so none runs here."""

from pathlib import Path

import pytest

from conformance.approaches import find, load_all
from conformance.matrix import plans, table, versions
from conformance.matrix.cells import swap_jar
from conformance.runner import launch

# `pip index versions opentelemetry-sdk`, November 2026 (part).
SDK_LISTING = ["1.45.2", "1.45.1", "1.45.0", "1.44.0", "1.43.0", "1.42.1", "1.42.0", "1.41.1", "1.41.0", "1.33.1", "1.33.0"]
CONTRIB_LISTING = ["0.66b2", "0.63b1", "0.63b0", "0.62b1", "0.54b1"]


@pytest.mark.parametrize(
    "request_, expected",
    [("newest", "1.45.2"), ("before:1.42.0", "1.41.1"), ("after:1.42.0", "1.42.1"), ("1.33.1", "1.33.1")],
)
def test_resolve_from_a_recorded_listing(request_, expected):
    assert versions.resolve(request_, SDK_LISTING, "opentelemetry-sdk", "PyPI") == expected


def test_newest_skips_pre_releases_and_reads_go_tags():
    assert versions.resolve("newest", ["v1.47.0-rc.1", "v1.46.0", "v1.9.0"], "otel", "the Go module proxy") == "v1.46.0"


@pytest.mark.parametrize(
    "request_, message",
    [
        ("9.9.9", "opentelemetry-sdk 9.9.9 does not exist on PyPI"),
        ("before:1.33.0", "opentelemetry-sdk: PyPI has no release before 1.33.0"),
        ("after:x", "opentelemetry-sdk after:x: 'x' is not a release number"),
    ],
)
def test_unresolvable_requests_say_why_in_one_line(request_, message):
    with pytest.raises(versions.Unresolvable, match=f"^{message}$"):
        versions.resolve(request_, SDK_LISTING, "opentelemetry-sdk", "PyPI")


def test_a_paired_release_follows_the_manifests_patterns():
    pair = lambda v: versions.paired(v, "1.{minor}.{patch}", "0.{minor+21}b{patch}", "opentelemetry-sdk", "contrib")  # noqa: E731
    assert [pair(v) for v in ("1.33.1", "1.42.0", "1.45.2")] == ["0.54b1", "0.63b0", "0.66b2"]
    with pytest.raises(versions.Unresolvable, match="^opentelemetry-sdk 2.0.0: no contrib release pairs with it$"):
        pair("2.0.0")


MANIFESTS = load_all()
LISTINGS = {
    "opentelemetry-sdk": SDK_LISTING,
    "opentelemetry-instrumentation-grpc": CONTRIB_LISTING,
    "pymilvus": ["3.0.2", "2.5.9"],
    "io.opentelemetry.javaagent:opentelemetry-javaagent": ["2.25.0", "2.26.0", "2.31.1"],
    "go.opentelemetry.io/otel/sdk": ["v1.45.0", "v1.47.0"],
    "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc": ["v0.59.0", "v0.60.0", "v0.72.0"],
    "go.etcd.io/etcd/server/v3": ["v3.5.5", "v3.6.8"],
    "@opentelemetry/sdk-node": ["0.210.0", "0.211.0"],
}


class RecordedListings:
    def get(self, ecosystem, package):
        return LISTINGS[package]


def test_the_cells_run_the_approaches_whose_manifest_declares_a_matrix():
    assert [a.id for a in plans.matrixed(MANIFESTS)] == ["python/sdk", "java/agent", "go/otelgrpc", "go/grpc-otel", "node/sdk"]
    options = plans.options(MANIFESTS)
    assert list(options) == ["languages", "python-sdk", "pymilvus", "java-agent", "java-semconv", "go", "go-semconv", "go-grpc", "node-sdk"]
    assert options["languages"][0] == "python,java,go,node"


def test_a_bad_version_is_one_cell_and_the_others_still_plan():
    bad, good = plans.plan(find(MANIFESTS, "python/sdk"), [["9.9.9", "before:1.42.0"], ["newest"]], RecordedListings())
    assert bad.error == "opentelemetry-sdk 9.9.9 does not exist on PyPI"
    assert good.error is None
    assert good.versions == {
        "opentelemetry-sdk": "1.41.1",
        "opentelemetry-exporter-otlp-proto-grpc": "1.41.1",
        "opentelemetry-instrumentation-grpc": "0.62b1",
        "pymilvus": "3.0.2",
    }
    assert good.key == "python-sdk-1.41.1-pymilvus-3.0.2"
    assert good.pins == good.versions
    row = table.row({"approach": "python/sdk", "versions": bad.versions, "fixable": True, "error": bad.error, "results": {}})
    assert row[2] == "**opentelemetry-sdk 9.9.9 does not exist on PyPI**"


def test_each_ecosystem_plans_its_cells_from_the_manifest():
    java, = plans.plan(find(MANIFESTS, "java/agent"), [["before:2.26.0"]], RecordedListings())
    assert (java.key, java.versions, java.pins) == ("java-agent-2.25.0", {"opentelemetry-javaagent": "2.25.0"}, {"io.opentelemetry.javaagent:opentelemetry-javaagent": "2.25.0"})
    assert java.variant_env(fix=False) == {"OTEL_JAVAAGENT_EXTENSIONS": None} and java.variant_env(fix=True) == {}
    in_use, pair, half = plans.plan(find(MANIFESTS, "go/otelgrpc"), [["in-use", "v1.45.0/v0.59.0", "v1.45.0"]], RecordedListings())
    assert in_use.key == "go-in-use" and list(in_use.versions) == ["otel", "otelgrpc", "etcd server"] and in_use.install_steps() == []
    assert pair.key == "go-otel-v1.45.0-otelgrpc-v0.59.0" and pair.versions == {"otel": "v1.45.0", "otelgrpc": "v0.59.0"}
    assert pair.install_steps()[0][:3] == ["go", "get", "go.opentelemetry.io/otel@v1.45.0"] and len(pair.install_steps()[0]) == 7
    assert pair.build_steps() == [["go", "build", "-o", "bin/otelgrpc", "./cmd/otelgrpc"]]
    assert half.error == "go cell 'v1.45.0': want <otel version>/<otelgrpc version>/<etcd server version>"
    assert half.versions == {"otel": "v1.45.0", "otelgrpc": "", "etcd server": ""}
    node_in_use, node = plans.plan(find(MANIFESTS, "node/sdk"), [["in-use", "0.210.0"]], RecordedListings())
    assert node_in_use.key == "node-in-use" and node_in_use.install_steps() == [["npm", "ci", "--no-audit", "--no-fund"]]
    assert node.key == "node-sdk-0.210.0" and node.install_steps()[1][-1] == "@opentelemetry/instrumentation-grpc@0.210.0"


def test_a_maven_cell_runs_its_own_jar_in_place_of_the_builds():
    jar = Path("/cell/opentelemetry-javaagent.jar")
    assert swap_jar("-javaagent:agent/target/opentelemetry-javaagent.jar", jar) == "-javaagent:/cell/opentelemetry-javaagent.jar"
    assert swap_jar("agent/target/milvus-otel-demo-agent.jar", jar) == "agent/target/milvus-otel-demo-agent.jar"
    assert swap_jar("-javaagent:x/my-opentelemetry-javaagent.jar", jar) == "-javaagent:x/my-opentelemetry-javaagent.jar"


def test_the_table_shows_flags_and_links_per_variant():
    report = {
        "started_at": "2026-11-30T01:36:06+00:00",
        "duration_s": 421.0,
        "semconv_release": "1.45.0",
        "cells": [
            {
                "approach": "python/sdk",
                "versions": {"opentelemetry-sdk": "1.42.0"},
                "fixable": True,
                "error": None,
                "results": {
                    "out_of_the_box": table.outcome("03", 0, 9, "9 of 9 ..."),
                    "with_fix": table.outcome("01", 9, 9, "ok"),
                },
            },
            {
                "approach": "go/otelgrpc",
                "versions": {"otel": "v1.47.0"},
                "settings": {"OTEL_SEMCONV_STABILITY_OPT_IN": "rpc/dup"},
                "fixable": False,
                "error": None,
                "results": {"out_of_the_box": table.outcome("01", 9, 9, "ok", {"generation": "both", "deprecated": {}, "method_form": "fully qualified"})},
            },
            {"approach": "node/sdk", "versions": {"sdk": "1"}, "fixable": False, "error": None, "results": {"out_of_the_box": {"error": "client failed: boom"}}},
        ],
    }
    lines = table.markdown(report).splitlines()
    assert "421 s" in lines[2]
    assert lines[-3] == "| python/sdk | opentelemetry-sdk 1.42.0 | `03` | ❌ 0 of 9 | `01` | ✅ 9 of 9 | — |"
    assert lines[-2] == "| go/otelgrpc | otel v1.47.0, OTEL_SEMCONV_STABILITY_OPT_IN=rpc/dup | `01` | ✅ 9 of 9 | — | not needed | both, rpc.method fully qualified |"
    assert lines[-1] == "| node/sdk | sdk 1 | — | client failed: boom | — | not needed | — |"


def test_a_cell_runs_its_client_through_the_runner_with_its_own_name(tmp_path):
    agent = find(MANIFESTS, "java/agent")
    cell, = plans.plan(agent, [["2.26.0"]], RecordedListings())
    argv, cwd, extra = cell.command(tmp_path, agent, fix=False)
    assert f"-javaagent:{tmp_path / 'opentelemetry-javaagent.jar'}" in argv and cwd == agent.folder
    client = launch(agent, tmp_path / "r.json", name="agent-matrix", command=argv, cwd=cwd, env=extra)
    assert "OTEL_JAVAAGENT_EXTENSIONS" in agent.env and "OTEL_JAVAAGENT_EXTENSIONS" not in client.env
    assert client.env["OTEL_SERVICE_NAME"].endswith("java-agent-matrix")


def test_a_switch_is_a_cell_per_value_on_its_releases_sharing_their_folder():
    go = find(MANIFESTS, "go/otelgrpc")
    plain, *switched = plans.plan(go, [["in-use"]], RecordedListings(), ["rpc", "rpc/dup"])
    assert plain.settings == {} and [cell.settings for cell in switched] == [
        {"OTEL_SEMCONV_STABILITY_OPT_IN": "rpc"}, {"OTEL_SEMCONV_STABILITY_OPT_IN": "rpc/dup"}]
    dup = switched[1]
    assert dup.key == switched[0].key == plain.key == "go-in-use"  # the manifest's `on`: go.mod's releases
    assert dup.variant_env(fix=False) == {"OTEL_SEMCONV_STABILITY_OPT_IN": "rpc/dup"}
    switched[0].results["out_of_the_box"] = {"generation": "stable"}
    assert dup.results == {}  # each cell its own outcomes
    assert [c.record_name(False) for c in (plain, *switched)] == ["out_of_the_box.json", "out_of_the_box-rpc.json", "out_of_the_box-rpc_dup.json"]


def test_an_optional_part_named_is_installed():
    cell, = plans.plan(find(MANIFESTS, "go/otelgrpc"), [["v1.47.0/v0.72.0/v3.6.8"]], RecordedListings())
    assert cell.key == "go-otel-v1.47.0-otelgrpc-v0.72.0-etcd-v3.6.8"
    assert cell.versions == {"otel": "v1.47.0", "otelgrpc": "v0.72.0", "etcd server": "v3.6.8"}
    assert cell.install_steps()[0][-1] == "go.etcd.io/etcd/server/v3@v3.6.8"


def test_an_optional_part_left_out_keeps_the_folders_release():
    cell, = plans.plan(find(MANIFESTS, "go/otelgrpc"), [["v1.45.0/v0.59.0"]], RecordedListings())
    assert cell.versions == {"otel": "v1.45.0", "otelgrpc": "v0.59.0"} and "go.etcd.io/etcd/server/v3" not in cell.pins


def test_a_switch_wants_one_request_per_axis():
    from conformance.manifest_tables import ManifestError, read_matrix

    axis = {"option": "go", "help": "h", "default": "in-use", "parts": [{"package": "p", "key": "k"}]}
    switch = {"option": "s", "help": "h", "default": "rpc", "variable": "V", "on": ["a", "b"]}
    with pytest.raises(ManifestError, match=r"^m\.switch\.on: want one request per axis \(1\), not 2$"):
        read_matrix({"axes": [axis], "switch": switch}, "m")
