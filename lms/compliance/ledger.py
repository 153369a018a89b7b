"""Sums and counts over the hours ledger, computed in the database.

The ``*_filters`` functions build WHERE clauses on ``hours_entry``, and
``tally`` runs one SUM or COUNT with GROUP BY over the rows they select,
never loading the rows themselves.
"""

from datetime import date
from decimal import Decimal
from typing import NamedTuple, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.accounts.models import User
from lms.compliance.models import ComplianceRule
from lms.compliance.windows import Window
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records.models import (
    PROGRAMME_COMPLETION_SOURCE_TYPE,
    HoursEntry,
    TrainingKind,
    TrainingTier,
)


#: The enrolment table of the courses package, named here because the
#: ledger sits below that package and does not import it.
_enrolment = sa.table(
    "enrolment",
    sa.column("user_id"),
    sa.column("programme_id"),
    sa.column("completed_at"),
)
#: The class membership table of the courses package, named here for the same reason.
_class_member = sa.table(
    "class_member",
    sa.column("class_id"),
    sa.column("user_id"),
    sa.column("status"),
    sa.column("withdrawal_reason"),
)


def person_filters(rule: ComplianceRule, person_id: int, window: Window) -> list:
    """WHERE clauses for one person's entries in ``window``."""
    return [
        HoursEntry.user_id == person_id,
        *restriction_filters(rule),
        *window_filters(window),
    ]


def restriction_filters(rule: ComplianceRule) -> list:
    """WHERE clauses on HoursEntry for the rule's tiers, kinds and excluded kinds.

    An entry without a kind never matches ``kinds`` but is never excluded.
    """
    clauses = []
    if rule.tiers:
        clauses.append(HoursEntry.tier.in_([TrainingTier(v) for v in rule.tiers]))
    if rule.kinds:
        clauses.append(HoursEntry.kind.in_([TrainingKind(v) for v in rule.kinds]))
    if rule.excluded_kinds:
        excluded = [TrainingKind(v) for v in rule.excluded_kinds]
        clauses.append(
            sa.or_(HoursEntry.kind.is_(None), HoursEntry.kind.not_in(excluded))
        )
    return clauses


def window_filters(window: Window) -> list:
    """WHERE clauses on HoursEntry for a window shared by everyone evaluated.

    A calendar-year window matches the year that the ledger writer assigned
    to the entry. Other windows match the day the training happened.
    """
    if window.year is not None:
        return [HoursEntry.year == window.year]
    clauses = [HoursEntry.occurred_on <= window.end]
    if window.start is not None:
        clauses.append(HoursEntry.occurred_on >= window.start)
    return clauses


def per_person_filters(windows: dict[int, Window]) -> list:
    """WHERE clauses for windows counted from a date on each person's profile.

    Each row is compared with its own person's bounds through a CASE on
    ``user_id``. Rows of people not in ``windows`` get NULL bounds and drop out.
    """
    starts = {user_id: window.start for user_id, window in windows.items()}
    ends = {user_id: window.end for user_id, window in windows.items()}
    return [
        HoursEntry.user_id.in_(list(windows)),
        HoursEntry.occurred_on >= sa.case(starts, value=HoursEntry.user_id),
        HoursEntry.occurred_on <= sa.case(ends, value=HoursEntry.user_id),
    ]


def institution_filters(
    rule: ComplianceRule, institution: Institution, windows: dict[int, Window]
) -> list:
    """WHERE clauses for everyone covered in one institution.

    Calendar and rolling windows are the same for everyone, apart from the
    deadline, so one WHERE clause serves them all.
    """
    restrictions = restriction_filters(rule)
    if rule.counts_from_person_dates:
        return [*restrictions, *per_person_filters(windows)]
    window = next(iter(windows.values()))
    people = sa.select(User.id).where(User.institution_id == institution.id)
    return [HoursEntry.user_id.in_(people), *restrictions, *window_filters(window)]


def shared_horizon_start(windows: dict[int, Window]) -> Optional[date]:
    """Return the look-ahead window start, which is the same in every window."""
    return next(iter(windows.values())).horizon_start


class Tally(NamedTuple):
    """One person's sums: 学时 or trainings, and training days if the rule counts them."""

    achieved: Decimal
    #: The amount still counting at the rolling horizon.
    still: Decimal
    #: Training days, when the rule has a days minimum (``rule.counts_days``).
    days: Optional[Decimal] = None
    still_days: Optional[Decimal] = None


EMPTY_TALLY = Tally(Decimal(0), Decimal(0))


