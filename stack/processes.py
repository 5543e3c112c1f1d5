"""The stack's processes: each started in a process group of its own (so that a stop
signals Milvus's wrapper and its child alike), found again through /proc, stopped
by group; the ports they hold; waits that say what they wait for."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

from stack.addresses import HOST, LOG_DIR, STATE_DIR, StackError

STOP_GRACE_S = 10


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


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


def _exiting_threads(pid: int) -> bool:
    """A zombie leader whose other threads still run: a Go process whose last thread is
    still finishing disk I/O (Jaeger's Badger, keeping its directory lock) shows as Z."""
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            raw = (task / "stat").read_text()
        except OSError:
            continue
        if raw[raw.rindex(")") + 2 :].split()[0] not in ("Z", "X"):
            return True
    return False


def group_members(pgid: int) -> list[int]:
    """Live processes in a process group: not zombies, or zombies with a thread not yet gone."""
    members = []
    for pid in _all_pids():
        stat = _proc_stat(pid)
        if stat and stat[1] == pgid and (stat[0] != "Z" or _exiting_threads(pid)):
            members.append(pid)
    return members


def resident_mib(pgid: int) -> float:
    """The resident memory (VmRSS) of a process group's live members, in MiB."""
    total_kib = 0
    for pid in group_members(pgid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kib += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total_kib / 1024


def stray_groups(state_dir: Path = STATE_DIR) -> set[int]:
    """Process groups of any program run from the state dir, even without state (orphans)."""
    marker = str(state_dir) + os.sep
    groups = set()
    for pid in _all_pids():
        if _cmdline(pid).startswith(marker):
            stat = _proc_stat(pid)
            if stat and stat[0] != "Z":
                groups.add(stat[1])
    return groups


def groups_with_argument(text: str) -> set[int]:
    """Process groups of any program given `text` as a whole argument or its start (Kafka's
    `java -cp <its libs>/*`, which runs no program from the state dir)."""
    groups = set()
    for pid in _all_pids():
        if any(arg.startswith(text) for arg in _cmdline(pid).split(" ")):
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
            _reap(pgid)
            time.sleep(0.2)
        if not group_members(pgid):
            break
        say(f"{name} (process group {pgid}) still running after {grace} s of {sig.name}; escalating")
    if group_members(pgid):
        raise StackError(f"could not stop {name}: process group {pgid} survives SIGKILL")
    say(f"stopped {name} (process group {pgid}) in {time.monotonic() - started:.1f} s")


def _reap(pgid: int) -> None:
    """Collect the group's exited children of this process, so they do not linger as zombies
    (only the group's: a tool that calls the API in-process keeps its other children's status)."""
    try:
        while os.waitpid(-pgid, os.WNOHANG)[0]:
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


def check_ports_free(ports: dict[int, str]) -> None:
    """Each port (with its role) free, or one line naming who holds it."""
    for port, role in ports.items():
        holder = port_holder(port)
        if holder:
            raise StackError(
                f"port {port} ({role}) is already taken by {holder}; stop that process "
                f"(or `python stack/stackctl.py down` if it is a stale stack of ours) and retry"
            )


def wait_until(
    what: str, check: Callable[[], bool], timeout_s: float, alive: Callable[[], bool] = lambda: True, log: Path | None = None
) -> float:
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


def spawn(name: str, cmd: list, env: dict | None = None, cwd: Path | None = None) -> tuple[subprocess.Popen, Path]:
    """Start a long-running component in a session of its own, its output in logs/NAME.log."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(c) for c in cmd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    return proc, log


def run_step(what: str, cmd: list, timeout_s: int, cwd: Path | None = None) -> None:
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
