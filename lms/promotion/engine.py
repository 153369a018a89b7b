"""Promotion eligibility: a person's step on each track, and which conditions
of a rule they meet, each explained in words.

Positions come from the progression record. An entry that a later entry
corrects no longer counts. Dates are calendar dates in the institution's
zone (see ``lms.compliance.windows.local_today``).
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Hashable, Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.compliance.engine import Status, Verdict, evaluate_all
from lms.compliance.models import PersonProfile, WindowKind
from lms.compliance.windows import Today, add_months, local_today
from lms.extensions import db
from lms.labels import label
from lms.promotion.models import (
    GRADE_ORDER,
    PromotionRule,
    PromotionTrack,
    STEP_NAMES,
    TRACK_STEPS,
    step_label,
)
from lms.records.events import ASSESSMENT_GRADES
from lms.records.models import ProgressionEntry, ProgressionKind
from lms.stored_text import (
    StoredText,
    Text,
    in_each_language,
    reword_as_plural,
    split_text,
    stored_date,
    stored_gettext,
    stored_ngettext,
)

#: Progression kind and detail key that set each track's position.
TRACK_ENTRIES = {
    PromotionTrack.COMPETENCY_LEVEL: (ProgressionKind.COMPETENCY_LEVEL, "level"),
    PromotionTrack.PROFESSIONAL_TITLE: (ProgressionKind.TITLE_CHANGE, "title"),
    PromotionTrack.ADMINISTRATIVE_RANK: (ProgressionKind.RANK_CHANGE, "rank"),
}

#: Returns a user's certificates as plain dicts with the keys
#: programme_id, title, serial, issued_on, expires_on (dates or None) and
#: status ("valid", "expiring_soon", "expired", "revoked", "superseded").
CertificateSource = Callable[[int, date], list[dict]]

_certificate_source: Optional[CertificateSource] = None


def register_certificate_source(source: CertificateSource) -> None:
    """Set the function that loads certificates (the app factory sets it)."""
    global _certificate_source
    _certificate_source = source


def certificates_of(user: User, today: date) -> list[dict]:
    """Return the user's certificates from the registered source, or [] without one."""
    if _certificate_source is None:
        return []
    return _certificate_source(user.id, today)


#: Certificate statuses that satisfy a certificate requirement.
USABLE_CERTIFICATE_STATUSES = ("valid", "expiring_soon")


@dataclass(frozen=True)
class Position:
    """A person's step on one track and the day they reached it (None if unknown)."""

    track: PromotionTrack
    value: str
    since: Optional[date]

    @property
    def name(self) -> str:
        return STEP_NAMES[self.track].get(self.value, self.value)

    @property
    def label(self) -> str:
        """The step's name in the current language."""
        return step_label(self.track, self.value)


@dataclass(frozen=True)
class Condition:
    """One requirement of a rule, whether it is met and why, in words."""

    kind: str
    met: bool
    #: Why, as stored text that the evidence snapshot keeps (see lms.stored_text),
    #: or plain text shown as it is.
    text: Text
    #: Years condition: the first day it is met.
    eligible_from: Optional[date] = None
    #: ``text`` rendered in the language current when the condition was checked.
    message: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "message", split_text(self.text, None)[0])


@dataclass
class Eligibility:
    rule: PromotionRule
    position: Optional[Position]
    conditions: list[Condition] = field(default_factory=list)

    @property
    def applies(self) -> bool:
        """Whether the person holds the rule's starting step."""
        return self.position is not None and self.position.value == self.rule.from_value

    @property
    def eligible(self) -> bool:
        return self.applies and all(condition.met for condition in self.conditions)

    @property
    def unmet(self) -> list[Condition]:
        return [condition for condition in self.conditions if not condition.met]


def effective_entries(user: User, kinds) -> list[ProgressionEntry]:
    """Return the user's entries of ``kinds`` that no entry corrects, oldest first."""
    entries = list(
        db.session.scalars(
            sa.select(ProgressionEntry)
            .where(
                ProgressionEntry.user_id == user.id, ProgressionEntry.kind.in_(kinds)
            )
            .order_by(ProgressionEntry.occurred_on, ProgressionEntry.id)
        )
    )
    corrected = {entry.corrects_id for entry in entries if entry.corrects_id}
    return [entry for entry in entries if entry.id not in corrected]


