"""A trace as an SVG waterfall: the client's spans and the Milvus span answering each
call, on one time axis shared by every approach. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from conformance.runs import Run
from conformance.spans import Span, Trace, root_span

ROW_H = 15  # px per span row
AXIS_H = 22
LABEL_W = 440  # span names, indented by depth
BARS_W = 760  # the time axis, the same scale for every approach
INDENT = 12
MAX_TITLE_VALUE = 200


@dataclass
class Row:
    span: Span
    depth: int
    folded: int  # Milvus-internal spans below this one, not drawn


def waterfall_rows(trace: Trace, scenario: dict, service: str) -> list[Row]:
    """The client's spans and the first Milvus level below them; deeper Milvus spans are folded."""
    root = root_span(trace, scenario)
    starts = [root] if root else [span for span in trace.roots if span.service == service]
    return [row for start in starts for row in _rows(start, 0, service)]


def _rows(span: Span, depth: int, service: str) -> list[Row]:
    if span.service != service:
        # Milvus's server span of a client call: what lies below is Milvus-internal (~300 spans a trace).
        return [Row(span, depth, sum(1 for _ in span.descendants()))]
    return [Row(span, depth, 0)] + [row for child in span.children for row in _rows(child, depth + 1, service)]


def extent_us(rows: list[Row]) -> int:
    return max(row.span.end_us for row in rows) - min(row.span.start_us for row in rows) if rows else 0


def _tick_us(scale_us: int) -> int:
    """A round tick step giving at most ~10 ticks."""
    for step_ms in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000):
        if scale_us / (step_ms * 1000) <= 10:
            return step_ms * 1000
    return scale_us // 10 or 1


def _service_class(service: str, client: str, scenario: dict) -> str:
    if service == client:
        return "svc-client"
    return "svc-milvus" if service in scenario["server_services"] else "svc-other"


def _short(value) -> str:
    text = str(value).replace("\n", " ⏎ ")
    return text if len(text) <= MAX_TITLE_VALUE else text[: MAX_TITLE_VALUE - 1] + "…"


def _hover(row: Row, origin_us: int) -> str:
    span = row.span
    lines = [
        span.name,
        (
            f"service {span.service}, kind {span.kind}, at +{(span.start_us - origin_us) / 1000:.1f} ms, "
            f"lasting {span.duration_us / 1000:.2f} ms"
        ),
        *(f"{key} = {_short(value)}" for key, value in sorted(span.tags.items())),
        *(f"event: {_short(', '.join(f'{k}={v}' for k, v in event.items()))}" for event in span.events),
    ]
    if row.folded:
        lines.append(f"{row.folded} Milvus-internal spans below, not drawn: open the trace in Jaeger")
    return "\n".join(lines)


def _label(row: Row) -> str:
    label = ("✖ " if row.span.is_error else "") + row.span.name + (f" (+{row.folded})" if row.folded else "")
    room = int((LABEL_W - 8 - row.depth * INDENT) / 6)  # ~6 px per character at 11 px
    return label if len(label) <= room else label[: room - 1] + "…"


def _row_svg(index: int, row: Row, origin_us: int, scale_us: int, css_class: str) -> str:
    y = AXIS_H + index * ROW_H
    x = LABEL_W + (row.span.start_us - origin_us) * BARS_W / scale_us
    width = max(1.0, row.span.duration_us * BARS_W / scale_us)
    duration = f"{row.span.duration_us / 1000:.1f} ms"
    # The duration goes right of the bar, or left of it when the bar reaches the edge.
    after = x + width + 4 < LABEL_W + BARS_W - 50
    text_x, anchor = (x + width + 4, "start") if after else (x - 4, "end")
    classes = "span error" if row.span.is_error else "span"
    return (
        f'<g class="{classes}"><title>{escape(_hover(row, origin_us))}</title>'
        f'<rect class="band" x="0" y="{y}" width="{LABEL_W + BARS_W + 60}" height="{ROW_H}"/>'
        f'<text class="label" x="{4 + row.depth * INDENT}" y="{y + 11}">{escape(_label(row))}</text>'
        f'<rect class="bar {css_class}" x="{x:.1f}" y="{y + 2}" width="{width:.1f}" height="{ROW_H - 4}"/>'
        f'<text x="{text_x:.1f}" y="{y + 11}" text-anchor="{anchor}">{duration}</text></g>'
    )


def _axis_svg(height: int, scale_us: int) -> str:
    step = _tick_us(scale_us)
    ticks = []
    for at in range(0, scale_us + 1, step):
        x = LABEL_W + at * BARS_W / scale_us
        ticks.append(
            f'<line x1="{x:.1f}" y1="{AXIS_H - 4}" x2="{x:.1f}" y2="{height}"/>'
            f'<text x="{x:.1f}" y="{AXIS_H - 8}" text-anchor="middle">{at / 1e6:g} s</text>'
        )
    return '<g class="axis">' + "".join(ticks) + "</g>"


def waterfall_svg(run: Run, rows: list[Row], scenario: dict, scale_us: int) -> str:
    service = run.expected_service(scenario)
    origin = min(row.span.start_us for row in rows)
    height = AXIS_H + len(rows) * ROW_H + 4
    width = LABEL_W + BARS_W + 60
    body = "".join(
        _row_svg(i, row, origin, scale_us, _service_class(row.span.service, service, scenario)) for i, row in enumerate(rows)
    )
    return (
        f'<svg class="waterfall" data-approach="{escape(run.approach_id)}" data-rows="{len(rows)}" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"{_axis_svg(height, scale_us)}{body}</svg>"
    )
