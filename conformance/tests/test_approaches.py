"""The approach manifests: what the loader accepts and refuses, and what nox makes of them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.approaches import ROOT, BuildStep, ManifestError, find, languages, load, load_all, select
from conformance.build import unknown_approaches

GOOD = """
language = "demo"
order = 5
requires = ["true"]

[approaches.one]
description = "the first"
run = ["true"]
link_fix = "nothing"
untraced_switch = "OTEL_SDK_DISABLED=true"

[approaches.two]
description = "the second"
run = ["true"]
link_fix = "nothing"
untraced_switch = "no agent"
untraced_run = ["false"]
untraced_env = {}
build = [{ run = ["make"], inputs = ["src/*"], outputs = ["out.bin"] }]
[approaches.two.env]
OTEL_TRACES_EXPORTER = "otlp"
"""


def manifest(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "approaches.toml"
    path.write_text(text)
    return path


def test_a_manifest_declares_each_approach_once(tmp_path):
    one, two = load(manifest(tmp_path, GOOD))
    assert (one.id, one.slug, one.session()) == ("demo/one", "demo-one", "demo(approach='one')")
    assert one.untraced_env == {"OTEL_SDK_DISABLED": "true"} and one.untraced_run is None
    assert two.untraced_env == {} and two.untraced_run == ["false"]
    assert two.env == {"OTEL_TRACES_EXPORTER": "otlp"}
    assert two.build == [BuildStep(["make"], ["src/*"], ["out.bin"])]
    assert one.service_name({"client_service_prefix": "milvus-client-"}) == "milvus-client-demo-one"
    assert one.bench_settle_s == two.bench_settle_s == 0
    settled = load(manifest(tmp_path, GOOD.replace('order = 5', 'order = 5\nbench_settle_s = 2.5')))
    assert [approach.bench_settle_s for approach in settled] == [2.5, 2.5]
    tested = load(manifest(tmp_path, GOOD.replace('order = 5', 'order = 5\nunit_tests = [["make", "test"]]')))
    assert [approach.unit_tests for approach in tested] == [[["make", "test"]], [["make", "test"]]]


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda text: text.replace('link_fix = "nothing"\nuntraced_switch = "OTEL_SDK_DISABLED=true"', ""), "missing link_fix, untraced_switch"),
        (lambda text: text.replace('description = "the first"', 'description = "the first"\nrun_untraced = []'), "unknown key(s) run_untraced"),
        (lambda text: text.replace('run = ["true"]\nlink_fix', 'run = "true"\nlink_fix', 1), "run: want a list of strings"),
        (lambda text: text.replace('language = "demo"', ""), "needs `language`"),
        (lambda text: text + "\n[oops", "approaches.toml"),
        (lambda text: text.replace('order = 5', 'order = 5\nbench_settle_s = "8 s"'), "bench_settle_s: want a number of seconds >= 0"),
        (lambda text: text.replace('order = 5', 'order = 5\nbench_settle_s = -1'), "bench_settle_s: want a number of seconds >= 0"),
        (lambda text: text.replace('order = 5', 'order = 5\nunit_tests = ["make test"]'), "unit_tests[0]: want a list of strings"),
    ],
)
def test_a_broken_manifest_is_named_in_one_line(tmp_path, change, message):
    with pytest.raises(ManifestError) as error:
        load(manifest(tmp_path, change(GOOD)))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


TOOLS = GOOD.replace('requires = ["true"]', 'requires = ["true"]\necosystem = "npm"') + """
[profile]
profiler = "demo-prof"
attach = ["demo-prof", "--pid", "{pid}"]
format = "collapsed"
output = "out.txt"
[profile.owners]
export = ["exporter"]
tracing = ["otel"]
work = ["app"]

[versions]
runtime = ["demo", "--version"]
packages = ["a"]

[approaches.one.bench]
standard_trims = ["deferred-export"]
[approaches.one.bench.trims.quiet]
DEMO_QUIET = "1"

