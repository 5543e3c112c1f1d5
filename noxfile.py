"""Orchestrates the stack, every instrumentation approach and the conformance suite.

nox                          stack + every approach + conformance (the main job)
nox -l                       every session, one per approach
nox -s python conformance    one language's approaches, then the suite
nox -s "python(approach='zero-code')"    one approach
nox -s up | down | status    the shared Milvus + Jaeger stack
nox -s tests                 the project's own tests (unit and end-to-end)
nox -s tests -- -m "not e2e"    only the fast ones
nox -s bench                 what tracing costs per approach (restarts the stack; -- --quick: a smoke)
nox -s bench -- --help       its options (rounds, block length, approaches, ...)
nox -s matrix                which SDK releases link to Milvus's spans (reports/matrix.md)
nox -s lock                  refresh python/constraints.txt, the pinned Python default

The approaches are declared in each language folder's approaches.toml
(conformance/APPROACHES.md); this file only reads them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nox

# The `nox` console script, unlike `python -m nox`, leaves this folder off sys.path; the
# project's packages (conformance, stack) are imported from it, never installed.
ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from conformance.approaches import Approach, BuildStep, ManifestError, languages, load_all
from conformance.runs import RUNS_DIR  # DEMO_RUNS_DIR, the same for the clients and the suite
from stack.addresses import StackError, milvus_token, milvus_uri, otlp_grpc_endpoint, ports

SCENARIO_FILE = ROOT / "conformance" / "scenario.json"
STACK = [sys.executable, str(ROOT / "stack" / "stackctl.py")]
CLIENT_TIMEOUT_S = 600
BUILD_TIMEOUT_S = 1800

try:
    APPROACHES = load_all(ROOT)
    ports()  # a bad STACK_*_PORT named here in one line, not in a session's traceback
    MILVUS_URI, OTLP_GRPC_ENDPOINT = milvus_uri(), otlp_grpc_endpoint()
except (ManifestError, StackError) as error:
    sys.exit(f"nox: {error}")
LANGUAGES = languages(APPROACHES)
SCENARIO = json.loads(SCENARIO_FILE.read_text())

nox.options.sessions = [*LANGUAGES, "conformance"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True


def reject_unknown_approaches(argv: list[str]) -> None:
    """nox says only "Sessions not found"; name the known approaches instead, in one line."""
    for arg in argv:
        match = re.fullmatch(r"\s*(\w+)\s*\(\s*approach\s*=\s*['\"]([^'\"]*)['\"]\s*\)\s*", arg)
        if match and match.group(1) in LANGUAGES:
            language, name = match.groups()
            known = [a.name for a in APPROACHES if a.language == language]
            if name not in known:
                sys.exit(f"nox: {language} has no approach {name!r}; known: {', '.join(known)}")


reject_unknown_approaches(sys.argv[1:])


def stack(session: nox.Session, command: str) -> None:
    session.run(*STACK, command, external=True)


@nox.session(venv_backend="none")
def up(session: nox.Session) -> None:
    """Start the shared Milvus + Jaeger stack (reuses a healthy one)."""
    stack(session, "up")


@nox.session(venv_backend="none")
def down(session: nox.Session) -> None:
    """Stop the stack: every process group, then SIGKILL what lingers."""
    stack(session, "down")


@nox.session(venv_backend="none")
def status(session: nox.Session) -> None:
    """Say what runs, where, and whether it is healthy."""
    stack(session, "status")


def require(session: nox.Session, *tools: str) -> None:
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        session.error(f"`nox -s {session.name}` needs {' and '.join(missing)} on PATH; install it and retry")


def settings(approach: Approach) -> dict[str, str]:
    """What every client gets (conformance/APPROACHES.md), then the approach's own env."""
    return {
        "MILVUS_URI": MILVUS_URI,
        "OTEL_SERVICE_NAME": approach.service_name(SCENARIO),
        "OTEL_EXPORTER_OTLP_ENDPOINT": OTLP_GRPC_ENDPOINT,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "DEMO_APPROACH": approach.name,
        "DEMO_SCENARIO": str(SCENARIO_FILE),
        # A token in the environment (any Milvus) wins over the embedded stack's token file.
        **({"MILVUS_TOKEN": token} if (token := os.environ.get("MILVUS_TOKEN") or milvus_token()) else {}),
        **approach.env,
    }