def _still_counting(value, horizon_start: Optional[date]):
    """Return ``value`` for rows on or after ``horizon_start``, else 0."""
    if horizon_start is None:
        return value
    return sa.case((HoursEntry.occurred_on >= horizon_start, value), else_=0)


def days_of_entry(rule: ComplianceRule) -> sa.ColumnElement:
    """Return an entry's training days: as recorded, else its 学时 per day of the rule."""
    per_day = sa.literal(Decimal(rule.hours_per_day), sa.Numeric(4, 1))
    return sa.func.coalesce(HoursEntry.days, HoursEntry.hours / per_day)


def _sum_hours_query(
    filters: list, horizon_start: Optional[date], rule: Optional[ComplianceRule] = None
) -> sa.Select:
    """SELECT user_id, hours, hours still counting at the horizon.

    A rule with a days minimum adds columns days and still_days.
    """
    columns = [
        HoursEntry.user_id.label("user_id"),
        sa.func.sum(HoursEntry.hours).label("achieved"),
        sa.func.sum(_still_counting(HoursEntry.hours, horizon_start)).label("still"),
    ]
    if rule is not None and rule.counts_days:
        days = days_of_entry(rule)
        columns += [
            sa.func.sum(days).label("days"),
            sa.func.sum(_still_counting(days, horizon_start)).label("still_days"),
        ]
    return sa.select(*columns).where(*filters).group_by(HoursEntry.user_id)


def _sum_hours(
    filters: list, horizon_start: Optional[date], rule: ComplianceRule
) -> dict[int, Tally]:
    """Return {user_id: Tally} of 学时, with days for a rule that counts them."""
    tallies = {}
    for row in db.session.execute(_sum_hours_query(filters, horizon_start, rule)):
        tally = Tally(_hours(row.achieved), _hours(row.still))
        if rule.counts_days:
            tally = tally._replace(
                days=_hours(row.days), still_days=_hours(row.still_days)
            )
        tallies[row.user_id] = tally
    return tallies


def _count_trainings_query(filters: list, horizon_start: Optional[date]) -> sa.Select:
    """SELECT user_id, trainings, trainings still counting at the horizon.

    A training is what the entry's (training_type, training_id) names, such
    as a programme whose courses each credited their own entry. Without it,
    a training is one ledger source (source_type, source_id), or a single
    entry without a source. Corrections are netted against the entry named
    in ``corrects_id``, and an entry whose net hours are not positive does
    not count. A programme counts only once the person's enrolment in it is
    completed, so one finished course of a provincial programme is not yet
    a provincial training; its hours still count toward hours rules.

    A programme whose courses credited their 学时 through another programme
    has a row of 0 学时 of its own (``PROGRAMME_COMPLETION_SOURCE_TYPE``),
    which counts while no correction names it. Withdrawing a revoked
    certificate's hours adds such a correction.
    """
    # NOTE: a correction is netted only against the entry it names directly,
    # and only when both fall inside the window.
    root_id = sa.func.coalesce(HoursEntry.corrects_id, HoursEntry.id)
    # Constants are rendered inline, not bound, so the database never has to
    # infer a parameter's type inside SUM or CASE.
    literal_one = sa.literal_column("1")
    is_completion_row = sa.case(
        (HoursEntry.source_type == PROGRAMME_COMPLETION_SOURCE_TYPE, literal_one),
        else_=sa.literal_column("0"),
    )
    # The group is the programme's row of 0 学时 alone, without a correction.
    uncorrected_completion = sa.and_(
        sa.func.count() == literal_one,
        sa.func.max(is_completion_row) == literal_one,
    )
    per_entry = (
        sa.select(HoursEntry.user_id.label("user_id"), root_id.label("root_id"))
        .where(*filters)
        .group_by(HoursEntry.user_id, root_id)
        .having(sa.or_(sa.func.sum(HoursEntry.hours) > 0, uncorrected_completion))
        .subquery()
    )

    root = so.aliased(HoursEntry)
    has_training = sa.and_(
        root.training_type.is_not(None), root.training_id.is_not(None)
    )
    has_source = sa.and_(root.source_type.is_not(None), root.source_id.is_not(None))
    per_training = (
        sa.select(
            per_entry.c.user_id,
            sa.func.max(root.occurred_on).label("last_on"),
        )
        .join(root, root.id == per_entry.c.root_id)
        .where(_training_finished(root))
        .group_by(
            per_entry.c.user_id,
            sa.case(
                (has_training, root.training_type),
                (has_source, root.source_type),
                else_=None,
            ),
            sa.case(
                (has_training, root.training_id),
                (has_source, root.source_id),
                else_=root.id,
            ),
        )
        .subquery()
    )

    still = literal_one
    if horizon_start is not None:
        still = sa.case(
            (per_training.c.last_on >= horizon_start, literal_one),
            else_=sa.literal_column("0"),
        )
    return sa.select(
        per_training.c.user_id.label("user_id"),
        sa.func.count().label("achieved"),
        sa.func.sum(still).label("still"),
    ).group_by(per_training.c.user_id)


