"""Server-rendered SVG charts of the reports page: no JavaScript, no chart library, readable at a glance.

Each chart is a grouped bar chart with a labelled value axis and a legend; it is
an ``img`` for assistive technology with a title and a one-line description,
and the page shows the same numbers in a data table beside it. Every text is
escaped here (article titles and customer questions never reach a chart, but
team names and labels do).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

# Colour-blind safe (Okabe-Ito), each with at least 3:1 contrast against white.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8a6d00", "#56B4E9")
WIDTH, HEIGHT = 560, 250
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 30, 46


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (the axis top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    value_text: Callable[[float], str] = lambda v: f"{v:g}",
    top: float | None = None,
) -> Markup:
    """Grouped bars: one group per label, one bar per series (None: no bar). Returns inline SVG markup."""
    values = [v for _, vs in series for v in vs if v is not None]
    axis_top = top if top is not None else nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    groups = max(len(labels), 1)
    group_w = plot_w / groups
    bar_w = max(1.0, min(28.0, group_w * 0.8 / max(len(series), 1)))
    parts = []
    for name, vs in series:
        present = [v for v in vs if v is not None]
        parts.append(
            f"{name} from {value_text(min(present))} to {value_text(max(present))}" if present else f"{name}: no data"
        )
    desc = f"{title}: " + "; ".join(parts)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for i in range(5):  # grid lines and value axis
        value = axis_top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5d9e0"/>')
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#1d2330">'
            f"{escape(value_text(value))}</text>"
        )
    every = max(1, math.ceil(len(labels) / 14))  # at most 14 x labels
    for g, label in enumerate(labels):
        x0 = LEFT + g * group_w + (group_w - bar_w * len(series)) / 2
        for s, (name, vs) in enumerate(series):
            v = vs[g] if g < len(vs) else None
            if v is None:
                continue
            h = plot_h * min(v, axis_top) / axis_top if axis_top else 0
            x = x0 + s * bar_w
            out.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(label)}, {escape(name)}: '
                f"{escape(value_text(v))}</title></rect>"
            )
        if g % every == 0:
            out.append(
                f'<text x="{LEFT + (g + 0.5) * group_w:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                f'font-size="11" fill="#1d2330">{escape(label)}</text>'
            )
    x = LEFT
    for s, (name, _) in enumerate(series):  # legend
        out.append(f'<rect x="{x}" y="{HEIGHT - 16}" width="12" height="12" fill="{COLOURS[s % len(COLOURS)]}"/>')
        out.append(f'<text x="{x + 16}" y="{HEIGHT - 6}" font-size="12" fill="#1d2330">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    out.append("</svg>")
    return Markup("".join(out))
