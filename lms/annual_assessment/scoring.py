"""The arithmetic of the yearly assessment: weights, totals, grade bands, samples.

Everything here is plain Decimal arithmetic on values passed in, so the
rules can be tested without a database. Totals are rounded half-up to one
decimal place (92.45 becomes 92.5), as score sheets are read by people.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Optional, Sequence

from flask_babel import gettext as _
from flask_babel import ngettext

from lms.annual_assessment.labels import DUTY_LABELS  # noqa: F401  (registers the tables)
from lms.annual_assessment.models import ComponentKind
from lms.labels import label
from lms.records.events import ASSESSMENT_GRADES

ONE_PLACE = Decimal("0.1")
HUNDRED = Decimal(100)

#: Record grades from best to worst, the order bands must follow.
GRADE_ORDER = tuple(ASSESSMENT_GRADES)

#: Band names that name a record grade, lower-case and without
#: spaces: the stored Chinese grades, the civil-service wording 称职 (competent),
#: and the English labels. Other names, such as 良好, may record any grade.
NAMED_GRADES = {
    **{name: grade for grade, name in ASSESSMENT_GRADES.items()},
    "优": "excellent",
    "称职": "competent",
    "基本称职": "basically_competent",
    "不称职": "incompetent",
    "excellent": "excellent",
    "competent": "competent",
    "basicallycompetent": "basically_competent",
    "incompetent": "incompetent",
}


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    kind: ComponentKind
    weight: Decimal
    bonus_cap: Optional[Decimal] = None


@dataclass(frozen=True)
class BandSpec:
    name: str
    min_score: Decimal
    grade: str


@dataclass(frozen=True)
class DimensionSpec:
    """A dimension of the student evaluation with its whole-number score range."""

    name: str
    min_score: int
    max_score: int


@dataclass(frozen=True)
class Problem:
    """An invalid value: ``field`` names the form field, ``message`` the fix."""

    field: str
    message: str


class SampleTooSmall(ValueError):
    """A student evaluation drew fewer students than the scheme's minimum share."""

    def __init__(self, sample: int, students: int, needed: int, share: Decimal):
        super().__init__(f"sample {sample} of {students} students, {needed} needed")
        self.sample = sample
        self.students = students
        self.needed = needed
        self.share = share


def round_half_up(value: Decimal) -> Decimal:
    """Round to one decimal place, halves away from zero (92.45 -> 92.5).

    A negative zero ("-0", "-0.04") becomes 0.0, so it is never shown as -0.0.
    """
    rounded = Decimal(value).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def has_one_place(value: Decimal) -> bool:
    """Return whether ``value`` has at most one decimal place, as stored.

    Weights, bonus caps and band bounds are stored with one decimal place,
    so 33.33 would be read back as 33.3 and change totals without a word.
    """
    return Decimal(value) == round_half_up(value)


def plain_number(value: Decimal) -> str:
    """Format a number without exponent or trailing zeros: 100.0 -> "100", 92.50 -> "92.5"."""
    return f"{Decimal(value).normalize():f}"


def percent(share: Decimal) -> str:
    """Format a fraction such as 0.300 as "30" or 0.125 as "12.5"."""
    return plain_number(Decimal(share) * HUNDRED)


def check_components(components: Sequence[ComponentSpec]) -> list[Problem]:
    """Return what is wrong with a scheme's components; empty when valid.

    The weights of the scored components must add up to exactly 100. A scheme
    has at most one student evaluation and at most one bonus, because the
    score import has one set of columns for each.
    """
    problems = []
    if not components:
        return [Problem("components", _("Add at least one component."))]
    names = [component.name for component in components]
    for name in sorted({name for name in names if names.count(name) > 1}):
        problems.append(
            Problem(
                "components",
                _("Component names: “%(name)s” is used twice; give each component its own name.", name=name),
            )
        )
    for kind in (ComponentKind.STUDENTS, ComponentKind.BONUS):
        if sum(1 for component in components if component.kind is kind) > 1:
            problems.append(
                Problem(
                    "components",
                    _("Scored by: a scheme may have only one %(kind)s component.", kind=kind_label(kind)),
                )
            )
    for component in components:
        if component.kind is ComponentKind.BONUS:
            cap = component.bonus_cap
            if cap is None or not Decimal(0) < cap <= HUNDRED:
                problems.append(
                    Problem(
                        "components",
                        _("Bonus cap of “%(name)s”: enter the most points the bonus adds, from 0.1 to 100.", name=component.name),
                    )
                )
            elif not has_one_place(cap):
                problems.append(
                    Problem(
                        "components",
                        _("Bonus cap of “%(name)s”: enter at most one decimal place, such as 7.5.", name=component.name),
                    )
                )
        elif not Decimal(0) < component.weight <= HUNDRED:
            problems.append(
                Problem(
                    "components",
                    _("Weight of “%(name)s”: enter a weight from 0.1 to 100.", name=component.name),
                )
            )
        elif not has_one_place(component.weight):
            problems.append(
                Problem(
                    "components",
                    _("Weight of “%(name)s”: enter at most one decimal place, such as 33.3.", name=component.name),
                )
            )
    weights = sum(
        (c.weight for c in components if c.kind is not ComponentKind.BONUS), Decimal(0)
    )
    # A weight out of range already has its message, and a sum such as 1e308
    # would print hundreds of digits.
    in_range = all(
        Decimal(0) < c.weight <= HUNDRED
        for c in components
        if c.kind is not ComponentKind.BONUS
    )
    if weights != HUNDRED and in_range:
        problems.append(
            Problem(
                "components",
                _(
                    "Weights: the weights of the scored components add up to %(sum)s; "
                    "change them so that they add up to 100.",
                    sum=plain_number(weights),
                ),
            )
        )
    return problems


