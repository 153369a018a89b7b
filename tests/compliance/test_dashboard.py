"""The HR compliance dashboard, its drill-down and CSV export, through real logins."""

import csv
import io
import re
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from itertools import count as counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from lms.accounts.models import Role, User
from lms.compliance import dashboard
from lms.compliance.models import ComplianceRule, PersonProfile, WindowKind
from lms.extensions import db
from lms.organisations.models import Department, Institution
from lms.records.models import HoursEntry, TrainingKind, TrainingTier
from tests.factories import build_learning_world, make_user

#: The day every test evaluates on: 46 days before the end of 2026.
TODAY = datetime(2026, 11, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
_source = counter(1)


def _hours(
    user: User, hours, on: date, kind=TrainingKind.THEMATIC, exam_passed=None
) -> None:
    db.session.add(
        HoursEntry(
            user_id=user.id,
            source_type="test",
            source_id=next(_source),
            title="培训",
            occurred_on=on,
            year=on.year,
            tier=TrainingTier.SCHOOL,
            kind=kind,
            hours=Decimal(str(hours)),
            exam_passed=exam_passed,
        )
    )


def _rule(institution_id, code, **values) -> ComplianceRule:
    defaults = {
        "institution_id": institution_id,
        "code": code,
        "name": f"规则{code}",
        "source": "测试",
        "roles": [Role.COUNSELOR],
        "window_kind": WindowKind.CALENDAR_YEAR,
        "min_hours": Decimal(16),
        "tiers": [TrainingTier.SCHOOL],
        "at_risk_days": 60,
    }
    defaults.update(values)
    rule = ComplianceRule(**defaults)
    db.session.add(rule)
    db.session.flush()
    return rule


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr("lms.compliance.windows.now_utc", lambda: TODAY)


@pytest.fixture
def ledger(app_ctx):
    """Two departments, four counselors and a hand-built ledger; returns ids.

    Rule ``yearly`` (16 school-level hours in 2026, at risk from 60 days
    before 31 December): counselor1 and counselor4 met, counselor2 and
    counselor3 at risk, the other four accounts not applicable.
    Rule ``pre-job`` (40 pre-job hours before the post starts): counselor3
    missed, counselor4 met, counselor1 and counselor2 start date missing,
    the other four accounts not applicable.
    """
    world = build_learning_world()
    uni_a = db.session.get(Institution, world.uni_a)
    school = db.session.get(Department, world.school)
    physics = db.session.get(Department, world.physics)
    counselor1 = db.session.get(User, world.counselor)
    counselor2 = db.session.get(User, world.counselor2)
    counselor3 = make_user(
        uni_a, "counselor3", full_name="=cmd|' /C calc'!A0", department=school
    )
    counselor3.employee_no = "+SUM(1,2)"
    counselor4 = make_user(uni_a, "counselor4", full_name="陈老师", department=physics)

    _hours(counselor1, 10, date(2026, 2, 1))
    _hours(counselor1, 6, date(2026, 5, 1))
    _hours(counselor1, 30, date(2025, 5, 1))  # another year: does not count
    _hours(counselor2, 4, date(2026, 3, 1))
    _hours(
        counselor4, 40, date(2026, 9, 15), kind=TrainingKind.PRE_JOB, exam_passed=True
    )
    db.session.add_all(
        [
            PersonProfile(user_id=counselor3.id, post_started_on=date(2026, 9, 1)),
            PersonProfile(user_id=counselor4.id, post_started_on=date(2026, 10, 1)),
        ]
    )
    yearly = _rule(world.uni_a, "yearly")
    pre_job = _rule(
        None,
        "pre-job",
        window_kind=WindowKind.BEFORE_POST,
        window_months=12,
        new_to_post=True,
        min_hours=Decimal(40),
        tiers=[],
        kinds=[TrainingKind.PRE_JOB],
    )
    inactive = _rule(world.uni_a, "inactive", active=False)
    foreign = _rule(world.uni_b, "foreign")
    db.session.commit()
    world.yearly = yearly.id
    world.pre_job = pre_job.id
    world.inactive = inactive.id
    world.foreign = foreign.id
    world.counselor3 = counselor3.id
    world.counselor4 = counselor4.id
    return world


def _english(session):
    session.post("/language/en")
    return session


def _counts(page: str, rule_id: int, row: str) -> list[int]:
    """Return the five status counts of one row of a rule's table."""
    section = re.search(
        rf'aria-labelledby="rule-{rule_id}">(.*?)</section>', page, re.S
    ).group(1)
    cells = re.search(rf'<th scope="row">{row}</th>(.*?)</tr>', section, re.S).group(1)
    return [int(n) for n in re.findall(r">(\d+)<", cells)]


@contextmanager
def _queries():
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# Dashboard ----------------------------------------------------------------


def test_dashboard_counts_match_ledger(ledger, login):
    page = _english(login("hr")).get("/compliance").get_data(as_text=True)

    # Columns: met, in progress, at risk, missed, start date missing, not
    # applicable.
    assert _counts(page, ledger.yearly, "Whole institution") == [2, 0, 2, 0, 0, 4]
    assert _counts(page, ledger.yearly, "教育学院") == [1, 0, 1, 0, 0, 0]
    assert _counts(page, ledger.yearly, "物理学院") == [1, 0, 1, 0, 0, 0]
    assert _counts(page, ledger.yearly, "No department") == [0, 0, 0, 0, 0, 4]
    assert _counts(page, ledger.pre_job, "Whole institution") == [1, 0, 0, 1, 2, 4]
    assert _counts(page, ledger.pre_job, "教育学院") == [0, 0, 0, 1, 1, 0]
    assert _counts(page, ledger.pre_job, "物理学院") == [1, 0, 0, 0, 1, 0]
    assert "规则inactive" not in page
    assert "规则foreign" not in page


def test_dashboard_of_other_institution(ledger, login):
    page = _english(login("hr_b")).get("/compliance").get_data(as_text=True)

    assert "规则foreign" in page
    assert "规则pre-job" in page
    assert "规则yearly" not in page
    assert "教育学院" not in page


def test_dashboard_access(ledger, login):
    for username in ["counselor1", "organiser", "trainer"]:
        assert login(username).get("/compliance").status_code == 403, username
    for username in ["hr", "admin"]:
        assert login(username).get("/compliance").status_code == 200, username


def test_dashboard_queries_do_not_grow_with_people(ledger, login):
    hr = login("hr")
    with _queries() as before:
        assert hr.get("/compliance").status_code == 200

    uni_a = db.session.get(Institution, ledger.uni_a)
    school = db.session.get(Department, ledger.school)
    for number in range(12):
        person = make_user(uni_a, f"extra{number}", department=school)
        _hours(person, number, date(2026, 4, 1))
    db.session.commit()
    with _queries() as after:
        page = hr.get("/compliance").get_data(as_text=True)

    assert len(after) == len(before)
    assert "extra" not in page


# Drill-down ---------------------------------------------------------------


def test_drill_down_filters_by_department_and_status(ledger, login):
    hr = _english(login("hr"))
    url = f"/compliance/rules/{ledger.yearly}"

    page = hr.get(url, query_string={"department": ledger.school, "status": "at_risk"})
    text = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "=cmd|" in text
    assert "张老师" not in text
    assert "李老师" not in text
    assert (
        "0 of 16 school-level hours in 2026; 16 missing by 2026-12-31." in text
    )


def test_drill_down_lists_verdicts_and_messages(ledger, login):
    text = (
        _english(login("hr"))
        .get(f"/compliance/rules/{ledger.yearly}")
        .get_data(as_text=True)
    )

    for name in ["张老师", "李老师", "陈老师", "王组织员", "钱人事"]:
        assert name in text
    assert "周老师" not in text
    assert "16 of 16 school-level hours in 2026; requirement met." in text
    assert (
        "4 of 16 school-level hours in 2026; 12 missing by 2026-12-31." in text
    )


def test_drill_down_bad_filters_show_message(ledger, login):
    hr = _english(login("hr"))
    url = f"/compliance/rules/{ledger.yearly}"
    cases = [
        ({"department": "abc"}, "Department filter"),
        ({"department": "99999999999999999999999"}, "Department filter"),
        ({"department": str(ledger.other_school)}, "Department filter"),
        ({"status": "excellent"}, "Status filter: excellent is not a status"),
        ({"status": "MET"}, "Status filter"),
    ]
    for query, message in cases:
        response = hr.get(url, query_string=query)
        text = response.get_data(as_text=True)
        assert response.status_code == 200, query
        assert message in text, query
        assert "张老师" in text, query
        assert "陈老师" in text, query


def test_drill_down_rule_access(ledger, login):
    hr = login("hr")
    assert hr.get(f"/compliance/rules/{ledger.foreign}").status_code == 404
    assert hr.get(f"/compliance/rules/{ledger.inactive}").status_code == 404
    assert hr.get("/compliance/rules/987654").status_code == 404
    assert hr.get(f"/compliance/rules/{ledger.foreign}/export.csv").status_code == 404
    assert login("hr_b").get(f"/compliance/rules/{ledger.yearly}").status_code == 404
    assert login("hr_b").get(f"/compliance/rules/{ledger.pre_job}").status_code == 200
    for username in ["counselor1", "trainer"]:
        session = login(username)
        assert session.get(f"/compliance/rules/{ledger.yearly}").status_code == 403
        assert (
            session.get(f"/compliance/rules/{ledger.yearly}/export.csv").status_code
            == 403
        )


def test_institution_rule_replaces_shared_rule_of_same_code(ledger, login):
    own = _rule(
        ledger.uni_a,
        "pre-job",
        min_hours=Decimal(60),
        kinds=[TrainingKind.PRE_JOB],
        tiers=[],
        window_kind=WindowKind.BEFORE_POST,
        window_months=12,
        new_to_post=True,
    )
    db.session.commit()
    hr = login("hr")

    assert hr.get(f"/compliance/rules/{ledger.pre_job}").status_code == 404
    assert hr.get(f"/compliance/rules/{own.id}").status_code == 200


# CSV export ---------------------------------------------------------------


def test_csv_has_bom_and_neutralised_formulas(ledger, login):
    response = _english(login("hr")).get(
        f"/compliance/rules/{ledger.yearly}/export.csv",
        query_string={"department": ledger.school},
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:6] == [
        "Name",
        "Employee number",
        "Department",
        "Role",
        "Post",
        "Status",
    ]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"张老师", "'=cmd|' /C calc'!A0"}
    formula_row = by_name["'=cmd|' /C calc'!A0"]
    assert formula_row[1] == "'+SUM(1,2)"
    assert formula_row[2] == "教育学院"
    assert formula_row[5] == "At risk"
    assert formula_row[6:9] == ["0", "16", "16"]
    assert formula_row[9] == "2026-12-31"
    assert by_name["张老师"][5] == "Met"


