"""Charts rendered on the server as inline SVG, without script or style attributes."""

import math
from decimal import Decimal
from typing import Sequence, Union

from flask_babel import gettext as _
from markupsafe import Markup, escape

Number = Union[int, float, Decimal]

#: Wide enough for a twelve-character Chinese label on either side at 11 px.
WIDTH = 600
HEIGHT = 360
CENTRE_X = WIDTH / 2
CENTRE_Y = HEIGHT / 2
RADIUS = 130
RINGS = 4


def _point(index: int, count: int, fraction: float) -> tuple[float, float]:
    # The first axis points up and the others follow clockwise.
    angle = -math.pi / 2 + 2 * math.pi * index / count
    return (
        round(CENTRE_X + RADIUS * fraction * math.cos(angle), 2),
        round(CENTRE_Y + RADIUS * fraction * math.sin(angle), 2),
    )


def _points(count: int, fractions: Sequence[float]) -> str:
    points = (_point(i, count, fraction) for i, fraction in enumerate(fractions))
    return " ".join(f"{x},{y}" for x, y in points)


def _anchor(x: float) -> str:
    if abs(x - CENTRE_X) < 1:
        return "middle"
    return "start" if x > CENTRE_X else "end"


def radar_svg(
    labels: Sequence[str], values: Sequence[Number], *, title: str = ""
) -> Markup:
    """Return an SVG radar chart of ``values`` (each 0 to 1) on axes ``labels``.

    Labels and the title are escaped. Values outside 0..1 are clamped. Each
    axis carries a ``<title>`` with its label and percentage, so screen
    readers and hover show the exact value.
    """
    if len(labels) != len(values):
        raise ValueError("radar_svg needs one value per label")
    count = len(labels)
    if count < 3:
        raise ValueError("radar_svg needs at least three axes")
    fractions = [min(max(float(v), 0.0), 1.0) for v in values]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="radar" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for ring in range(1, RINGS + 1):
        parts.append(
            f'<polygon points="{_points(count, [ring / RINGS] * count)}" '
            'fill="none" stroke="#c8ccd2" stroke-width="1"/>'
        )
    for index in range(count):
        x, y = _point(index, count, 1.0)
        parts.append(
            f'<line x1="{CENTRE_X}" y1="{CENTRE_Y}" x2="{x}" y2="{y}" '
            'stroke="#c8ccd2" stroke-width="1"/>'
        )
    parts.append(
        f'<polygon points="{_points(count, fractions)}" '
        'fill="#b3282d" fill-opacity="0.25" '
        'stroke="#b3282d" stroke-width="2"/>'
    )
    for index, (label, fraction) in enumerate(zip(labels, fractions)):
        x, y = _point(index, count, 1.1)
        percent = round(fraction * 100)
        dot_x, dot_y = _point(index, count, fraction)
        share = f"{percent}%"
        tip = _("%(label)s: %(value)s", label=escape(label), value=share)
        parts.append(
            f"<g><title>{tip}</title>"
            f'<circle cx="{dot_x}" cy="{dot_y}" r="3" fill="#b3282d"/>'
            f'<text x="{x}" y="{y}" font-size="11" text-anchor="{_anchor(x)}" '
            f'dominant-baseline="middle">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
