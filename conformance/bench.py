"""The statistics of `nox -s bench`: percentiles, traced/untraced ratios and their
spread over A/B pairs, target verdicts and the printed table. Pure: no I/O, so
it is unit-tested (conformance/tests/test_bench.py); run_bench.py does the rest."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

# What we expect, to be measured and reported, never asserted.
RATIO_TARGET = 1.05  # traced / untraced p50 latency, per RPC
VISIBLE_TARGET_S = 1.0  # client exit -> root span returned by Jaeger's API
WARM_START_TARGET_S = 10.0  # warm stack start, Jaeger + Milvus


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolated linearly between the closest ranks
    (numpy's default, Excel's PERCENTILE.INC)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict:
    """n, p50, p95, min and max of a sample (ms in, ms out, rounded to the µs)."""
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def spread(values: Sequence[float]) -> dict:
    """Median, min and max of per-pair figures: how much one pair differs from the next."""
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def pair_ratios(traced: Sequence[Sequence[float]], untraced: Sequence[Sequence[float]], q: float) -> list[float]:
    """Per A/B pair: the traced run's q-th percentile over the untraced run's."""
    if len(traced) != len(untraced):
        raise ValueError(f"{len(traced)} traced runs but {len(untraced)} untraced: ratios need pairs")
    return [round(percentile(a, q) / percentile(b, q), 4) for a, b in zip(traced, untraced)]


def compare(traced: Sequence[Sequence[float]], untraced: Sequence[Sequence[float]]) -> dict:
    """One RPC's latencies in A/B pairs (one list of ms per run) -> every figure the bench reports.

    `traced` and `untraced` are the same pairs' runs, in order. The pooled summaries
    merge all runs of a mode; the ratios are taken pair by pair, so a slow phase of
    the machine hits both halves of a pair and cancels out."""
    p50_ratios = pair_ratios(traced, untraced, 50)
    p95_ratios = pair_ratios(traced, untraced, 95)
    pooled_traced = summary([v for run in traced for v in run])
    pooled_untraced = summary([v for run in untraced for v in run])
    return {
        "traced": pooled_traced,
        "untraced": pooled_untraced,
        "p50_delta_ms": round(pooled_traced["p50"] - pooled_untraced["p50"], 3),
        "p50_ratio": {**spread(p50_ratios), "pairs": p50_ratios},
        "p95_ratio": {**spread(p95_ratios), "pairs": p95_ratios},
    }


def compare_cpu(traced_us: Sequence[float], untraced_us: Sequence[float]) -> dict:
    """Client CPU time per call (µs) of A/B pairs' runs -> medians, and per pair the
    difference and ratio. CPU time hardly depends on how fast Milvus answers, so it
    shows the client's own cost with much less noise than latency does."""
    if len(traced_us) != len(untraced_us) or not traced_us:
        raise ValueError(f"{len(traced_us)} traced and {len(untraced_us)} untraced figures: want pairs")
    deltas = [round(a - b, 1) for a, b in zip(traced_us, untraced_us)]
    return {
        "traced_us": round(statistics.median(traced_us), 1),
        "untraced_us": round(statistics.median(untraced_us), 1),
        "delta_us": {**spread(deltas), "pairs": deltas},
        "ratio": spread([a / b for a, b in zip(traced_us, untraced_us)]),
    }


