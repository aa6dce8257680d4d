"""Bar charts drawn on the server as SVG, for the statistics pages of both sides.

Hand-written, as the charts are few and simple (grouped bars: a period and the same period a
year before), so no chart library is needed. The SVG is an image with a name (`role="img"`,
its `<title>`) described by the text summary shown above it (`aria-describedby`, so that a
screen reader reads the summary once), and every chart stands next to the table of its
figures. It carries no style attribute or script (the site's Content-Security-Policy):
the colours are classes (`s0`, `s1`, ...) that each page's stylesheet fills.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
HEIGHT = 260
LEFT = 64  # room for the y axis' labels
RIGHT = 8
TOP = 12
BOTTOM = 44  # room for the categories' labels
MAX_LABELS = 14  # more categories than this: every n-th is labelled


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int | Decimal]


def number_nl(value: int | Decimal, *, decimals: int = 0) -> str:
    """`1234567` → `1.234.567`; with decimals `1.234,50` (Dutch separators)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def nice_ceiling(value: float) -> tuple[float, float]:
    """A round top for the y axis at or above `value`, and the step of its 4-5 gridlines."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step * 4 >= value:
            break
    if step < 1:
        step = 1.0
    top = step * math.ceil(value / step)
    return top, step


def bar_chart(
    *,
    chart_id: str,
    title: str,
    summary_id: str,
    categories: Sequence[str],
    series: Sequence[Series],
    euro: bool = False,
    percent: bool = False,
) -> SafeString:
    """Grouped vertical bars: one group per category, one bar per series; the values are
    counts, or euros, or percentages."""

    def shown(value: float, *, axis: bool = False) -> str:
        if euro:
            return "€ " + number_nl(Decimal(str(value)), decimals=0 if axis else 2)
        if percent:
            return number_nl(Decimal(str(value)), decimals=0 if axis else 1) + "%"
        return number_nl(int(value))

    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    highest = max((float(v) for s in series for v in s.values), default=0.0)
    top, step = nice_ceiling(highest)
    parts: list[str] = [
        format_html(
            '<svg class="chart" role="img" viewBox="0 0 {} {}" aria-labelledby="{}-t" '
            'aria-describedby="{}" xmlns="http://www.w3.org/2000/svg" focusable="false">'
            '<title id="{}-t">{}</title>',
            WIDTH,
            HEIGHT,
            chart_id,
            summary_id,
            chart_id,
            title,
        )
    ]

    def y_of(value: float) -> float:
        return TOP + plot_h - (value / top) * plot_h

    tick = 0.0
    while tick <= top + 1e-9:
        y = y_of(tick)
        label = shown(tick, axis=True)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        tick += step
    count = max(len(categories), 1)
    group = plot_w / count
    bar = group * 0.8 / max(len(series), 1)
    every = math.ceil(count / MAX_LABELS)
    for i, category in enumerate(categories):
        x0 = LEFT + i * group + group * 0.1
        for j, one in enumerate(series):
            value = float(one.values[i]) if i < len(one.values) else 0.0
            y = y_of(max(value, 0.0))
            parts.append(
                format_html(
                    '<rect class="bar s{}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}, {}: {}</title></rect>",
                    j,
                    f"{x0 + j * bar:.1f}",
                    f"{y:.1f}",
                    f"{max(bar - 1, 1):.1f}",
                    f"{TOP + plot_h - y:.1f}",
                    category,
                    one.name,
                    shown(value),
                )
            )
        if i % every == 0:
            parts.append(
                format_html(
                    '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                    f"{LEFT + i * group + group / 2:.1f}",
                    HEIGHT - BOTTOM + 16,
                    category,
                )
            )
    parts.append(
        f'<line class="baseline" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
        f'y1="{TOP + plot_h}" y2="{TOP + plot_h}"/></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308  (every text above is escaped)
