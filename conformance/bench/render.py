"""The bench report as tables (conformance/tables.py): text for the terminal, Markdown for
reports/bench.md. Pure."""

from __future__ import annotations

from conformance import tables
from conformance.bench.profile import CATEGORIES, PROFILE_S
from conformance.bench.stats import (
    HALF_WIDTH_TARGET,
    RATIO_TARGET,
    THREAD_ROWS,
    VISIBLE_TARGET_S,
    WARM_START_TARGET_S,
    misses,
    thread_growth,
    verdict,
)
from conformance.tables import Table

DEFINITIONS = {
    "block": "one client running alone for block_s seconds while every other one is paused (SIGSTOP); a round is one block of "
    "each mode, in random order; a block's calls are those the client started and ended within it (it records each call's start)",
    "p50 ratio": "geometric mean over rounds of (p50 of the mode's block / p50 of both untraced clients' blocks together; for "
    "the A/A, of untraced-again's / untraced's), with a percentile bootstrap 95 % CI over rounds (a round is resampled whole)",
    "sets": "each approach's modes run in several sets, each set a fresh client process per mode with its own rotation; "
    "a figure pools the rounds of every set, and the sets' own p50 ratios, their range and SD in % of their mean, show how "
    "much a fresh process moves it (which the CI over rounds does not cover)",
    "JIT settled": "a Java client runs its hot path alone in 0.5 s turns until its compiler threads ('C1/C2 CompilerThre') "
    "take less than jit_settled_share of its CPU in two turns in a row, at most settle_cap times its bench_settle_s",
    "+us": "mean over rounds of the difference of the two blocks' p50, in µs, with its bootstrap CI",
    "cpu us/call": "CPU time of the client's threads during its block (/proc/<pid>/task/*/schedstat, ns) / (calls in the block + 1, "
    "for the two calls cut by the pauses)",
    "cpu by thread": "the same CPU split by thread name (less a trailing number), summed over all blocks, per call",
    "A/A": "untraced-again against untraced: two identical clients; its CI is the floor of what the bench resolves",
    "root_s": "a plain traced run (no hot path), started while the bench clients set up: client process reaped -> first "
    "GET /api/traces/<id> whose answer holds the root span (polled every 20 ms)",
    "complete_s": "client process reaped -> every contract RPC client span has its Milvus SERVER child (polled every 200 ms)",
    "profiles": f"one approach per language: a traced and an untraced client side by side, each profiled during its hot path "
    f"only ({PROFILE_S:g} s). A sample is export's when the batch processor or the exporter is on its stack; otherwise it belongs "
    "to the innermost frame that is tracing's (spans, context, the instrumentation's wrappers) or the work's (gRPC, the Milvus SDK, "
    "the client), runtime and library frames counting for the frame above them; 'other' has neither (GC, idle loops)",
}


def ratio(figure: dict | None) -> str:
    if not figure:
        return "-"
    return f"{figure['value']:.3f} [{figure['ci'][0]:.3f}, {figure['ci'][1]:.3f}]"


def micros(figure: dict | None, scale: float = 1.0) -> str:
    """A figure with CI, as signed whole µs (scale 1000 for ms figures)."""
    if not figure:
        return "-"
    low, high = (v * scale for v in figure["ci"])
    return f"{figure['value'] * scale:+.0f} [{low:+.0f}, {high:+.0f}]"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def aa_ratio(figures: dict | None) -> str:
    """The A/A's p50 ratio with its CI and how far apart its sets' own ratios lay (range, %)."""
    if not figures:
        return "-"
    spread = figures.get("p50_ratio_sets")
    return ratio(figures["p50_ratio"]) + (f" sets {spread['range_pct']:.1f} %" if spread else "")


def sets_spread(spread: dict | None) -> str:
    """Each set's own p50 ratio and how far apart they lie (the between-process effect)."""
    if not spread:
        return "-"
    sd = "" if spread.get("sd_pct") is None else f" ({spread['sd_pct']:.1f})"
    return f"{spread['range_pct']:.1f}{sd}: " + " ".join(f"{v:.3f}" for v in spread["values"])


def settled(sets: list[dict]) -> str:
    """Seconds each client's JIT took to settle over the sets (its hot path alone), with how many hit the cap."""
    times = [(s["s"], s["settled"]) for found in sets for s in (found.get("settled") or {}).values()]
    if not times:
        return "-"
    capped = sum(1 for _, ok in times if not ok)
    low, high = min(t for t, _ in times), max(t for t, _ in times)
    return f"{low:.1f}-{high:.1f}" + (f", {capped} of {len(times)} at the cap" if capped else "")


