"""Tiny server-rendered SVG charts (bars and a line) with an accessible title and description.

Every label is escaped; the charts carry no script, so they pass the dashboard's CSP. Pages
show the same numbers in a table next to each chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 640
ROW = 26


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, chart_id: str) -> Markup:
    """Return horizontal bars, one per (label, value), as an inline SVG."""
    label_w, pad = 230, 8
    height = max(1, len(items)) * ROW + 2 * pad
    top = max((v for _, v in items), default=0) or 1
    bar_area = WIDTH - label_w - 70
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" data-testid="{chart_id}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">'
        + escape("; ".join(f"{label}: {_fmt(value)}" for label, value in items))
        + "</desc>",
    ]
    for i, (label, value) in enumerate(items):
        y = pad + i * ROW
        w = round(bar_area * value / top, 1)
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{w}" height="{ROW - 8}"/>'
            f'<text x="{label_w + w + 6}" y="{y + 17}">{escape(_fmt(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value above is escaped


def line_chart(points: Sequence[tuple[str, float]], *, title: str, chart_id: str) -> Markup:
    """Return a line over (label, value) points with every other label on the x axis."""
    height, left, right, top_pad, bottom = 220, 44, 36, 14, 46
    plot_w = WIDTH - left - right
    plot_h = height - top_pad - bottom
    top = max((v for _, v in points), default=0) or 1
    n = len(points)
    step = plot_w / max(1, n - 1)
    coords = [
        (round(left + i * step, 1), round(top_pad + plot_h - plot_h * v / top, 1))
        for i, (_, v) in enumerate(points)
    ]
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" data-testid="{chart_id}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">'
        + escape("; ".join(f"{label}: {_fmt(value)}" for label, value in points))
        + "</desc>",
        f'<line class="axis" x1="{left}" y1="{top_pad + plot_h}" x2="{WIDTH - right}" '
        f'y2="{top_pad + plot_h}"/>',
        f'<line class="axis" x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{escape(_fmt(top))}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
    ]
    if coords:
        path = " ".join(f"{x},{y}" for x, y in coords)
        parts.append(f'<polyline class="line" points="{path}"/>')
    every = max(1, (n + 7) // 8)
    for i, ((label, value), (x, y)) in enumerate(zip(points, coords, strict=True)):
        parts.append(
            f'<circle class="dot" cx="{x}" cy="{y}" r="3"><title>'
            f"{escape(label)}: {escape(_fmt(value))}</title></circle>"
        )
        if (n - 1 - i) % every == 0:  # evenly spaced, always ending on the latest point
            parts.append(
                f'<text x="{x}" y="{height - bottom + 18}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value above is escaped
