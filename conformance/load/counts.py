"""What `nox -s load` reads besides the clients: the spans Jaeger received, counted per service
and span name by the stack's span counts (STACK_SPAN_COUNTS, stack/jaeger/span-counts.yaml),
and the CPU time of the Milvus server's processes (Milvus, its etcd, a cluster's every role).
The parsing is pure (unit-tested); the readers are thin."""

from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from conformance.spans import A72_NAME
from stack import state
from stack.addresses import span_counts_url
from stack.processes import group_members

SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][\w:]*)\{(?P<labels>.*)\}\s+(?P<value>\S+)")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
PLAIN_NAME = re.compile(r"^/?(?P<service>[\w.]+)/(?P<method>\w+)$")  # /pkg.Service/Method or pkg.Service/Method
Counts = dict[tuple[str, str, str], int]  # (service, span name, span kind) -> spans


class CountsUnavailable(Exception):
    """The span counts do not answer; one line."""


def parse(text: str) -> Counts:
    """The spanmetrics connector's call counters from Prometheus's text format."""
    found: Counts = {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if not match or not re.search(r"calls(_total)?$", match["name"]):
            continue
        labels = dict(LABEL.findall(match["labels"]))
        key = (labels.get("service_name", ""), labels.get("span_name", ""), labels.get("span_kind", ""))
        found[key] = found.get(key, 0) + int(float(match["value"]))
    return found


def method_of(span_name: str) -> str | None:
    """The gRPC method a span name calls: `/pkg.Service/Method`, `pkg.Service/Method`, or gRPC's
    own `Sent.pkg.Service.Method` (gRFC A72: its `Attempt.` span below it is not the call)."""
    if span_name.startswith("Attempt."):
        return None
    match = PLAIN_NAME.match(span_name) or A72_NAME.match(span_name)
    return match["method"] if match else None


def client_calls(counts: Counts, service: str, method: str) -> int:
    """The CLIENT spans of one service that call `method`."""
    return sum(n for (svc, name, kind), n in counts.items() if svc == service and kind.endswith("CLIENT") and method_of(name) == method)


def spans_of(counts: Counts, service: str) -> int:
    return sum(n for (svc, _, _), n in counts.items() if svc == service)


def read(url: str | None = None, timeout_s: float = 5.0) -> Counts:
    url = url or span_counts_url()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return parse(response.read().decode())
    except (urllib.error.URLError, OSError) as error:
        raise CountsUnavailable(f"the span counts at {url} do not answer ({error})") from None


def settled(services: list[str], timeout_s: float, say: Callable[[str], None], quiet_s: float = 3.0) -> Counts:
    """The counts once the services' totals stopped growing for quiet_s (their last batches in),
    or at the timeout, said so."""
    deadline = time.monotonic() + timeout_s
    last, last_change = None, time.monotonic()
    while True:
        counts = read()
        totals = [spans_of(counts, s) for s in services]
        if totals != last:
            last, last_change = totals, time.monotonic()
        elif time.monotonic() - last_change >= quiet_s:
            return counts
        if time.monotonic() > deadline:
            say(f"  span counts still growing after {timeout_s:.0f} s; taking them as they are")
            return counts
        time.sleep(0.5)


# --- the server's CPU -------------------------------------------------------------------


def server_groups() -> list[int]:
    """The process groups of the stack's running Milvus side (every component but Jaeger)."""
    current = state.load()
    named = [name for name, entry in current.items() if isinstance(entry, dict) and name != "jaeger"]
    return [pgid for name in named if (pgid := state.running_pgid(current, name))]


def group_pids(groups: list[int]) -> list[int]:
    return [pid for pgid in groups for pid in group_members(pgid)]


def idle_rate(cpu_ns: Callable[[], int], seconds: float) -> float:
    """The server's CPU ns per second with no client running: its background (timers, etcd,
    exporting the last spans), taken out of each block's figure."""
    before = cpu_ns()
    time.sleep(seconds)
    return (cpu_ns() - before) / seconds


def cpu_reader(pids: list[int]) -> Callable[[], int]:
    """A function giving the CPU ns the processes have spent so far: utime + stime of
    /proc/<pid>/stat, which keeps the time of threads that ended (Milvus's threads come and
    go: summing the live threads' schedstat went backwards), in clock ticks (10 ms)."""
    tick_ns = 1e9 / os.sysconf("SC_CLK_TCK")

    def cpu_ns() -> int:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15: utime, stime
        return int(total * tick_ns)

    return cpu_ns