def test_csv_status_filter(ledger, login):
    response = login("hr").get(
        f"/compliance/rules/{ledger.pre_job}/export.csv",
        query_string={"status": "missed"},
    )

    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][0] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("张老师", "张老师"),
        ("a=b", "a=b"),
        (None, ""),
        (12, "12"),
    ],
)
def test_neutralise_cell(value, expected):
    assert dashboard.neutralise_cell(value) == expected


# Learner pages ------------------------------------------------------------


def test_record_page_shows_verdicts(ledger, login):
    text = (
        _english(login("counselor2"))
        .get(f"/people/{ledger.counselor2}/record")
        .get_data(as_text=True)
    )

    assert "规则yearly" in text
    assert "At risk" in text
    assert (
        "4 of 16 school-level hours in 2026; 12 missing by 2026-12-31." in text
    )


def test_my_learning_shows_verdicts_with_bounded_queries(ledger, login):
    counselor = _english(login("counselor1"))
    # The language change makes a session store in Redis read the user row
    # once more; the counts compare requests that both find its copy.
    counselor.get("/learning")
    with _queries() as before:
        text = counselor.get("/learning").get_data(as_text=True)

    assert "16 of 16 school-level hours in 2026; requirement met." in text
    assert '<span class="badge badge-ok">Met</span>' in text
    assert "规则pre-job" in text
    assert '<span class="badge badge-warn">Start date missing</span>' in text
    assert (
        "This rule cannot be checked because the post start date is not recorded. "
        "Ask your HR office to record the date you took up your post."
    ) in text
    assert "the person&#39;s profile page" not in text

    user = db.session.get(User, ledger.counselor)
    for day in range(1, 25):
        _hours(user, 1, date(2026, 6, day))
    db.session.commit()
    with _queries() as after:
        text = counselor.get("/learning").get_data(as_text=True)

    assert "40 of 16 school-level hours in 2026; requirement met." in text
    assert len(after) == len(before)


