"""Orchestrates the stack, the four traced clients and the conformance suite.

nox                      stack + every client + conformance (the main job)
nox -s python conformance    one language, then the suite
nox -s up | down | status    the shared Milvus + Jaeger stack
nox -s tests             the project's own tests (unit and end-to-end)
nox -s tests -- -m "not e2e"    only the fast ones
nox -s bench             what tracing costs per language (restarts the stack)
nox -s bench -- --help   its options (N, pairs, languages, ...)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
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


@dataclass
class Client:
    """How to run one language's client: traced (the normal run) and untraced (nox -s bench)."""

    language: str
    cwd: Path
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    untraced_switch: str = ""  # what turns tracing off, as the bench reports it
    untraced_command: list[str] | None = None  # None: the same command
    untraced_env: dict[str, str] = field(default_factory=lambda: {"OTEL_SDK_DISABLED": "true"})

    @property
    def settings(self) -> dict[str, str]:
        return {
            "MILVUS_URI": MILVUS_URI,
            "OTEL_SERVICE_NAME": f"milvus-client-{self.language}",
            "OTEL_EXPORTER_OTLP_ENDPOINT": OTLP_GRPC_ENDPOINT,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            **self.env,
        }

    def bench_spec(self) -> dict:
        return {
            "cwd": str(self.cwd),
            "service_name": self.settings["OTEL_SERVICE_NAME"],
            "untraced_switch": self.untraced_switch,
            "traced": {"command": self.command, "env": self.settings},
            "untraced": {"command": self.untraced_command or self.command, "env": {**self.settings, **self.untraced_env}},
        }


def run_client(session: nox.Session, client: Client) -> None:
    """Start the stack if needed, run one client with the standard settings, time it."""
    stack(session, "up")
    RUNS_DIR.mkdir(exist_ok=True)
    record = RUNS_DIR / f"{client.language}.json"
    record.unlink(missing_ok=True)  # a failed build must not leave an old run to check
    session.log(f"running the {client.language} client (timeout {CLIENT_TIMEOUT_S} s)")
    started = time.monotonic()
    with session.chdir(client.cwd):
        env = {**client.settings, "DEMO_RUN_RECORD": str(record)}
        session.run("timeout", "--kill-after=10", str(CLIENT_TIMEOUT_S), *client.command, env=env, external=True)
    session.log(f"{client.language} client done in {time.monotonic() - started:.1f} s; run record {record}")


def python_client(session: nox.Session) -> Client:
    session.install("-r", "python/requirements.txt")
    return Client(
        "python",
        ROOT / "python",
        ["python", "milvus_otel_demo.py"],
        untraced_switch="OTEL_SDK_DISABLED=true: the SDK's TracerProvider hands out no-op tracers; "
        "the gRPC interceptor stays installed, makes no-op spans and injects no traceparent",
    )


def java_client(session: nox.Session) -> Client:
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
    return Client(
        "java",
        java_dir,
        ["java", "-javaagent:app/target/opentelemetry-javaagent.jar", "-jar", str(app_jar)],
        zero_code,
        untraced_switch="no -javaagent: nothing is instrumented, @WithSpan is inert and the API is a no-op",
        untraced_command=["java", "-jar", str(app_jar)],
        untraced_env={},
    )


def go_client(session: nox.Session) -> Client:
    require(session, "go")
    with session.chdir(ROOT / "go"):
        session.run("go", "build", "-o", "milvus-otel-demo", ".", external=True)
    return Client(
        "go",
        ROOT / "go",
        ["./milvus-otel-demo"],
        untraced_switch="OTEL_SDK_DISABLED=true, read by the app because the Go SDK ignores it: "
        "no SDK (no-op tracer provider) and no otelgrpc stats handler",
    )


def node_client(session: nox.Session) -> Client:
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
    return Client(
        "node",
        nodejs,
        ["node", "--require", "@opentelemetry/auto-instrumentations-node/register", "app.js"],
        zero_code,
        untraced_switch="OTEL_SDK_DISABLED=true: NodeSDK.start() returns at once (no tracer provider, propagator or "
        "context manager); grpc-js is still patched by the instrumentation's constructor and makes no-op spans",
    )


CLIENTS = {"python": python_client, "java": java_client, "go": go_client, "node": node_client}


@nox.session
def python(session: nox.Session) -> None:
    """The Python client: OpenTelemetry SDK + gRPC instrumentation around pymilvus."""
    run_client(session, python_client(session))


@nox.session(venv_backend="none")
def java(session: nox.Session) -> None:
    """The Java client: the OpenTelemetry Java agent (zero code) around milvus-sdk-java."""
    run_client(session, java_client(session))


@nox.session(venv_backend="none")
def go(session: nox.Session) -> None:
    """The Go client: OpenTelemetry Go SDK + otelgrpc stats handler around the Milvus Go client."""
    run_client(session, go_client(session))


@nox.session(venv_backend="none")
def node(session: nox.Session) -> None:
    """The Node.js client: auto-instrumentations-node (zero code) around the Milvus Node SDK."""
    run_client(session, node_client(session))


@nox.session
def bench(session: nox.Session) -> None:
    """What tracing costs per language, how soon a trace shows in Jaeger, how fast the stack starts.

    Restarts the stack for the start-up figures (unless --no-stack-starts), so Jaeger
    forgets earlier traces. Options: `nox -s bench -- --help`."""
    session.install("-r", "conformance/requirements.txt")
    wanted = argparse.ArgumentParser(add_help=False)
    wanted.add_argument("--languages", default=",".join(CLIENTS))
    languages = wanted.parse_known_args(session.posargs)[0].languages.split(",")
    if "-h" in session.posargs or "--help" in session.posargs:
        languages = []  # nothing to build for the help text
    spec = {name: CLIENTS[name](session).bench_spec() for name in languages if name in CLIENTS}
    spec_file = RUNS_DIR / "bench" / "clients.json"
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(json.dumps(spec, indent=2) + "\n")
    session.run("python", "conformance/run_bench.py", "--clients", str(spec_file), *session.posargs)


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