def positions(user: User) -> dict[PromotionTrack, Position]:
    """Return the user's current step on every track that has one.

    ``since`` is the date of the entry that first set the current value after
    a different one. The administrative rank is the profile's cadre rank
    when the profile has one (see ``_profile_rank``).
    """
    kinds = [kind for kind, _key in TRACK_ENTRIES.values()]
    entries = effective_entries(user, kinds)
    found: dict[PromotionTrack, Position] = {}
    for track, (kind, key) in TRACK_ENTRIES.items():
        for entry in entries:
            value = (entry.detail or {}).get(key)
            if entry.kind is not kind or not value:
                continue
            current = found.get(track)
            if current is None or current.value != value:
                found[track] = Position(track, value, entry.occurred_on)
    rank = _profile_rank(user, found.get(PromotionTrack.ADMINISTRATIVE_RANK))
    if rank is not None:
        found[PromotionTrack.ADMINISTRATIVE_RANK] = rank
    return found


def _profile_rank(user: User, recorded: Optional[Position]) -> Optional[Position]:
    """Return the cadre rank on the profile, or the recorded rank without one.

    A rank change on the record also sets the profile, so the two differ
    only after HR changed the rank or its date on the profile form, which
    is then the later fact. The training rules read the profile too.
    """
    profile = db.session.get(PersonProfile, user.id)
    if profile is None or profile.cadre_rank is None:
        return recorded
    value = profile.cadre_rank.value
    since = profile.rank_since
    if since is None and recorded is not None and recorded.value == value:
        since = recorded.since
    return Position(PromotionTrack.ADMINISTRATIVE_RANK, value, since)


def assessment_grades(user: User) -> dict[int, str]:
    """Return the effective annual assessment grade per year."""
    grades: dict[int, str] = {}
    for entry in effective_entries(user, [ProgressionKind.ASSESSMENT_GRADE]):
        detail = entry.detail or {}
        if detail.get("year") and detail.get("grade") in ASSESSMENT_GRADES:
            grades[int(detail["year"])] = detail["grade"]
    return grades


# Conditions, one function per requirement of a rule

#: Condition messages that applications filed before the current wording
#: store in their snapshots, kept in the catalogue so that they still render
#: in the reader's language.
STORED_WORDING = (
    _l(
        "The date you became %(step)s is not on your record, so the years "
        "cannot be counted. Ask HR to record it."
    ),
    _l("Competency level %(level)s or higher is required; no level is on your record"),
    _l(
        "Competency level %(level)s or higher is required; your recorded level "
        "is %(current)s"
    ),
)


# Applications filed before these messages took plural forms stored them
# with gettext, and their snapshots render in the plural wording too.
reword_as_plural(
    "%(done)s years as %(step)s (%(required)s required)",
    "%(done)s year as %(step)s (%(required)s required)",
    "%(done)s years as %(step)s (%(required)s required)",
    "done",
)
reword_as_plural(
    "%(done)s of %(required)s required years as %(step)s; eligible from %(date)s",
    "%(done)s of %(required)s required year as %(step)s; eligible from %(date)s",
    "%(done)s of %(required)s required years as %(step)s; eligible from %(date)s",
    "required",
)
reword_as_plural(
    "%(count)s of %(required)s required %(grade)s grades in %(span)s",
    "%(count)s of %(required)s required %(grade)s grade in %(span)s",
    "%(count)s of %(required)s required %(grade)s grades in %(span)s",
    "required",
)


def years_condition(rule: PromotionRule, position: Position, today: date) -> Condition:
    if position.since is None:
        return Condition(
            "years",
            False,
            stored_gettext(
                "The record has no date for %(step)s, so the years in it cannot "
                "be counted. HR records the date on the person's record.",
                step=_label_of(position),
            ),
        )
    eligible_from = add_months(position.since, 12 * rule.min_years)
    completed = _whole_years(position.since, today)
    if today >= eligible_from:
        return Condition(
            "years",
            True,
            stored_ngettext(
                "%(done)s year as %(step)s (%(required)s required)",
                "%(done)s years as %(step)s (%(required)s required)",
                completed,
                done=completed,
                step=_label_of(position),
                required=rule.min_years,
            ),
            eligible_from,
        )
    return Condition(
        "years",
        False,
        stored_ngettext(
            "%(done)s of %(required)s required year as %(step)s; "
            "eligible from %(date)s",
            "%(done)s of %(required)s required years as %(step)s; "
            "eligible from %(date)s",
            rule.min_years,
            done=completed,
            required=rule.min_years,
            step=_label_of(position),
            date=stored_date(eligible_from),
        ),
        eligible_from,
    )


def _label_of(position: Position) -> StoredText:
    return in_each_language(lambda: position.label)


def _whole_years(since: date, today: date) -> int:
    years = today.year - since.year
    if add_months(since, 12 * years) > today:
        years -= 1
    return max(years, 0)


def checked_years(
    rule: PromotionRule, today: date, grades: Optional[dict[int, str]] = None
) -> list[int]:
    """Return the calendar years whose grades count, most recent first.

    They are the ``assessment_years`` years before the current one, because
    the current year's assessment is usually not finished. Once ``grades``
    holds a grade for the current year (a finalised yearly assessment, or
    one HR recorded), the years end with the current one instead.
    """
    count = rule.assessment_years or 0
    latest = today.year if grades and today.year in grades else today.year - 1
    return [latest - offset for offset in range(count)]


