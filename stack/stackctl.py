"""The shared Milvus + Jaeger stack: `python stack/stackctl.py up|down|status|rotate`
(rotate: a new Milvus user and password for the demo).

Two backends, chosen by STACK_BACKEND:
- embedded (default): real servers from package registries, no Docker. Milvus is
  PyPI's `milvus` package (the Milvus standalone binary with embedded etcd),
  Jaeger is built from the Go module proxy. Jaeger and etcd listen on 127.0.0.1;
  Milvus 2.3.5 binds its gRPC ports on all interfaces (it has no setting for that).
- docker: stack/docker-compose.yaml.

Standard library only, so it runs with any Python 3.9+ before any venv exists.
State, caches and logs live in .stack/ so that `down` and `status` work from
another process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as `python stack/stackctl.py`: its folder's siblings import as `stack.*`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack.milvus_sessions import end_sessions  # noqa: E402

STACK_DIR = Path(__file__).resolve().parent
ROOT = STACK_DIR.parent
STATE_DIR = Path(os.environ.get("STACK_STATE_DIR", ROOT / ".stack")).resolve()
STATE_FILE = STATE_DIR / "state.json"
LOG_DIR = STATE_DIR / "logs"
MILVUS_VENV = STATE_DIR / "milvus-venv"
MILVUS_DATA = STATE_DIR / "milvus-data"
MILVUS_TOKEN_FILE = STATE_DIR / "milvus-token"  # user:password of the demo's user, mode 0600
MILVUS_ROOT_PASSWORD_FILE = STATE_DIR / "milvus-root-password"
JAEGER_BIN = STATE_DIR / "bin" / "jaeger"
JAEGER_DATA = STATE_DIR / "jaeger-data"  # Badger's files: traces outlive a restart (TTL in config.yaml)
JAEGER_MODULE = STACK_DIR / "jaeger"
COMPOSE_FILE = STACK_DIR / "docker-compose.yaml"

HOST = "127.0.0.1"  # where the embedded stack listens


def _port(variable: str, default: int) -> int:
    value = os.environ.get(variable, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        sys.exit(f"stack: error: {variable}={value!r} is not a TCP port number")
    return int(value)


# The embedded (and docker) stack's ports, each moved by its variable so that two
# stacks run side by side. They reach Jaeger's config.yaml, milvus_standalone.py and
# docker-compose.yaml under the same names (port_env()). Milvus's internal gRPC ports
# move by themselves (milvus_standalone.py).
PORTS = {
    variable: _port(variable, default)
    for variable, default in {
        "STACK_MILVUS_PORT": 19530,
        "STACK_MILVUS_HEALTH_PORT": 9091,
        "STACK_ETCD_PORT": 2379,
        "STACK_ETCD_PEER_PORT": 2380,
        "STACK_OTLP_GRPC_PORT": 4317,
        "STACK_OTLP_HTTP_PORT": 4318,
        "STACK_JAEGER_QUERY_PORT": 16686,
        "STACK_JAEGER_GRPC_PORT": 16685,
    }.items()
}

# Where the clients send and the suite reads: this stack unless set, or any Milvus + Jaeger.
ETCD_URL = f"http://{HOST}:{PORTS['STACK_ETCD_PORT']}"  # Milvus's embedded etcd
LOCAL_MILVUS_URI = f"http://{HOST}:{PORTS['STACK_MILVUS_PORT']}"  # the Milvus we start, whatever MILVUS_URI says
MILVUS_URI = os.environ.get("MILVUS_URI", LOCAL_MILVUS_URI)
OTLP_GRPC_ENDPOINT = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://{HOST}:{PORTS['STACK_OTLP_GRPC_PORT']}")
JAEGER_API_URL = os.environ.get("JAEGER_API_URL", f"http://{HOST}:{PORTS['STACK_JAEGER_QUERY_PORT']}")

JAEGER_START_TIMEOUT_S = 60
MILVUS_START_TIMEOUT_S = 240
MILVUS_SERVE_TIMEOUT_S = 120  # after its health check: a restarted Milvus hangs DDL until its old sessions expire
STOP_GRACE_S = 10
INSTALL_TIMEOUT_S = 900
JAEGER_BUILD_TIMEOUT_S = 1800


class StackError(Exception):
    """A problem the user can act on; printed as one line."""


@dataclass(frozen=True)
class Component:
    name: str
    ports: dict[int, str]
    health_url: str
    health_body: bytes | None = None

    def healthy(self) -> bool:
        return http_ok(self.health_url, expect=self.health_body)


JAEGER = Component(
    "jaeger",
    {
        PORTS["STACK_OTLP_GRPC_PORT"]: "OTLP gRPC",
        PORTS["STACK_OTLP_HTTP_PORT"]: "OTLP HTTP",
        PORTS["STACK_JAEGER_QUERY_PORT"]: "Jaeger query API",
        PORTS["STACK_JAEGER_GRPC_PORT"]: "Jaeger query gRPC",
    },
    f"http://{HOST}:{PORTS['STACK_JAEGER_QUERY_PORT']}/api/services",
)
# Checked before the start, so that a taken port is named in one line rather than
# found later in Milvus's own logs.
MILVUS = Component(
    "milvus",
    {
        PORTS["STACK_MILVUS_PORT"]: "Milvus gRPC",
        PORTS["STACK_MILVUS_HEALTH_PORT"]: "Milvus health/metrics",
        PORTS["STACK_ETCD_PORT"]: "Milvus embedded etcd",
        PORTS["STACK_ETCD_PEER_PORT"]: "Milvus embedded etcd peer",
    },
    f"http://{HOST}:{PORTS['STACK_MILVUS_HEALTH_PORT']}/healthz",
    health_body=b"OK",
)
COMPONENTS = (JAEGER, MILVUS)  # start order: Milvus exports spans from its first second


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def http_ok(url: str, expect: bytes | None = None, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200 and (expect is None or expect in response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False


# --- processes ------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a live process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group."""
    members = []
    for pid in _all_pids():
        stat = _proc_stat(pid)
        if stat and stat[1] == pgid and stat[0] != "Z":
            members.append(pid)
    return members