def install(session: nox.Session, approach: Approach) -> None:
    """pip install into the session's virtualenv, skipped while nothing it names has changed."""
    stamp = Path(session.virtualenv.location) / "approach-installed.json"
    local = [arg for arg in approach.install if (approach.folder / arg).exists()]
    # A local package is its pyproject.toml and modules; pip writes build/ and *.egg-info beside them.
    step = BuildStep(
        run=approach.install,
        inputs=[i for arg in local for i in ([f"{arg}/pyproject.toml", f"{arg}/*.py"] if (approach.folder / arg).is_dir() else [arg])],
    )
    if stamp.exists() and json.loads(stamp.read_text()) == approach.install and step.is_fresh(approach.folder, [stamp]):
        session.log(f"up to date: pip install {' '.join(approach.install)}")
        return
    session.install(*approach.install)
    stamp.write_text(json.dumps(approach.install))


def build(session: nox.Session, approach: Approach) -> float:
    """Install and build what the approach declares; returns the seconds it took."""
    require(session, *approach.requires)
    started = time.monotonic()
    with session.chdir(approach.folder):
        if approach.install:
            install(session, approach)
        for step in approach.build:
            if step.is_fresh(approach.folder):
                session.log(f"up to date: {' '.join(step.run)}")
                continue
            session.run("timeout", str(BUILD_TIMEOUT_S), *step.run, external=True)
    return time.monotonic() - started


def bench_spec(approach: Approach) -> dict:
    # The bench restarts the stack (a new password) and adds MILVUS_TOKEN at each run: no secret in the spec file.
    env = {key: value for key, value in settings(approach).items() if key != "MILVUS_TOKEN"}
    return {
        "approach": approach.id,
        "cwd": str(approach.folder),
        "service_name": env["OTEL_SERVICE_NAME"],
        "untraced_switch": approach.untraced_switch,
        "settle_s": approach.bench_settle_s,
        "traced": {"command": approach.run, "env": env},
        "untraced": {"command": approach.untraced_run or approach.run, "env": {**env, **approach.untraced_env}},
    }


def run_approach(session: nox.Session, approach: Approach) -> None:
    """Build, start the stack if needed, run the approach's client with the standard settings."""
    built_s = build(session, approach)
    stack(session, "up")
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    record = RUNS_DIR / f"{approach.slug}.json"
    record.unlink(missing_ok=True)  # a failed run must not leave an old record to check
    session.log(f"running {approach.id} (timeout {CLIENT_TIMEOUT_S} s)")
    started = time.monotonic()
    with session.chdir(approach.folder):
        env = {**settings(approach), "DEMO_RUN_RECORD": str(record)}
        session.run("timeout", "--kill-after=10", str(CLIENT_TIMEOUT_S), *approach.run, env=env, external=True)
    session.log(f"{approach.id}: build {built_s:.1f} s, run {time.monotonic() - started:.1f} s; run record {record}")


def language_session(language: str) -> None:
    """Registers the session `language`, parametrized by its approaches."""
    approaches = {a.name: a for a in APPROACHES if a.language == language}

    def session_func(session: nox.Session, approach: str) -> None:
        run_approach(session, approaches[approach])

    # nox shows one description per session: the first line names every approach.
    session_func.__doc__ = f"{language}: " + "; ".join(f"{a.name} = {a.description}" for a in approaches.values())
    uses_venv = any(a.install for a in approaches.values())
    parametrized = nox.parametrize("approach", list(approaches))(session_func)
    nox.session(name=language, venv_backend=None if uses_venv else "none")(parametrized)


for _language in LANGUAGES:
    language_session(_language)


def client_specs(session: nox.Session, name: str) -> tuple[Path, list[str]]:
    """Builds the approaches named by `--approaches` (default: all) and writes their run specs
    for a runner (bench, faults); returns the file and the rest of the session's arguments."""
    wanted = argparse.ArgumentParser(add_help=False)
    wanted.add_argument("--approaches", default=",".join(a.id for a in APPROACHES))
    known, rest = wanted.parse_known_args(session.posargs)
    chosen = known.approaches.split(",")
    unknown = [approach for approach in chosen if approach not in {a.id for a in APPROACHES}]
    if unknown:
        session.error(f"unknown approach(es) {', '.join(unknown)}; known: {', '.join(a.id for a in APPROACHES)}")
    spec = {}
    if "-h" not in rest and "--help" not in rest:  # nothing to build for the help text
        for approach in (a for a in APPROACHES if a.id in chosen):
            build(session, approach)  # Python approaches install into the session's virtualenv
            spec[approach.id] = bench_spec(approach)
    spec_file = RUNS_DIR / name / "clients.json"
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(json.dumps(spec, indent=2) + "\n")
    return spec_file, rest


