"""Exact score arithmetic: sheet totals, panel aggregation, divergence, display.

Totals are Decimals computed from stored level points and weights without
rounding. Aggregates are ``Fraction`` values, because a mean of three totals
need not end in a finite decimal. ``display`` is the only place that rounds.
"""

from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Optional, Union

from assessments.tasks_models import Aggregation

Number = Union[Decimal, Fraction, int]


def role_mean(totals: list[Decimal]) -> Decimal:
    """Combine the totals of a sheet's role rubrics (one or two) into its total."""
    if not totals:
        return Decimal(0)
    return sum(totals, Decimal(0)) / len(totals)


def aggregate(totals: Iterable[Decimal], method: Aggregation) -> Optional[Fraction]:
    """Return the panel score of ``totals`` by ``method``; None without totals.

    The trimmed mean drops one highest and one lowest total; with fewer than
    three totals nothing would remain, so it falls back to the plain mean.
    The median of an even count is the mean of the two middle totals.
    """
    values = sorted(Fraction(t) for t in totals)
    if not values:
        return None
    if method is Aggregation.TRIMMED_MEAN and len(values) >= 3:
        values = values[1:-1]
    if method is Aggregation.MEDIAN:
        middle = len(values) // 2
        if len(values) % 2:
            return values[middle]
        return (values[middle - 1] + values[middle]) / 2
    return sum(values, Fraction(0)) / len(values)


def is_divergent(totals: Iterable[Decimal], margin: Optional[Decimal]) -> bool:
    """Return whether the highest and lowest totals differ by more than ``margin``."""
    values = list(totals)
    if margin is None or len(values) < 2:
        return False
    return max(values) - min(values) > margin


def rounded(value: Number) -> Decimal:
    """Round an exact, non-negative score half up to two places."""
    scaled = Fraction(value) * 100
    whole, remainder = divmod(scaled.numerator, scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        whole += 1
    return Decimal(whole).scaleb(-2)


def display(value: Optional[Number]) -> str:
    """Format a score with at most two places and no trailing zeros (3.75, 3.8, 85)."""
    if value is None:
        return "—"
    text = format(rounded(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
