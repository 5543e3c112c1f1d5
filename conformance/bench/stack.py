"""The stack's start-up figures for `nox -s bench`: a cold start, then warm ones.
Each one stops the shared stack first, so the bench skips them with --no-stack-starts."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

from conformance.bench import stats as bench
from stack import supervisor
from stack.addresses import MILVUS_DATA, StackError

COMMANDS = {"up": supervisor.up, "down": supervisor.down}


class StackChanged(Exception):
    pass


class StackCommandFailed(Exception):
    """A stack command the bench needs failed; one line."""


def load_1m() -> float:
    return round(os.getloadavg()[0], 2)


def stack_identity() -> dict:
    """The process groups of the running stack: they change when someone restarts it."""
    return {name: record.get("pgid") for name, record in supervisor.last_start().items()}


def check_stack(expected: dict) -> None:
    """Figures from before and after a restart do not mix: stop when the stack changed under us."""
    now = stack_identity()
    if now != expected or not supervisor.healthy():
        raise StackChanged(
            f"the stack was stopped or restarted during the bench (process groups {expected} -> {now}); "
            "is another session using it? Rerun when it is alone"
        )


def stack_command(command: str) -> float:
    """The stack's `up` or `down`, in this process with its output shown; its wall time in s.
    Each of its steps has its own time limit."""
    started = time.monotonic()
    try:
        COMMANDS[command]()
    except StackError as error:
        raise StackCommandFailed(f"stack {command}: {error}") from None
    return round(time.monotonic() - started, 2)


def timed_start(cold: bool, say: Callable[[str], None]) -> dict:
    stack_command("down")
    if cold:
        say(f"removing {MILVUS_DATA} for a cold start")
        shutil.rmtree(MILVUS_DATA, ignore_errors=True)
    load = load_1m()
    total = stack_command("up")
    started = supervisor.last_start()
    start = {
        "jaeger_s": started["jaeger"].get("ready_after_s"),
        "milvus_s": started["milvus"].get("ready_after_s"),
        "total_s": total,
        "load_1m_before": load,
    }
    if cold:
        # The `milvus` package unpacks its binaries into the data folder first: the newest file there marks the end.
        unpacked = (
            [p.stat().st_mtime for p in (MILVUS_DATA / "bin").iterdir()]
            if (MILVUS_DATA / "bin").exists()
            else []
        )
        milvus_started = started["milvus"].get("started_at")
        if unpacked and milvus_started:
            start["milvus_unpack_s"] = round(max(unpacked) - milvus_started, 2)
    say(f"stack {'cold' if cold else 'warm'} start: jaeger {start['jaeger_s']} s, milvus {start['milvus_s']} s, `up` {total} s")
    return start


def stack_starts(warm: int, say: Callable[[str], None]) -> dict:
    if supervisor.backend() != "embedded":
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

