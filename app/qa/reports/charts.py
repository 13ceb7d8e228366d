"""Inline SVG bar charts: no script, no external file, so the report renders offline in any browser.

Every label is escaped; sizes are computed here so the SVG is static markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

_BAR: Final = "#3b6ea8"
_FATAL: Final = "#b23b3b"


def column_chart(labels: Sequence[str], values: Sequence[int], *, title: str, width: int = 560, height: int = 220) -> str:
    """Vertical bars, one per label (the score histogram)."""
    top, bottom, left = 24, 40, 36
    plot_h = height - top - bottom
    peak = max(values, default=0) or 1
    slot = (width - left - 8) / max(len(values), 1)
    parts = [_open(width, height, title), f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>']
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" stroke="#888"/>')
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_h = plot_h * value / peak
        x = left + index * slot + slot * 0.1
        y = top + plot_h - bar_h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{bar_h:.1f}" fill="{_BAR}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        parts.append(f'<text x="{x + slot * 0.4:.1f}" y="{y - 3:.1f}" text-anchor="middle" class="value">{value}</text>')
        parts.append(
            f'<text x="{x + slot * 0.4:.1f}" y="{top + plot_h + 14}" text-anchor="middle" class="label">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(labels: Sequence[str], values: Sequence[int], *, title: str, width: int = 560, highlight: Sequence[bool] = (),
              links: Sequence[str] = ()) -> str:
    """Horizontal bars, one row per label (findings per rule); with `links`, each row links to that anchor."""
    row, top, left = 22, 26, 170
    height = top + row * max(len(values), 1) + 8
    peak = max(values, default=0) or 1
    plot_w = width - left - 50
    parts = [_open(width, height, title), f'<text x="4" y="16" class="chart-title">{escape(title)}</text>']
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + index * row
        bar_w = plot_w * value / peak
        color = _FATAL if index < len(highlight) and highlight[index] else _BAR
        link = links[index] if index < len(links) else None
        if link:
            parts.append(f'<a href="{escape(link)}">')
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" class="label">{escape(label)}</text>')
        parts.append(
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{bar_w:.1f}" height="{row - 6}" fill="{color}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        parts.append(f'<text x="{left + bar_w + 4:.1f}" y="{y + 14}" class="value">{value}</text>')
        if link:
            parts.append("</a>")
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" class="chart">'
    )