[approaches.one.matrix]
with_fix = { env = { FIX = "1" } }
[[approaches.one.matrix.axes]]
option = "demo-sdk"
help = "demo-sdk releases"
default = "newest"
parts = [{ package = "@demo/sdk", key = "sdk", paired = { package = "@demo/x", from = "1.{minor}", to = "0.{minor}" } }]
"""


def test_a_language_folder_tells_the_tools_its_profiler_versions_trims_and_cells(tmp_path):
    one, two = load(manifest(tmp_path, TOOLS))
    assert one.ecosystem == two.ecosystem == "npm"
    assert one.profile == two.profile and one.profile.owners == {"export": ("exporter",), "tracing": ("otel",), "work": ("app",)}
    assert (one.profile.period_ms, one.profile.hot_path, one.profile.attach[0]) == (1, None, "demo-prof")
    assert one.versions.packages == {"a": "a"} and one.versions.runtime == ["demo", "--version"]
    assert list(one.trims) == ["deferred-export", "quiet"] and one.trims["quiet"] == {"DEMO_QUIET": "1"}
    assert one.trims["deferred-export"]["OTEL_BSP_SCHEDULE_DELAY"] == "3600000"
    assert two.trims == {} and two.matrix is None
    assert one.matrix.fixable and one.matrix.variants["out_of_the_box"] == {"env": {}, "unset": []}
    (part,) = one.matrix.axes[0].parts
    assert (part.install, part.shown, part.paired["to"]) == (["@demo/sdk"], None, "0.{minor}")


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda text: text.replace("[profile]", "[profiel]", 1), "approaches.toml: unknown key(s) profiel"),
        (lambda text: text.replace('format = "collapsed"', 'format = "perf"'), "[profile].format: want one of collapsed, jfr, pprof, cpuprofile, not 'perf'"),
        (lambda text: text.replace('work = ["app"]', ""), "[profile].owners: missing work"),
        (lambda text: text.replace('output = "out.txt"', 'output = "out.txt"\nhot_paths = "x"'), "[profile]: unknown key(s) hot_paths"),
        (lambda text: text.replace('output = "out.txt"', 'output = "out.txt"\nperiod_ms = 0'), "[profile].period_ms: want a number of milliseconds > 0"),
        (lambda text: text.replace('runtime = ["demo", "--version"]', 'runtime = "demo --version"'), "[versions].runtime: want a list of strings"),
        (lambda text: text.replace('["deferred-export"]', '["no-export"]'), "[approaches.one].bench.standard_trims: unknown trim 'no-export'"),
        (lambda text: text.replace('DEMO_QUIET = "1"', "DEMO_QUIET = 1"), "[approaches.one].bench.trims.quiet: want a table of strings"),
        (lambda text: text.replace('standard_trims = ["deferred-export"]', 'trim = []'), "[approaches.one].bench: unknown key(s) trim"),
        (lambda text: text.replace('default = "newest"', 'defaults = "newest"'), "[approaches.one].matrix.axes[0]: missing default"),
        (lambda text: text.replace('key = "sdk"', 'key = "sdk", pin = "x"'), "matrix.axes[0].parts[0]: unknown key(s) pin"),
        (lambda text: text.replace(', to = "0.{minor}"', ""), "matrix.axes[0].parts[0].paired: missing to"),
        (lambda text: text.replace("with_fix = { env", "with_the_fix = { env"), "[approaches.one].matrix: unknown key(s) with_the_fix"),
        (lambda text: text.replace('ecosystem = "npm"', 'ecosystem = "cargo"'), "ecosystem: want one of pip, maven, go, npm, not 'cargo'"),
        (lambda text: text.replace('ecosystem = "npm"', ""), "[versions] and [approaches.<name>.matrix] need `ecosystem`"),
    ],
)
def test_a_broken_tool_table_is_named_in_one_line(tmp_path, change, message):
    with pytest.raises(ManifestError) as error:
        load(manifest(tmp_path, change(TOOLS)))
    assert message in str(error.value)
    assert "approaches.toml" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_build_step_is_skipped_only_while_its_outputs_are_newer(tmp_path):
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "main.c"
    source.write_text("x")
    step = BuildStep(["make"], ["src/*"], ["out.bin"])
    assert not step.is_fresh(tmp_path)  # no output yet
    output = tmp_path / "out.bin"
    output.write_text("built")
    os.utime(source, (time.time() - 60,) * 2)
    assert step.is_fresh(tmp_path)
    source.write_text("changed")  # now newer than the output
    assert not step.is_fresh(tmp_path)
    assert not BuildStep(["go", "build"]).is_fresh(tmp_path)  # no outputs: always runs


def test_every_language_folder_declares_at_least_two_approaches():
    approaches = load_all()
    assert languages(approaches) == ["python", "java", "go", "node"]
    for language in languages(approaches):
        names = [a.name for a in approaches if a.language == language]
        assert len(names) >= 2, f"{language}: {names}"
    assert len({a.slug for a in approaches}) == len(approaches)


def test_find_names_the_known_approaches():
    approaches = load_all()
    assert find(approaches, "python/zero-code").name == "zero-code"
    with pytest.raises(ManifestError, match="known: python/sdk"):
        find(approaches, "python/nope")


def nox(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nox", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_nox_lists_a_session_per_approach():
    listing = nox("-l").stdout
    for approach in load_all():
        assert approach.session() in listing
        assert approach.description in listing


def test_an_unknown_approach_on_the_nox_command_line_is_one_line_naming_the_known_ones():
    result = nox("-s", "python(approach='nope')")
    assert result.returncode != 0
    line = "Sessions not found: python(approach='nope'): python has no approach 'nope'; known: sdk, zero-code"
    assert line in result.stderr.splitlines()[-1]


def test_unknown_approaches_are_named_with_their_languages_known_ones():
    approaches = load_all()
    named = "python(approach='nope'), go(approach=\"otelgrpc\"), ruby(approach='x')"
    assert unknown_approaches(approaches, named) == ["python has no approach 'nope'; known: sdk, zero-code"]


def test_select_keeps_the_order_given_and_names_an_unknown_one():
    approaches = load_all()
    assert [a.id for a in select(approaches, "go/otelgrpc,python-sdk")] == ["go/otelgrpc", "python/sdk"]
    with pytest.raises(ManifestError, match="unknown approach 'go/nope'"):
        select(approaches, "python/sdk,go/nope")
