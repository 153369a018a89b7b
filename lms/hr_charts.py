"""Server-rendered SVG charts for the HR dashboard, without JavaScript.

Each function returns markup for inline use in a template. Colours are SVG
presentation attributes, not ``style`` attributes, so the Content Security
Policy (``style-src 'self'``) does not block them. Every chart carries a
``<title>`` and a text label on each bar, and the page shows the same numbers
in a table, so nothing is conveyed by colour alone.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH = 640
BAR_AREA_HEIGHT = 180
LABEL_BAND = 22
TOP_PAD = 18
LEFT_PAD = 8

#: Fill colours of the stacked segments, from the badge colours in app.css.
SEGMENT_COLOURS = ("#2f855a", "#b7791f", "#c53030")


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: its legend label and its value."""

    label: str
    value: int


def _number(value) -> str:
    """Format a count or an amount of 学时 without a trailing ".0"."""
    amount = Decimal(str(value))
    if amount == amount.to_integral_value():
        return str(amount.quantize(Decimal(1)))
    return str(amount.normalize())


def bar_chart(title: str, labels: Sequence[str], values: Sequence) -> Markup:
    """Render one bar per label, scaled to the largest value, with its value on top."""
    count = max(len(values), 1)
    slot = (WIDTH - 2 * LEFT_PAD) / count
    bar_width = slot * 0.7
    peak = max((Decimal(str(v)) for v in values), default=Decimal(0))
    height = TOP_PAD + BAR_AREA_HEIGHT + LABEL_BAND
    parts = [_open_svg(title, height)]
    baseline = TOP_PAD + BAR_AREA_HEIGHT
    for index, (label, value) in enumerate(zip(labels, values)):
        amount = Decimal(str(value))
        bar_height = float(amount / peak) * BAR_AREA_HEIGHT if peak > 0 else 0.0
        bar_height = max(bar_height, 0.0)
        x = LEFT_PAD + index * slot + (slot - bar_width) / 2
        centre = x + bar_width / 2
        tip = _("%(label)s: %(value)s", label=escape(label), value=_number(amount))
        parts.append(
            f'<rect x="{x:.1f}" y="{baseline - bar_height:.1f}" '
            f'width="{bar_width:.1f}" height="{bar_height:.1f}" fill="#2b6cb0">'
            f"<title>{tip}</title></rect>"
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{baseline - bar_height - 4:.1f}" '
            f'text-anchor="middle" font-size="11">{_number(amount)}</text>'
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{baseline + 15:.1f}" '
            f'text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar_chart(
    title: str, rows: Sequence[tuple[str, Sequence[Segment]]]
) -> Markup:
    """Render one horizontal bar per row, split into its segments by share.

    Each bar fills the chart's width, so departments of different sizes
    compare by proportion. The segment counts are written inside the bar
    when they fit, and always in each segment's tooltip.
    """
    label_width = 150
    bar_span = WIDTH - label_width - 2 * LEFT_PAD
    row_height = 26
    legend_height = 24
    height = legend_height + row_height * max(len(rows), 1) + 4
    parts = [_open_svg(title, height)]
    parts.extend(_legend(rows))
    for index, (label, segments) in enumerate(rows):
        y = legend_height + index * row_height
        parts.append(
            f'<text x="{LEFT_PAD}" y="{y + 16}" font-size="12">{escape(label)}</text>'
        )
        total = sum(segment.value for segment in segments)
        x = float(LEFT_PAD + label_width)
        for colour, segment in zip(SEGMENT_COLOURS, segments):
            if total == 0 or segment.value == 0:
                continue
            width = bar_span * segment.value / total
            name = f"{escape(label)} · {escape(segment.label)}"
            tip = _("%(label)s: %(value)s", label=name, value=segment.value)
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="18" '
                f'fill="{colour}"><title>{tip}</title></rect>'
            )
            if width >= 18:
                parts.append(
                    f'<text x="{x + width / 2:.1f}" y="{y + 16}" text-anchor="middle" '
                    f'font-size="11" fill="#ffffff">{segment.value}</text>'
                )
            x += width
        if total == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{y + 16}" font-size="11" fill="#555555">0</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(rows: Sequence[tuple[str, Sequence[Segment]]]) -> list[str]:
    if not rows:
        return []
    parts = []
    x = LEFT_PAD
    for colour, segment in zip(SEGMENT_COLOURS, rows[0][1]):
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"></rect>'
            f'<text x="{x + 16}" y="14" font-size="12">{escape(segment.label)}</text>'
        )
        x += 16 + 14 * len(segment.label) + 24
    return parts


def _open_svg(title: str, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