def median_or_none(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def misses(report: dict) -> list[str]:
    """Each target the report misses, as one line with its figure."""
    found = []
    for language, result in report.get("approaches", {}).items():
        noise = ((result.get("variants") or {}).get("untraced-again") or {}).get("rpcs", {})
        for rpc, figures in result.get("rpcs", {}).items():
            ratio = figures["p50_ratio"]["median"]
            if ratio > RATIO_TARGET:
                floor = noise.get(rpc, {}).get("p50_ratio")
                found.append(
                    f"{language} {rpc}: traced/untraced p50 {ratio:.3f} > {RATIO_TARGET} "
                    f"({figures['p50_delta_ms']:+.3f} ms per call; pairs {figures['p50_ratio']['min']:.3f}-{figures['p50_ratio']['max']:.3f}"
                    + (f"; A/A noise floor {floor['median']:.3f}, pairs {floor['min']:.3f}-{floor['max']:.3f})" if floor else ")")
                )
        visible = (result.get("visibility") or {}).get("root_median_s")
        if visible is not None and visible > VISIBLE_TARGET_S:
            found.append(f"{language}: trace visible {visible:.2f} s after exit > {VISIBLE_TARGET_S:g} s")
    warm = (report.get("stack") or {}).get("warm_median") or {}
    if warm.get("total_s") is not None and warm["total_s"] > WARM_START_TARGET_S:
        found.append(f"stack: warm start {warm['total_s']:.1f} s > {WARM_START_TARGET_S:g} s")
    return found


# --- the printed table --------------------------------------------------------------


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """Left-aligned text columns, two spaces apart."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= limit else "MISSED"


def _cost_rows(language: str, rpcs: dict, label: str | None = None, all_calls: dict | None = None) -> list[list[str]]:
    rows = []
    for rpc, figures in rpcs.items():
        ratio = figures["p50_ratio"]
        row = [language, *([label] if label is not None else []), rpc]
        row += [
            f"{_ms(figures['traced']['p50'])} / {_ms(figures['traced']['p95'])}",
            f"{_ms(figures['untraced']['p50'])} / {_ms(figures['untraced']['p95'])}",
            f"{figures['p50_delta_ms']:+.3f}",
            f"{ratio['median']:.3f} ({ratio['min']:.3f}-{ratio['max']:.3f})",
            f"{figures['p95_ratio']['median']:.3f}",
        ]
        if all_calls is not None:
            row.append(f"{all_calls[rpc]['p50_ratio']['median']:.3f}" if rpc in all_calls else "-")
        row.append(_verdict(ratio["median"], RATIO_TARGET))
        rows.append(row)
    return rows


def _cpu(cpu: dict | None) -> str:
    if not cpu:
        return "-"
    delta = cpu["delta_us"]
    return f"{cpu['traced_us']:.0f} / {cpu['untraced_us']:.0f} ({delta['median']:+.0f}, {delta['min']:+.0f}..{delta['max']:+.0f})"


def _untraced_verified(result: dict) -> str:
    checks = result.get("untraced_checks") or []
    if not checks:
        return "-"
    passed = sum(1 for check in checks if check["passed"])
    return f"{passed}/{len(checks)} runs" + ("" if passed == len(checks) else " FAILED")


def render(report: dict) -> str:
    """The table printed at the end of `nox -s bench` (and shown in the README)."""
    settings, machine = report["settings"], report["machine"]
    out = [
        (
            f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
            f"load {machine['load_start'][0]:.2f} at start, {machine['load_end'][0]:.2f} at end (1-min average)"
        ),
        (
            f"hot path: {settings['repeat']} x (Search + Query) per run, consistency {settings['consistency']}, "
            f"the first {settings.get('warmup', 0)} calls of each kind left out as warm-up; "
            f"{settings['pairs']} A/B pairs per language (A traced, B untraced)"
        ),
        "",
    ]
    rows = []
    for language, result in report["approaches"].items():
        if result.get("rpcs"):
            rows += _cost_rows(language, result["rpcs"], all_calls=result.get("rpcs_all_calls", {}))
        else:
            rows.append([language, "-", "-", "-", "-", "-", "-", "-", result.get("error") or "no complete pair"])
    header = ["language", "rpc", "traced p50/p95 ms", "untraced p50/p95 ms", "p50 +ms", "p50 ratio (pairs min-max)"]
    out.append(table(rows, [*header, "p95 ratio", "p50 ratio, all calls", f"<= {RATIO_TARGET}"]))
    variant_rows = [
        row
        for language, result in report["approaches"].items()
        for name, figures in (result.get("variants") or {}).items()
        for row in _cost_rows(language, figures["rpcs"], label=name)
    ]
    if variant_rows:
        out += ["", "variants: traced (or untraced) with more settings, see bench.json, against the same pairs' untraced runs"]
        out.append(table(variant_rows, [header[0], "variant", *header[1:], "p95 ratio", f"<= {RATIO_TARGET}"]))
        for language, result in report["approaches"].items():
            for name, figures in (result.get("variants") or {}).items():
                if figures.get("cpu"):
                    out.append(f"  {language} {name}: client CPU us/call {_cpu(figures['cpu'])}")
    out.append("")
    rows = []
    for language, result in report["approaches"].items():
        visibility = result.get("visibility") or {}
        wall = result.get("wall_s") or {}
        rows.append(
            [
                language,
                _s(visibility.get("root_median_s")),
                _s(visibility.get("complete_median_s")),
                str(len(visibility.get("runs", []))),
                f"{_s(wall.get('traced'))} / {_s(wall.get('untraced'))}",
                _cpu(result.get("cpu")),
                _untraced_verified(result),
                _verdict(visibility.get("root_median_s"), VISIBLE_TARGET_S),
            ]
        )
    header = ["language", "root span visible s", "+ Milvus spans s", "runs", "run wall s traced/untraced", "untraced verified"]
    header.insert(5, "client CPU us/call traced/untraced (+us, pairs)")
    out.append(table(rows, [*header, f"visible <= {VISIBLE_TARGET_S:g} s"]))
    stack = report.get("stack") or {}
    if stack.get("cold") or stack.get("warm"):
        out.append("")
        rows = []
        for label, start in [("cold", stack.get("cold"))] + [(f"warm {i + 1}", w) for i, w in enumerate(stack.get("warm", []))]:
            if start:
                rows.append([label, _s(start.get("jaeger_s")), _s(start.get("milvus_s")), _s(start.get("total_s")), ""])
        warm = stack.get("warm_median") or {}
        verdict = _verdict(warm.get("total_s"), WARM_START_TARGET_S)
        rows.append(["warm median", _s(warm.get("jaeger_s")), _s(warm.get("milvus_s")), _s(warm.get("total_s")), verdict])
        out.append(table(rows, ["stack start", "jaeger s", "milvus s", "total s", f"warm <= {WARM_START_TARGET_S:g} s"]))
    found = misses(report)
    out.append("")
    out.append("targets missed:" if found else "targets: all met")
    out.extend(f"  - {line}" for line in found)
    return "\n".join(out)