def stray_groups() -> set[int]:
    """Process groups of any program run from .stack/, even without state (orphans)."""
    marker = str(STATE_DIR) + os.sep
    groups = set()
    for pid in _all_pids():
        if _cmdline(pid).startswith(marker):
            stat = _proc_stat(pid)
            if stat and stat[0] != "Z":
                groups.add(stat[1])
    return groups


def stop_group(name: str, pgid: int) -> None:
    """SIGTERM the whole group, wait, then SIGKILL: Milvus can ignore SIGTERM for 20 s+."""
    if not group_members(pgid):
        return
    started = time.monotonic()
    for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 10)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while group_members(pgid) and time.monotonic() < deadline:
            _reap()
            time.sleep(0.2)
        if not group_members(pgid):
            break
        say(f"{name} (process group {pgid}) still running after {grace} s of {sig.name}; escalating")
    if group_members(pgid):
        raise StackError(f"could not stop {name}: process group {pgid} survives SIGKILL")
    say(f"stopped {name} (process group {pgid}) in {time.monotonic() - started:.1f} s")


def _reap() -> None:
    """Collect exited children of this process, so they do not linger as zombies."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def port_holder(port: int) -> str | None:
    """Who listens on a TCP port (any address), or None when it is free."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        return None
    except OSError:
        pass
    finally:
        sock.close()
    try:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    users = out.split("users:")[-1].strip() if "users:" in out else ""
    return users or "an unknown process"


def check_ports_free(component: Component) -> None:
    for port, role in component.ports.items():
        holder = port_holder(port)
        if holder:
            raise StackError(
                f"port {port} ({role}) is already taken by {holder}; stop that process "
                f"(or `python stack/stackctl.py down` if it is a stale stack of ours) and retry"
            )


def wait_until(what: str, check, timeout_s: float, alive=lambda: True, log: Path | None = None) -> float:
    """Poll check() until true; print progress; return the seconds it took."""
    started = time.monotonic()
    next_note = started + 5
    while True:
        if check():
            return time.monotonic() - started
        elapsed = time.monotonic() - started
        if not alive():
            tail = f"; last log lines:\n{_tail(log)}" if log else ""
            raise StackError(f"{what} exited during start-up after {elapsed:.0f} s (log: {log}){tail}")
        if elapsed > timeout_s:
            raise StackError(f"gave up waiting for {what} after {timeout_s} s" + (f" (log: {log})" if log else ""))
        if time.monotonic() >= next_note:
            say(f"waiting for {what} ... {elapsed:.0f} s")
            next_note += 5
        time.sleep(0.2)


