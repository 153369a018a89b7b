"""Verdicts in words, and display labels for the compliance enums.

Every sentence is a translatable template with named placeholders and an
English msgid. Lists use Babel's locale-aware "or" lists (English
"a, b, or c").
"""

from datetime import date
from decimal import ROUND_DOWN, Decimal

from babel.lists import format_list
from flask import has_request_context
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from lms.compliance.engine import (
    PARTY_WINDOW_SHOWN_MONTHS,
    POST_WINDOW_SHOWN_MONTHS,
    Measure,
    Status,
    Uncovered,
    Verdict,
)
from lms.compliance.models import ComplianceRule, WindowKind
from lms.i18n import format_date, plural_count
from lms.labels import POST, ROLE, TRAINING_KIND

STATUS = {
    "met": _l("Met"),
    "in_progress": _l("In progress"),
    "at_risk": _l("At risk"),
    "missed": _l("Missed"),
    "start_date_missing": _l("Start date missing"),
    "not_applicable": _l("Not applicable"),
}

WINDOW_KIND = {
    "calendar_year": _l("Per calendar year"),
    "rolling_years": _l("Rolling years"),
    "before_post": _l("Before taking up the post"),
    "around_post_start": _l("Before and in the first months after taking up the post"),
    "probation": _l("During the probation as a Party member"),
    "first_member_year": _l("In the first year as a full Party member"),
    "rolling_years_after_rank": _l("Rolling years, or within months of reaching the rank"),
}

PARTY_STATUS = {
    "none": _l("Not a Party member"),
    "probationary": _l("Probationary Party member"),
    "member": _l("Party member"),
}

CADRE_RANK = {
    "clerk": _l("Clerk"),
    "section_deputy": _l("Deputy section level"),
    "section_chief": _l("Section level"),
    "division_deputy": _l("Deputy division level"),
    "division_chief": _l("Division level"),
    "bureau_deputy": _l("Deputy bureau level"),
    "bureau_chief": _l("Bureau level"),
}

#: Tiers as adjectives in front of "hours" or "trainings".
_TIER_ADJECTIVE = {
    "school": _l("school-level"),
    "provincial": _l("provincial"),
    "national": _l("national"),
}


def explain(verdict: Verdict) -> str:
    """Describe ``verdict`` in the current locale.

    That is the locale of a surrounding ``force_locale``, else the request's,
    else the default one (see ``lms.i18n.select_locale``).
    """
    if verdict.reason is not None:
        return _uncovered(verdict)
    sentences = [_progress(verdict), *_rule_notes(verdict)]
    exam = _exam_note(verdict)
    if exam:
        sentences.append(exam)
    return _join(sentences)


def _rule_notes(verdict: Verdict) -> list[str]:
    """Sentences about what the rule accepts beyond the numbers in the verdict."""
    rule = verdict.rule
    if not rule.counts_days:
        return []
    notes = [
        _(
            "Either %(hours)s hours or %(days)s days of training meet this rule."
            " Hours recorded without days count one day for every %(per_day)s"
            " hours.",
            hours=_number(rule.min_hours),
            days=_number(rule.min_days),
            per_day=_number(rule.hours_per_day),
        )
    ]
    if verdict.achieved_days is not None:
        notes.append(
            _(
                "Training days: %(achieved)s of %(required)s.",
                achieved=_number(verdict.achieved_days),
                required=_number(rule.min_days),
            )
        )
        closest = _closest_note(verdict)
        if closest:
            notes.append(closest)
    return notes


def _closest_note(verdict: Verdict) -> str:
    """Return which measure reaches the minimum, or which one is closer to it.

    Empty when nothing counts yet, because neither measure is closer then.
    """
    if verdict.hours_reached and verdict.days_reached:
        return _("Both the hours and the training days reach the minimum.")
    if verdict.hours_reached:
        return _("The hours reach the minimum.")
    if verdict.days_reached:
        return _("The training days reach the minimum.")
    hours, days = verdict.share(Measure.HOURS), verdict.share(Measure.DAYS)
    if not hours and not days:
        return ""
    if verdict.closest_measure is Measure.DAYS:
        return _(
            "The training days are closer to the minimum: %(days)s of it,"
            " against %(hours)s for the hours.",
            days=_percent(days),
            hours=_percent(hours),
        )
    return _(
        "The hours are closer to the minimum: %(hours)s of it, against"
        " %(days)s for the training days.",
        hours=_percent(hours),
        days=_percent(days),
    )


