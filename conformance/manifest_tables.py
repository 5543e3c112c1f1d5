"""The parts of approaches.toml beyond an approach's run (conformance/APPROACHES.md): what a
language folder tells the tools, checked as they are read. Each table parser takes the
place it was read from (file and table) for its one-line errors."""

from __future__ import annotations

from dataclasses import dataclass, field

# How a language's packages are read and installed: the code for each is by build tool.
ECOSYSTEMS = ("pip", "maven", "go", "npm")
# The profile files the bench reads (conformance/bench/profile_formats.py).
PROFILE_FORMATS = ("collapsed", "jfr", "pprof", "cpuprofile")
OWNER_KINDS = ("export", "tracing", "work")
# Trims that mean the same in every OpenTelemetry SDK (the spec's variables); an approach
# takes one by name in [approaches.<name>.bench] standard_trims.
STANDARD_TRIMS = {
    # Spans wait in the batch processor's queue until exit: no export during the hot path.
    "deferred-export": {
        "OTEL_BSP_SCHEDULE_DELAY": "3600000",
        "OTEL_BSP_MAX_QUEUE_SIZE": "1000000",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1000000",
    },
}


class ManifestError(Exception):
    """A manifest that cannot be used; one line naming the file and the field."""


@dataclass(frozen=True)
class Profile:
    """[profile]: how the bench profiles the language's clients (conformance/APPROACHES.md)."""

    profiler: str  # its name in the report
    format: str  # one of PROFILE_FORMATS
    output: str  # the file it writes in the profile's folder (a glob: the newest match)
    owners: dict[str, tuple[str, ...]]  # export/tracing/work -> parts of frame names
    period_ms: float = 1  # between two samples, where the format does not say
    env: dict[str, str] = field(default_factory=dict)  # added to the client's environment
    arguments: list[str] = field(default_factory=list)  # put after the command's program
    attach: list[str] = field(default_factory=list)  # started once the hot path runs
    install: list[str] = field(default_factory=list)  # pip packages the bench session installs
    hot_path: str | None = None  # a frame of the hot path, where the profile covers the whole run


@dataclass(frozen=True)
class Versions:
    """[versions]: what the bench report names, read by the language's ecosystem."""

    runtime: list[str]  # a command; the first line of its output
    packages: dict[str, str]  # name in the report -> what the ecosystem looks up


@dataclass(frozen=True)
class Part:
    """A package (or a set moved together) whose release a matrix request picks."""

    package: str  # looked up in the registry's listing
    key: str  # its part of the cell's folder name
    install: list[str]  # set to that release
    shown: str | None = None  # its one name in the table; default each of install
    paired: dict[str, str] | None = None  # {package, from, to}: a package whose release follows
    optional: bool = False  # a request may leave it out: the folder's own release stays


@dataclass(frozen=True)
class Axis:
    """One option of `nox -s matrix`: comma-separated requests, one cell each (times the other axes)."""

    option: str
    help: str
    default: str
    parts: list[Part]  # a request gives one release per part, separated by "/"


@dataclass(frozen=True)
class Switch:
    """[approaches.<name>.matrix.switch]: a setting the instrumentation reads (an environment
    variable), one cell per value, each on the same releases."""

    option: str
    help: str
    default: str  # comma-separated values
    variable: str  # what each value is set to
    on: list[str]  # the releases: one request per axis


@dataclass(frozen=True)
class Matrix:
    """[approaches.<name>.matrix]: the cells that run this approach's client."""

    axes: list[Axis]
    variants: dict[str, dict]  # out_of_the_box/with_fix -> {"env": {...}, "unset": [...]}
    run: list[str] | None = None  # default: the approach's run
    switch: Switch | None = None

    @property
    def fixable(self) -> bool:
        return "with_fix" in self.variants