def _tail(path: Path | None, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except (OSError, AttributeError):
        return ""


# --- state ----------------------------------------------------------------------


def load_state() -> dict:
    try:
        return json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return {}


def save_state(state: dict) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")


def running_pgid(state: dict, name: str) -> int | None:
    pgid = state.get(name, {}).get("pgid")
    return pgid if pgid and group_members(pgid) else None


# --- installs -------------------------------------------------------------------


def _run_step(what: str, cmd: list, timeout_s: int, cwd: Path | None = None) -> None:
    """Run an install step with its output in install.log, saying every 30 s that it still runs."""
    say(f"{what} (up to {timeout_s // 60} min) ...")
    started = time.monotonic()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / "install.log"
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(map(str, cmd))}\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        while True:
            try:
                proc.wait(timeout=30)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - started
                if elapsed > timeout_s:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    raise StackError(f"{what} took longer than {timeout_s} s (log: {log})") from None
                say(f"{what}: still running after {elapsed:.0f} s")
    if proc.returncode != 0:
        raise StackError(f"{what} failed with exit code {proc.returncode}; last lines of {log}:\n{_tail(log)}")
    say(f"{what}: done in {time.monotonic() - started:.0f} s")


def ensure_milvus_installed() -> Path:
    """The venv's Python, which runs milvus_standalone.py."""
    python = MILVUS_VENV / "bin" / "python"
    requirements = STACK_DIR / "milvus-requirements.txt"
    stamp = MILVUS_VENV / "requirements.sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    shutil.rmtree(MILVUS_VENV, ignore_errors=True)
    _run_step("creating the Milvus venv", [sys.executable, "-m", "venv", MILVUS_VENV], 120)
    _run_step(
        "installing Milvus from PyPI",
        [python, "-m", "pip", "install", "-q", "-r", requirements],
        INSTALL_TIMEOUT_S,
    )
    stamp.write_text(digest)
    return python