def check_bands(bands: Sequence[BandSpec]) -> list[Problem]:
    """Return what is wrong with a scheme's grade bands; empty when valid.

    Each band runs from its lower bound up to the next band's bound, so
    bands cover 0 to 100 without gaps exactly when the lowest bound is 0 and
    no two bounds are equal. A band with a higher bound must not map to a
    worse record grade than a band below it.
    """
    if not bands:
        return [Problem("bands", _("Grade bands: add at least one band, starting at 0."))]
    problems = []
    bounds = [band.min_score for band in bands]
    for bound in sorted({b for b in bounds if bounds.count(b) > 1}):
        problems.append(
            Problem(
                "bands",
                _("Lower bounds: %(bound)s is used twice; each band needs its own lower bound.", bound=plain_number(bound)),
            )
        )
    for band in bands:
        if not Decimal(0) <= band.min_score <= HUNDRED:
            problems.append(
                Problem(
                    "bands",
                    _("Lower bound of “%(name)s”: enter a bound from 0 to 100.", name=band.name),
                )
            )
        elif not has_one_place(band.min_score):
            problems.append(
                Problem(
                    "bands",
                    _("Lower bound of “%(name)s”: enter at most one decimal place, such as 89.5.", name=band.name),
                )
            )
        named = NAMED_GRADES.get("".join(band.name.split()).casefold())
        if band.grade not in GRADE_ORDER:
            problems.append(
                Problem(
                    "bands",
                    _("Record grade of “%(name)s”: choose one of the listed grades.", name=band.name),
                )
            )
        elif named is not None and band.grade != named:
            problems.append(
                Problem(
                    "bands",
                    _(
                        "Record grade of “%(name)s”: the band's name says %(named)s, but it "
                        "records %(grade)s. Choose %(named)s, or rename the band.",
                        name=band.name,
                        named=label(named, "grade"),
                        grade=label(band.grade, "grade"),
                    ),
                )
            )
    if min(bounds) != 0:
        problems.append(
            Problem(
                "bands",
                _(
                    "Lower bounds: the lowest band starts at %(bound)s, so totals below it "
                    "have no grade; set the lowest band's lower bound to 0.",
                    bound=plain_number(min(bounds)),
                ),
            )
        )
    names = [band.name for band in bands]
    for name in sorted({name for name in names if names.count(name) > 1}):
        problems.append(
            Problem(
                "bands",
                _("Band names: “%(name)s” is used twice; give each band its own name.", name=name),
            )
        )
    if not problems:
        ordered = sorted(bands, key=lambda band: band.min_score)
        for lower, higher in zip(ordered, ordered[1:]):
            if GRADE_ORDER.index(higher.grade) > GRADE_ORDER.index(lower.grade):
                problems.append(
                    Problem(
                        "bands",
                        _(
                            "Record grades: “%(higher)s” starts higher than “%(lower)s” "
                            "but records a worse grade; swap their record grades.",
                            higher=higher.name,
                            lower=lower.name,
                        ),
                    )
                )
    return problems


def weighted_total(
    components: Iterable[ComponentSpec], scores: dict[str, Decimal]
) -> Decimal:
    """Return the rounded total of ``scores``, keyed by component name.

    A scored component adds score × weight / 100; a bonus adds its points,
    cut to its cap. Rounding happens once, on the sum.
    """
    total = Decimal(0)
    for component in components:
        score = Decimal(scores[component.name])
        if component.kind is ComponentKind.BONUS:
            total += min(score, component.bonus_cap)
        else:
            total += score * component.weight / HUNDRED
    return round_half_up(total)