def grade_conditions(
    rule: PromotionRule, grades: dict[int, str], today: date
) -> list[Condition]:
    years = checked_years(rule, today, grades)
    span = f"{years[-1]}–{years[0]}" if len(years) > 1 else str(years[0])
    conditions = []
    if rule.min_grade is not None:
        conditions.append(_min_grade_condition(rule.min_grade, years, grades, span))
    if rule.min_excellent:
        excellent = sum(1 for year in years if grades.get(year) == "excellent")
        met = excellent >= rule.min_excellent
        conditions.append(
            Condition(
                "excellent",
                met,
                stored_ngettext(
                    "%(count)s of %(required)s required %(grade)s grade in %(span)s",
                    "%(count)s of %(required)s required %(grade)s grades in %(span)s",
                    rule.min_excellent,
                    count=excellent,
                    required=rule.min_excellent,
                    grade=in_each_language(lambda: label("excellent", "grade")),
                    span=span,
                ),
            )
        )
    return conditions


def _min_grade_condition(min_grade, years, grades, span) -> Condition:
    worst = GRADE_ORDER.index(min_grade)
    missing = [year for year in years if year not in grades]
    below = [
        year
        for year in years
        if year in grades and GRADE_ORDER.index(grades[year]) > worst
    ]
    threshold = in_each_language(lambda: label(min_grade, "grade"))
    if missing:
        message = stored_gettext(
            "No annual assessment grade on record for %(years)s; %(grade)s or better "
            "is required for every year of %(span)s",
            years=in_each_language(lambda: _year_list(missing)),
            grade=threshold,
            span=span,
        )
    elif below:
        message = stored_gettext(
            "%(years)s graded below %(grade)s; %(grade)s or better is required "
            "for every year of %(span)s",
            years=in_each_language(lambda: _low_grades(below, grades)),
            grade=threshold,
            span=span,
        )
    else:
        message = stored_gettext(
            "%(grade)s or better in every year of %(span)s",
            grade=threshold,
            span=span,
        )
    return Condition("grades", not missing and not below, message)


def _year_list(years: list[int]) -> str:
    """Return the years in order as a list in the current language."""
    return _(", ").join(str(year) for year in sorted(years))


def _low_grades(years: list[int], grades: dict[int, str]) -> str:
    """Return each year with its grade, in the current language."""
    return _(", ").join(
        _("%(year)s: %(grade)s", year=year, grade=label(grades[year], "grade"))
        for year in sorted(years)
    )


def compliance_condition(
    user: User,
    today: date,
    years: Optional[list[int]] = None,
    cache: Optional[dict] = None,
) -> Condition:
    """Check that no applicable training-hour rule is missed.

    Checked are every rule as of today, and every calendar-year rule for
    each of ``years``, whose deadline has passed. ``years`` defaults to the
    previous year. A shortfall in the current year whose deadline is still
    ahead does not block a promotion. The message names each rule with each
    year that fell short and its hours. ``cache`` keeps the verdicts of
    each year for the other rules of the same evaluation.
    """
    cache = {} if cache is None else cache
    failed: list[Verdict] = [
        verdict
        for verdict in _cached(cache, "verdicts", lambda: evaluate_all(user, today))
        if verdict.status is Status.MISSED
    ]
    for year in sorted(years or [today.year - 1]):
        verdicts = _cached(
            cache,
            ("verdicts", year),
            lambda year=year: evaluate_all(user, today, year=year),
        )
        failed += [
            verdict
            for verdict in verdicts
            if verdict.rule.window_kind is WindowKind.CALENDAR_YEAR
            and verdict.status is Status.MISSED
        ]
    if not failed:
        return Condition(
            "compliance",
            True,
            stored_gettext("No applicable training-hour rule is missed"),
        )
    # One entry per rule, listing its missed years in order.
    by_rule: dict[int, list[Verdict]] = {}
    for verdict in failed:
        by_rule.setdefault(verdict.rule.id, []).append(verdict)
    return Condition(
        "compliance",
        False,
        stored_gettext(
            "Training-hour rules missed: %(details)s",
            details=in_each_language(lambda: _missed_rules(by_rule)),
        ),
    )


def _missed_rules(by_rule: dict[int, list[Verdict]]) -> str:
    """Name each missed rule with its verdicts, in the current language."""
    return _("; ").join(
        _(
            "%(rule)s (%(verdicts)s)",
            rule=verdicts[0].rule.display_name,
            verdicts=_("; ").join(
                verdict.message.rstrip(".。") for verdict in verdicts
            ),
        )
        for verdicts in by_rule.values()
    )