MEASURE = {
    "hours": _l("Hours"),
    "days": _l("Training days"),
}


def closest_label(verdict: Verdict) -> str:
    """Return the measure nearest its minimum with its share, e.g. "Hours (54%)".

    Empty for a rule without a days minimum or a verdict without numbers.
    """
    measure = verdict.closest_measure
    if measure is None or not verdict.applies:
        return ""
    return _(
        "%(measure)s (%(percent)s)",
        measure=MEASURE[measure.value],
        percent=_percent(verdict.share(measure)),
    )


def _percent(share: Decimal) -> str:
    """Format a share as a whole percentage, rounded down so 99.6 % is not 100 %."""
    return format_percent(share.quantize(Decimal("0.01"), rounding=ROUND_DOWN))


def _exam_note(verdict: Verdict) -> str:
    """Return the sentence on the exam of a rule that requires a passed one, else ""."""
    if not verdict.rule.exam_required:
        return ""
    if verdict.status is Status.START_DATE_MISSING:
        return _("The rule also requires a passed pre-job exam.")
    if verdict.exam is True:
        return _("The pre-job exam is passed.")
    if verdict.exam is False:
        return _(
            "The pre-job exam is recorded as failed, and the rule requires a passed one."
        )
    return _("No pre-job exam result is recorded, and the rule requires a passed exam.")


def _exam_outstanding(verdict: Verdict) -> str:
    """Describe a verdict whose minimum is reached but whose exam is not passed."""
    values = _numbers(verdict)
    if verdict.status is Status.MISSED:
        return _(
            "%(achieved)s of %(required)s %(what)s, but no passed pre-job exam was "
            "recorded by %(deadline)s; requirement missed.",
            deadline=_date(verdict.deadline),
            **values,
        )
    if verdict.deadline is None:
        return _(
            "%(achieved)s of %(required)s %(what)s; a passed pre-job exam is "
            "still required.",
            **values,
        )
    return _(
        "%(achieved)s of %(required)s %(what)s; a passed pre-job exam is still "
        "required by %(deadline)s.",
        deadline=_date(verdict.deadline),
        **values,
    )


def _progress(verdict: Verdict) -> str:
    if verdict.status is Status.START_DATE_MISSING:
        return _start_date_missing(verdict)
    if (
        verdict.rule.exam_required
        and verdict.status is not Status.MET
        and verdict.achieved >= verdict.required
    ):
        return _exam_outstanding(verdict)
    kind = verdict.rule.window_kind
    if kind is WindowKind.CALENDAR_YEAR:
        return _calendar_year(verdict)
    if kind is WindowKind.ROLLING_YEARS:
        return _rolling(verdict)
    if kind is WindowKind.ROLLING_YEARS_AFTER_RANK:
        return _rolling_after_rank(verdict)
    if kind is WindowKind.PROBATION:
        return _probation(verdict)
    if kind is WindowKind.FIRST_MEMBER_YEAR:
        return _first_member_year(verdict)
    if kind is WindowKind.AROUND_POST_START:
        return _around_post_start(verdict)
    return _before_post(verdict)


def _numbers(verdict: Verdict) -> dict:
    return {
        "achieved": _number(verdict.achieved),
        "required": _number(verdict.required),
        "missing": _missing(verdict),
        "what": _what(verdict.rule, verdict.required),
    }


def _missing(verdict: Verdict) -> str:
    """Return the shortfall as a number, or under a days minimum as both gaps.

    Both gaps read "250 hours or 50 training days".
    """
    if verdict.missing_days is None:
        return _number(verdict.missing)
    return format_list(
        [_hours(verdict.missing), _days(verdict.missing_days)],
        style="or",
        locale=get_locale(),
    )


def _still(verdict: Verdict) -> str:
    """Return what still counts at the horizon, with the days under a days minimum."""
    if verdict.still_counting_days is None:
        return _number(verdict.still_counting)
    return format_list(
        [_hours(verdict.still_counting), _days(verdict.still_counting_days)],
        style="standard",
        locale=get_locale(),
    )


def _hours(value: Decimal) -> str:
    return ngettext(
        "%(amount)s hour",
        "%(amount)s hours",
        plural_count(value),
        amount=_number(value),
    )


def _days(value: Decimal) -> str:
    return ngettext(
        "%(amount)s training day",
        "%(amount)s training days",
        plural_count(value),
        amount=_number(value),
    )


