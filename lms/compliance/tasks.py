"""Scheduled compliance jobs: reminders to learners, HR summaries and daily snapshots.

Dates are local dates in each institution's zone. Reminders go through the
notification outbox with the period in the key, so each person gets one
reminder per rule and period however often a job runs.
"""

import logging
from collections import Counter
from datetime import date, datetime
from typing import Iterable, Optional

import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.compliance import snapshots
from lms.compliance.dashboard import RuleSummary, count_verdicts, summarise
from lms.compliance.engine import Status, Verdict, evaluate_institution, rules_for
from lms.compliance.windows import local_today
from lms.db import now_utc
from lms.extensions import db
from lms.notifications import services
from lms.notifications.models import Notification
from lms.organisations.models import Department, Institution
from lms.stored_text import (
    StoredText,
    in_each_language,
    stored_date,
    stored_gettext,
    stored_join,
)

logger = logging.getLogger("lms.compliance")

MONTHLY_KIND = "compliance_at_risk"
YEARLY_KIND = "compliance_year_reminder"
HR_SUMMARY_KIND = "compliance_hr_summary"

#: Statuses that earn a learner a reminder, per period.
REMINDED = {
    "monthly": frozenset({Status.AT_RISK}),
    "yearly": frozenset({Status.AT_RISK, Status.IN_PROGRESS}),
}

DASHBOARD_LINK = "/compliance"


def compliance_snapshot(now: Optional[datetime] = None) -> dict:
    """Store today's verdict counts of every institution (one set of rows per local date)."""
    now = now or now_utc()
    rows = 0
    institutions = _institutions()
    for institution in institutions:
        today = local_today(institution, now)
        rows += snapshots.take_snapshot(institution, summarise(institution, today), today)
    return {"institutions": len(institutions), "rows": rows}


def compliance_reminders_monthly(now: Optional[datetime] = None) -> dict:
    """Remind learners at risk on each rule, and send HR the month's summary."""
    return _remind(now or now_utc(), "monthly")


def compliance_reminders_yearly(now: Optional[datetime] = None) -> dict:
    """Remind learners still short on each rule this year, and send HR a summary."""
    return _remind(now or now_utc(), "yearly")


def period_key(period: str, today: date) -> str:
    """Return the label that keys one period's reminders, e.g. "2026-03" or "2026"."""
    return f"{today:%Y-%m}" if period == "monthly" else str(today.year)


def _institutions() -> list[Institution]:
    return list(db.session.scalars(sa.select(Institution).order_by(Institution.id)))


def _remind(now: datetime, period: str) -> dict:
    counts = {"reminders": 0, "summaries": 0}
    kind = MONTHLY_KIND if period == "monthly" else YEARLY_KIND
    for institution in _institutions():
        today = local_today(institution, now)
        key = period_key(period, today)
        summaries = []
        for rule in rules_for(institution.id):
            verdicts = evaluate_institution(institution, rule, today)
            summaries.append(count_verdicts(rule, verdicts))
            for verdict in verdicts:
                if _is_reminded(verdict, period) and _send_reminder(
                    verdict, kind, key, now
                ):
                    counts["reminders"] += 1
        if summaries:
            counts["summaries"] += _send_hr_summaries(
                institution, summaries, period, key, today, now
            )
    return counts


def _is_reminded(verdict: Verdict, period: str) -> bool:
    person = verdict.person
    return (
        verdict.status in REMINDED[period]
        and person.active
        and person.role.is_learner
    )


def _already_sent(user_id: int, kind: str, subject_type, subject_id, suffix) -> bool:
    key = services.dedupe_key(user_id, kind, subject_type, subject_id, suffix)
    return db.session.scalar(
        sa.select(Notification.id).where(Notification.dedupe_key == key)
    ) is not None


def _send_reminder(verdict: Verdict, kind: str, key: str, now: datetime) -> bool:
    person, rule = verdict.person, verdict.rule
    if _already_sent(person.id, kind, "compliance_rule", rule.id, key):
        return False
    rule_name = in_each_language(lambda: rule.display_name)
    if kind == MONTHLY_KIND:
        title = stored_gettext("Training requirement at risk: %(rule)s", rule=rule_name)
    else:
        title = stored_gettext("Training still due this year: %(rule)s", rule=rule_name)
    body = in_each_language(lambda: verdict.message)
    services.enqueue(
        person,
        kind,
        "compliance_rule",
        rule.id,
        title,
        body,
        link=f"/people/{person.id}/record",
        now=now,
        key_suffix=key,
    )
    return True


def _hr_recipients(institution: Institution) -> Iterable[User]:
    return db.session.scalars(
        sa.select(User)
        .where(
            User.institution_id == institution.id,
            User.role == Role.HR,
            User.active.is_(True),
        )
        .order_by(User.id)
    )


def _send_hr_summaries(institution, summaries, period, key, today, now) -> int:
    suffix = f"{period}-{key}"
    sent = 0
    for hr in _hr_recipients(institution):
        if _already_sent(hr.id, HR_SUMMARY_KIND, "institution", institution.id, suffix):
            continue
        title, body = render_hr_summary(hr, institution, summaries, today)
        services.enqueue(
            hr,
            HR_SUMMARY_KIND,
            "institution",
            institution.id,
            title,
            body,
            link=DASHBOARD_LINK,
            now=now,
            key_suffix=suffix,
        )
        sent += 1
    return sent


def _counts_in_scope(summary: RuleSummary, department: Optional[Department]) -> Counter:
    """Return the rule's verdict counts of the whole institution or of ``department``."""
    if department is None:
        return summary.total
    return summary.by_department.get(department.id, Counter())


def render_hr_summary(
    recipient: User, institution: Institution, summaries: list[RuleSummary], today: date
) -> tuple[StoredText, StoredText]:
    """Return the HR summary's title and body, shown in the reader's language.

    The body has one line per rule with the counts of met, in progress, at
    risk, missed and start date missing, then the dashboard's address
    (appended by the e-mail copy from the notification's link). An HR officer
    limited to one department gets the counts of that department only.
    """
    department = recipient.hr_department if recipient.role is Role.HR else None
    if department is None:
        title = stored_gettext(
            "Training compliance of %(institution)s on %(date)s",
            institution=institution.name,
            date=stored_date(today),
        )
    else:
        title = stored_gettext(
            "Training compliance of %(department)s, %(institution)s on %(date)s",
            department=department.name,
            institution=institution.name,
            date=stored_date(today),
        )
    lines = []
    for summary in summaries:
        counts = _counts_in_scope(summary, department)
        rule = summary.rule
        lines.append(
            stored_gettext(
                "%(rule)s: Met %(met)d, In progress %(in_progress)d, "
                "At risk %(at_risk)d, Missed %(missed)d, "
                "Start date missing %(start_missing)d",
                rule=in_each_language(lambda rule=rule: rule.display_name),
                met=counts[Status.MET],
                in_progress=counts[Status.IN_PROGRESS],
                at_risk=counts[Status.AT_RISK],
                missed=counts[Status.MISSED],
                start_missing=counts[Status.START_DATE_MISSING],
            )
        )
    lines.append(
        stored_gettext("Open the compliance dashboard for the people behind each count.")
    )
    return title, stored_join(lines, "\n")
