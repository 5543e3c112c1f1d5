"""The stack's start-up figures for `nox -s bench`: a cold start, then warm ones.
Each one stops the shared stack first, so the bench skips them with --no-stack-starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conformance.bench import stats as bench
from stack import stackctl

ROOT = Path(__file__).resolve().parents[2]
STACK_DOWN_TIMEOUT_S = 180
STACK_UP_TIMEOUT_S = stackctl.JAEGER_BUILD_TIMEOUT_S + stackctl.INSTALL_TIMEOUT_S + stackctl.MILVUS_START_TIMEOUT_S + 60


class StackChanged(Exception):
    pass


class StackCommandFailed(Exception):
    """A stackctl command the bench needs failed; one line."""


def load_1m() -> float:
    return round(os.getloadavg()[0], 2)


def stack_identity() -> dict:
    """The process groups of the running stack: they change when someone restarts it."""
    state = stackctl.load_state()
    return {name: state.get(name, {}).get("pgid") for name in ("jaeger", "milvus")}


def check_stack(expected: dict) -> None:
    """Figures from before and after a restart do not mix: stop when the stack changed under us."""
    now = stack_identity()
    if now != expected or not all(component.healthy() for component in stackctl.COMPONENTS):
        raise StackChanged(
            f"the stack was stopped or restarted during the bench (process groups {expected} -> {now}); "
            "is another session using it? Rerun when it is alone"
        )


def stackctl_command(command: str, timeout_s: float) -> float:
    """Run `stackctl.py command` with its output shown; its wall time in s."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "stack" / "stackctl.py"), command], check=False, timeout=timeout_s)
    if result.returncode != 0:
        raise StackCommandFailed(f"`stack/stackctl.py {command}` failed with exit code {result.returncode}")
    return round(time.monotonic() - started, 2)


def timed_start(cold: bool, say: Callable[[str], None]) -> dict:
    stackctl_command("down", STACK_DOWN_TIMEOUT_S)
    if cold:
        say(f"removing {stackctl.MILVUS_DATA} for a cold start")
        shutil.rmtree(stackctl.MILVUS_DATA, ignore_errors=True)
    load = load_1m()
    total = stackctl_command("up", STACK_UP_TIMEOUT_S)
    state = stackctl.load_state()
    start = {
        "jaeger_s": state.get("jaeger", {}).get("ready_after_s"),
        "milvus_s": state.get("milvus", {}).get("ready_after_s"),
        "total_s": total,
        "load_1m_before": load,
    }
    if cold:
        # The `milvus` package unpacks its binaries into the data folder first: the newest file there marks the end.
        unpacked = (
            [p.stat().st_mtime for p in (stackctl.MILVUS_DATA / "bin").iterdir()]
            if (stackctl.MILVUS_DATA / "bin").exists()
            else []
        )
        milvus_started = state.get("milvus", {}).get("started_at")
        if unpacked and milvus_started:
            start["milvus_unpack_s"] = round(max(unpacked) - milvus_started, 2)
    say(f"stack {'cold' if cold else 'warm'} start: jaeger {start['jaeger_s']} s, milvus {start['milvus_s']} s, `up` {total} s")
    return start


def stack_starts(warm: int, say: Callable[[str], None]) -> dict:
    if stackctl.backend() != "embedded":
        say("STACK_BACKEND is not embedded: no stack start figures")
        return {}
    say(f"stack: 1 cold start (fresh Milvus data folder) and {warm} warm starts; each one stops the stack first")
    cold = timed_start(True, say)
    warms = [timed_start(False, say) for _ in range(warm)]
    result = {"cold": cold, "warm": warms}
    if warms:
        result["warm_median"] = {
            key: bench.median_or_none([w.get(key) for w in warms]) for key in ("jaeger_s", "milvus_s", "total_s")
        }
    return result

