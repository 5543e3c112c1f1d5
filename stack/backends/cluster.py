"""The cluster topology of the embedded backend (STACK_MILVUS_MODE=cluster): Jaeger as in
embedded.py, then etcd and Kafka, then Milvus's roles as separate processes, each in a
process group of its own recorded in state.json (what runs is cluster_plan.py; where it
comes from, cluster_installs.py). The proxy answers on the Milvus and health ports that
the standalone uses, so the clients, the suite and milvus_user.py see no difference."""

from __future__ import annotations

import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stack import cluster_plan, state
from stack.addresses import CLUSTER_DIR, HOST, StackError, port
from stack.backends import embedded
from stack.cluster_installs import KAFKA_LIBS, ensure_etcd, ensure_kafka, ensure_milvus_binary
from stack.cluster_plan import KAFKA, Process
from stack.components import MILVUS_START_TIMEOUT_S, http_ok, jaeger
from stack.processes import (
    check_ports_free,
    groups_with_argument,
    port_holder,
    resident_mib,
    run_step,
    say,
    spawn,
    stop_group,
    stray_groups,
    wait_until,
)

BACKING_START_TIMEOUT_S = 60


def healthy(process: Process) -> bool:
    if process.health_path:
        return http_ok(cluster_plan.health_url(process), expect=process.health_body)
    try:
        socket.create_connection((HOST, port(process.health_port_variable())), timeout=2).close()
        return True
    except OSError:
        return False


def all_running_healthy(current: dict) -> bool:
    return all(state.running_pgid(current, p.name) and healthy(p) for p in cluster_plan.processes())


def prepare() -> dict[str, list[str]]:
    """Install what is missing, write the config files; each process's command line."""
    etcd, classpath, bin_dir = ensure_etcd(), ensure_kafka(), ensure_milvus_binary(CLUSTER_DIR / "configs")
    (CLUSTER_DIR / "configs" / "milvus.yaml").write_text(cluster_plan.milvus_yaml(CLUSTER_DIR / "storage"))
    properties = CLUSTER_DIR / "kafka.properties"
    properties.write_text(cluster_plan.kafka_properties(CLUSTER_DIR / "kafka-data"))
    kafka_format, kafka_run = cluster_plan.kafka_commands(classpath, properties, cluster_plan.kafka_cluster_id())
    if not (CLUSTER_DIR / "kafka-data" / "meta.properties").exists():
        (CLUSTER_DIR / "kafka-data").mkdir(parents=True, exist_ok=True)
        run_step("formatting Kafka's storage", kafka_format, 120)
    commands = {"etcd": cluster_plan.etcd_command(etcd, CLUSTER_DIR / "etcd-data"), "kafka": kafka_run}
    for role in cluster_plan.MILVUS_ROLES:
        commands[role.name] = [str(bin_dir / "milvus"), "run", *role.milvus_args]
    return commands


def start(process: Process, command: list[str], current: dict) -> subprocess.Popen:
    env = embedded.milvus_env()  # the stack's ports and Milvus's trace settings
    if process.milvus_args:
        env = cluster_plan.milvus_env(env, process, Path(command[0]).parent, CLUSTER_DIR / "run")
    say(f"starting {process.name} ...")
    proc, log = spawn(process.name, command, env, cwd=CLUSTER_DIR)  # Milvus reads ./configs/milvus.yaml
    current[process.name] = {"pgid": proc.pid, "log": str(log), "started_at": time.time()}
    state.save(current)
    return proc


def await_ready(process: Process, proc: subprocess.Popen, current: dict, timeout_s: float) -> None:
    log = Path(current[process.name]["log"])
    try:
        wait_until(process.name, lambda: healthy(process), timeout_s, alive=lambda: proc.poll() is None, log=log)
    except StackError as error:
        if process.milvus_args and not healthy(KAFKA):  # the usual cause, named first
            raise StackError(f"{process.name} did not start: Kafka does not answer at {HOST}:{port('STACK_KAFKA_PORT')} ({error})") from None
        raise
    took = time.time() - current[process.name]["started_at"]
    current[process.name]["ready_after_s"] = round(took, 2)
    state.save(current)
    say(f"{process.name} ready in {took:.1f} s (log: {log})")


