"""Orchestrates the stack, every instrumentation approach and the conformance suite.

nox                          stack + every approach + conformance (the main job)
nox -l                       every session, one per approach
nox -s python conformance    one language's approaches, then the suite
nox -s "python(approach='zero-code')"    one approach
nox -s up | down | status    the shared Milvus + Jaeger stack
nox -s tests                 the project's own tests (unit and end-to-end)
nox -s tests -- -m "not e2e"    only the fast ones
nox -s bench                 what tracing costs per approach (restarts the stack)
nox -s bench -- --help       its options (N, pairs, approaches, ...)

The approaches are declared in each language folder's approaches.toml
(conformance/APPROACHES.md); this file only reads them.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

import nox

from conformance.approaches import Approach, BuildStep, ManifestError, languages, load_all
from stack.stackctl import MILVUS_URI, OTLP_GRPC_ENDPOINT

ROOT = Path(__file__).resolve().parent
RUNS_DIR = ROOT / ".runs"
SCENARIO_FILE = ROOT / "conformance" / "scenario.json"
STACK = [sys.executable, str(ROOT / "stack" / "stackctl.py")]
CLIENT_TIMEOUT_S = 600
BUILD_TIMEOUT_S = 1800

try:
    APPROACHES = load_all(ROOT)
except ManifestError as error:
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
        **approach.env,
    }


def install(session: nox.Session, approach: Approach) -> None:
    """pip install into the session's virtualenv, skipped while nothing it names has changed."""
    stamp = Path(session.virtualenv.location) / "approach-installed.json"
    local = [arg for arg in approach.install if (approach.folder / arg).exists()]
    step = BuildStep(run=approach.install, inputs=[f"{path}/**/*" if (approach.folder / path).is_dir() else path for path in local])
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
    env = settings(approach)
    return {
        "approach": approach.id,
        "cwd": str(approach.folder),
        "service_name": env["OTEL_SERVICE_NAME"],
        "untraced_switch": approach.untraced_switch,
        "traced": {"command": approach.run, "env": env},
        "untraced": {"command": approach.untraced_run or approach.run, "env": {**env, **approach.untraced_env}},
    }


def run_approach(session: nox.Session, approach: Approach) -> None:
    """Build, start the stack if needed, run the approach's client with the standard settings."""
    built_s = build(session, approach)
    stack(session, "up")
    RUNS_DIR.mkdir(exist_ok=True)
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


@nox.session
def bench(session: nox.Session) -> None:
    """What tracing costs per approach, how soon a trace shows in Jaeger, how fast the stack starts.

    Restarts the stack for the start-up figures (unless --no-stack-starts), so Jaeger
    forgets earlier traces. Options: `nox -s bench -- --help`."""
    session.install("-r", "conformance/requirements.txt")
    wanted = argparse.ArgumentParser(add_help=False)
    wanted.add_argument("--approaches", default=",".join(a.id for a in APPROACHES))
    chosen = wanted.parse_known_args(session.posargs)[0].approaches.split(",")
    if "-h" in session.posargs or "--help" in session.posargs:
        chosen = []  # nothing to build for the help text
    spec = {}
    for approach in (a for a in APPROACHES if a.id in chosen):
        build(session, approach)  # Python approaches install into this session's virtualenv
        spec[approach.id] = bench_spec(approach)
    spec_file = RUNS_DIR / "bench" / "clients.json"
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(json.dumps(spec, indent=2) + "\n")
    session.run("python", "-m", "conformance.run_bench", "--clients", str(spec_file), *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """Check every approach's last run, as read back from Jaeger, against the contract."""
    session.install("-r", "conformance/requirements.txt")
    session.run("pytest", "conformance/test_conformance.py", "-v", "-rfs", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own tests: unit tests, then end to end with the real stack."""
    # selenium drives Debian's chromium + chromium-driver for the report's browser test.
    session.install("-r", "conformance/requirements.txt", "pyyaml", "nox", "selenium")
    require(session, "go")
    with session.chdir(ROOT / "go"):
        session.run("go", "vet", "./...", external=True)
        session.run("go", "test", "./...", external=True)
    session.run("pytest", "conformance/tests", "stack/tests", "-v", "-rfs", "-p", "no:cacheprovider", *session.posargs)