def test_dashboard_status_terms_in_chinese(ledger, login):
    page = login("hr").get("/compliance").get_data(as_text=True)

    assert "各院系达标情况：达标、有风险、未达标" in page
    assert ">达标<" in page
    assert ">有风险<" in page
    assert ">未达标<" in page
    assert "合规" not in page
    assert "存在风险" not in page


def test_drill_down_shows_a_past_year(ledger, login):
    hr = _english(login("hr"))
    url = f"/compliance/rules/{ledger.yearly}"

    text = hr.get(url, query_string={"year": "2025"}).get_data(as_text=True)

    assert "30 of 16 school-level hours in 2025; requirement met." in text
    assert "0 of 16 school-level hours in 2025" in text
    assert "4 of 16 school-level hours in 2026" not in text
    assert '<option value="2025" selected' in text


def test_csv_of_a_past_year_lists_who_missed(ledger, login):
    response = _english(login("hr")).get(
        f"/compliance/rules/{ledger.yearly}/export.csv",
        query_string={"year": "2025", "status": "missed"},
    )

    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["李老师"]
    assert rows[1][5] == "Missed"
    assert "2025" in response.headers["Content-Disposition"]


def test_drill_down_bad_year_shows_message(ledger, login):
    hr = _english(login("hr"))
    url = f"/compliance/rules/{ledger.yearly}"
    for value in ["abc", "2027", "1999", "99999999999999999999", "²⁰²⁶"]:
        response = hr.get(url, query_string={"year": value})
        text = response.get_data(as_text=True)
        assert response.status_code == 200, value
        assert "Year filter" in text, value
        assert "4 of 16 school-level hours in 2026" in text, value