def _calendar_year(verdict: Verdict) -> str:
    values = _numbers(verdict)
    values["year"] = str(verdict.window.year)
    if verdict.status is Status.MET:
        return _(
            "%(achieved)s of %(required)s %(what)s in %(year)s; requirement met.",
            **values,
        )
    if verdict.status is Status.MISSED:
        return _(
            "%(achieved)s of %(required)s %(what)s in %(year)s; "
            "%(missing)s were still missing when the year ended.",
            **values,
        )
    return _(
        "%(achieved)s of %(required)s %(what)s in %(year)s; "
        "%(missing)s missing by %(deadline)s.",
        deadline=_date(verdict.deadline),
        **values,
    )


def _rolling(verdict: Verdict) -> str:
    values = _numbers(verdict)
    values["years"] = str(verdict.rule.window_years)
    values["end"] = _date(verdict.window_end)
    if verdict.status is Status.MET:
        return ngettext(
            "%(achieved)s of %(required)s %(what)s in the %(years)s year to %(end)s; "
            "requirement met.",
            "%(achieved)s of %(required)s %(what)s in the %(years)s years to %(end)s; "
            "requirement met.",
            verdict.rule.window_years,
            **values,
        )
    if verdict.reached:
        return ngettext(
            "%(achieved)s of %(required)s %(what)s in the %(years)s year to %(end)s; "
            "only %(still)s will still count on %(horizon)s.",
            "%(achieved)s of %(required)s %(what)s in the %(years)s years to %(end)s; "
            "only %(still)s will still count on %(horizon)s.",
            verdict.rule.window_years,
            still=_still(verdict),
            horizon=_date(verdict.window.horizon),
            **values,
        )
    if verdict.status is Status.MISSED:
        return ngettext(
            "%(achieved)s of %(required)s %(what)s in the %(years)s year to %(end)s; "
            "%(missing)s missing.",
            "%(achieved)s of %(required)s %(what)s in the %(years)s years to %(end)s; "
            "%(missing)s missing.",
            verdict.rule.window_years,
            **values,
        )
    return ngettext(
        "%(achieved)s of %(required)s %(what)s in the %(years)s year to %(end)s; "
        "%(missing)s missing by %(deadline)s.",
        "%(achieved)s of %(required)s %(what)s in the %(years)s years to %(end)s; "
        "%(missing)s missing by %(deadline)s.",
        verdict.rule.window_years,
        deadline=_date(verdict.deadline),
        **values,
    )


def _start_date_missing(verdict: Verdict) -> str:
    missing = verdict.missing_date or "post_started_on"
    if missing in ("probation_started_on", "full_member_on"):
        return _party_date_missing(verdict, missing)
    if missing == "rank_since":
        return _rank_date_missing(verdict)
    if _is_viewer(verdict.person):
        action = _("Ask your HR office to record the date you took up your post.")
    else:
        action = _(
            "HR should record the post start date on the person's profile page."
        )
    if verdict.window is None:
        return _(
            "This rule cannot be checked because the post start date is not "
            "recorded. %(action)s",
            action=action,
        )
    values = _numbers(verdict)
    values["years"] = str(verdict.rule.window_years)
    values["end"] = _date(verdict.window_end)
    return ngettext(
        "%(achieved)s of %(required)s %(what)s in the %(years)s year to %(end)s. "
        "The deadline depends on the post start date, which is not recorded. "
        "%(action)s",
        "%(achieved)s of %(required)s %(what)s in the %(years)s years to %(end)s. "
        "The deadline depends on the post start date, which is not recorded. "
        "%(action)s",
        verdict.rule.window_years,
        action=action,
        **values,
    )


def _party_date_missing(verdict: Verdict, missing: str) -> str:
    viewer = _is_viewer(verdict.person)
    if missing == "probation_started_on":
        sentence = _(
            "This rule cannot be checked because the date of becoming a "
            "probationary Party member, which starts the probation, is not "
            "recorded."
        )
        if viewer:
            action = _(
                "Ask your HR office to record the date you became a "
                "probationary Party member."
            )
        else:
            action = _(
                "HR should record the date of becoming a probationary Party "
                "member on the person's profile page."
            )
    else:
        sentence = _(
            "This rule cannot be checked because the date of becoming a full "
            "Party member is not recorded."
        )
        if viewer:
            action = _(
                "Ask your HR office to record the date you became a full Party "
                "member."
            )
        else:
            action = _(
                "HR should record the date of becoming a full Party member on "
                "the person's profile page."
            )
    return _join([sentence, action])