def precision(report: dict) -> Table:
    """Per approach: its sets (fresh clients each), their rounds, the widest traced half-width
    and why the rounds stopped; how long the Java clients took to settle."""
    rows = []
    for approach, result in report["approaches"].items():
        sets = result.get("sets") or []
        rpcs = (((result.get("comparisons") or {}).get("traced") or {}).get("rpcs") or {}).values()
        widest = max((f["p50_ratio"]["half_width"] for f in rpcs), default=None)
        rows.append(
            [
                approach,
                "+".join(str(found["rounds"]) for found in sets) or "-",
                f"{result['rounds_s']:.0f}" if result.get("rounds_s") is not None else "-",
                "-" if widest is None else f"{widest * 100:.1f}",
                settled(sets),
                (result.get("precision") or {}).get("stop") or result.get("error") or "-",
            ]
        )
    return Table(
        "precision: sets of fresh clients per approach, rounds added until the traced p50 ratios' CI is narrow enough or the budget is spent",
        ["approach", "rounds per set", "rounds s", "widest CI ±%", "JIT settled after s (per client)", "stopped"],
        rows,
    )


def sections(report: dict) -> list[Table]:
    """Every table of the report."""
    out = []
    cost, cpu, trims = [], [], []
    for approach, result in report["approaches"].items():
        comparisons = result.get("comparisons") or {}
        traced, floor = comparisons.get("traced"), comparisons.get("untraced-again") or {}
        if not traced:
            cost.append([approach, "-", "-", "-", "-", "-", "-", "-", "-", "-", result.get("error") or "no complete pair"])
            continue
        for rpc, f in traced["rpcs"].items():
            cost.append(
                [
                    approach,
                    rpc,
                    f"{f['a']['p50']:.2f} / {f['b']['p50']:.2f}",
                    ratio(f["p50_ratio"]),
                    f"{f['p50_ratio']['half_width'] * 100:.1f}",
                    sets_spread(f.get("p50_ratio_sets")),
                    micros(f["p50_delta_ms"], 1000),
                    ratio(f["p95_ratio"]),
                    aa_ratio((floor.get("rpcs") or {}).get(rpc)),
                    str(f["p50_ratio"]["blocks"]),
                    verdict(f["p50_ratio"]),
                ]
            )
        c, aa = traced.get("cpu_us_per_call"), floor.get("cpu_us_per_call")
        if c:
            cpu.append([approach, f"{c['a']['value']:.0f}", f"{c['b']['value']:.0f}", micros(c["delta"]), micros((aa or {}).get("delta"))])
        for name, figures in comparisons.items():
            if name in ("traced", "untraced-again"):
                continue
            rpcs = figures["rpcs"]
            trims.append(
                [approach, name]
                + [ratio(rpcs.get(rpc, {}).get("p50_ratio")) for rpc in ("Search", "Query")]
                + [micros((figures.get("cpu_us_per_call") or {}).get("delta")), micros((traced.get("cpu_us_per_call") or {}).get("delta"))]
            )
    out.append(
        Table(
            "cost per call: traced against untraced, paired blocks (95 % bootstrap CI)",
            ["approach", "rpc", "p50 ms traced / untraced", "p50 ratio [CI]", "CI ±%", "sets' p50 ratios: range % (SD %)", "p50 +us [CI]", "p95 ratio [CI]",
             "A/A p50 ratio [CI], sets' range", "blocks", f"<= {RATIO_TARGET}"],
            cost,
        )
    )
    out.append(precision(report))
    out.append(Table("client CPU per call (us, all threads)", ["approach", "traced", "untraced", "traced - untraced [CI]", "A/A [CI]"], cpu))
    threads = [
        [approach, kind, f"{traced:.0f}", f"{untraced:.0f}", f"{traced - untraced:+.0f}"]
        for approach, result in report["approaches"].items()
        for kind, traced, untraced in thread_growth(result.get("cpu_by_thread") or {})
    ]
    if threads:
        out.append(
            Table(
                f"where the added CPU runs: the {THREAD_ROWS} thread kinds whose CPU per call grew most, traced against untraced",
                ["approach", "thread (name less its number)", "traced us/call", "untraced us/call", "added"],
                threads,
            )
        )
    if trims:
        out.append(
            Table(
                "trims: a traced client with less to do, against the same untraced one",
                ["approach", "trim", "Search p50 ratio [CI]", "Query p50 ratio [CI]", "CPU +us/call [CI]", "CPU +us/call, untrimmed"],
                trims,
            )
        )
    for language, found in (report.get("profiles") or {}).items():
        if found.get("error"):
            out.append(Table(f"profile {language}: {found['error']}", ["-"], []))
            continue
        per_call = found["us_per_call"]
        rows = [
            [kind, f"{per_call['traced'][kind]:.0f}", f"{per_call['untraced'][kind]:.0f}", f"{per_call['traced'][kind] - per_call['untraced'][kind]:+.0f}"]
            for kind in CATEGORIES
        ]
        out.append(
            Table(
                f"profile {found['approach']} ({found['profiler']}, hot path only, {found['calls']['traced']} / {found['calls']['untraced']} "
                f"calls): CPU samples per call by whose work they are; tracing's share of the traced client's {found['tracing_share'] * 100:.1f} %",
                ["samples in", "traced us/call", "untraced us/call", "added"],
                rows,
            )
        )
        rows = [[frame, f"{us:.1f}"] for frame, us in found["tracing_entries"]]
        out.append(Table(f"profile {found['approach']}: the tracing frames that took most (with what they call)", ["frame", "us per call"], rows))
        rows = [[frame, f"{delta:+.1f}"] for frame, delta in found["leaf_increase"]]
        out.append(Table(f"profile {found['approach']}: leaf frames that grew most, traced - untraced", ["leaf frame", "us per call"], rows))
    rows = []
    for approach, result in report["approaches"].items():
        visibility = result.get("visibility") or {}
        checks = result.get("untraced_checks") or {}
        passed = sum(1 for c in checks.values() if c["passed"])
        rows.append(
            [
                approach,
                _s(visibility.get("root_median_s")),
                _s(visibility.get("complete_median_s")),
                f"{passed}/{len(checks)}" if checks else "-",
                "-" if visibility.get("root_median_s") is None else ("met" if visibility["root_median_s"] <= VISIBLE_TARGET_S else "MISSED"),
            ]
        )
    header = ["approach", "root span visible s", "+ Milvus spans s", "untraced clients verified", f"visible <= {VISIBLE_TARGET_S:g} s"]
    out.append(Table("visibility and untraced checks", header, rows))
    stack = report.get("stack") or {}
    if stack.get("cold") or stack.get("warm"):
        rows = [
            [label, _s(start.get("jaeger_s")), _s(start.get("milvus_s")), _s(start.get("total_s")), ""]
            for label, start in [("cold", stack.get("cold"))] + [(f"warm {i + 1}", w) for i, w in enumerate(stack.get("warm", []))]
            if start
        ]
        warm = stack.get("warm_median") or {}
        met = warm.get("total_s") is not None and warm["total_s"] <= WARM_START_TARGET_S
        rows.append(["warm median", _s(warm.get("jaeger_s")), _s(warm.get("milvus_s")), _s(warm.get("total_s")), "met" if met else "MISSED"])
        out.append(Table("stack start", ["stack start", "jaeger s", "milvus s", "total s", f"warm <= {WARM_START_TARGET_S:g} s"], rows))
    return out