def start_cluster(current: dict) -> None:
    """etcd and Kafka, then every Milvus role at once (they find each other through etcd);
    on a failure stop what this started."""
    commands = prepare()
    launched: list[tuple[Process, subprocess.Popen]] = []
    try:
        for group, timeout_s in ((cluster_plan.BACKING, BACKING_START_TIMEOUT_S), (cluster_plan.MILVUS_ROLES, MILVUS_START_TIMEOUT_S)):
            started = [(p, start(p, commands[p.name], current)) for p in group]
            launched += started
            for process, proc in started:
                await_ready(process, proc, current, timeout_s)
    except BaseException:
        stop_all([p.name for p, _ in reversed(launched)], current)
        raise


def stop_all(names: list[str], current: dict) -> None:
    """Milvus's roles together (each may wait out its grace period), then etcd and Kafka."""
    groups = [(n, current[n]["pgid"]) for n in names if state.running_pgid(current, n)]
    backing = {p.name for p in cluster_plan.BACKING}
    for batch in ([g for g in groups if g[0] not in backing], [g for g in groups if g[0] in backing]):
        with ThreadPoolExecutor(max_workers=max(1, len(batch))) as pool:
            list(pool.map(lambda group: stop_group(*group), batch))


def up() -> None:
    current = state.load()
    current["backend"] = "cluster"
    if not state.running_pgid(current, "jaeger"):
        check_ports_free(jaeger().ports)
    reuse = all_running_healthy(current)
    if not reuse:  # a part is down (a query node killed, say): the whole cluster starts again
        if state.running_pgid(current, "etcd"):
            embedded.end_milvus_sessions()
        stop_all([p.name for p in reversed(cluster_plan.processes())], current)
        for process in cluster_plan.processes():
            check_ports_free(cluster_plan.ports_of(process))
    proc = embedded.launch(jaeger(), current)  # None: ours already runs healthy
    try:
        if reuse:
            say("the Milvus cluster already runs healthy; reusing it")
        else:
            start_cluster(current)
        if proc:
            embedded.await_ready(jaeger(), current, proc)
    except BaseException:
        if proc:
            stop_group("jaeger", proc.pid)
        raise


def down() -> None:
    current = state.load()
    if state.running_pgid(current, "etcd"):
        embedded.end_milvus_sessions()
    stop_all([p.name for p in reversed(cluster_plan.processes())], current)
    if pgid := state.running_pgid(current, "jaeger"):
        stop_group("jaeger", pgid)
    for pgid in stray_groups() | groups_with_argument(str(KAFKA_LIBS)):
        stop_group("stray stack process", pgid)
    for process in (*cluster_plan.processes(), jaeger()):
        held = cluster_plan.ports_of(process) if isinstance(process, Process) else process.ports
        for number, role in held.items():
            wait_until(f"port {number} ({role}) to be released", lambda p=number: port_holder(p) is None, 15)
    state.clear()


def first_down() -> str | None:
    """The first process of the cluster, in start order, that does not answer: its name,
    address and log; None when all answer. A Milvus whose Kafka is gone passes its health
    checks and serves nothing: this names the cause instead of a timeout."""
    current = state.load()
    for process in cluster_plan.processes():
        if not healthy(process):
            log = current.get(process.name, {}).get("log", "-")
            return f"{process.name} does not answer at {HOST}:{port(process.health_port_variable())} (log: {log})"
    return None


def status_lines(current: dict) -> list[tuple[bool, str]]:
    """Per cluster process: whether it is healthy, and a line with that, its process group and ports."""
    lines = []
    for process in cluster_plan.processes():
        pgid, is_healthy = state.running_pgid(current, process.name), healthy(process)
        where = ", ".join(f"{number} {role}" for number, role in cluster_plan.ports_of(process).items())
        group = f"process group {pgid}, {resident_mib(pgid):.0f} MiB resident" if pgid else "no process of ours"
        lines.append((is_healthy, f"{process.name}: {'healthy' if is_healthy else 'NOT healthy'}; {group}; {where}"))
    return lines
