"""The harness: the DEMO_* settings the conformance tools give a run (conformance/SCENARIO.md),
and the hooks they drive: the bench's hot path (DEMO_BENCH_REPEAT, DEMO_BENCH_CONTROL, and
DEMO_LOAD_CONCURRENCY for nox -s load) and
the pause after a step (DEMO_PAUSE_AFTER, DEMO_PAUSE_S). No other module reads a DEMO_*
variable; the scenario calls the hooks through a Harness."""

from __future__ import annotations

import contextvars
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from milvus_demo import BadSetting

DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "conformance" / "scenario.json"
# DEMO_BENCH_CONTROL: how often and how long the hot path looks for `go`.
BENCH_POLL_S = 0.002
BENCH_GO_TIMEOUT_S = 600
WHOLE_NUMBER = re.compile(r"[0-9]+")
COUNT = re.compile(r"[0-9]*[1-9][0-9]*")  # a whole number >= 1
SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")


def approach(default: str) -> str:
    """DEMO_APPROACH, or the approach's own name."""
    return os.environ.get("DEMO_APPROACH") or default


def scenario_file() -> Path:
    """DEMO_SCENARIO: the scenario file, whose `data` the run reads."""
    return Path(os.environ.get("DEMO_SCENARIO") or DEFAULT_SCENARIO)


def write_record(line: str) -> None:
    """The run record to DEMO_RUN_RECORD, when set."""
    if path := os.environ.get("DEMO_RUN_RECORD"):
        Path(path).write_text(line + "\n", encoding="utf-8")


def checked(name: str, form: re.Pattern, what: str, default: str) -> str:
    value = os.environ.get(name) or default
    if not form.fullmatch(value):
        raise BadSetting(f"{name}='{value}' is not {what}")
    return value


@dataclass(frozen=True)
class Harness:
    """The hooks of one run; from_env() raises BadSetting (exit 2) on a malformed setting."""

    bench_repeat: int = 0
    bench_control: Path | None = None
    load_concurrency: int = 1
    pause_after: str | None = None
    pause_s: float = 10

    @classmethod
    def from_env(cls) -> Harness:
        control = os.environ.get("DEMO_BENCH_CONTROL")
        return cls(
            bench_repeat=int(checked("DEMO_BENCH_REPEAT", WHOLE_NUMBER, "a whole number >= 0", "0")),
            bench_control=Path(control) if control else None,
            load_concurrency=int(checked("DEMO_LOAD_CONCURRENCY", COUNT, "a whole number >= 1", "1")),
            pause_after=os.environ.get("DEMO_PAUSE_AFTER") or None,
            pause_s=float(checked("DEMO_PAUSE_S", SECONDS, "a number of seconds >= 0", "10")),
        )

    def after_step(self, name: str) -> None:
        """After the step DEMO_PAUSE_AFTER (its span has ended): say so and wait, so that
        nox -s faults can kill Milvus before the next step."""
        if name == self.pause_after:
            print(f"paused after {name}", flush=True)
            time.sleep(self.pause_s)

    def hot_path(self, calls: Mapping[str, Callable[[], object]]) -> tuple[dict[str, list[list[float]]], float]:
        """Each call in turn, up to bench_repeat times, in each of load_concurrency threads at
        once: every call's start (Unix time, µs) and client-side latency (ms) per name, and the
        CPU time the whole process (exporter thread included) spent meanwhile, in ms. With a
        control folder, it says `ready` there, waits for `go` and stops early once `stop`
        appears (conformance/SCENARIO.md)."""
        timed: dict[str, list[list[float]]] = {name: [] for name in calls}
        stop = self.bench_control / "stop" if self.bench_control else None
        if self.bench_control:
            self.await_go()
        cpu_started = time.process_time()
        if self.load_concurrency == 1:
            self._loop(calls, stop, timed)
        else:
            self._in_threads(calls, stop, timed)
        return timed, round((time.process_time() - cpu_started) * 1000, 1)

    def _loop(self, calls: Mapping[str, Callable[[], object]], stop: Path | None, timed: dict[str, list[list[float]]]) -> None:
        for _ in range(self.bench_repeat):
            if stop and stop.exists():
                break
            for name, call in calls.items():
                started_us, started = time.time_ns() // 1000, time.perf_counter()
                call()
                timed[name].append([started_us, round((time.perf_counter() - started) * 1000, 3)])

    def _in_threads(self, calls: Mapping[str, Callable[[], object]], stop: Path | None, timed: dict[str, list[list[float]]]) -> None:
        """_loop in load_concurrency threads, each in a copy of this context (so its calls are
        children of the bench step, as in the other languages); the first error is raised."""
        errors: list[BaseException] = []
        results = [{name: [] for name in calls} for _ in range(self.load_concurrency)]

        def worker(mine: dict[str, list[list[float]]]) -> None:
            try:
                self._loop(calls, stop, mine)
            except BaseException as error:  # re-raised below, in the scenario's thread
                errors.append(error)

        threads = [threading.Thread(target=contextvars.copy_context().run, args=(worker, r), daemon=True) for r in results]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        for mine in results:
            for name, found in mine.items():
                timed[name].extend(found)

    def await_go(self) -> None:
        """Says `ready` in the control folder and waits until `go` or `stop` is there."""
        control = self.bench_control
        (control / "ready").touch()
        deadline = time.monotonic() + BENCH_GO_TIMEOUT_S
        while not (control / "go").exists() and not (control / "stop").exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"DEMO_BENCH_CONTROL: no go in {control} within {BENCH_GO_TIMEOUT_S} s")
            time.sleep(BENCH_POLL_S)