def ensure_jaeger_built() -> Path:
    sources = [JAEGER_MODULE / "go.mod", JAEGER_MODULE / "go.sum"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    stamp = JAEGER_BIN.with_suffix(".sha256")
    if JAEGER_BIN.exists() and stamp.exists() and stamp.read_text() == digest:
        return JAEGER_BIN
    go = shutil.which("go")
    if not go:
        raise StackError("the embedded stack builds Jaeger with Go, but `go` is not on PATH; install Go 1.24+")
    _run_step(
        "building Jaeger from the Go module proxy (first time only)",
        [go, "build", "-o", JAEGER_BIN, "github.com/jaegertracing/jaeger/cmd/jaeger"],
        JAEGER_BUILD_TIMEOUT_S,
        cwd=JAEGER_MODULE,
    )
    stamp.write_text(digest)
    return JAEGER_BIN


# --- embedded backend -----------------------------------------------------------


def _spawn(name: str, cmd: list, env: dict | None = None) -> tuple[subprocess.Popen, Path]:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{name}.log"
    with log.open("w") as out:
        # A session of its own: stop signals the whole group, Milvus's wrapper and its child alike.
        proc = subprocess.Popen(
            [str(c) for c in cmd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return proc, log


def port_env() -> dict:
    """The environment with every stack port variable set, as the stack's processes read them."""
    return {**os.environ, **{variable: str(port) for variable, port in PORTS.items()}}


def milvus_env() -> dict:
    env = port_env()
    env.update(
        TRACE_EXPORTER="otlp",
        TRACE_SAMPLEFRACTION="1",
        TRACE_OTLP_ENDPOINT=f"{HOST}:{PORTS['STACK_OTLP_GRPC_PORT']}",  # our Jaeger, whatever the clients use
        TRACE_OTLP_SECURE="false",
        # A Milvus that crashed or was killed leaves its etcd sessions behind (`down` ends
        # them first: end_milvus_sessions); the next one serves no DDL until they expire,
        # a TTL after its etcd starts (default 30 s: an `up` then took 35 s; with 10 s, 15 s).
        COMMON_SESSION_TTL="10",
    )
    return env


def jaeger_env() -> dict:
    return {**port_env(), "STACK_HOST": HOST, "STACK_JAEGER_DATA": str(JAEGER_DATA)}


def launch(component: Component, state: dict) -> subprocess.Popen | None:
    """Start the component, or None when ours already runs healthy."""
    if running_pgid(state, component.name) and component.healthy():
        say(f"{component.name} already running and healthy (process group {state[component.name]['pgid']}); reusing it")
        return None
    if running_pgid(state, component.name):
        stop_group(component.name, state[component.name]["pgid"])
    check_ports_free(component)
    if component is JAEGER:
        cmd, env = [ensure_jaeger_built(), "--config", JAEGER_MODULE / "config.yaml"], jaeger_env()
    else:
        cmd, env = [ensure_milvus_installed(), STACK_DIR / "milvus_standalone.py", MILVUS_DATA], milvus_env()
    say(f"starting {component.name} ...")
    proc, log = _spawn(component.name, cmd, env)
    state[component.name] = {"pgid": proc.pid, "log": str(log), "started_at": time.time()}
    save_state(state)
    return proc


def await_ready(component: Component, state: dict, proc: subprocess.Popen) -> None:
    timeout_s = JAEGER_START_TIMEOUT_S if component is JAEGER else MILVUS_START_TIMEOUT_S
    log = Path(state[component.name]["log"])
    wait_until(component.name, component.healthy, timeout_s, alive=lambda: proc.poll() is None, log=log)
    took = time.time() - state[component.name]["started_at"]  # from its start: the components start together
    state[component.name]["ready_after_s"] = round(took, 2)
    save_state(state)
    say(f"{component.name} ready in {took:.1f} s (log: {log})")


def start_components(state: dict) -> None:
    """Start what does not run healthy, all at once (Milvus's exporter retries until Jaeger
    listens), and wait for each; on a failure stop what this started."""
    launched: list[tuple[Component, subprocess.Popen]] = []
    try:
        for component in COMPONENTS:
            if proc := launch(component, state):
                launched.append((component, proc))
        for component, proc in launched:
            await_ready(component, state, proc)
    except BaseException:
        for component, proc in launched:
            stop_group(component.name, proc.pid)
        raise


PROBE_COLLECTION = "otel_demo_stack_probe"  # made and dropped by every `up`, through Milvus's REST API


def milvus_answer(token: str) -> str:
    """What our Milvus makes of `token`, through its REST API and the standard library
    (milvus_auth.py needs pymilvus, a second to import): "serves" (it creates and drops a
    collection, as the scenario does), "refused" (the token or its privileges), or "not
    ready". A restarted Milvus can pass its health check and hang DDL until the sessions
    of a killed one expire (COMMON_SESSION_TTL in milvus_env)."""

    def ask(path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{LOCAL_MILVUS_URI}/v1/vector/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=3) as response:  # a hung call is "not ready": ask again
                return json.loads(response.read())
        except urllib.error.HTTPError as error:  # a refused token comes as 401 with code 1800 in the body
            return json.loads(error.read())

    try:
        listed = ask("collections")
        if listed.get("code") == 1800:  # "user hasn't authenticated"
            return "refused"
        if listed.get("code") != 200:
            return "not ready"
        answers = [
            ask("collections/drop", {"collectionName": PROBE_COLLECTION}),  # one left by an interrupted `up`, if any
            ask("collections/create", {"collectionName": PROBE_COLLECTION, "dimension": 2}),
            ask("collections/drop", {"collectionName": PROBE_COLLECTION}),
        ]
    except (OSError, ValueError):
        return "not ready"
    if any("permission deny" in str(answer.get("message", "")).lower() for answer in answers):
        return "refused"
    return "serves" if answers[1].get("code") == answers[2].get("code") == 200 else "not ready"


def wait_for_answer(token: str) -> str:
    """Milvus's answer to `token` once it gives one ("serves" or "refused")."""
    answer = ""

    def answered() -> bool:
        nonlocal answer
        answer = milvus_answer(token)
        return answer != "not ready"

    wait_until("Milvus to serve requests", answered, MILVUS_SERVE_TIMEOUT_S)
    return answer


def ensure_milvus_user(rotate: bool = False) -> None:
    """The demo's user (.stack/milvus-token), kept while Milvus serves its token: Milvus 2.3.5
    applies a new user's grant 26-106 s after creating it (measured). A new one (stack/milvus_auth.py) when
    Milvus refuses the token, or with `rotate`. Returns once Milvus serves the token."""
    token = milvus_token()
    if token and not rotate and wait_for_answer(token) == "serves":
        say(f"the demo's Milvus user {token.split(':')[0]!r} works; keeping it")
        return
    _run_step(
        "a new Milvus user for the demo",
        [ensure_milvus_installed(), STACK_DIR / "milvus_auth.py", LOCAL_MILVUS_URI, MILVUS_TOKEN_FILE, MILVUS_ROOT_PASSWORD_FILE],
        300,  # milvus_auth.py waits up to 240 s for Milvus to apply the new grant
    )
    if wait_for_answer(milvus_token() or "") != "serves":
        raise StackError(f"Milvus refuses the new user's token in {MILVUS_TOKEN_FILE}; `python stack/stackctl.py rotate` makes another")


def milvus_token() -> str | None:
    """The clients' MILVUS_TOKEN for our own stack; None before its first start, and for an
    external Milvus (whose token the user gives as MILVUS_TOKEN)."""
    if os.environ.get("STACK_BACKEND") == "external":
        return None
    try:
        return MILVUS_TOKEN_FILE.read_text().strip() or None
    except FileNotFoundError:
        return None


def up_embedded() -> None:
    state = load_state()
    state["backend"] = "embedded"
    # Every port of every component that is not ours and running, before starting any:
    # a taken Milvus port found after Jaeger started would leave half a stack.
    for component in COMPONENTS:
        if not running_pgid(state, component.name):
            check_ports_free(component)
    start_components(state)
    ensure_milvus_user()


def end_milvus_sessions() -> None:
    """So that the next `up` need not wait for them (milvus_sessions.py); without it, it waits."""
    try:
        say(f"ended Milvus's {end_sessions(ETCD_URL)} etcd sessions")
    except (OSError, ValueError) as error:
        say(f"could not end Milvus's etcd sessions ({error}); the next start waits COMMON_SESSION_TTL for them")


def down_embedded() -> None:
    state = load_state()
    stopped = []
    for component in reversed(COMPONENTS):
        pgid = state.get(component.name, {}).get("pgid")
        if pgid and group_members(pgid):
            if component is MILVUS:
                end_milvus_sessions()
            stop_group(component.name, pgid)
            stopped.append(component)
    strays = stray_groups()
    for pgid in strays:
        stop_group("stray stack process", pgid)
    for component in COMPONENTS if strays else stopped:
        for port, role in component.ports.items():
            wait_until(f"port {port} ({role}) to be released", lambda p=port: port_holder(p) is None, 15)
    STATE_FILE.unlink(missing_ok=True)


# --- docker backend -------------------------------------------------------------


def docker_compose(*args: str, timeout_s: int = 600) -> None:
    if not shutil.which("docker"):
        raise StackError(
            "STACK_BACKEND=docker needs Docker, but `docker` is not on PATH; unset STACK_BACKEND to use the embedded stack"
        )
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    if info.returncode != 0:
        raise StackError(
            "STACK_BACKEND=docker needs a running Docker engine, but `docker info` cannot reach one; unset STACK_BACKEND to use the embedded stack"
        )
    cmd = ["docker", "compose", "-f", str(COMPOSE_FILE), *args]
    say("$ " + " ".join(cmd))
    try:
        result = subprocess.run(cmd, timeout=timeout_s, env=port_env())
    except subprocess.TimeoutExpired:
        raise StackError(f"`{' '.join(cmd)}` took longer than {timeout_s} s") from None
    if result.returncode != 0:
        raise StackError(f"`{' '.join(cmd)}` failed with exit code {result.returncode}")


def up_docker() -> None:
    docker_compose("up", "-d")
    for component in COMPONENTS:
        took = wait_until(component.name, component.healthy, MILVUS_START_TIMEOUT_S)
        say(f"{component.name} ready in {took:.1f} s")
    save_state({"backend": "docker"})
    ensure_milvus_user()


# --- external backend: a Milvus and a Jaeger run elsewhere ----------------------


def external_problems() -> list[str]:
    """What does not answer at MILVUS_URI and JAEGER_API_URL; nothing is started or stopped."""
    problems = []
    if not http_ok(f"{JAEGER_API_URL}/api/services"):
        problems.append(f"Jaeger's query API does not answer at JAEGER_API_URL={JAEGER_API_URL}")
    uri = urllib.parse.urlsplit(MILVUS_URI if "://" in MILVUS_URI else f"//{MILVUS_URI}")
    try:
        # 19530 is Milvus's standard port, what its SDKs assume when the URI names none.
        socket.create_connection((uri.hostname, uri.port or 19530), timeout=5).close()
    except (OSError, ValueError) as error:
        problems.append(f"nothing accepts connections at MILVUS_URI={MILVUS_URI} ({error})")
    return problems


def up_external() -> None:
    problems = external_problems()
    if problems:
        raise StackError("; ".join(problems))


# --- commands -------------------------------------------------------------------

BACKENDS = ("embedded", "docker", "external")


def backend() -> str:
    name = os.environ.get("STACK_BACKEND", "embedded")
    if name not in BACKENDS:
        raise StackError(f"unknown STACK_BACKEND={name!r}; use 'embedded' (default), 'docker' or 'external'")
    return name


def up() -> None:
    started = time.monotonic()
    if backend() == "external":
        up_external()
    elif backend() == "docker":
        up_docker()
    else:
        up_embedded()
    say(
        f"stack up in {time.monotonic() - started:.1f} s: Milvus {MILVUS_URI}, OTLP {OTLP_GRPC_ENDPOINT}, Jaeger API {JAEGER_API_URL}"
    )


def down() -> None:
    if backend() == "external":
        say("STACK_BACKEND=external: nothing of ours to stop")
        return
    if backend() == "docker":
        docker_compose("down")  # volumes stay, as the embedded stack's data: traces outlive a restart
        STATE_FILE.unlink(missing_ok=True)
    else:
        down_embedded()
    say("stack down")


def status() -> int:
    """Print what runs and whether it is healthy; 0 when all of it is."""
    if backend() == "external":
        problems = external_problems()
        say(f"backend: external; Milvus {MILVUS_URI}, Jaeger API {JAEGER_API_URL}: {'; '.join(problems) or 'both answer'}")
        return 3 if problems else 0
    state = load_state()
    say(f"backend: {state.get('backend', backend())}; state: {STATE_DIR}")
    all_healthy = True
    for component in COMPONENTS:
        pgid = running_pgid(state, component.name)
        healthy = component.healthy()
        all_healthy &= healthy
        where = ", ".join(f"{port} {role}" for port, role in component.ports.items())
        processes = f"process group {pgid} ({len(group_members(pgid))} processes)" if pgid else "no process of ours"
        say(f"{component.name}: {'healthy' if healthy else 'NOT healthy'}; {processes}; {where}")
    strays = stray_groups() - {running_pgid(state, c.name) for c in COMPONENTS}
    if strays:
        say(f"stray stack processes (process groups {sorted(strays)}): `python stack/stackctl.py down` stops them")
    return 0 if all_healthy else 3


def rotate() -> None:
    """A new user and password for the demo; the old user is dropped once the new one works."""
    if backend() == "external":
        raise StackError("STACK_BACKEND=external: the Milvus user is yours to manage (MILVUS_TOKEN)")
    if not MILVUS.healthy():
        raise StackError("Milvus is not running; `python stack/stackctl.py up` starts it")
    ensure_milvus_user(rotate=True)


@contextlib.contextmanager
def exclusive(command: str):
    """One up, down or rotate at a time: two at once would both build, install and start."""
    if command == "status":
        yield
        return
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"another `stackctl.py up` or `down` is running; waiting for it (up to {JAEGER_BUILD_TIMEOUT_S} s)")
            deadline = time.monotonic() + JAEGER_BUILD_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StackError("gave up waiting for another stackctl.py up/down to finish") from None
                    time.sleep(1)
        yield


def main(argv: list[str]) -> int:
    commands = {"up": up, "down": down, "status": status, "rotate": rotate}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python stack/stackctl.py {{{'|'.join(commands)}}}", file=sys.stderr)
        return 2
    try:
        with exclusive(argv[0]):
            return commands[argv[0]]() or 0
    except StackError as error:
        print(f"stack: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stack: interrupted; `python stack/stackctl.py down` stops what was started", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