def _training_finished(root) -> sa.ColumnElement[bool]:
    """Return the condition that the training of ledger row ``root`` is finished.

    A programme is finished once the person's enrolment in it is completed.
    Other trainings (a class of one course, an external training, a
    standalone course) are finished when they credit hours, except a class
    that withdrew the person for leave beyond its limit, which gives them
    no completion.
    """
    # A class that offers a programme carries ("programme", id) on its
    # session rows, so its attended sessions wait for the programme as well.
    completed = (
        sa.select(sa.literal_column("1"))
        .select_from(_enrolment)
        .where(
            _enrolment.c.user_id == root.user_id,
            _enrolment.c.programme_id == root.training_id,
            _enrolment.c.completed_at.is_not(None),
        )
        .exists()
    )
    withdrawn_for_leave = (
        sa.select(sa.literal_column("1"))
        .select_from(_class_member)
        .where(
            _class_member.c.class_id == root.training_id,
            _class_member.c.user_id == root.user_id,
            _class_member.c.status == "withdrawn",
            _class_member.c.withdrawal_reason == "leave_limit",
        )
        .exists()
    )
    return sa.or_(
        root.training_type.is_(None),
        sa.and_(root.training_type == "programme", completed),
        sa.and_(
            root.training_type != "programme",
            sa.not_(sa.and_(root.training_type == "training_class", withdrawn_for_leave)),
        ),
    )


def _count_trainings(filters: list, horizon_start: Optional[date]) -> dict[int, Tally]:
    """Return {user_id: Tally} of trainings."""
    return {
        user_id: Tally(Decimal(total), Decimal(later or 0))
        for user_id, total, later in db.session.execute(
            _count_trainings_query(filters, horizon_start)
        )
    }


def _hours(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.1"))


def tally_query(
    rule: ComplianceRule, filters: list, horizon_start: Optional[date]
) -> sa.Select:
    """The query behind ``tally``: columns user_id, achieved and still.

    A rule with a days minimum adds columns days and still_days.
    """
    if rule.counts_trainings:
        return _count_trainings_query(filters, horizon_start)
    return _sum_hours_query(filters, horizon_start, rule)


def tally(
    rule: ComplianceRule, filters: list, horizon_start: Optional[date]
) -> dict[int, Tally]:
    """Add up the rows ``filters`` select, in 学时 or in trainings as the rule requires.

    Returns {user_id: Tally}, where ``still`` is what still counts from
    ``horizon_start``. People without matching rows are left out.
    """
    if rule.counts_trainings:
        return _count_trainings(filters, horizon_start)
    return _sum_hours(filters, horizon_start, rule)


def exam_query(filters: list) -> sa.Select:
    """SELECT user_id, passed, failed: whether the rows include a passed or failed exam.

    ``passed`` and ``failed`` are 1 or 0. Rows without an exam result count
    as neither, and so do rows whose corrections took all their hours back,
    such as a withdrawn approval or the hours of a revoked certificate.
    """
    one = sa.literal_column("1")
    zero = sa.literal_column("0")
    correction = so.aliased(HoursEntry)
    taken_back = (
        sa.select(sa.func.sum(correction.hours))
        .where(correction.corrects_id == HoursEntry.id)
        .scalar_subquery()
    )
    # SUM over no corrections is NULL: such a row keeps its result.
    kept = sa.or_(taken_back.is_(None), HoursEntry.hours + taken_back > 0)
    passed = sa.case((sa.and_(HoursEntry.exam_passed.is_(True), kept), one), else_=zero)
    failed = sa.case((sa.and_(HoursEntry.exam_passed.is_(False), kept), one), else_=zero)
    return (
        sa.select(
            HoursEntry.user_id.label("user_id"),
            sa.func.max(passed).label("passed"),
            sa.func.max(failed).label("failed"),
        )
        .where(*filters)
        .group_by(HoursEntry.user_id)
    )


def exam_results(filters: list) -> dict[int, bool]:
    """Return {user_id: True if a passed exam is among the rows, else False if a failed one}.

    People whose rows record no exam result are left out.
    """
    results = {}
    for user_id, passed, failed in db.session.execute(exam_query(filters)):
        if passed:
            results[user_id] = True
        elif failed:
            results[user_id] = False
    return results
