"""The bench's client processes: start one from clients.json's spec, see when its hot
path begins and end it (DEMO_BENCH_CONTROL, conformance/SCENARIO.md), pause and resume
it (SIGSTOP / SIGCONT to its process group), read the CPU time of each of its threads,
and read its run record after it exits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from stack.addresses import milvus_token

RPCS = ("Search", "Query")  # the hot path's calls, in the order each iteration makes them
# The hot path's bound when the bench ends it by stop(): far more than it ever runs.
MAX_ITERATIONS = 10_000_000
# Variables of the bench's own environment that would change a client's mode.
SCRUBBED = ("OTEL_SDK_DISABLED", "DEMO_BENCH_REPEAT", "DEMO_BENCH_CONTROL", "JAVA_TOOL_OPTIONS", "NODE_OPTIONS", "DEMO_CPU_PROFILE")


@dataclass
class Client:
    """One running client process (and whatever it starts, in its own session)."""

    name: str
    proc: subprocess.Popen
    record_path: Path
    log_path: Path
    started_us: int
    control: Path | None = None
    ended_us: int | None = None
    timed_out: bool = False
    record: dict | None = field(default=None, repr=False)

    @classmethod
    def start(cls, name: str, mode: dict, cwd: str, folder: Path, env: dict[str, str], hot_path: bool = False) -> Client:
        """`mode` is clients.json's {"command", "env"}; `env` adds the bench's own settings.
        With hot_path, the client says when its hot path is ready, begins it at go() and ends
        it at stop() (at most MAX_ITERATIONS), through DEMO_BENCH_CONTROL."""
        record_path = folder / f"{name}.json"
        log_path = folder / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        record_path.unlink(missing_ok=True)
        full_env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
        full_env.update(mode["env"])
        full_env.update(env, DEMO_RUN_RECORD=str(record_path))
        control = None
        if hot_path:
            control = folder / "control" / name
            shutil.rmtree(control, ignore_errors=True)
            control.mkdir(parents=True)
            full_env.update(DEMO_BENCH_REPEAT=str(MAX_ITERATIONS), DEMO_BENCH_CONTROL=str(control))
        if token := milvus_token():  # read at each start: a stack restart makes a new one
            full_env["MILVUS_TOKEN"] = token
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                mode["command"],
                cwd=cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(name, proc, record_path, log_path, time.time_ns() // 1000, control)

    @property
    def ready(self) -> bool:
        """The client has entered its hot path and waits for go() (no call in flight)."""
        return self.control is not None and (self.control / "ready").exists()

    def go(self) -> None:
        """Let the hot path begin (once the client is resumed)."""
        if self.control is not None:
            (self.control / "go").touch()

    def stop(self) -> None:
        """End the hot path (before its next iteration) and resume the client, which then
        exits as usual. Every client is resumed at once: one left paused while another
        finishes could outlast its call's deadline."""
        if self.control is not None:
            (self.control / "stop").touch()
        self.resume()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _pids(self) -> list[int]:
        """The processes of the client's session (the client and any child it started)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[3]) == self.proc.pid:  # field 6, the session: its leader is the client
                    found.append(int(entry.name))
        return found

    def _tasks(self) -> list[tuple[int, Path]]:
        """(pid, /proc/<pid>/task/<tid>) of every thread of the client's processes."""
        return [(pid, task) for pid in self._pids() for task in Path(f"/proc/{pid}/task").glob("*")]

    def threads(self) -> dict[tuple[int, int], tuple[str, int]]:
        """Every thread of the client's processes: (pid, tid) -> (its name, ns it spent on a CPU
        so far). schedstat counts in ns; /proc's utime and stime only in 10 ms ticks."""
        found = {}
        for pid, task in self._tasks():
            try:
                ns = int((task / "schedstat").read_text().split()[0])
                name = (task / "comm").read_text().strip()
            except (OSError, ValueError, IndexError):
                continue  # the thread ended meanwhile
            found[(pid, int(task.name))] = (name, ns)
        return found

    def stopped(self) -> bool:
        """Every thread of the client's processes is stopped (or gone)."""
        for _, task in self._tasks():
            try:
                state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in ("T", "t", "Z", "X"):
                return False
        return True

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # the group of the client we started, nothing else
        except ProcessLookupError:
            pass

    def pause(self) -> None:
        """SIGSTOP, then wait until the client's threads have stopped (their CPU figures are final)."""
        self._signal(signal.SIGSTOP)
        deadline = time.monotonic() + 1
        while self.alive and not self.stopped() and time.monotonic() < deadline:
            time.sleep(0.0005)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        self.timed_out = True
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGKILL)

    def run_for(self, seconds: float) -> None:
        """Let the client run (it is paused before and after) for `seconds` or until it exits."""
        self.resume()
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.pause()

    def finish(self, timeout_s: float) -> None:
        """Wait for the exit (killing the group after timeout_s), then read the run record."""
        self.resume()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
        self.ended_us = time.time_ns() // 1000
        try:
            self.record = json.loads(self.record_path.read_text())
        except (OSError, ValueError):
            self.record = None

    @property
    def ok(self) -> bool:
        return self.proc.returncode == 0 and self.record is not None and self.record.get("exit_status") == 0

    def failure(self) -> str:
        if self.timed_out:
            return f"timed out (log: {self.log_path})"
        if self.record is None:
            return f"exit status {self.proc.returncode}, no run record (log: {self.log_path})"
        return f"exit status {self.proc.returncode}: {self.record.get('error')} (log: {self.log_path})"

    def calls(self, rpcs: tuple[str, ...] = RPCS) -> dict[str, list[tuple[float, float]]]:
        """The hot path's calls per RPC from the run record: (start, Unix µs; latency, ms)."""
        bench = (self.record or {}).get("bench")
        if not isinstance(bench, dict):
            return {}
        return {rpc: [(float(start), float(ms)) for start, ms in bench.get(rpc, [])] for rpc in rpcs}