def heading(report: dict) -> list[str]:
    settings, machine = report["settings"], report["machine"]
    load_end = machine.get("load_end", [float("nan")])[0]
    target = (report.get("targets") or {}).get("p50_ratio_ci_half_width_max", HALF_WIDTH_TARGET)
    return [
        *(["QUICK RUN: a smoke test; its CIs are wide and say little."] if report.get("quick") else []),
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
        f"load {machine['load_start'][0]:.2f} at start, {load_end:.2f} at end (1-min average); run {report.get('wall_s', 0):.0f} s",
        f"design: per approach at least {settings.get('processes', 1)} sets, each a long-lived client per mode, a Java one first "
        f"alone until its JIT settled, {settings['warmup_rounds']} unmeasured rounds, then {settings['rounds']} or more "
        f"rounds of {settings['block_s']} s blocks in random order (seed {settings['seed']}), more while the CI is wider than the "
        f"target and {settings.get('budget_s', 0):g} s of rounds per approach last; hot path Search + Query, "
        f"consistency {settings['consistency']}; "
        f"targets: p50 ratio <= {RATIO_TARGET} with its 95 % CI half-width <= {target * 100:g} %",
    ]


def _verdicts(report: dict) -> list[str]:
    found = misses(report)
    return ["targets missed or unresolved:" if found else "targets: all met", *(f"  - {line}" for line in found)]


def text(report: dict) -> str:
    out = heading(report)
    for table in sections(report):
        out += ["", table.title]
        if table.rows:
            out.append(tables.text(table))
    return "\n".join(out + [""] + _verdicts(report))


def markdown(report: dict) -> str:
    out = ["# What tracing costs: `nox -s bench`", "", *(f"{line}  " for line in heading(report))]
    for table in sections(report):
        out += ["", f"### {table.title}", ""]
        if table.rows:
            out.append(tables.markdown(table))
    out += ["", "### verdicts", "", *_verdicts(report), "", "### definitions", ""]
    out += [f"- **{name}**: {meaning}" for name, meaning in DEFINITIONS.items()]
    return "\n".join(out) + "\n"
