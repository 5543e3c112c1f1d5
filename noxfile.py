"""Orchestrates the stack, every instrumentation approach and the conformance suite.

nox                          stack + every approach + conformance (the main job)
nox -l                       every session, one per approach
nox -s python conformance    one language's approaches, then the suite
nox -s "<language>(approach='<name>')"    one approach
nox -s up | down | status    the shared Milvus + Jaeger stack
nox -s tests                 the project's own tests (unit and end-to-end)
nox -s tests -- -m "not e2e"    only the fast ones
nox -s bench                 what tracing costs per approach (restarts the stack; -- --quick: a smoke)
nox -s bench -- --help       its options (rounds, block length, approaches, ...)
nox -s matrix                which SDK releases link to Milvus's spans (reports/matrix.md)
nox -s sampling              does Milvus follow the clients' sampling; tail sampling (reports/sampling.md)
nox -s logs -- <trace id>    Milvus's log lines of one trace
nox -s lock                  refresh python/constraints.txt, the pinned Python default

The approaches are declared in each language folder's approaches.toml
(conformance/APPROACHES.md); this file only reads them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

# The `nox` console script, unlike `python -m nox`, leaves this folder off sys.path; the
# project's packages (conformance, stack) are imported from it, never installed.
ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from conformance.approaches import Approach, ManifestError, languages, load_all
from conformance.build import build, build_chosen, name_known_approaches, run_unit_tests, write_constraints
from conformance.runner import launch, run
from stack.addresses import StackError, ports

CLIENT_TIMEOUT_S = 600

try:
    APPROACHES = load_all(ROOT)
    ports()  # a bad STACK_*_PORT named here in one line, not in a session's traceback
except (ManifestError, StackError) as error:
    sys.exit(f"nox: {error}")
LANGUAGES = languages(APPROACHES)
name_known_approaches(APPROACHES)  # in nox's "Sessions not found" line

nox.options.sessions = [*LANGUAGES, "conformance"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True


def stack(session: nox.Session, command: str) -> None:
    session.run(sys.executable, str(ROOT / "stack" / "stackctl.py"), command, external=True)


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


def run_approach(session: nox.Session, approach: Approach) -> None:
    """Build, start the stack if needed, run the approach's client with the standard settings."""
    built_s = build(session, approach)
    stack(session, "up")
    client = launch(approach, venv=Path(session.bin) if approach.install else None)
    session.log(f"running {approach.id}: {' '.join(client.command)} (timeout {CLIENT_TIMEOUT_S} s)")
    outcome = run(client, CLIENT_TIMEOUT_S, capture=False)
    if outcome.exit_status != 0:
        session.error(f"{approach.id}: {'timed out' if outcome.timed_out else f'exit status {outcome.exit_status}'}")
    session.log(f"{approach.id}: build {built_s:.1f} s, run {outcome.wall_s:.1f} s; run record {client.record}")


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


def tool_session(name: str, doc: str, extras: tuple[str, ...] = (), builds: bool = True) -> None:
    """Registers `nox -s <name>`: conformance/<name>/ run over the chosen approaches, built first
    (builds=False: a tool that runs no client)."""

    def session_func(session: nox.Session) -> None:
        session.install("-r", "conformance/requirements.txt", *extras)
        if builds:
            build_chosen(session, APPROACHES)
        session.run("python", "-m", f"conformance.{name}", *session.posargs)

    session_func.__doc__ = doc
    nox.session(name=name)(session_func)


# Options of each: `nox -s <name> -- --help`; `--approaches <language>/<approach>,...` picks some.
profilers = tuple(dict.fromkeys(package for a in APPROACHES if a.profile for package in a.profile.install))
tool_session("bench", "What tracing costs per approach, with CIs and CPU profiles (conformance/bench/README.md).", profilers)
tool_session("faults", "Every approach when its collector or its Milvus fails (kills and restarts Milvus).")
tool_session("sampling", "Head and tail sampling per approach: does Milvus follow, and its log lines (reports/sampling.md).")
tool_session("load", "Tracing under concurrency: throughput, spans lost, Milvus's CPU (conformance/load/README.md).", ("matplotlib",))
tool_session("logs", "Milvus's log lines of one trace, in time order: `nox -s logs -- <trace id>`.", builds=False)


@nox.session
def matrix(session: nox.Session) -> None:
    """Which SDK releases link to Milvus's spans, out of the box and with the id-generator fix.

    Each cell (a set of versions) gets its own cached environment in .matrix/; writes
    reports/matrix.{json,md}. Options (versions per language): `nox -s matrix -- --help`."""
    session.install("-r", "conformance/requirements.txt")
    for approach in (a for a in APPROACHES if a.matrix and a.build):  # [approaches.<name>.matrix]
        build(session, approach)  # a maven cell runs the main build's app with its own jars
    stack(session, "up")
    session.run("python", "-m", "conformance.matrix", *session.posargs)


@nox.session
def lock(session: nox.Session) -> None:
    """Pin what `nox -s python` installs: python/constraints.txt, the newest releases that the
    Python approaches' requirements allow, resolved from scratch (pip's dry-run report)."""
    write_constraints(session, [a for a in APPROACHES if a.language == "python"])


@nox.session
def conformance(session: nox.Session) -> None:
    """Check every approach's last run, as read back from Jaeger, against the contract."""
    session.install("-r", "conformance/requirements.txt")
    session.run("pytest", "conformance/test_conformance.py", "-v", "-rfs", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own tests: unit tests, then end to end with the real stack."""
    # selenium drives Debian's chromium + chromium-driver for the report's browser test.
    # check-jsonschema checks stack/docker-compose.yaml against the Compose spec; matplotlib draws nox -s load's pictures.
    session.install("-r", "conformance/requirements.txt", "pyyaml", "nox", "selenium", "check-jsonschema", "matplotlib")
    run_unit_tests(session, APPROACHES)  # each language's own (unit_tests in its approaches.toml)
    session.run("pytest", "conformance/tests", "stack/tests", "-v", "-rfs", "-p", "no:cacheprovider", *session.posargs)