@nox.session
def bench(session: nox.Session) -> None:
    """What tracing costs per approach (paired blocks, CIs), where its CPU goes, how fast traces and the stack are.

    Restarts the stack once for the start-up figures (not with --quick or --no-stack-starts).
    Options: `nox -s bench -- --help`; a smoke run: `-- --quick`; the design: conformance/bench/README.md."""
    session.install("-r", "conformance/requirements.txt", "py-spy")  # py-spy: the Python profile
    spec_file, rest = client_specs(session, "bench")
    session.run("python", "-m", "conformance.bench", "--clients", str(spec_file), *rest)


@nox.session
def faults(session: nox.Session) -> None:
    """Every approach when its collector or its Milvus fails (kills and restarts Milvus).

    Options: `nox -s faults -- --help`; `--approaches python/sdk,go/otelgrpc` runs some of them."""
    session.install("-r", "conformance/requirements.txt")
    spec_file, rest = client_specs(session, "faults")
    session.run("python", "-m", "conformance.faults", "--clients", str(spec_file), *rest)


@nox.session
def matrix(session: nox.Session) -> None:
    """Which SDK releases link to Milvus's spans, out of the box and with the id-generator fix.

    Each cell (a set of versions) gets its own cached environment in .matrix/; writes
    reports/matrix.{json,md}. Options (versions per language): `nox -s matrix -- --help`."""
    from dataclasses import replace

    from conformance.matrix import APPROACHES as MATRIX_APPROACHES

    session.install("-r", "conformance/requirements.txt")
    spec, token = {}, {}
    for approach in (a for a in APPROACHES if a.id in MATRIX_APPROACHES):
        if approach.build:
            build(session, approach)  # the Java cells run the main build's app with their agent
        # Its own name: its own collection and service, beside the approach's normal runs.
        env = settings(replace(approach, name=f"{approach.name}-matrix"))
        token = {"MILVUS_TOKEN": env.pop("MILVUS_TOKEN")} if "MILVUS_TOKEN" in env else token  # not into the file
        spec[approach.id] = {"cwd": str(approach.folder), "run": approach.run, "env": env}
    spec_file = ROOT / ".matrix" / "approaches.json"
    spec_file.parent.mkdir(exist_ok=True)
    spec_file.write_text(json.dumps(spec, indent=2) + "\n")
    stack(session, "up")
    session.run("python", "-m", "conformance.matrix", "--approaches", str(spec_file), *session.posargs, env=token)


@nox.session
def lock(session: nox.Session) -> None:
    """Pin what `nox -s python` installs: python/constraints.txt, the newest releases that the
    Python approaches' requirements allow, resolved from scratch (pip's dry-run report)."""
    python = [a for a in APPROACHES if a.language == "python"]
    folder = python[0].folder
    # What the approaches install: requirement files and packages by name; not the constraints
    # (being written) nor local packages (not on PyPI; their dependencies are in the files).
    files, packages = [], []
    for approach in python:
        args = iter(approach.install)
        for arg in args:
            if arg in ("-r", "-c"):
                value = next(args)
                if arg == "-r":
                    files.append(value)
            elif not (folder / arg).exists():
                packages.append(arg)
    report = Path(session.create_tmp()).resolve() / "resolved.json"
    with session.chdir(folder):
        session.run(
            "python", "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
            *(arg for file in dict.fromkeys(files) for arg in ("-r", file)), *dict.fromkeys(packages),
        )
    resolved = sorted((item["metadata"]["name"].lower(), item["metadata"]["version"]) for item in json.loads(report.read_text())["install"])
    pins = [f"{name}=={version}" for name, version in resolved]
    header = "# The versions `nox -s python` installs (-c constraints.txt in approaches.toml).\n# Refresh: nox -s lock (newer releases are tried in nox -s matrix first).\n"
    (folder / "constraints.txt").write_text(header + "\n".join(pins) + "\n")
    session.log(f"wrote {folder / 'constraints.txt'}: {len(pins)} pins")


@nox.session
def conformance(session: nox.Session) -> None:
    """Check every approach's last run, as read back from Jaeger, against the contract."""
    session.install("-r", "conformance/requirements.txt")
    session.run("pytest", "conformance/test_conformance.py", "-v", "-rfs", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own tests: unit tests, then end to end with the real stack."""
    # selenium drives Debian's chromium + chromium-driver for the report's browser test.
    # check-jsonschema checks stack/docker-compose.yaml against the Compose spec.
    session.install("-r", "conformance/requirements.txt", "pyyaml", "nox", "selenium", "check-jsonschema")
    require(session, "go")
    with session.chdir(ROOT / "go"):
        session.run("go", "vet", "./...", external=True)
        session.run("go", "test", "./...", external=True)
    session.run("pytest", "conformance/tests", "stack/tests", "-v", "-rfs", "-p", "no:cacheprovider", *session.posargs)
