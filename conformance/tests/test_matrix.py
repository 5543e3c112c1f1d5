"""The SDK matrix's pure parts: version requests resolved against a recorded listing, the
bad-version cell, the table. No registry, no stack: the matrix itself runs in `nox -s matrix`
(minutes per run), and one real cell would need the stack and a virtualenv, so none runs here."""

import pytest

from conformance.matrix import APPROACHES, table, versions
from conformance.matrix.__main__ import arguments, plan_python
from conformance.matrix.cells import JavaAgentCell
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


def test_contrib_release_pairs_with_the_sdk_release():
    assert [versions.python_contrib(v) for v in ("1.33.1", "1.42.0", "1.45.2")] == ["0.54b1", "0.63b0", "0.66b2"]


class RecordedListings:
    def get(self, reader, name):
        return {"opentelemetry-sdk": SDK_LISTING, "opentelemetry-instrumentation-grpc": CONTRIB_LISTING, "pymilvus": ["3.0.2", "2.5.9"]}[name]


def test_a_bad_version_is_one_cell_and_the_others_still_plan():
    bad, good = plan_python(["9.9.9", "before:1.42.0"], ["newest"], RecordedListings())
    assert bad.error == "opentelemetry-sdk 9.9.9 does not exist on PyPI"
    assert good.error is None
    assert good.versions == {
        "opentelemetry-sdk": "1.41.1",
        "opentelemetry-exporter-otlp-proto-grpc": "1.41.1",
        "opentelemetry-instrumentation-grpc": "0.62b1",
        "pymilvus": "3.0.2",
    }
    row = table.row({"approach": "python/sdk", "versions": bad.versions, "fixable": True, "error": bad.error, "results": {}})
    assert row[2] == "**opentelemetry-sdk 9.9.9 does not exist on PyPI**"


def test_the_table_shows_flags_and_links_per_variant():
    report = {
        "started_at": "2026-11-30T01:36:06+00:00",
        "duration_s": 421.0,
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
                "fixable": False,
                "error": None,
                "results": {"out_of_the_box": table.outcome("01", 9, 9, "ok")},
            },
            {"approach": "node/sdk", "versions": {"sdk": "1"}, "fixable": False, "error": None, "results": {"out_of_the_box": {"error": "client failed: boom"}}},
        ],
    }
    lines = table.markdown(report).splitlines()
    assert "421 s" in lines[2]
    assert lines[-3] == "| python/sdk | opentelemetry-sdk 1.42.0 | `03` | ❌ 0 of 9 | `01` | ✅ 9 of 9 |"
    assert lines[-2] == "| go/otelgrpc | otel v1.47.0 | `01` | ✅ 9 of 9 | — | not needed |"
    assert lines[-1] == "| node/sdk | sdk 1 | — | client failed: boom | — | not needed |"


def test_the_matrix_loads_the_approaches_its_cells_run(tmp_path):
    args = arguments([])
    assert list(args.approaches) == list(APPROACHES)
    agent = args.approaches["java/agent"]
    cell = JavaAgentCell("java", "java/agent", "java-agent-2.26.0", {"opentelemetry-javaagent": "2.26.0"}, True)
    argv, cwd, extra = cell.command(tmp_path, agent, fix=False)
    assert f"-javaagent:{tmp_path / 'opentelemetry-javaagent.jar'}" in argv and cwd == agent.folder
    client = launch(agent, tmp_path / "r.json", name="agent-matrix", command=argv, cwd=cwd, env=extra)
    assert "OTEL_JAVAAGENT_EXTENSIONS" in agent.env and "OTEL_JAVAAGENT_EXTENSIONS" not in client.env
    assert client.env["OTEL_SERVICE_NAME"].endswith("java-agent-matrix")
