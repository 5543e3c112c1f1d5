"""Orchestrates the stack, the four traced clients and the conformance suite.

nox                      stack + every client + conformance (the main job)
nox -s python conformance    one language, then the suite
nox -s up | down | status    the shared Milvus + Jaeger stack
nox -s tests             the project's own tests (unit and end-to-end)
nox -s tests -- -m "not e2e"    only the fast ones
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
RUNS_DIR = ROOT / ".runs"
STACK = [sys.executable, str(ROOT / "stack" / "stackctl.py")]
CLIENT_TIMEOUT_S = 600

nox.options.sessions = ["python", "java", "go", "node", "conformance"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

sys.path.insert(0, str(ROOT / "stack"))
from stackctl import MILVUS_URI, OTLP_GRPC_ENDPOINT  # noqa: E402


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


def run_client(session: nox.Session, language: str, *command: str, cwd: Path, env: dict | None = None) -> None:
    """Start the stack if needed, run one client with the standard settings, time it."""
    stack(session, "up")
    RUNS_DIR.mkdir(exist_ok=True)
    record = RUNS_DIR / f"{language}.json"
    record.unlink(missing_ok=True)  # a failed build must not leave an old run to check
    settings = {
        "MILVUS_URI": MILVUS_URI,
        "OTEL_SERVICE_NAME": f"milvus-client-{language}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": OTLP_GRPC_ENDPOINT,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "DEMO_RUN_RECORD": str(record),
        **(env or {}),
    }
    session.log(f"running the {language} client (timeout {CLIENT_TIMEOUT_S} s)")
    started = time.monotonic()
    with session.chdir(cwd):
        session.run("timeout", "--kill-after=10", str(CLIENT_TIMEOUT_S), *command, env=settings, external=True)
    session.log(f"{language} client done in {time.monotonic() - started:.1f} s; run record {record}")


@nox.session
def python(session: nox.Session) -> None:
    """The Python client: OpenTelemetry SDK + gRPC instrumentation around pymilvus."""
    session.install("-r", "python/requirements.txt")
    run_client(session, "python", "python", "milvus_otel_demo.py", cwd=ROOT / "python")


@nox.session(venv_backend="none")
def java(session: nox.Session) -> None:
    """The Java client: the OpenTelemetry Java agent (zero code) around milvus-sdk-java."""
    require(session, "java", "mvn")
    java_dir = ROOT / "java"
    app_jar = java_dir / "app" / "target" / "milvus-otel-demo.jar"
    poms = [java_dir / "pom.xml", *java_dir.glob("*/pom.xml")]
    # Once a build has filled Maven's cache, build offline; a changed pom needs the network again.
    built = app_jar.exists() and all(pom.stat().st_mtime < app_jar.stat().st_mtime for pom in poms)
    with session.chdir(java_dir):
        session.run("mvn", "-B", "-q", *(["-o"] if built else []), "package", external=True)
    zero_code = {
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        # Only the gRPC instrumentation, plus the annotations (@WithSpan) and the API bridge.
        "OTEL_INSTRUMENTATION_COMMON_DEFAULT_ENABLED": "false",
        "OTEL_INSTRUMENTATION_GRPC_ENABLED": "true",
        "OTEL_INSTRUMENTATION_OPENTELEMETRY_API_ENABLED": "true",
        "OTEL_INSTRUMENTATION_OPENTELEMETRY_INSTRUMENTATION_ANNOTATIONS_ENABLED": "true",
        # Keeps traceparent flags at 01, which Milvus 2.3 accepts (java/README.md).
        "OTEL_JAVAAGENT_EXTENSIONS": "agent-extension/target/milvus-otel-agent-extension.jar",
    }
    run_client(
        session,
        "java",
        "java",
        "-javaagent:app/target/opentelemetry-javaagent.jar",
        "-jar",
        str(app_jar),
        cwd=java_dir,
        env=zero_code,
    )


@nox.session(venv_backend="none")
def go(session: nox.Session) -> None:
    """The Go client: OpenTelemetry Go SDK + otelgrpc stats handler around the Milvus Go client."""
    require(session, "go")
    with session.chdir(ROOT / "go"):
        session.run("go", "build", "-o", "milvus-otel-demo", ".", external=True)
    run_client(session, "go", "./milvus-otel-demo", cwd=ROOT / "go")


@nox.session(venv_backend="none")
def node(session: nox.Session) -> None:
    """The Node.js client: auto-instrumentations-node (zero code) around the Milvus Node SDK."""
    require(session, "node", "npm")
    nodejs = ROOT / "nodejs"
    installed = nodejs / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (nodejs / "package-lock.json").stat().st_mtime:
        with session.chdir(nodejs):
            session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    zero_code = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_NODE_ENABLED_INSTRUMENTATIONS": "grpc",
        # Only local detectors: the cloud ones probe metadata endpoints and warn.
        "OTEL_NODE_RESOURCE_DETECTORS": "env,host,process",
    }
    run_client(
        session,
        "node",
        "node",
        "--require",
        "@opentelemetry/auto-instrumentations-node/register",
        "app.js",
        cwd=nodejs,
        env=zero_code,
    )


@nox.session
def conformance(session: nox.Session) -> None:
    """Check every language's last run, as read back from Jaeger, against the contract."""
    session.install("-r", "conformance/requirements.txt")
    session.run("pytest", "conformance/test_conformance.py", "-v", "-rfs", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own tests: unit tests, then end to end with the real stack."""
    # selenium drives Debian's chromium + chromium-driver for the report's browser test.
    session.install("-r", "conformance/requirements.txt", "-r", "python/requirements.txt", "pyyaml", "nox", "selenium")
    require(session, "go")
    with session.chdir(ROOT / "go"):
        session.run("go", "vet", "./...", external=True)
        session.run("go", "test", "./...", external=True)
    session.run("pytest", "conformance/tests", "stack/tests", "-v", "-rfs", "-p", "no:cacheprovider", *session.posargs)
