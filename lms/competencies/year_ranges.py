"""The check that the years of service of a framework's levels cover each year once.

A counselor's level is the first level, by position, whose years contain
their year of service, counted from 1 in the first year
(``courses.learning.person_level``). Two levels on one year make the level
depend on the order of the levels, and a year in no level leaves the
counselor without one. So every year from 1 on must fall in exactly one of
the levels that have years.

A level without a minimum is not given to anyone, so it takes no part,
but a maximum without a minimum is reported. A level whose maximum is below
its minimum is left to the check of the level itself.
"""

from dataclasses import dataclass
from typing import Iterable, Optional

from flask_babel import gettext as _


@dataclass(frozen=True)
class LevelYears:
    """The years of one level; ``key`` is whatever the caller uses to find the level."""

    key: object
    name: str
    min_years: Optional[int]
    max_years: Optional[int]

    @property
    def ranged(self) -> bool:
        if self.min_years is None:
            return False
        return self.max_years is None or self.max_years >= self.min_years


@dataclass(frozen=True)
class YearProblem:
    """Years in two levels or in none, reported on ``level``'s ``field``.

    ``other`` is the level on the other side of an overlap or a gap, if any.
    """

    kind: str
    level: LevelYears
    field: str
    message: str
    other: Optional[LevelYears] = None


def year_problems(levels: Iterable[LevelYears]) -> list[YearProblem]:
    """Return the overlaps and gaps in the years of ``levels``, lowest years first."""
    levels = list(levels)
    problems = [_maximum_only(level) for level in levels if _has_maximum_only(level)]
    ranged = sorted(
        (level for level in levels if level.ranged),
        key=lambda level: (level.min_years, _end(level)),
    )
    if not ranged:
        return problems
    if ranged[0].min_years > 1:
        problems.append(_gap_at_start(ranged[0]))
    for index, upper in enumerate(ranged):
        for lower in ranged[:index]:
            if _end(lower) >= upper.min_years:
                problems.append(_overlap(lower, upper))
    problems += _gaps(ranged)
    return problems


def _end(level: LevelYears) -> float:
    return float("inf") if level.max_years is None else level.max_years


def _has_maximum_only(level: LevelYears) -> bool:
    return level.min_years is None and level.max_years is not None


def _gaps(ranged: list[LevelYears]) -> list[YearProblem]:
    """Return the gaps between levels sorted by their first year, and after the last."""
    problems = []
    covering = ranged[0]
    for upper in ranged[1:]:
        if upper.min_years > _end(covering) + 1:
            problems.append(_gap_between(covering, upper))
        if _end(upper) > _end(covering):
            covering = upper
    if covering.max_years is not None:
        problems.append(_gap_at_end(covering))
    return problems


def join_sentences(sentences: Iterable[str]) -> str:
    """Join sentences as the reader's language does: with a space in English, none in Chinese."""
    joined = ""
    for sentence in sentences:
        if joined:
            joined = _("%(first)s %(second)s", first=joined, second=sentence)
        else:
            joined = sentence
    return joined


def years_text(first: int, last: Optional[int]) -> str:
    """Return "year 3", "years 3–5" or "years 9 and later"."""
    if last is None:
        return _("years %(first)d and later", first=first)
    if first == last:
        return _("year %(year)d", year=first)
    return _("years %(first)d–%(last)d", first=first, last=last)


def level_text(level: LevelYears) -> str:
    """Return the level's name with its years, e.g. "中级 (years 4–8)"."""
    return _(
        "%(name)s (%(years)s)",
        name=level.name,
        years=years_text(level.min_years, level.max_years),
    )


def _overlap(lower: LevelYears, upper: LevelYears) -> YearProblem:
    last = min(_end(lower), _end(upper))
    shared = years_text(upper.min_years, None if last == float("inf") else int(last))
    message = _(
        "Counselors in %(years)s of service would have two levels, %(lower)s and "
        "%(upper)s.",
        years=shared,
        lower=level_text(lower),
        upper=level_text(upper),
    )
    message = join_sentences([message, _overlap_fix(lower, upper)])
    return YearProblem("overlap", upper, "min_years", message, lower)


def _overlap_fix(lower: LevelYears, upper: LevelYears) -> str:
    """Return how to end the overlap: start ``upper`` later or end ``lower`` sooner."""
    start = None if lower.max_years is None else lower.max_years + 1
    if start is not None and start > _end(upper):
        start = None
    end = upper.min_years - 1 if upper.min_years - 1 >= lower.min_years else None
    if start is not None and end is not None:
        return _(
            "Start %(upper)s at year %(start)d, or end %(lower)s at year %(end)d.",
            upper=upper.name,
            start=start,
            lower=lower.name,
            end=end,
        )
    if end is not None:
        return _("End %(level)s at year %(end)d.", level=lower.name, end=end)
    if start is not None:
        return _("Start %(level)s at year %(start)d.", level=upper.name, start=start)
    return _(
        "Change the years of %(upper)s or %(lower)s so that they do not share a year.",
        upper=upper.name,
        lower=lower.name,
    )


def _gap_between(lower: LevelYears, upper: LevelYears) -> YearProblem:
    first, last = lower.max_years + 1, upper.min_years - 1
    message = _(
        "Counselors in %(years)s of service would have no level. Start %(upper)s at "
        "year %(start)d, or end %(lower)s at year %(end)d.",
        years=years_text(first, last),
        upper=upper.name,
        start=first,
        lower=lower.name,
        end=last,
    )
    return YearProblem("gap", upper, "min_years", message, lower)


def _gap_at_start(lowest: LevelYears) -> YearProblem:
    message = _(
        "Counselors in %(years)s of service would have no level. Start %(level)s at "
        "year 1.",
        years=years_text(1, lowest.min_years - 1),
        level=lowest.name,
    )
    return YearProblem("gap", lowest, "min_years", message)


def _gap_at_end(highest: LevelYears) -> YearProblem:
    first = highest.max_years + 1
    message = _(
        "Counselors in %(years)s of service would have no level. Leave the maximum "
        "years of %(level)s empty, or add a level from year %(first)d.",
        years=years_text(first, None),
        level=highest.name,
        first=first,
    )
    return YearProblem("gap", highest, "max_years", message)


def _maximum_only(level: LevelYears) -> YearProblem:
    message = _(
        "%(level)s has a maximum of %(max)d years of service but no minimum, so no "
        "counselor would have it. Enter the minimum years, or clear the maximum.",
        level=level.name,
        max=level.max_years,
    )
    return YearProblem("maximum_only", level, "min_years", message)
