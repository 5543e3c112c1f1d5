"""The load report: tables (conformance/tables.py) for the terminal and reports/load.md, and
the pictures (matplotlib) of throughput ratio and spans lost against concurrency. Pure but
for pictures(), which writes the PNG files."""

from __future__ import annotations

from pathlib import Path

from conformance import tables
from conformance.tables import Table

DEFINITIONS = {
    "level": "calls in flight: the client's hot path runs in that many workers at once (DEMO_LOAD_CONCURRENCY), each making "
    "its next call as soon as the last one returned (a closed loop)",
    "block": "as in nox -s bench: one client runs alone for block_s while every other one is paused; a round is one block of each "
    "mode, in random order; a block's calls are those that started and ended in it",
    "throughput ratio": "geometric mean over rounds of (traced calls/s / untraced calls/s at the same level), bootstrap 95 % CI",
    "p50/p99 ratio": "the same for each block's p50 and p99 client-side latency",
    "cpu us/call": "the client's CPU in its block (/proc schedstat of every thread) / (calls + 1)",
    "milvus cpu us/call": "the CPU of every Milvus process (and its etcd) from the block's start to drain_s after its pause, when "
    "Milvus has answered the paused client's calls in flight, / (the block's calls + 1)",
    "spans lost": "the hot path's and the query step's Query calls (the client's record) minus the Query CLIENT spans Jaeger "
    "received from that client (its spanmetrics counts, STACK_SPAN_COUNTS); the same SDK-independent count for every approach",
    "sdk says": "lines of the client's own output that mention dropped spans or a full queue",
    "milvus idle": "Milvus's CPU ns per second with no client running (2 s before each approach), taken out of every block's "
    "Milvus figure over the block and its drain",
    "unsampled": "traced with OTEL_TRACES_SAMPLER=always_off: no span is recorded, every call carries a traceparent with flags 00, "
    "and Milvus records nothing",
}


def value(figure: dict | None) -> str:
    return "-" if not figure else f"{figure['value']:.3f}"


def ratio(figure: dict | None) -> str:
    return "-" if not figure else f"{figure['value']:.3f} ±{figure['half_width'] * 100:.1f} %"


def micros(figure: dict | None, signed: bool = False) -> str:
    if not figure:
        return "-"
    return f"{figure['value']:{'+' if signed else ''}.0f} ±{figure['half_width']:.0f}"


def lost(mode: dict | None) -> str:
    spans = (mode or {}).get("spans", {}).get("Query")
    if not spans or spans["lost_pct"] is None:
        return "-"
    return f"{spans['lost_pct']:.1f} % ({spans['lost']}/{spans['made']})"


def said(mode: dict) -> str:
    says = mode.get("sdk_says") or {}
    return f"{says['lines']} lines" if says.get("lines") else "nothing"


def cost_table(report: dict) -> Table:
    rows = []
    for approach, result in report["approaches"].items():
        if "error" in result:
            rows.append([approach, "-", result["error"][:120], *["-"] * 8])
            continue
        for level, f in result["levels"].items():
            traced = result["modes"][f"traced-{level}"]
            rows.append([
                approach, level, micros(f["calls_per_s"]["b"]), ratio(f["throughput_ratio"]), ratio(f["Search"]["p50_ratio"]),
                ratio(f["Search"]["p99_ratio"]), ratio(f["Query"]["p50_ratio"]), micros(f["cpu_us_per_call"]["delta"], True),
                micros(f["server_cpu_us_per_call"]["delta"], True), lost(traced), said(traced),
            ])
    header = ["approach", "in flight", "untraced calls/s", "throughput ratio", "Search p50 ratio", "Search p99 ratio",
              "Query p50 ratio", "client CPU +us/call", "Milvus CPU +us/call", "spans lost", "SDK says"]
    return Table("Traced against untraced, per level of calls in flight", header, rows,
                 "ratios are traced / untraced (95 % CI half-width); CPU is traced minus untraced, per call")


def batch_table(report: dict) -> Table:
    rows = []
    for approach, result in report["approaches"].items():
        if "batch" not in result:
            continue
        b, level = result["batch"], result["batch"]["level"]
        rows.append([
            approach, level, lost(result["modes"][f"traced-{level}"]), lost(result["modes"][f"batch-{level}"]),
            ratio(b["against_untraced"]["throughput_ratio"]), ratio(b["against_traced"]["throughput_ratio"]),
            micros(b["against_traced"]["cpu_us_per_call"]["delta"], True),
        ])
    settings = ", ".join(f"{k}={v}" for k, v in report["settings"]["batch"].items())
    header = ["approach", "in flight", "spans lost, defaults", "spans lost, batch settings", "throughput ratio vs untraced",
              "vs traced with defaults", "client CPU +us/call vs defaults"]
    return Table(f"The batch settings at the top level: {settings}", header, rows)


