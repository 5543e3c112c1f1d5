"""reports/sampling.json's per-approach summary and its Markdown (and the terminal's table). Pure."""

from __future__ import annotations

from conformance.tables import Table, markdown, text

LOGGED_CALLS = ("Insert", "Search", "Query")  # the calls whose log lines the logs check wants


def followed(result: dict) -> bool:
    """Milvus did as the client decided: spans iff the client sampled (flags 01)."""
    recorded = result["milvus_spans"] > 0 or sum(result["milvus_roots"].values()) > 0
    return recorded == (result["flags"] == "01")


def summarize(runs: list[dict]) -> dict:
    """One approach's runs in figures: what it sent when not sampling, whether Milvus
    followed, the ratio agreement, Milvus's roots without a parent, its log lines."""
    unsampled = [r for r in runs if r["case"] == "unsampled"]
    ratio = [r for r in runs if r["case"] == "ratio"]
    no_parent = [r for r in runs if r["case"] == "no_parent"]
    logged = [r for r in runs if r.get("log_lines")]
    return {
        "failed_runs": [f"{r['case']} {r.get('sampler', '')}: exit {r['exit_status']}: {r['error']}" for r in runs if r["exit_status"]],
        "unsampled_flags": sorted({r["flags"] or "no traceparent" for r in unsampled}),
        "unsampled_milvus_spans": sum(r["milvus_spans"] for r in unsampled),
        "unsampled_milvus_roots": sum(sum(r["milvus_roots"].values()) for r in unsampled),
        "unsampled_followed": bool(unsampled) and all(followed(r) for r in unsampled),
        "ratio_sampled": sum(1 for r in ratio if r["flags"] == "01"),
        "ratio_runs": len(ratio),
        "ratio_agreeing": sum(1 for r in ratio if followed(r)),
        "no_parent_roots": {m: sum(r["milvus_roots"].get(m, 0) for r in no_parent) for m in LOGGED_CALLS},
        "no_parent_roots_total": sum(sum(r["milvus_roots"].values()) for r in no_parent),
        "no_parent_runs": len(no_parent),
        "log_lines": [r.get("log_lines", 0) for r in runs if r["case"] != "no_parent"],
        "log_calls_missing": sorted(
            {f"{m} ({r['case']} {r.get('sampler', '')})" for r in runs if r["case"] != "no_parent" and "log_calls" in r
             for m, n in r["log_calls"].items() if n == 0}
        ),
        "log_example": next((r["log_example"] for r in logged if r.get("log_example")), None),
    }


def problems(report: dict) -> list[str]:
    """What makes the run fail: a client that failed, Milvus not following the client,
    missing log lines, the tail pipeline losing a trace at the long wait or keeping it at the short one."""
    found = []
    for approach, result in report["approaches"].items():
        s = result["summary"]
        found += [f"{approach}: {line}" for line in s["failed_runs"]]
        if not s["unsampled_followed"]:
            found.append(f"{approach}: Milvus recorded {s['unsampled_milvus_spans']} spans and {s['unsampled_milvus_roots']} root traces for unsampled calls")
        if s["ratio_agreeing"] != s["ratio_runs"]:
            found.append(f"{approach}: ratio agreement {s['ratio_agreeing']}/{s['ratio_runs']}")
        if report["logs"] is None and s["log_calls_missing"]:
            found.append(f"{approach}: no Milvus log line for {', '.join(s['log_calls_missing'])}")
    short, long = report["tail"].get("short"), report["tail"].get("long")
    if short and short["tail"] == "whole":
        found.append(f"tail sampling at decision_wait={short['decision_wait_s']:g} s kept the trace whole: the too-short wait did not show")
    if long and long["tail"] != "whole":
        found.append(f"tail sampling at decision_wait={long['decision_wait_s']} s: {long['tail']}")
    return found


def table(report: dict) -> Table:
    rows = []
    for approach, result in report["approaches"].items():
        s = result["summary"]
        roots = "/".join(str(s["no_parent_roots"][m]) for m in LOGGED_CALLS)
        logs = report["logs"] or (f"{min(s['log_lines'])}-{max(s['log_lines'])}" if s["log_lines"] else "none")
        rows.append([
            approach,
            ", ".join(s["unsampled_flags"]),
            f"{'yes' if s['unsampled_followed'] else 'NO'}: {s['unsampled_milvus_spans']} spans, {s['unsampled_milvus_roots']} roots",
            f"{s['ratio_agreeing']}/{s['ratio_runs']} ({s['ratio_sampled']} sampled)",
            f"{roots} ({s['no_parent_roots_total']} in all, {s['no_parent_runs']} run)",
            logs,
        ])
    return Table(
        "Head sampling: does Milvus follow the client",
        ["approach", "flags unsampled", "Milvus followed (unsampled calls)", "ratio agreement", f"no parent: Milvus roots {'/'.join(LOGGED_CALLS)}", "Milvus log lines per trace"],
        rows,
    )


def tail_table(report: dict) -> Table:
    tail = report["tail"]
    rows = [
        [f"{t['decision_wait_s']:g} s", t["main"], t["tail"], f"{t['tail_spans']}/{t['main_spans']}",
         t["arrivals"].get("first_error_after_s"), t["arrivals"].get("milvus_last_after_s")]
        for t in (tail.get("short"), tail.get("long")) if t
    ]
    return Table(
        f"Tail sampling ({tail.get('approach')}): errors or > 30 s kept",
        ["decision_wait", "main pipeline", "tail pipeline", "spans kept", "first error span after (s)", "Milvus's last span after (s)"],
        rows,
    )


def delay_line(report: dict) -> str:
    d = report["export_delay"]
    if not d:
        return "Milvus's export delay: not measured (no sampled run)"
    a = report.get("arrival") or {}
    return (
        f"Milvus's export delay (client span end -> its Milvus child readable in Jaeger, {d['n']} calls): "
        f"p50 {d['p50_s']} s, p95 {d['p95_s']} s, max {d['max_s']} s; a trace's first error span arrived "
        f"up to {a.get('first_error_max_s')} s and its last span up to {a.get('last_max_s')} s after its first"
    )


def render_markdown(report: dict) -> str:
    head, tail = table(report), tail_table(report)
    lines = [
        "# Sampling: who decides, does Milvus follow",
        "",
        f"`nox -s sampling` at {report['generated_at']}, {report['wall_s']:.0f} s. Unsampled: "
        f"{', '.join(report['settings']['unsampled'])}; ratio: parentbased_traceidratio={report['settings']['ratio']:g} "
        f"x {report['settings']['ratio_runs']} runs per approach; Milvus's trace.sampleFraction {report['milvus']['sample_fraction']}.",
        "",
        f"## {head.title}",
        "",
        markdown(head),
        "",
        f"Milvus's log: {report['logs'] or 'lines carrying each trace id, Insert/Search/Query among them (log level ' + report['milvus']['log_level'] + ')'}.",
        "",
        f"## {tail.title}",
        "",
        delay_line(report),
        "",
        markdown(tail),
        "",
        f"Implied decision_wait: {report['tail'].get('implied_decision_wait_s')} s. {report['tail'].get('note', '')}",
        "",
    ]
    if report["problems"]:
        lines += ["## Problems", "", *[f"- {p}" for p in report["problems"]], ""]
    return "\n".join(lines)


def render_text(report: dict) -> str:
    return "\n\n".join([text(table(report)), delay_line(report), text(tail_table(report))])