def _rank_date_missing(verdict: Verdict) -> str:
    if _is_viewer(verdict.person):
        action = _("Ask your HR office to record the date you reached your current rank.")
    else:
        action = _(
            "HR should record the date of reaching the current rank on the "
            "person's profile page, or record the rank change on the record."
        )
    values = _numbers(verdict)
    values["years"] = str(verdict.rule.window_years)
    values["end"] = _date(verdict.window_end)
    values["months"] = _months(verdict.rule.window_months)
    return ngettext(
        "%(achieved)s of %(required)s %(what)s in the %(years)s year to %(end)s. "
        "A cadre promoted short of the minimum has %(months)s from the "
        "rank date to make it up, and that date is not recorded. %(action)s",
        "%(achieved)s of %(required)s %(what)s in the %(years)s years to %(end)s. "
        "A cadre promoted short of the minimum has %(months)s from the "
        "rank date to make it up, and that date is not recorded. %(action)s",
        verdict.rule.window_years,
        action=action,
        **values,
    )


def _months(months: int) -> str:
    return ngettext("%(num)s month", "%(num)s months", months)


def _join(sentences: list[str]) -> str:
    # Chinese sentences end in a full-width stop and take no space after it.
    separator = "" if get_locale().language == "zh" else " "
    return separator.join(sentences)


def _rolling_after_rank(verdict: Verdict) -> str:
    """Explain a rolling rule whose deadline is counted from the rank date."""
    window = verdict.window
    if verdict.status is Status.MET or verdict.reached:
        return _rolling(verdict)
    values = _numbers(verdict)
    values["years"] = str(verdict.rule.window_years)
    values["end"] = _date(verdict.window_end)
    values["months"] = _months(verdict.rule.window_months)

    if window.deadline is None:
        return ngettext(
            "%(achieved)s of %(required)s %(what)s in the %(years)s year to "
            "%(end)s; %(missing)s missing. The rank was reached on %(rank_date)s, "
            "before these years, so no time to make up a shortfall remains.",
            "%(achieved)s of %(required)s %(what)s in the %(years)s years to "
            "%(end)s; %(missing)s missing. The rank was reached on %(rank_date)s, "
            "before these years, so no time to make up a shortfall remains.",
            verdict.rule.window_years,
            rank_date=_date(window.counted_from),
            **values,
        )
    values["deadline"] = _date(window.deadline)
    values["rank_date"] = _date(window.counted_from)

    if verdict.status is Status.MISSED:
        return ngettext(
            "%(achieved)s of %(required)s %(what)s in the %(years)s year to "
            "%(end)s; %(missing)s missing. The %(months)s after reaching "
            "the rank on %(rank_date)s to make up the shortfall ended on "
            "%(deadline)s.",
            "%(achieved)s of %(required)s %(what)s in the %(years)s years to "
            "%(end)s; %(missing)s missing. The %(months)s after reaching "
            "the rank on %(rank_date)s to make up the shortfall ended on "
            "%(deadline)s.",
            verdict.rule.window_years,
            **values,
        )
    return ngettext(
        "%(achieved)s of %(required)s %(what)s in the %(years)s year to "
        "%(end)s; %(missing)s missing by %(deadline)s, %(months)s after "
        "reaching the rank on %(rank_date)s.",
        "%(achieved)s of %(required)s %(what)s in the %(years)s years to "
        "%(end)s; %(missing)s missing by %(deadline)s, %(months)s after "
        "reaching the rank on %(rank_date)s.",
        verdict.rule.window_years,
        **values,
    )


def _probation(verdict: Verdict) -> str:
    window = verdict.window
    values = _numbers(verdict)
    values["start"] = _date(window.start)
    values["deadline"] = _date(window.deadline)
    if verdict.status is Status.MET:
        return _(
            "%(achieved)s of %(required)s %(what)s in the probation from "
            "%(start)s to %(deadline)s; requirement met.",
            **values,
        )
    if verdict.status is Status.MISSED:
        return _(
            "%(achieved)s of %(required)s %(what)s in the probation from "
            "%(start)s to %(deadline)s; %(missing)s missing.",
            **values,
        )
    if window.probation_extended:
        return _(
            "%(achieved)s of %(required)s %(what)s so far in the probation that "
            "began on %(start)s; %(missing)s missing by %(deadline)s. No "
            "full-member date is recorded after the first year, so the probation "
            "counts as extended, by at most one year.",
            **values,
        )
    return _(
        "%(achieved)s of %(required)s %(what)s so far in the probation that "
        "began on %(start)s; %(missing)s missing by %(deadline)s, the end of "
        "the one-year probation.",
        **values,
    )