def want_strings(value, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ManifestError(f"{where}: want a list of strings")
    return value


def want_env(value, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ManifestError(f"{where}: want a table of strings")
    return dict(value)


def want_seconds(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ManifestError(f"{where}: want a number of seconds >= 0")
    return float(value)


def want_string(value, where: str) -> str:
    if not isinstance(value, str):
        raise ManifestError(f"{where}: want a string")
    return value


def want_choice(value, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ManifestError(f"{where}: want one of {', '.join(choices)}, not {value!r}")
    return value


def want_table(value, where: str, optional: tuple[str, ...] = (), required: tuple[str, ...] = ()) -> dict:
    """The table, once it has every required key and no other than the optional ones."""
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: want a table")
    missing = [key for key in required if key not in value]
    if missing:
        raise ManifestError(f"{where}: missing {', '.join(missing)}")
    unknown = set(value) - {*required, *optional}
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return value


def read_profile(value, where: str) -> Profile:
    table = want_table(value, where, ("period_ms", "env", "arguments", "attach", "install", "hot_path"), ("profiler", "format", "output", "owners"))
    owners = want_table(table["owners"], f"{where}.owners", required=OWNER_KINDS)
    period = table.get("period_ms", 1)
    if isinstance(period, bool) or not isinstance(period, (int, float)) or period <= 0:
        raise ManifestError(f"{where}.period_ms: want a number of milliseconds > 0")
    return Profile(
        profiler=want_string(table["profiler"], f"{where}.profiler"),
        format=want_choice(table["format"], f"{where}.format", PROFILE_FORMATS),
        output=want_string(table["output"], f"{where}.output"),
        owners={kind: tuple(want_strings(owners[kind], f"{where}.owners.{kind}")) for kind in OWNER_KINDS},
        period_ms=period,
        env=want_env(table.get("env", {}), f"{where}.env"),
        arguments=want_strings(table.get("arguments", []), f"{where}.arguments"),
        attach=want_strings(table.get("attach", []), f"{where}.attach"),
        install=want_strings(table.get("install", []), f"{where}.install"),
        hot_path=want_string(table["hot_path"], f"{where}.hot_path") if "hot_path" in table else None,
    )


def read_versions(value, where: str) -> Versions:
    table = want_table(value, where, ("packages",), ("runtime",))
    packages = table.get("packages", {})
    if isinstance(packages, list):  # a name the report shows as the ecosystem knows it
        packages = {name: name for name in want_strings(packages, f"{where}.packages")}
    return Versions(want_strings(table["runtime"], f"{where}.runtime"), want_env(packages, f"{where}.packages"))


def read_trims(value, where: str) -> dict[str, dict[str, str]]:
    """[approaches.<name>.bench]: its standard trims by name, then its own, in that order."""
    table = want_table(value, where, ("standard_trims", "trims"))
    trims = {}
    for name in want_strings(table.get("standard_trims", []), f"{where}.standard_trims"):
        if name not in STANDARD_TRIMS:
            raise ManifestError(f"{where}.standard_trims: unknown trim {name!r}; known: {', '.join(STANDARD_TRIMS)}")
        trims[name] = dict(STANDARD_TRIMS[name])
    own = table.get("trims", {})
    if not isinstance(own, dict):
        raise ManifestError(f"{where}.trims: want a table of trims, each a table of settings")
    for name, settings in own.items():
        trims[name] = want_env(settings, f"{where}.trims.{name}")
    return trims


def read_part(value, where: str) -> Part:
    table = want_table(value, where, ("install", "shown", "paired", "optional"), ("package", "key"))
    paired = table.get("paired")
    if paired is not None:
        paired = {key: want_string(item, f"{where}.paired.{key}") for key, item in want_table(paired, f"{where}.paired", required=("package", "from", "to")).items()}
    return Part(
        package=want_string(table["package"], f"{where}.package"),
        key=want_string(table["key"], f"{where}.key"),
        install=want_strings(table.get("install", [table["package"]]), f"{where}.install"),
        shown=want_string(table["shown"], f"{where}.shown") if "shown" in table else None,
        paired=paired,
        optional=table.get("optional", False) is True,
    )


def read_switch(value, where: str, axes: int) -> Switch:
    table = want_table(value, where, required=("option", "help", "default", "variable", "on"))
    on = want_strings(table["on"], f"{where}.on")
    if len(on) != axes:
        raise ManifestError(f"{where}.on: want one request per axis ({axes}), not {len(on)}")
    return Switch(*(want_string(table[key], f"{where}.{key}") for key in ("option", "help", "default", "variable")), on)


def read_matrix(value, where: str) -> Matrix:
    table = want_table(value, where, ("run", "out_of_the_box", "with_fix", "switch"), ("axes",))
    if not isinstance(table["axes"], list) or not table["axes"]:
        raise ManifestError(f"{where}.axes: want at least one [[...axes]] table")
    axes = []
    for index, axis in enumerate(table["axes"]):
        axis_where = f"{where}.axes[{index}]"
        axis = want_table(axis, axis_where, required=("option", "help", "default", "parts"))
        if not isinstance(axis["parts"], list) or not axis["parts"]:
            raise ManifestError(f"{axis_where}.parts: want at least one part")
        parts = [read_part(part, f"{axis_where}.parts[{i}]") for i, part in enumerate(axis["parts"])]
        axes.append(Axis(*(want_string(axis[key], f"{axis_where}.{key}") for key in ("option", "help", "default")), parts))
    variants = {}
    for name in ("out_of_the_box", "with_fix"):
        if name in table or name == "out_of_the_box":
            variant = want_table(table.get(name, {}), f"{where}.{name}", ("env", "unset"))
            variants[name] = {"env": want_env(variant.get("env", {}), f"{where}.{name}.env"), "unset": want_strings(variant.get("unset", []), f"{where}.{name}.unset")}
    switch = read_switch(table["switch"], f"{where}.switch", len(axes)) if "switch" in table else None
    return Matrix(axes, variants, want_strings(table["run"], f"{where}.run") if "run" in table else None, switch)
