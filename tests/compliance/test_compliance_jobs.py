"""Compliance reminders, HR summaries and nightly snapshots, with frozen time."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.compliance import tasks
from lms.compliance.snapshots import ComplianceSnapshot
from lms.extensions import db
from lms.notifications.models import Notification
from lms.scheduler import run_job_once
from tests.compliance.test_dashboard import frozen_today, ledger  # noqa: F401
from tests.factories import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: 08:00 on 15 November 2026: the yearly rule is at risk (46 days left).
MID_NOVEMBER = datetime(2026, 11, 15, 8, 0, tzinfo=SHANGHAI)
#: 08:00 on 15 October 2026: 77 days left, short counselors are in progress.
MID_OCTOBER = datetime(2026, 10, 15, 8, 0, tzinfo=SHANGHAI)


def _rows(kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        )
    )


def _recipients(kind: str) -> list[str]:
    return sorted(row.recipient.username for row in _rows(kind))


def test_monthly_reminds_at_risk_once_per_month(ledger):  # noqa: F811
    result = tasks.compliance_reminders_monthly(MID_NOVEMBER)
    db.session.commit()

    assert result == {"reminders": 3, "summaries": 2}
    assert _recipients(tasks.MONTHLY_KIND) == ["counselor2", "counselor3", "counselor_b"]
    row = next(r for r in _rows(tasks.MONTHLY_KIND) if r.recipient.username == "counselor2")
    assert row.dedupe_key.endswith(":2026-11")
    assert "规则yearly" in row.title
    assert "12" in row.body  # 4 of 16 hours done, 12 missing
    assert row.link == f"/people/{row.recipient_id}/record"

    rerun = tasks.compliance_reminders_monthly(MID_NOVEMBER.replace(day=20))
    assert rerun == {"reminders": 0, "summaries": 0}
    next_month = tasks.compliance_reminders_monthly(datetime(2026, 12, 1, 8, tzinfo=SHANGHAI))
    assert next_month["reminders"] == 3
    assert next_month["summaries"] == 2


def test_yearly_reminds_in_progress_too(ledger):  # noqa: F811
    monthly = tasks.compliance_reminders_monthly(MID_OCTOBER)
    yearly = tasks.compliance_reminders_yearly(MID_OCTOBER)
    db.session.commit()

    assert monthly["reminders"] == 0
    assert yearly["reminders"] == 3
    assert _recipients(tasks.YEARLY_KIND) == ["counselor2", "counselor3", "counselor_b"]
    assert all(row.dedupe_key.endswith(":2026") for row in _rows(tasks.YEARLY_KIND))
    assert tasks.compliance_reminders_yearly(MID_NOVEMBER)["reminders"] == 0


def test_hr_summary_counts_and_link(ledger):  # noqa: F811
    hr = db.session.scalar(sa.select(User).filter_by(username="hr"))
    hr.locale = "en"
    db.session.commit()

    tasks.compliance_reminders_monthly(MID_NOVEMBER)
    db.session.commit()

    summaries = {row.recipient.username: row for row in _rows(tasks.HR_SUMMARY_KIND)}
    assert set(summaries) == {"hr", "hr_b"}
    summary = summaries["hr"]
    assert summary.title == "Training compliance of 甲大学 on 2026-11-15"
    lines = summary.body.splitlines()
    assert "规则pre-job: Met 1, In progress 0, At risk 0, Missed 1, Start date missing 2" in lines
    assert "规则yearly: Met 2, In progress 0, At risk 2, Missed 0, Start date missing 0" in lines
    assert not any("规则foreign" in line for line in lines)
    assert summary.link == "/compliance"
    assert summary.dedupe_key.endswith(":monthly-2026-11")
    assert "规则foreign：达标 0，进行中 0，有风险 1，未达标 0，缺少上岗日期 0" in summaries["hr_b"].body


def test_hr_summary_title_date_in_chinese(ledger):  # noqa: F811
    tasks.compliance_reminders_monthly(MID_NOVEMBER)
    db.session.commit()

    summary = next(
        row for row in _rows(tasks.HR_SUMMARY_KIND) if row.recipient.username == "hr"
    )

    assert summary.title == "甲大学 2026年11月15日 培训达标情况"


def test_hr_summary_department_hr(ledger):  # noqa: F811
    hr = db.session.scalar(sa.select(User).filter_by(username="hr"))
    officer = make_user(hr.institution, "hr_school", Role.HR)
    officer.hr_department_id = ledger.school
    officer.locale = "en"
    db.session.commit()

    tasks.compliance_reminders_monthly(MID_NOVEMBER)
    db.session.commit()

    summaries = {row.recipient.username: row for row in _rows(tasks.HR_SUMMARY_KIND)}
    summary = summaries["hr_school"]
    assert summary.title == "Training compliance of 教育学院, 甲大学 on 2026-11-15"
    lines = summary.body.splitlines()
    assert "规则pre-job: Met 0, In progress 0, At risk 0, Missed 1, Start date missing 1" in lines
    assert "规则yearly: Met 1, In progress 0, At risk 1, Missed 0, Start date missing 0" in lines


def test_snapshot_is_idempotent_per_date(ledger):  # noqa: F811
    first = run_job_once("compliance_snapshot", now=MID_NOVEMBER)
    assert first.ok, first.error
    second = run_job_once("compliance_snapshot", now=MID_NOVEMBER.replace(hour=23))
    assert second.result == first.result

    rows = db.session.scalars(
        sa.select(ComplianceSnapshot).where(ComplianceSnapshot.rule_id == ledger.yearly)
    ).all()
    assert {row.snapshot_date for row in rows} == {date(2026, 11, 15)}
    by_department = {row.department_id: row for row in rows}
    assert set(by_department) == {ledger.school, ledger.physics}
    school = by_department[ledger.school]
    assert (school.met, school.in_progress, school.at_risk, school.missed) == (1, 0, 1, 0)
    physics = by_department[ledger.physics]
    assert (physics.met, physics.in_progress, physics.at_risk, physics.missed) == (1, 0, 1, 0)

    run_job_once("compliance_snapshot", now=MID_NOVEMBER.replace(day=16))
    dates = db.session.scalars(sa.select(ComplianceSnapshot.snapshot_date).distinct()).all()
    assert sorted(dates) == [date(2026, 11, 15), date(2026, 11, 16)]


def test_snapshot_date_is_institution_local(ledger):  # noqa: F811
    """23:50 on 15 November in Shanghai is still 15:50 UTC on the same day."""
    run_job_once("compliance_snapshot", now=datetime(2026, 11, 15, 23, 50, tzinfo=SHANGHAI))
    dates = db.session.scalars(sa.select(ComplianceSnapshot.snapshot_date).distinct()).all()
    assert dates == [date(2026, 11, 15)]


def test_dashboard_shows_trend(ledger, login):  # noqa: F811
    for day in (13, 14, 15):
        run_job_once("compliance_snapshot", now=MID_NOVEMBER.replace(day=day))
    session = login("hr")
    session.post("/language/en")

    page = session.get("/compliance").get_data(as_text=True)

    section = re.search(
        rf'aria-labelledby="rule-{ledger.yearly}">(.*?)</section>', page, re.S
    ).group(1)
    assert "Trend over the last 30 days" in section
    assert section.count("<polyline") == 3
    assert len(re.findall(r"<tr>\s*<th scope=\"row\">2026-11-1[345]</th>", section)) == 3


def test_dashboard_trend_department_hr(ledger, login):  # noqa: F811
    run_job_once("compliance_snapshot", now=MID_NOVEMBER)
    hr = db.session.scalar(sa.select(User).filter_by(username="hr"))
    officer = make_user(hr.institution, "hr_school", Role.HR)
    officer.hr_department_id = ledger.school
    db.session.commit()
    session = login("hr_school")
    session.post("/language/en")

    page = session.get("/compliance").get_data(as_text=True)

    section = re.search(
        rf'aria-labelledby="rule-{ledger.yearly}">(.*?)</section>', page, re.S
    ).group(1)
    trend_row = re.search(
        r'<th scope="row">2026-11-15</th>(.*?)</tr>', section, re.S
    ).group(1)
    # The 教育学院 has one met and one at risk, while the institution has two each.
    assert re.findall(r"<td>(\d+)</td>", trend_row) == ["1", "0", "1", "0"]


def test_dashboard_hides_other_institution_trend(ledger, login):  # noqa: F811
    run_job_once("compliance_snapshot", now=MID_NOVEMBER)
    page = login("hr_b").get("/compliance").get_data(as_text=True)

    assert f'aria-labelledby="rule-{ledger.yearly}"' not in page
    assert "<polyline" in page  # uni B's own rule has its trend


def test_trend_coordinates_are_shares():
    from collections import Counter

    from lms.compliance.snapshots import RuleTrend

    trend = RuleTrend(
        rule_id=1,
        points=[
            (date(2026, 11, 1), Counter(met=1, at_risk=3)),
            (date(2026, 11, 2), Counter(met=4)),
            (date(2026, 11, 3), Counter()),
        ],
    )

    assert trend.coordinates("met") == [(0.0, 36.0), (120.0, 0.0), (240.0, 48.0)]
    assert trend.polyline("at_risk") == "0.0,12.0 120.0,48.0 240.0,48.0"
