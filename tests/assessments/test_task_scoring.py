"""Exact aggregation of panel scores, the divergence flag and rounding for display."""

from decimal import Decimal
from fractions import Fraction

import pytest

from assessments import scoring
from assessments.tasks_models import Aggregation

D = Decimal


@pytest.mark.parametrize(
    ("totals", "method", "expected"),
    [
        ([D(80), D(90), D(85)], Aggregation.MEAN, Fraction(85)),
        ([D(80), D(90), D(90)], Aggregation.MEAN, Fraction(260, 3)),
        ([D(60), D(80), D(90), D(100)], Aggregation.TRIMMED_MEAN, Fraction(85)),
        (
            [D(60), D(80), D(81), D(90), D(100)],
            Aggregation.TRIMMED_MEAN,
            Fraction(251, 3),
        ),
        ([D(70), D(90)], Aggregation.TRIMMED_MEAN, Fraction(80)),
        ([D(90), D(60), D(80)], Aggregation.MEDIAN, Fraction(80)),
        ([D(60), D(80), D(85), D(100)], Aggregation.MEDIAN, Fraction(165, 2)),
        ([D("3.75"), D("3.5")], Aggregation.MEDIAN, Fraction(29, 8)),
        ([D("3.75")], Aggregation.TRIMMED_MEAN, Fraction(15, 4)),
    ],
)
def test_aggregate_exact(totals, method, expected):
    assert scoring.aggregate(totals, method) == expected


def test_aggregate_of_nothing_is_none():
    assert scoring.aggregate([], Aggregation.MEAN) is None


def test_trimmed_mean_drops_one_highest_and_one_lowest_only():
    # Two equal lowest: only one of them is dropped.
    totals = [D(50), D(50), D(80), D(100)]
    assert scoring.aggregate(totals, Aggregation.TRIMMED_MEAN) == Fraction(65)


def test_divergence_flag_uses_strictly_more_than_margin():
    assert scoring.is_divergent([D(80), D(90)], D(10)) is False
    assert scoring.is_divergent([D(80), D("90.5")], D(10)) is True
    assert scoring.is_divergent([D(80), D(99)], None) is False
    assert scoring.is_divergent([D(80)], D(0)) is False


def test_display_rounds_once_and_keeps_two_places():
    assert scoring.display(D("3.75")) == "3.75"
    assert scoring.display(Fraction(15, 4)) == "3.75"
    assert scoring.display(Fraction(260, 3)) == "86.67"
    assert scoring.display(D("85.0000")) == "85"
    assert scoring.display(D("3.80")) == "3.8"
    assert scoring.display(None) == "—"


def test_rounding_is_half_up_on_the_exact_value():
    assert scoring.rounded(Fraction(1, 200)) == D("0.01")
    assert scoring.rounded(Fraction(2444999, 1000000)) == D("2.44")
    assert scoring.rounded(D("2.445")) == D("2.45")


def test_role_mean_of_two_rubrics():
    assert scoring.role_mean([D(85), D("90.5")]) == D("87.75")
