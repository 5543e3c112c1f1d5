"""Runs one client as its own process group, with a deadline, capturing what it says.

Used by `nox -s faults`: the run's exit status, wall time, stdout and stderr lines, and
its run record; a callback sees each stdout line as it comes (to act at a pause)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


@dataclass
class Outcome:
    exit_status: int
    wall_s: float
    stdout: list[str]
    stderr: list[str]
    record: dict | None
    timed_out: bool = False
    marks: dict[str, float] = field(default_factory=dict)  # stdout line -> seconds after the start


def _read(stream, lines: list[str], on_line: Callable[[str], None] | None) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))
        if on_line:
            on_line(lines[-1])


def run(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    record_path: Path,
    timeout_s: float,
    on_line: Callable[[str], None] | None = None,
) -> Outcome:
    record_path.unlink(missing_ok=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=_read, args=(proc.stdout, out, on_line), daemon=True),
        threading.Thread(target=_read, args=(proc.stderr, err, None), daemon=True),
    ]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the group we started, nothing else
            proc.wait()
    wall_s = time.monotonic() - started
    for reader in readers:
        reader.join(timeout=5)
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        record = None
    return Outcome(proc.returncode, round(wall_s, 2), out, err, record, timed_out)
