"""What `nox -s load` runs for one approach: a client per mode, each mode a concurrency level
and a way of tracing. Pure: unit-tested.

- `traced-<C>` and `untraced-<C>` at every level C: the cost, and the spans lost;
- `batch-<W>` at the top level W: traced with the batch settings that remove the loss;
- `unsampled-<M>` at the Milvus level M: traced, but the sampler records nothing, so every
  call carries a traceparent with flags 00 (Milvus records nothing either); against
  `traced-<M>` and `untraced-<M>`, what client tracing costs the Milvus server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conformance.bench.rotation import UNBOUNDED, Mode

LEVELS = (1, 4, 16, 64)
QUICK_LEVELS = (1, 16)
MILVUS_LEVEL = 16  # where the three ways of tracing are compared on the server
# Levels from here on run in a rotation of their own, in blocks LONG_BLOCK times longer: with
# 64 calls in flight one call takes 0.2-0.5 s, so a short block holds few whole calls, and
# its clients would wait paused longer than Java's 10 s call deadline in one long rotation.
LONG_LEVEL = 32
LONG_BLOCK = 3.0
# The batch span processor's standard settings (each SDK reads them): a queue 16 times the
# default 2048, batches 4 times the default 512, sent every 200 ms instead of 5 s.
BATCH = {"OTEL_BSP_MAX_QUEUE_SIZE": "32768", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2048", "OTEL_BSP_SCHEDULE_DELAY": "200"}
UNSAMPLED = {"OTEL_TRACES_SAMPLER": "always_off"}


class PlanError(Exception):
    """A level or setting the tool refuses; one line."""


@dataclass(frozen=True)
class Planned:
    kind: str  # traced, untraced, batch, unsampled
    level: int
    mode: Mode


def levels(text: str) -> tuple[int, ...]:
    """`1,4,16` -> (1, 4, 16): whole numbers >= 1, each once, ascending."""
    found = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise PlanError(f"concurrency {part!r} is not a whole number >= 1")
        found.append(int(part))
    return tuple(sorted(set(found)))


def settings(text: str) -> dict[str, str]:
    """`VAR=VALUE,...` -> {VAR: VALUE}."""
    try:
        pairs = dict(part.split("=", 1) for part in text.split(","))
    except ValueError:
        raise PlanError(f"batch settings {text!r}: want VAR=VALUE[,VAR=VALUE...]") from None
    if not all(name.startswith("OTEL_") and value for name, value in pairs.items()):
        raise PlanError(f"batch settings {text!r}: want OTEL_* variables, each with a value")
    return pairs


def groups(planned: dict[str, Planned], block_s: float) -> list[tuple[dict[str, Planned], float]]:
    """The modes split into the rotations they run in, each with its block length."""
    short = {name: p for name, p in planned.items() if p.level < LONG_LEVEL}
    long = {name: p for name, p in planned.items() if p.level >= LONG_LEVEL}
    return [(group, seconds) for group, seconds in ((short, block_s), (long, block_s * LONG_BLOCK)) if group]


def modes(levels: Sequence[int], batch: dict[str, str], milvus_level: int) -> dict[str, Planned]:
    """The modes, by name; batch at the top level, unsampled at milvus_level (when it is one of the levels)."""
    def mode(level: int, untraced: bool = False, **env: str) -> Mode:
        return Mode(untraced=untraced, env={**UNBOUNDED, **env, "DEMO_LOAD_CONCURRENCY": str(level)})

    planned = {}
    for level in levels:
        planned[f"traced-{level}"] = Planned("traced", level, mode(level))
        planned[f"untraced-{level}"] = Planned("untraced", level, mode(level, untraced=True))
    top = max(levels)
    planned[f"batch-{top}"] = Planned("batch", top, mode(top, **batch))
    if milvus_level in levels:
        planned[f"unsampled-{milvus_level}"] = Planned("unsampled", milvus_level, mode(milvus_level, **UNSAMPLED))
    return planned