def _first_member_year(verdict: Verdict) -> str:
    values = _numbers(verdict)
    values["start"] = _date(verdict.window.start)
    values["deadline"] = _date(verdict.deadline)
    if verdict.status is Status.MET:
        return _(
            "%(achieved)s of %(required)s %(what)s in the first year as a full "
            "Party member, from %(start)s to %(deadline)s; requirement met.",
            **values,
        )
    if verdict.status is Status.MISSED:
        return _(
            "%(achieved)s of %(required)s %(what)s in the first year as a full "
            "Party member, from %(start)s to %(deadline)s; %(missing)s missing.",
            **values,
        )
    return _(
        "%(achieved)s of %(required)s %(what)s so far in the first year as a "
        "full Party member, which began on %(start)s; %(missing)s missing by "
        "%(deadline)s.",
        **values,
    )


def _is_viewer(person) -> bool:
    """Return whether the request's logged-in user is ``person``."""
    if not has_request_context():
        return False
    from flask_login import current_user

    return current_user.is_authenticated and current_user.get_id() == str(person.id)


def _before_post(verdict: Verdict) -> str:
    values = _numbers(verdict)
    values["deadline"] = _date(verdict.deadline)
    if verdict.status is Status.MET:
        return _(
            "%(achieved)s of %(required)s %(what)s before taking up the post on "
            "%(deadline)s; requirement met.",
            **values,
        )
    if verdict.status is Status.MISSED:
        return _(
            "%(achieved)s of %(required)s %(what)s before taking up the post on "
            "%(deadline)s; %(missing)s missing.",
            **values,
        )
    return _(
        "%(achieved)s of %(required)s %(what)s so far; %(missing)s missing by "
        "%(deadline)s, the day the post starts.",
        **values,
    )


def _around_post_start(verdict: Verdict) -> str:
    post_started_on = verdict.window.post_started_on
    values = _numbers(verdict)
    values["deadline"] = _date(verdict.deadline)
    values["months"] = _months(verdict.rule.new_to_post_months)
    values["start"] = _date(post_started_on)
    if verdict.status is Status.MET:
        return _(
            "%(achieved)s of %(required)s %(what)s before and in the first "
            "%(months)s after taking up the post on %(start)s; "
            "requirement met.",
            **values,
        )
    if verdict.status is Status.MISSED:
        return _(
            "%(achieved)s of %(required)s %(what)s by %(deadline)s, the end of "
            "the first %(months)s in the post; %(missing)s missing.",
            **values,
        )
    if verdict.today < post_started_on:
        return _(
            "%(achieved)s of %(required)s %(what)s so far; the post starts on "
            "%(start)s, and %(missing)s are missing by %(deadline)s, the end of "
            "the first %(months)s in the post.",
            **values,
        )
    return _(
        "%(achieved)s of %(required)s %(what)s so far; %(missing)s missing by "
        "%(deadline)s, the end of the first %(months)s in the post.",
        **values,
    )


#: Reasons whose explanation needs no detail from the rule.
_PLAIN_REASONS = {
    Uncovered.INACTIVE_RULE: _l("This rule is switched off."),
    Uncovered.OTHER_INSTITUTION: _l("This rule belongs to another institution."),
    Uncovered.INACTIVE_ACCOUNT: _l("The account is deactivated."),
    Uncovered.FULL_TIME: _l("Applies only to full-time staff."),
    Uncovered.PARTY_MEMBER: _l("Applies only to Party members."),
    Uncovered.NOT_YET_IN_POST: _l(
        "Does not apply to a year that ended before the person took up the post."
    ),
    Uncovered.PARTY_COMMITTEE: _l(
        "Applies only to secretaries and committee members of grassroots "
        "Party organisations."
    ),
    Uncovered.NOT_YET_FULL_MEMBER: _l(
        "Applies from the day the person becomes a full Party member."
    ),
}


