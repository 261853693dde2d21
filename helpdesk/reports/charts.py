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

from helpdesk.i18n import DeskLanguage, english

# Colour-blind safe (Okabe-Ito), each with at least 3:1 contrast against white.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8a6d00", "#56B4E9")
WIDTH, HEIGHT = 560, 250
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 30, 46
FONT_SIZE = 11  # every text of every chart; the page never scales a chart up (svg.chart's max-width)
MAX_TICKS = 5  # intervals of the value axis at most


def nice_step(raw: float, integer: bool = True) -> float:
    """The smallest step of 1, 2, 2.5 or 5 times a power of ten at or above ``raw``. With
    ``integer`` (counts, whole minutes) at least 1, and never 2.5 (a tick at 2.5 tickets)."""
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    if integer:
        raw = max(raw, 1.0)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5):
        step = factor * power
        if integer and step != math.floor(step):
            continue
        if step >= raw - 1e-12:
            return step
    return 10 * power


def axis_ticks(value: float, integer: bool = True) -> list[float]:
    """The value axis for data up to ``value``: 0 first, equal nice steps, the last at or above
    ``value``, at most MAX_TICKS intervals. ``integer``: whole numbers only (a count, whole minutes)."""
    if not math.isfinite(value) or value <= 0:
        return [0.0, 1.0]
    step = nice_step(value / MAX_TICKS, integer)
    count = max(1, math.ceil(value / step - 1e-9))
    if count > MAX_TICKS:  # rounding pushed it past: the next step up
        step = nice_step(step * 1.0001, integer)
        count = max(1, math.ceil(value / step - 1e-9))
    return [round(i * step, 10) for i in range(count + 1)]


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    value_text: Callable[[float], str] = lambda v: f"{v:g}",
    top: float | None = None,
    ticks: Sequence[float] | None = None,
    lang: DeskLanguage | None = None,
) -> Markup:
    """Grouped bars: one group per label, one bar per series (None: no bar). Returns inline SVG markup.

    The value axis has whole-number ticks (``axis_ticks``) in the unit ``value_text`` shows, so
    no two tick labels read the same; ``ticks`` gives them instead (rates: 0, 25, 50, 75, 100 %),
    ``top`` the axis top for them. The description's words are ``lang``'s (English by default); the
    title, labels, series names and ``value_text`` come in the page's language already."""
    lang = lang or english()
    values = [v for _, vs in series for v in vs if v is not None]
    if ticks is None:
        ticks = axis_ticks(max([top or 0.0, *values]))
    axis_top = top if top is not None else ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    groups = max(len(labels), 1)
    group_w = plot_w / groups
    bar_w = max(1.0, min(28.0, group_w * 0.8 / max(len(series), 1)))
    parts = []
    for name, vs in series:
        present = [v for v in vs if v is not None]
        parts.append(
            lang.gettext(
                "%(series)s from %(low)s to %(high)s",
                series=name,
                low=value_text(min(present)),
                high=value_text(max(present)),
            )
            if present
            else lang.gettext("%(series)s: no data", series=name)
        )
    desc = lang.gettext("%(title)s: %(series)s", title=title, series="; ".join(parts))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for value in ticks:  # grid lines and value axis
        y = TOP + plot_h - plot_h * value / axis_top
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5d9e0"/>')
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{FONT_SIZE}" fill="#1d2330">'
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
                f'font-size="{FONT_SIZE}" fill="#1d2330">{escape(label)}</text>'
            )
    x = LEFT
    for s, (name, _) in enumerate(series):  # legend
        out.append(f'<rect x="{x}" y="{HEIGHT - 16}" width="12" height="12" fill="{COLOURS[s % len(COLOURS)]}"/>')
        out.append(f'<text x="{x + 16}" y="{HEIGHT - 6}" font-size="{FONT_SIZE}" fill="#1d2330">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    out.append("</svg>")
    return Markup("".join(out))
