"""The reports' value axes on generated data: whole-number ticks in the unit shown, no two labels
alike, the data inside the axis, and one font size for every chart."""

from __future__ import annotations

import random
import re

import pytest

from helpdesk.i18n import DeskLanguage
from helpdesk.reports.charts import FONT_SIZE, MAX_TICKS, axis_ticks, bar_chart, nice_step


def tick_labels(svg: str) -> list[str]:
    """The value axis's labels: the texts right-aligned left of the plot."""
    return re.findall(r'<text [^>]*text-anchor="end"[^>]*>([^<]*)</text>', svg)


@pytest.mark.parametrize(
    "top, ticks",
    [
        (0, [0, 1]),
        (0.3, [0, 1]),
        (1, [0, 1]),
        (2.5, [0, 1, 2, 3]),  # was 0, 0.625, 1.25, ...: "0 min, 1 min, 1 min, 2 min, 2 min"
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (11, [0, 5, 10, 15]),
        (10, [0, 2, 4, 6, 8, 10]),
        (120, [0, 25, 50, 75, 100, 125]),
        (1234, [0, 250, 500, 750, 1000, 1250]),
    ],
)
def test_ticks_are_nice_whole_steps(top, ticks):
    assert axis_ticks(top) == ticks


def test_ticks_on_generated_data():
    rng = random.Random(20261207)
    values = [rng.choice((rng.uniform(0, 3), rng.uniform(0, 40), rng.expovariate(1 / 300))) for _ in range(3000)]
    values += [0.0, 1e-9, 0.999, 1.0, 1.001, 2.5, 5.0, 99.99, 100.0, 1e6]
    for value in values:
        ticks = axis_ticks(value)
        steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
        assert ticks[0] == 0 and ticks[-1] >= value, (value, ticks)
        assert len(steps) == 1 and all(t == int(t) for t in ticks), (value, ticks)  # whole, equal steps
        assert 1 <= len(ticks) - 1 <= MAX_TICKS, (value, ticks)
        step = steps.pop()
        assert ticks[-1] - step < value or value == 0, (value, ticks)  # no empty step on top
        assert str(int(step)).rstrip("0") in ("1", "2", "25", "5"), (value, step)  # 1, 2, 2.5 or 5 x 10^n


def test_fractional_steps_only_where_allowed():
    assert nice_step(0.3) == 1 and nice_step(2.2) == 5  # integer: never 2.5
    assert nice_step(0.3, integer=False) == 0.5 and nice_step(0.22, integer=False) == 0.25


@pytest.mark.parametrize(
    "values, unit",
    [
        ([0.2, 1.4, 2.5, 0.0], lambda v: f"{v:.0f} min"),  # minutes
        ([0, 1, 2, 1], lambda v: f"{v:g}"),  # ticket counts
        ([0.05, 0.3, 0.9], lambda v: f"{v:.0f} h"),
        ([3, 17, 29], lambda v: f"{v:g}"),
    ],
)
def test_no_chart_repeats_a_tick_label_or_shows_a_fraction_of_a_ticket(values, unit):
    svg = str(bar_chart("c", "A chart", ["a", "b", "c", "d"], [("median", values)], value_text=unit))
    labels = tick_labels(svg)
    assert len(labels) == len(set(labels)) >= 2, labels
    assert all(re.fullmatch(r"\d+( min| h)?", label) for label in labels), labels


def test_rates_keep_their_quarter_ticks_and_every_text_has_one_size():
    svg = str(
        bar_chart(
            "r",
            "Rates",
            ["x"],
            [("self-service", [0.4]), ("handoff", [0.1])],
            value_text=lambda v: f"{v * 100:.0f} %",
            top=1.0,
            ticks=(0, 0.25, 0.5, 0.75, 1.0),
        )
    )
    assert tick_labels(svg) == ["0 %", "25 %", "50 %", "75 %", "100 %"]
    assert set(re.findall(r'font-size="([^"]+)"', svg)) == {str(FONT_SIZE)}


def test_a_chart_is_described_in_the_pages_language():
    german = DeskLanguage("de")
    svg = bar_chart("c", "Offene Tickets", ["A", "B"], [("hoch", [1, 3]), ("leer", [None, None])], str, lang=german)
    assert '<desc id="c-d">Offene Tickets: hoch von 1 bis 3; leer: keine Daten</desc>' in svg
    english = bar_chart("c", "Open tickets", ["A"], [("high", [2])], str)
    assert '<desc id="c-d">Open tickets: high from 2 to 2</desc>' in english
