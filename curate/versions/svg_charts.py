"""Bar charts as inline SVG, for the run report.

Every chart the report draws is a bar chart (counts by stage, reason, subset, length bucket,
cluster size), so a few dozen lines of SVG do what a plotting library would, with no
dependency, no JavaScript and nothing fetched: the page opens from disk, offline, anywhere.
"""

from __future__ import annotations

from html import escape

COLORS = ["#3b6ea8", "#d9822b", "#5a9e5a", "#a8443b", "#7d5ba6", "#8c8c8c"]
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def hbars(rows: list[tuple[str, float]], *, title: str, unit: str = "", width: int = 720) -> str:
    """Horizontal bars, one row per (label, value), longest bar scaled to the plot."""
    if not rows:
        return ""
    label_w, bar_h, gap = 230, 18, 6
    plot_w = width - label_w - 110
    top = max(v for _, v in rows) or 1
    height = len(rows) * (bar_h + gap) + 10
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(rows):
        y = 5 + i * (bar_h + gap)
        w = max(value / top * plot_w, 1 if value else 0)
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" {_FONT}>'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
            f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{COLORS[0]}"><title>{escape(label)}: {_fmt(value)}{unit}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" {_FONT}>{_fmt(value)}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def columns(
    buckets: list[str], series: dict[str, list[float]], *, title: str, width: int = 720
) -> str:
    """Grouped vertical bars: one group per bucket, one bar per series, with a legend."""
    if not buckets or not series:
        return ""
    height, base, left = 260, 220, 50
    plot_w = width - left - 10
    group_w = plot_w / len(buckets)
    bar_w = max(group_w / (len(series) + 1), 2)
    top = max((v for values in series.values() for v in values), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{base - 180 + 4}" text-anchor="end" {_FONT}>{_fmt(top)}</text>',
        f'<text x="{left - 6}" y="{base + 4}" text-anchor="end" {_FONT}>0</text>',
    ]
    for s, (name, values) in enumerate(series.items()):
        color = COLORS[s % len(COLORS)]
        for b, value in enumerate(values):
            h = value / top * 180
            x = left + b * group_w + s * bar_w + bar_w / 2
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{escape(name)}, {escape(buckets[b])}: '
                f"{_fmt(value)}</title></rect>"
            )
        parts.append(
            f'<rect x="{left + 10 + s * 140}" y="{height - 16}" width="10" height="10" '
            f'fill="{color}"/><text x="{left + 24 + s * 140}" y="{height - 7}" {_FONT}>'
            f"{escape(name)}</text>"
        )
    for b, label in enumerate(buckets):
        x = left + b * group_w + group_w / 2
        parts.append(
            f'<text x="{x:.1f}" y="{base + 15}" text-anchor="middle" {_FONT}>{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
