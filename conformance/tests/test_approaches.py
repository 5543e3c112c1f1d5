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
    ],
)
def test_a_broken_manifest_is_named_in_one_line(tmp_path, change, message):
    with pytest.raises(ManifestError) as error:
        load(manifest(tmp_path, change(GOOD)))
    assert message in str(error.value)
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
