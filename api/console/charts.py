"""Horizontal bar charts as server-side SVG: plain and stacked, with a text summary for readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

LABEL_WIDTH = 120
BAR_AREA = 360
ROW = 30
BAR = 20
TOP = 10
PALETTE = ("#2f6fb3", "#1e7b34", "#8a5a00", "#b42318", "#6b7280", "#7c3aed")
FONT = "system-ui, 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', sans-serif"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int], unit: str = "") -> str:
    """One bar per label, with its value at the end of the bar."""
    return stacked_bar_chart(title, labels, [Series(unit or "数量", values)], legend=False)


def stacked_bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], legend: bool = True
) -> str:
    """One bar per label, split by series; the total is written after each bar."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    scale = BAR_AREA / max([*totals, 1])
    legend_height = ROW if legend else 0
    height = TOP + ROW * len(labels) + legend_height + 10
    width = LABEL_WIDTH + BAR_AREA + 60
    summary = "；".join(
        f"{label}：{total}"
        + (
            "（" + "，".join(f"{s.name} {s.values[i]}" for s in series if s.values[i]) + "）"
            if legend and total
            else ""
        )
        for i, (label, total) in enumerate(zip(labels, totals, strict=True))
    )
    described = f"{title}。{summary or '暂无数据'}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f"aria-label={quoteattr(described)}>",
        f"<title>{escape(title)}</title>",
        f'<g font-family="{FONT}" font-size="13" fill="#1f2933">',
    ]
    for i, label in enumerate(labels):
        y = TOP + i * ROW
        out.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR / 2}" text-anchor="end" '
            f'dominant-baseline="central">{escape(label)}</text>'
        )
        x = float(LABEL_WIDTH)
        for k, s in enumerate(series):
            value = s.values[i]
            if value <= 0:
                continue
            w = value * scale
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(label)} · '
                f"{escape(s.name)}：{value}</title></rect>"
            )
            x += w
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + BAR / 2}" dominant-baseline="central">'
            f"{totals[i]}</text>"
        )
    if legend:
        y = TOP + ROW * len(labels) + 6
        x = float(LABEL_WIDTH)
        for k, s in enumerate(series):
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="14" height="14" '
                f'fill="{PALETTE[k % len(PALETTE)]}"/>'
                f'<text x="{x + 20:.1f}" y="{y + 7}" dominant-baseline="central">'
                f"{escape(s.name)}</text>"
            )
            x += 20 + 14 * len(s.name) + 24
    out.append("</g></svg>")
    return "\n".join(out)