def milvus_table(report: dict) -> Table:
    rows = []
    for approach, result in report["approaches"].items():
        m = result.get("milvus")
        if not m:
            continue
        unsampled, sampled = m["unsampled_against_untraced"], result["levels"][str(m["level"])]
        p50 = [sampled["Search"]["p50_ms"]["b"], unsampled["Search"]["p50_ms"]["a"], sampled["Search"]["p50_ms"]["a"]]
        rows.append([
            approach, m["level"], micros(unsampled["server_cpu_us_per_call"]["b"]), micros(sampled["server_cpu_us_per_call"]["delta"], True),
            micros(unsampled["server_cpu_us_per_call"]["delta"], True), ratio(unsampled["throughput_ratio"]),
            " / ".join("-" if v is None else f"{v:.1f}" for v in p50),
        ])
    header = ["approach", "in flight", "Milvus CPU us/call, untraced client", "sampled - untraced", "unsampled - untraced",
              "throughput unsampled/untraced", "Search p50 ms, untraced / unsampled / sampled"]
    return Table("What client tracing costs Milvus", header, rows,
                 "Milvus's CPU per call (its background taken out), with 95 % CI half-widths; the p50s as the client saw them, all "
                 "blocks pooled. An untraced client's calls carry no traceparent: Milvus's own sampler starts a sampled trace for each "
                 "(trace.sampleFraction 1 here)")


def sections(report: dict) -> list[Table]:
    return [cost_table(report), batch_table(report), milvus_table(report)]


def heading(report: dict) -> str:
    m = report["machine"]
    quick = "QUICK RUN (smoke, wide CIs). " if report["quick"] else ""
    s = report["settings"]
    return (f"{quick}{report['generated_at']}, {m.get('cpu', '?')}, {m.get('cores', '?')} cores, load {m['load_start'][0]} -> "
            f"{m.get('load_end', ['?'])[0]}; {s['rounds']} rounds of {s['block_s']:g} s blocks ({s['long_block_s']:g} s from "
            f"{s['long_level']} in flight); {report.get('wall_s', 0):.0f} s")


def text(report: dict) -> str:
    parts = [heading(report)]
    for table in sections(report):
        parts += ["", table.title, tables.text(table)] + ([table.note] if table.note else [])
    if report.get("failures"):
        parts += ["", "failures:", *report["failures"]]
    return "\n".join(parts)


def markdown(report: dict) -> str:
    parts = ["# nox -s load", "", heading(report), ""]
    parts += [f"![{name}]({name})" for name in report.get("pictures", [])] + [""]
    for table in sections(report):
        parts += [f"## {table.title}", "", tables.markdown(table), ""] + ([table.note, ""] if table.note else [])
    parts += ["## Definitions", ""] + [f"- **{k}**: {v}" for k, v in report["definitions"].items()]
    if report.get("failures"):
        parts += ["", "## Failures", ""] + [f"- {f}" for f in report["failures"]]
    return "\n".join(parts) + "\n"


def series(report: dict, figure) -> dict[str, tuple[list[int], list[float], list[float]]]:
    """approach -> (levels, values, CI half-widths) of one figure per level, where it has one."""
    out = {}
    for approach, result in report["approaches"].items():
        points = [(int(level), *found) for level in result.get("levels", {}) if (found := figure(result, level)) is not None]
        if points:
            levels, values, errors = zip(*points)
            out[approach] = (list(levels), list(values), list(errors))
    return out


def _throughput(result: dict, level: str) -> tuple[float, float] | None:
    f = result["levels"][level]["throughput_ratio"]
    return (f["value"], f["half_width"]) if f else None


def _lost(result: dict, level: str) -> tuple[float, float] | None:
    spans = result["modes"][f"traced-{level}"].get("spans", {}).get("Query")
    return (spans["lost_pct"], 0.0) if spans and spans["lost_pct"] is not None else None


def pictures(report: dict, folder: Path) -> list[str]:
    """load-throughput.png and load-spans-lost.png in folder; their names."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    quick = " (QUICK RUN)" if report["quick"] else ""
    drawn = []
    for name, figure, title, label in (
        ("load-throughput.png", _throughput, f"Throughput, traced / untraced{quick}", "throughput ratio (95 % CI)"),
        ("load-spans-lost.png", _lost, f"Spans that never reached Jaeger{quick}", "spans lost (% of calls)"),
    ):
        fig, ax = pyplot.subplots(figsize=(9, 5.5), dpi=110)
        drawn_series = series(report, figure)
        for number, (approach, (levels, values, errors)) in enumerate(drawn_series.items()):
            dodge = 2 ** ((number - (len(drawn_series) - 1) / 2) * 0.04)  # side by side, so that no CI hides another
            ax.errorbar([level * dodge for level in levels], values, yerr=errors, marker="o", capsize=3, label=approach)
        ax.set_xscale("log", base=2)
        ax.set_xticks(report["settings"]["levels"], [str(level) for level in report["settings"]["levels"]])
        ax.set_xlabel("calls in flight")
        ax.set_ylabel(label)
        ax.set_title(title)
        if figure is _throughput:
            ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, ncol=2)
        fig.tight_layout()
        fig.savefig(folder / name)
        pyplot.close(fig)
        drawn.append(name)
    return drawn