def _uncovered(verdict: Verdict) -> str:
    rule = verdict.rule
    reason = verdict.reason
    if reason in _PLAIN_REASONS:
        return str(_PLAIN_REASONS[reason])

    if reason is Uncovered.ROLE:
        return _("Applies only to: %(roles)s.", roles=_labels(ROLE, rule.roles))
    if reason is Uncovered.POST:
        posts = _labels(POST, rule.posts)
        return _("Applies only to these posts: %(posts)s.", posts=posts)
    if reason is Uncovered.CADRE_RANK:
        ranks = _labels(CADRE_RANK, rule.cadre_ranks)
        return _("Applies only to cadres of these ranks: %(ranks)s.", ranks=ranks)
    if reason is Uncovered.NOT_NEW_PARTY_MEMBER:
        return _not_new_party_member(rule)
    if reason is Uncovered.NOT_YET_PARTY_MEMBER:
        return _(
            "Yearly Party member hours are judged from the first full calendar "
            "year of membership. The person joined the Party on %(date)s, so "
            "this year is not judged; a part year is not pro-rated.",
            date=_date(verdict.since),
        )
    if reason is Uncovered.POST_START_YEAR:
        return _(
            "This rule is judged from the first full calendar year in the post."
            " The person took up the post on %(date)s, so this year is not"
            " judged.",
            date=_date(verdict.since),
        )
    if reason is Uncovered.NOT_YET_IN_RANK:
        return _(
            "Yearly cadre hours are judged from the first full calendar year "
            "in the ranks the rule covers. The person has held one of them "
            "without a break since %(date)s, so this year is not judged; a "
            "part year is not pro-rated.",
            date=_date(verdict.since),
        )
    if rule.window_kind is WindowKind.AROUND_POST_START:
        return _(
            "Applies in the first %(months)s after taking up a post, and"
            " shows a shortfall for %(shown)s months after that.",
            months=_months(rule.new_to_post_months),
            shown=POST_WINDOW_SHOWN_MONTHS,
        )
    return _(
        "Applies only in the first %(months)s after taking up a post.",
        months=_months(rule.new_to_post_months),
    )


def _not_new_party_member(rule: ComplianceRule) -> str:
    months = PARTY_WINDOW_SHOWN_MONTHS
    if rule.window_kind is WindowKind.PROBATION:
        return _(
            "Applies to probationary Party members, and to full members for "
            "%(months)s months after the probation, by the Party status and "
            "dates on the profile.",
            months=months,
        )
    return _(
        "Applies to full Party members in their first year of full membership "
        "and for %(months)s months after it, by the Party status and dates on "
        "the profile.",
        months=months,
    )


def _what(rule: ComplianceRule, required: Decimal) -> str:
    """Name what the rule counts, e.g. "school-level hours".

    The noun follows "<achieved> of <required>" in the messages, so
    ``required`` picks its plural form.
    """
    what = _counted(rule, plural_count(required))
    if not rule.excluded_kinds:
        return what
    excluded = _labels(TRAINING_KIND, rule.excluded_kinds, lower=True)
    return _("%(what)s (not counting %(excluded)s)", what=what, excluded=excluded)


def _counted(rule: ComplianceRule, count: int) -> str:
    tiers = _labels(_TIER_ADJECTIVE, rule.tiers)
    kinds = _labels(TRAINING_KIND, rule.kinds, lower=True)
    if rule.counts_trainings:
        if tiers and kinds:
            return ngettext(
                "%(tiers)s training (%(kinds)s)",
                "%(tiers)s trainings (%(kinds)s)",
                count,
                tiers=tiers,
                kinds=kinds,
            )
        if tiers:
            return ngettext(
                "%(tiers)s training", "%(tiers)s trainings", count, tiers=tiers
            )
        if kinds:
            return ngettext(
                "training (%(kinds)s)", "trainings (%(kinds)s)", count, kinds=kinds
            )
        return ngettext("training", "trainings", count)
    if tiers and kinds:
        return ngettext(
            "%(tiers)s hour of %(kinds)s",
            "%(tiers)s hours of %(kinds)s",
            count,
            tiers=tiers,
            kinds=kinds,
        )
    if tiers:
        return ngettext("%(tiers)s hour", "%(tiers)s hours", count, tiers=tiers)
    if kinds:
        return ngettext("hour of %(kinds)s", "hours of %(kinds)s", count, kinds=kinds)
    return ngettext("hour", "hours", count)


def _labels(table: dict, values: list[str], *, lower: bool = False) -> str:
    """Join the labels of ``values`` as a locale-aware "or" list."""
    names = [str(table.get(value, value)) for value in values]
    if lower:
        names = [name.lower() for name in names]
    if not names:
        return ""
    return format_list(names, style="or", locale=get_locale())


def _number(value: Decimal) -> str:
    return format_decimal(value)


def _date(value: date) -> str:
    return format_date(value, "long")
