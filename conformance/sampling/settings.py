"""The samplers the tool hands to the clients, checked before anything starts: the names
the OpenTelemetry specification defines for OTEL_TRACES_SAMPLER, and a ratio in [0, 1]
for the ratio-based ones (an SDK given anything else falls back silently, each its own way)."""

from __future__ import annotations

from dataclasses import dataclass

# OTEL_TRACES_SAMPLER's values in the specification (sdk-environment-variables.md).
KNOWN = (
    "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
    "parentbased_traceidratio", "parentbased_jaeger_remote", "jaeger_remote", "xray",
)
RATIO_BASED = ("traceidratio", "parentbased_traceidratio")


class SettingError(Exception):
    """A sampler the tool refuses; the cause in one line."""


@dataclass(frozen=True)
class Sampler:
    name: str
    arg: float | None = None

    def env(self) -> dict[str, str | None]:
        """The SDKs' standard settings; None drops OTEL_TRACES_SAMPLER_ARG."""
        return {"OTEL_TRACES_SAMPLER": self.name, "OTEL_TRACES_SAMPLER_ARG": None if self.arg is None else f"{self.arg:g}"}

    def __str__(self) -> str:
        return self.name if self.arg is None else f"{self.name}={self.arg:g}"


def ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise SettingError(f"sampler ratio {text!r} is not a number in [0, 1]")
    return value


def sampler(text: str) -> Sampler:
    """`name` or `name=ratio`, e.g. always_off, parentbased_traceidratio=0."""
    name, _, arg = text.strip().partition("=")
    if name not in KNOWN:
        raise SettingError(f"unknown sampler {name!r} (OTEL_TRACES_SAMPLER); known: {', '.join(KNOWN)}")
    if name in RATIO_BASED:
        return Sampler(name, ratio(arg) if arg else 1.0)
    if arg:
        raise SettingError(f"sampler {name!r} takes no ratio (got {arg!r})")
    return Sampler(name)