def certificate_condition(
    programme_id: int, programme_title: str, certificates: list[dict]
) -> Condition:
    usable = [
        cert
        for cert in certificates
        if cert["programme_id"] == programme_id
        and cert["status"] in USABLE_CERTIFICATE_STATUSES
    ]
    if usable:
        return Condition(
            "certificate",
            True,
            stored_gettext(
                "Certificate %(serial)s of %(programme)s",
                serial=usable[0]["serial"],
                programme=programme_title,
            ),
        )
    return Condition(
        "certificate",
        False,
        stored_gettext(
            "A valid certificate of %(programme)s is required; none is on record",
            programme=programme_title,
        ),
    )


def level_condition(
    required: str, position: Optional[Position]
) -> Condition:
    steps = TRACK_STEPS[PromotionTrack.COMPETENCY_LEVEL]
    required_label = in_each_language(
        lambda: step_label(PromotionTrack.COMPETENCY_LEVEL, required)
    )
    if position is None:
        return Condition(
            "level",
            False,
            stored_gettext(
                "Competency level %(level)s or higher is required; no level is on "
                "the record",
                level=required_label,
            ),
        )
    met = steps.index(position.value) >= steps.index(required)
    if met:
        message = stored_gettext(
            "Competency level %(current)s (%(level)s or higher required)",
            current=_label_of(position),
            level=required_label,
        )
    else:
        message = stored_gettext(
            "Competency level %(level)s or higher is required; the recorded level "
            "is %(current)s",
            level=required_label,
            current=_label_of(position),
        )
    return Condition("level", met, message)


def evaluate(
    rule: PromotionRule,
    user: User,
    today: Today = None,
    *,
    found: Optional[dict[PromotionTrack, Position]] = None,
    programme_titles: Optional[dict[int, str]] = None,
    cache: Optional[dict] = None,
) -> Eligibility:
    """Check every condition of ``rule`` for ``user`` as of ``today``.

    Conditions are checked only when the user holds the rule's starting step.
    A caller that evaluates several rules of one user on one day passes
    ``found``, ``programme_titles`` and an empty ``cache`` dict, so that
    positions, grades, compliance and certificates are loaded once.
    """
    today = local_today(user.institution, today)
    found = positions(user) if found is None else found
    cache = {} if cache is None else cache
    result = Eligibility(rule=rule, position=found.get(rule.track))
    if not result.applies:
        return result
    if rule.min_years:
        result.conditions.append(years_condition(rule, result.position, today))
    if rule.assessment_years:
        grades = _cached(cache, "grades", lambda: assessment_grades(user))
        result.conditions += grade_conditions(rule, grades, today)
    if rule.compliance_required:
        # A rule with a grade window checks training hours over as many years
        # before the current one, because only their hours are final. A rule
        # without that window checks the last year.
        years = checked_years(rule, today) if rule.assessment_years else None
        result.conditions.append(
            _cached(
                cache,
                ("compliance", tuple(years or ())),
                lambda: compliance_condition(user, today, years, cache),
            )
        )
    if rule.required_programme_id is not None:
        programme_id = rule.required_programme_id
        title = (programme_titles or {}).get(programme_id, f"#{programme_id}")
        held = _cached(cache, "certificates", lambda: certificates_of(user, today))
        result.conditions.append(certificate_condition(programme_id, title, held))
    if rule.required_level is not None:
        result.conditions.append(
            level_condition(
                rule.required_level, found.get(PromotionTrack.COMPETENCY_LEVEL)
            )
        )
    return result


def _cached(cache: dict, key: Hashable, load):
    if key not in cache:
        cache[key] = load()
    return cache[key]


def rules_of(institution_id: int, *, active_only: bool = True) -> list[PromotionRule]:
    """Return an institution's promotion rules by track, starting step and code."""
    query = sa.select(PromotionRule).where(
        PromotionRule.institution_id == institution_id
    )
    if active_only:
        query = query.where(PromotionRule.active.is_(True))
    rules = list(db.session.scalars(query.order_by(PromotionRule.code)))
    return sorted(
        rules,
        key=lambda rule: (
            rule.track.value,
            TRACK_STEPS[rule.track].index(rule.from_value),
            rule.code,
        ),
    )


def evaluate_for(
    user: User, today: Today = None, programme_titles: Optional[dict[int, str]] = None
) -> list[Eligibility]:
    """Evaluate the institution's active rules that start at one of the user's steps."""
    today = local_today(user.institution, today)
    found = positions(user)
    cache: dict = {}
    results = [
        evaluate(
            rule,
            user,
            today,
            found=found,
            programme_titles=programme_titles,
            cache=cache,
        )
        for rule in rules_of(user.institution_id)
    ]
    return [result for result in results if result.applies]