def band_for(bands: Iterable[BandSpec], total: Decimal) -> BandSpec:
    """Return the band with the highest lower bound not above ``total``.

    A total above 100, which a bonus can give, falls in the top band.
    """
    fitting = [band for band in bands if band.min_score <= total]
    if not fitting:
        raise ValueError(f"no band covers {total}")
    return max(fitting, key=lambda band: band.min_score)


def min_sample(student_count: int, share: Decimal) -> int:
    """Return how many of ``student_count`` students the evaluation must draw.

    The share is rounded up to a whole student (30 % of 41 is 12.3, so 13)
    and at least one student takes part.
    """
    return max(1, math.ceil(Decimal(student_count) * Decimal(share)))


def check_sample(sample_size: int, student_count: int, share: Decimal) -> None:
    """Raise SampleTooSmall unless the sample meets the scheme's minimum share."""
    needed = min_sample(student_count, share)
    if sample_size < needed:
        raise SampleTooSmall(sample_size, student_count, needed, share)


def sample_message(error: SampleTooSmall) -> str:
    # Each count picks its own plural form, so each has a sentence of its own.
    shortfall = ngettext(
        "Sampled students: %(sample)s of %(num)s student is below the minimum "
        "share of %(share)s%%.",
        "Sampled students: %(sample)s of %(num)s students is below the minimum "
        "share of %(share)s%%.",
        error.students,
        sample=error.sample,
        share=percent(error.share),
    )
    needed = ngettext(
        "At least %(num)s student must take part.",
        "At least %(num)s students must take part.",
        error.needed,
    )
    return _("%(shortfall)s %(needed)s", shortfall=shortfall, needed=needed)


def kind_label(kind: ComponentKind) -> str:
    return label(kind)


#: Maximum number of dimensions in a scheme's student evaluation.
MAX_DIMENSIONS = 12

#: Minimum number of responses before HR can read the aggregates and before
#: their mean can become the student evaluation score. Fewer would come
#: close to showing one student's answers.
MIN_REPORTED_RESPONSES = 3


def check_dimensions(dimensions: Sequence[DimensionSpec]) -> list[Problem]:
    """Return what is wrong with a scheme's evaluation dimensions; empty when valid."""
    if not dimensions:
        return [Problem("dimensions", _("Evaluation dimensions: add at least one dimension, such as 德."))]
    problems = []
    if len(dimensions) > MAX_DIMENSIONS:
        problems.append(
            Problem(
                "dimensions",
                _("Evaluation dimensions: use at most %(max)s dimensions.", max=MAX_DIMENSIONS),
            )
        )
    names = [dimension.name for dimension in dimensions]
    for name in sorted({name for name in names if names.count(name) > 1}):
        problems.append(
            Problem(
                "dimensions",
                _("Dimension names: “%(name)s” is used twice; give each dimension its own name.", name=name),
            )
        )
    for dimension in dimensions:
        if not 0 <= dimension.min_score < dimension.max_score <= 100:
            problems.append(
                Problem(
                    "dimensions",
                    _(
                        "Score range of “%(name)s”: enter whole numbers from 0 to 100, "
                        "the lowest score below the highest, such as 1 to 5.",
                        name=dimension.name,
                    ),
                )
            )
    return problems


def scale_to_hundred(mean: Decimal, dimension: DimensionSpec) -> Decimal:
    """Return a dimension's mean score scaled to 0-100, unrounded (3 of 1-5 is 50)."""
    span = Decimal(dimension.max_score - dimension.min_score)
    return (Decimal(mean) - dimension.min_score) * HUNDRED / span


def dimension_mean(total: int, responses: int) -> Decimal:
    """Return the mean of ``responses`` scores adding up to ``total``, unrounded."""
    return Decimal(total) / Decimal(responses)


def evaluation_score(
    totals: Sequence[tuple[DimensionSpec, int]], responses: int
) -> Decimal:
    """Return the evaluation's score from 0 to 100, rounded half-up to one place.

    ``totals`` pairs each dimension with the sum of its scores over all
    ``responses``. Every dimension counts equally: the score is the mean of
    the dimensions' means, each scaled to 0-100 first.
    """
    if responses < 1 or not totals:
        raise ValueError("an evaluation score needs responses and dimensions")
    scaled = [
        scale_to_hundred(dimension_mean(total, responses), dimension)
        for dimension, total in totals
    ]
    return round_half_up(sum(scaled, Decimal(0)) / len(scaled))
