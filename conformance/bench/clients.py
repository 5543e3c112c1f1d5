"""The bench's client processes: start one from clients.json's spec, pause and resume
it (SIGSTOP / SIGCONT to its process group: no client code involved), read the CPU
time its processes spent, and read its run record after it exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from stack.stackctl import milvus_token

CLK_TCK = os.sysconf("SC_CLK_TCK")
# Variables of the bench's own environment that would change a client's mode.
SCRUBBED = ("OTEL_SDK_DISABLED", "DEMO_BENCH_REPEAT", "JAVA_TOOL_OPTIONS", "NODE_OPTIONS", "DEMO_CPU_PROFILE")


@dataclass
class Client:
    """One running client process (and whatever it starts, in its own session)."""

    name: str
    proc: subprocess.Popen
    record_path: Path
    log_path: Path
    started_us: int
    ended_us: int | None = None
    timed_out: bool = False
    record: dict | None = field(default=None, repr=False)

    @classmethod
    def start(cls, name: str, mode: dict, cwd: str, folder: Path, env: dict[str, str]) -> Client:
        """`mode` is clients.json's {"command", "env"}; `env` adds the bench's own settings."""
        record_path = folder / f"{name}.json"
        log_path = folder / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        record_path.unlink(missing_ok=True)
        full_env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
        full_env.update(mode["env"])
        full_env.update(env, DEMO_RUN_RECORD=str(record_path))
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
        return cls(name, proc, record_path, log_path, time.time_ns() // 1000)

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

    def cpu_ms(self) -> float | None:
        """User + system CPU time of the client's processes so far (all threads, exited ones included)."""
        total = 0
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total * 1000 / CLK_TCK if total or self.alive else None

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # the group of the client we started, nothing else
        except ProcessLookupError:
            pass

    def pause(self) -> None:
        """SIGSTOP, then wait until the client's threads have stopped (the CPU figure is final)."""
        self._signal(signal.SIGSTOP)
        deadline = time.monotonic() + 1
        while self.alive and time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                return
            if state in ("T", "t", "Z"):
                return
            time.sleep(0.001)

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

    def latencies(self, rpcs: tuple[str, ...]) -> dict[str, list[float]]:
        bench = (self.record or {}).get("bench")
        if not isinstance(bench, dict):
            return {}
        return {rpc: [float(v) for v in bench.get(rpc, [])] for rpc in rpcs}
