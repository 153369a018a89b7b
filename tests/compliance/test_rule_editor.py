"""The compliance rules page and editor, through real logins for every role."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.audit import AuditEntry
from lms.compliance.engine import Status, evaluate_all, rules_for
from lms.compliance.models import ComplianceRule, WindowKind
from lms.compliance.report import population_report
from lms.compliance.seed import seed_rules
from lms.extensions import db
from lms.records.models import HoursEntry, TrainingTier
from tests.factories import make_department, make_institution, make_user


class World:
    pass


@pytest.fixture
def world(app_ctx):
    seed_rules()
    w = World()
    uni = make_institution("uni-a", "甲大学")
    other = make_institution("uni-b", "乙大学")
    department = make_department(uni, "edu", "教育学院")
    make_user(uni, "admin-a", Role.ADMIN)
    make_user(uni, "hr-a", Role.HR)
    dept_hr = make_user(uni, "hr-dept", Role.HR)
    dept_hr.hr_department_id = department.id
    make_user(uni, "trainer-a", Role.TRAINER)
    w.counselor = make_user(uni, "counselor-a", Role.COUNSELOR, department=department).id
    make_user(other, "admin-b", Role.ADMIN)
    make_user(other, "hr-b", Role.HR)
    w.other_counselor = make_user(other, "counselor-b", Role.COUNSELOR).id
    w.uni, w.other = uni.id, other.id
    w.national = _rule("counselor-school-yearly").id
    own = ComplianceRule(
        institution_id=other.id,
        code="b-own-rule",
        name="乙大学自定规则",
        roles=[Role.COUNSELOR],
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(10),
    )
    db.session.add(own)
    db.session.commit()
    w.other_rule = own.id
    return w


def _rule(code: str, institution_id=None) -> ComplianceRule:
    return db.session.scalar(
        sa.select(ComplianceRule).where(
            ComplianceRule.code == code,
            ComplianceRule.institution_id.is_(None)
            if institution_id is None
            else ComplianceRule.institution_id == institution_id,
        )
    )


def _form(**overrides) -> dict:
    """Valid form data of a yearly 20 学时 school-level counselor rule."""
    data = {
        "code": "school-yearly-20",
        "name": "本校辅导员每年校级培训不少于20学时",
        "source": "本校文件",
        "roles": ["counselor"],
        "window_kind": "calendar_year",
        "min_hours": "20",
        "tiers": ["school"],
        "new_to_post_months": "12",
        "at_risk_days": "60",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id))
    )


def _count_rules() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ComplianceRule))


# Rules page


def test_rules_page_lists_national_and_own(world, login):
    page = login("hr-a").get("/compliance/rules")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert 'data-code="counselor-school-yearly"' in html
    assert 'data-code="cadre-section-yearly"' in html
    assert "b-own-rule" not in html
    assert "Add a rule" in html or "添加规则" in html
    assert f"/compliance/rules/{world.national}/adapt" in html


def test_rules_page_read_only_for_department_hr(world, login):
    page = login("hr-dept").get("/compliance/rules")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "/compliance/rules/new" not in html
    assert "/adapt" not in html


@pytest.mark.parametrize("username", ["counselor-a", "trainer-a"])
def test_rules_page_forbidden_to_learners_and_trainers(world, login, username):
    assert login(username).get("/compliance/rules").status_code == 403


# Create


def test_admin_creates_rule_with_audit(world, login):
    response = login("admin-a").post("/compliance/rules/new", _form())

    assert response.status_code == 302
    rule = _rule("school-yearly-20", world.uni)
    assert rule.min_hours == Decimal(20)
    assert rule.tiers == ["school"]
    assert rule.active
    assert [entry.subject_id for entry in _audit("compliance_rule.created")] == [rule.id]
    assert rule in rules_for(world.uni)
    assert rule not in rules_for(world.other)


def test_institution_hr_creates_rule(world, login):
    response = login("hr-a").post("/compliance/rules/new", _form())

    assert response.status_code == 302
    assert _rule("school-yearly-20", world.uni) is not None


def test_department_hr_cannot_create(world, login):
    before = _count_rules()

    response = login("hr-dept").post("/compliance/rules/new", _form())

    assert response.status_code == 403
    assert _count_rules() == before


def test_create_without_csrf_is_rejected(world, login):
    before = _count_rules()
    session = login("admin-a")

    response = session.client.post("/compliance/rules/new", data=_form())

    assert response.status_code == 400
    assert _count_rules() == before


INVALID = [
    ({"min_hours": "0"}, "min_hours", "0.1"),
    ({"min_hours": "-5"}, "min_hours", "0.1"),
    ({"min_hours": "abc"}, "min_hours", "Enter a number"),
    ({"min_hours": "7.25"}, "min_hours", "one decimal place"),
    ({"min_hours": "NaN"}, "min_hours", "Enter a number"),
    ({"min_hours": "1e400"}, "min_hours", "0.1 to 99999.9"),
    ({"min_days": "1e400", "hours_per_day": "8"}, "min_days", "0.1 to"),
    ({"min_days": "12", "hours_per_day": "1e400"}, "hours_per_day", "0.1 to 24"),
    ({"min_hours": None}, "min_count", "Enter a minimum number of trainings"),
    ({"min_count": "2"}, "min_count", "one minimum"),
    ({"min_days": "12"}, "hours_per_day", "how many hours a training day"),
    ({"hours_per_day": "8"}, "hours_per_day", "Only a minimum of training days"),
    ({"min_days": "12", "hours_per_day": "30"}, "hours_per_day", "0.1 to 24"),
    (
        {"min_hours": None, "min_count": "1", "min_days": "2", "hours_per_day": "8"},
        "min_days",
        "Training days only count towards a minimum of hours",
    ),
    ({"window_kind": "rolling_years"}, "window_years", "number of years"),
    ({"window_years": "5"}, "window_years", "Only a rolling window"),
    ({"window_kind": "before_post"}, "window_months", "how many months before"),
    ({"window_months": "6"}, "window_months", "Only a window counted from the post start date, or rolling"),
    ({"window_kind": "weekly"}, "window_kind", "“weekly” is not one of the listed options"),
    (
        {"window_kind": "rolling_years_after_rank", "window_years": "5"},
        "window_months",
        "how many months after reaching the rank",
    ),
    (
        {"window_kind": "rolling_years_after_rank", "window_months": "12"},
        "window_years",
        "number of years",
    ),
    (
        {"window_kind": "probation", "window_months": "12"},
        "window_months",
        "Only a window counted from the post start date, or rolling",
    ),
    ({"window_kind": "first_member_year", "window_years": "1"}, "window_years", "Only a rolling window"),
    ({"roles": None}, "roles", "Tick at least one role"),
    ({"roles": ["pilot"]}, "roles", "Roles: “pilot” is not among the listed options"),
    (
        {"kinds": ["thematic", "online"], "excluded_kinds": ["online"]},
        "excluded_kinds",
        "cannot both count and never count",
    ),
    ({"code": ""}, "code", "Enter a code"),
    ({"code": "Bad Code"}, "code", "lower-case letters"),
    ({"code": "counselor-school-yearly"}, "code", "code of a national rule"),
    ({"name": ""}, "name", "This field is required"),
    ({"at_risk_days": "-1"}, "at_risk_days", "0"),
    ({"new_to_post_months": "0"}, "new_to_post_months", "1"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"), INVALID, ids=[case[1] + str(i) for i, case in enumerate(INVALID)]
)
def test_create_rejects_invalid_field(world, login, english, overrides, field, message):
    before = _count_rules()

    response = login("admin-a").post("/compliance/rules/new", _form(**overrides))
    html = response.get_data(as_text=True)

    assert response.status_code == 400
    assert _count_rules() == before
    assert f'href="#{field}"' in html, f"error summary does not link {field}"
    assert message.lower() in html.lower()
    assert _audit("compliance_rule.created") == []


def test_create_rejects_code_used_by_retired_rule(world, login, english):
    admin = login("admin-a")
    admin.post("/compliance/rules/new", _form())
    rule = _rule("school-yearly-20", world.uni)
    admin.post(f"/compliance/rules/{rule.id}/retire", {"reason": "改用新规则"})

    response = admin.post("/compliance/rules/new", _form(name="另一条"))

    assert response.status_code == 400
    assert "already used by another rule" in response.get_data(as_text=True)


def test_same_code_allowed_in_other_institution(world, login):
    login("admin-b").post("/compliance/rules/new", _form())

    response = login("admin-a").post("/compliance/rules/new", _form())

    assert response.status_code == 302
    assert _rule("school-yearly-20", world.uni) is not None
    assert _rule("school-yearly-20", world.other) is not None


def test_days_minimum_saved_with_hours_per_day(world, login):
    response = login("admin-a").post(
        "/compliance/rules/new", _form(min_hours="90", min_days="12", hours_per_day="7.5")
    )

    assert response.status_code == 302
    rule = _rule("school-yearly-20", world.uni)
    assert rule.min_days == Decimal(12)
    assert rule.hours_per_day == Decimal("7.5")
    assert rule.required == Decimal(90)


# Edit


def _create(login, username="admin-a", **overrides) -> ComplianceRule:
    response = login(username).post("/compliance/rules/new", _form(**overrides))
    assert response.status_code == 302
    return _rule(overrides.get("code", "school-yearly-20"), world_institution(username))


def world_institution(username: str) -> int:
    from lms.accounts.models import User

    return db.session.scalar(sa.select(User.institution_id).filter_by(username=username))


def test_edit_form_shows_values(world, login):
    rule = _create(login)

    page = login("hr-a").get(f"/compliance/rules/{rule.id}/edit")

    assert page.status_code == 200
    assert 'value="20"' in page.get_data(as_text=True)


def test_edit_changes_rule_and_audits_changes(world, login):
    rule = _create(login)

    response = login("hr-a").post(
        f"/compliance/rules/{rule.id}/edit", _form(min_hours="24", code=None)
    )

    assert response.status_code == 302
    db.session.refresh(rule)
    assert rule.min_hours == Decimal(24)
    entries = _audit("compliance_rule.updated")
    assert len(entries) == 1
    assert entries[0].data["changes"] == {"min_hours": {"from": "20", "to": "24"}}


def test_edit_without_change_records_nothing(world, login):
    rule = _create(login)

    login("admin-a").post(f"/compliance/rules/{rule.id}/edit", _form(code=None))

    assert _audit("compliance_rule.updated") == []


def test_invalid_edit_saves_nothing(world, login, english):
    rule = _create(login)

    response = login("admin-a").post(
        f"/compliance/rules/{rule.id}/edit",
        _form(min_hours="0", name="改名", code=None),
    )

    assert response.status_code == 400
    db.session.refresh(rule)
    assert rule.min_hours == Decimal(20)
    assert rule.name == "本校辅导员每年校级培训不少于20学时"


def test_edit_scope(world, login):
    rule = _create(login)
    url = f"/compliance/rules/{rule.id}/edit"

    assert login("hr-dept").get(url).status_code == 403
    assert login("hr-dept").post(url, _form(min_hours="1", code=None)).status_code == 403
    assert login("hr-b").get(url).status_code == 404
    assert login("admin-b").post(url, _form(min_hours="1", code=None)).status_code == 404
    assert login("counselor-a").get(url).status_code == 403
    db.session.refresh(rule)
    assert rule.min_hours == Decimal(20)


def test_national_rule_cannot_be_edited(world, login):
    url = f"/compliance/rules/{world.national}/edit"

    assert login("admin-a").get(url).status_code == 404
    response = login("admin-a").post(url, _form(min_hours="1", code=None))

    assert response.status_code == 404
    assert _rule("counselor-school-yearly").min_hours == Decimal(16)


def test_other_institution_rule_invisible(world, login):
    page = login("admin-a").get("/compliance/rules").get_data(as_text=True)

    assert "乙大学自定规则" not in page
    url = f"/compliance/rules/{world.other_rule}/retire"
    assert login("admin-a").post(url, {"reason": "x"}).status_code == 404
    assert db.session.get(ComplianceRule, world.other_rule).active


# Retire and restore


def test_retire_stops_rule_and_keeps_it(world, login):
    rule = _create(login)
    admin = login("admin-a")

    assert admin.get(f"/compliance/rules/{rule.id}/retire").status_code == 200
    response = admin.post(f"/compliance/rules/{rule.id}/retire", {"reason": "并入新规则"})

    assert response.status_code == 302
    db.session.refresh(rule)
    assert not rule.active
    assert rule not in rules_for(world.uni)
    assert [e.data["reason"] for e in _audit("compliance_rule.retired")] == ["并入新规则"]
    page = admin.get("/compliance/rules").get_data(as_text=True)
    assert 'data-code="school-yearly-20"' in page
    assert f"/compliance/rules/{rule.id}/restore" in page
    assert admin.get(f"/compliance/rules/{rule.id}/edit").status_code == 302


def test_retire_needs_reason(world, login, english):
    rule = _create(login)

    response = login("admin-a").post(f"/compliance/rules/{rule.id}/retire", {"reason": " "})

    assert response.status_code == 400
    assert "Reason for retiring" in response.get_data(as_text=True)
    db.session.refresh(rule)
    assert rule.active


def test_department_hr_cannot_retire(world, login):
    rule = _create(login)

    response = login("hr-dept").post(f"/compliance/rules/{rule.id}/retire", {"reason": "x"})

    assert response.status_code == 403
    db.session.refresh(rule)
    assert rule.active


def test_restore_applies_rule_again(world, login):
    rule = _create(login)
    admin = login("admin-a")
    admin.post(f"/compliance/rules/{rule.id}/retire", {"reason": "暂停"})

    response = admin.post(f"/compliance/rules/{rule.id}/restore")

    assert response.status_code == 302
    db.session.refresh(rule)
    assert rule.active
    assert len(_audit("compliance_rule.restored")) == 1
    again = admin.post(f"/compliance/rules/{rule.id}/restore", follow_redirects=True)
    assert again.status_code == 200
    assert "此规则未停用。" in again.get_data(as_text=True)
    assert len(_audit("compliance_rule.restored")) == 1


# Adapt


def _adapt(login, username="admin-a", **overrides):
    national = db.session.get(ComplianceRule, _rule("counselor-school-yearly").id)
    values = {
        "code": None,
        "name": "本校辅导员每年校级培训不少于24学时",
        "min_hours": "24",
        "excluded_kinds": ["pre_job"],
    }
    data = _form(**{**values, **overrides})
    return national, login(username).post(f"/compliance/rules/{national.id}/adapt", data)


def test_adapt_form_prefilled_from_national(world, login):
    page = login("hr-a").get(f"/compliance/rules/{world.national}/adapt")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert 'value="16"' in html
    assert 'name="code"' not in html


def test_adapt_replaces_national_rule_in_institution_only(world, login):
    national, response = _adapt(login)

    assert response.status_code == 302
    copy = _rule("counselor-school-yearly", world.uni)
    assert copy.min_hours == Decimal(24)
    assert copy in rules_for(world.uni)
    assert national not in rules_for(world.uni)
    assert national in rules_for(world.other)
    db.session.refresh(national)
    assert national.min_hours == Decimal(16)
    entries = _audit("compliance_rule.adapted")
    assert [e.data["national_rule_id"] for e in entries] == [national.id]


def test_adapt_twice_goes_to_edit(world, login):
    _adapt(login)
    copy = _rule("counselor-school-yearly", world.uni)

    response = login("admin-a").get(f"/compliance/rules/{world.national}/adapt")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/compliance/rules/{copy.id}/edit")


def test_adapt_invalid_saves_nothing(world, login):
    before = _count_rules()

    _national, response = _adapt(login, min_count="1")

    assert response.status_code == 400
    assert _count_rules() == before


def test_department_hr_cannot_adapt(world, login):
    before = _count_rules()

    _national, response = _adapt(login, username="hr-dept")

    assert response.status_code == 403
    assert _count_rules() == before


def test_adapt_of_institution_rule_is_not_found(world, login):
    url = f"/compliance/rules/{world.other_rule}/adapt"

    assert login("admin-b").get(url).status_code == 404


def test_retired_adaptation_puts_national_back(world, login):
    national, _response = _adapt(login)
    copy = _rule("counselor-school-yearly", world.uni)

    login("admin-a").post(f"/compliance/rules/{copy.id}/retire", {"reason": "恢复国家规则"})

    assert national in rules_for(world.uni)
    assert copy not in rules_for(world.uni)


def _hours(user_id: int, hours: str, on: date, tier=TrainingTier.SCHOOL, source_id=1):
    db.session.add(
        HoursEntry(
            user_id=user_id, source_type="test", source_id=source_id, title="培训",
            occurred_on=on, year=on.year, tier=tier, kind=None, hours=Decimal(hours),
        )
    )


def test_adapted_rule_engine_and_report_agree(world, login):
    """Report and engine give the same counts per rule once a rule is adapted."""
    from lms.accounts.models import User
    from lms.organisations.models import Institution

    _adapt(login, min_hours="20")
    uni = db.session.get(Institution, world.uni)
    other = db.session.get(Institution, world.other)
    for number, hours in enumerate(["18", "20", "0", "30"]):
        person = make_user(uni, f"ca{number}", Role.COUNSELOR)
        _hours(person.id, hours, date(2026, 5, 1), source_id=number + 10)
        twin = make_user(other, f"cb{number}", Role.COUNSELOR)
        _hours(twin.id, hours, date(2026, 5, 1), source_id=number + 20)
    db.session.commit()
    today = date(2026, 11, 15)

    reports = {r.rule.id: r for r in population_report([world.uni, world.other], today)}
    engine = {}
    from lms.compliance.engine import evaluate_institution

    for institution in (uni, other):
        for rule in rules_for(institution.id):
            for verdict in evaluate_institution(institution, rule, today):
                key = (institution.id, verdict.person.department_id)
                counts = engine.setdefault(rule.id, {}).setdefault(key, {})
                counts[verdict.status] = counts.get(verdict.status, 0) + 1

    assert set(reports) == set(engine)
    for rule_id, report in reports.items():
        units = {
            unit: {status: n for status, n in counts.items() if n}
            for unit, counts in report.units.items()
        }
        assert units == engine[rule_id], report.rule.code
    copy = _rule("counselor-school-yearly", world.uni)
    national = _rule("counselor-school-yearly")
    # The adapted minimum of 20 学时 is met by 20 and 30, the national 16 by
    # 18, 20 and 30.
    assert reports[copy.id].totals[Status.MET] == 2
    assert reports[national.id].totals[Status.MET] == 3
    assert {unit[0] for unit in reports[national.id].units} == {world.other}

    counselor = db.session.get(User, world.counselor)
    codes = [verdict.rule.id for verdict in evaluate_all(counselor, today)]
    assert copy.id in codes
    assert national.id not in codes


# In force from


def _adapted(world, in_force_from) -> ComplianceRule:
    national = db.session.get(ComplianceRule, world.national)
    rule = ComplianceRule(
        institution_id=world.uni,
        code=national.code,
        name="本校每年校级培训不少于24学时",
        roles=[Role.COUNSELOR],
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(24),
        tiers=[TrainingTier.SCHOOL],
        in_force_from=in_force_from,
    )
    db.session.add(rule)
    db.session.flush()
    return rule


def test_past_year_judged_by_national_rule(world):
    adapted = _adapted(world, date(2026, 12, 1))

    by_code_2025 = {rule.code: rule.id for rule in rules_for(world.uni, 2025)}
    by_code_2026 = {rule.code: rule.id for rule in rules_for(world.uni, 2026)}
    by_code_now = {rule.code: rule.id for rule in rules_for(world.uni)}

    assert by_code_2025["counselor-school-yearly"] == world.national
    assert by_code_2026["counselor-school-yearly"] == adapted.id
    assert by_code_now["counselor-school-yearly"] == adapted.id


def test_new_rule_skips_years_before_it(world):
    rule = ComplianceRule(
        institution_id=world.uni,
        code="school-yearly-20",
        name="本校辅导员每年校级培训不少于20学时",
        roles=[Role.COUNSELOR],
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(20),
        in_force_from=date(2026, 12, 1),
    )
    db.session.add(rule)
    db.session.flush()

    assert "school-yearly-20" not in {r.code for r in rules_for(world.uni, 2025)}
    assert "school-yearly-20" in {r.code for r in rules_for(world.uni, 2026)}


def test_rule_without_date_judges_every_year(world):
    adapted = _adapted(world, None)

    by_code = {rule.code: rule.id for rule in rules_for(world.uni, 2020)}

    assert by_code["counselor-school-yearly"] == adapted.id


def test_new_rule_form_starts_today(world, login):
    from lms.compliance.windows import local_today
    from lms.organisations.models import Institution

    today = local_today(db.session.get(Institution, world.uni))

    page = login("admin-a").get("/compliance/rules/new").get_data(as_text=True)

    assert f'name="in_force_from" type="date" value="{today.isoformat()}"' in page


def test_in_force_from_ahead_rejected(world, login, english):
    from datetime import timedelta

    from lms.compliance.windows import local_today
    from lms.organisations.models import Institution

    ahead = local_today(db.session.get(Institution, world.uni)) + timedelta(days=3)
    before = _count_rules()

    response = login("admin-a").post(
        "/compliance/rules/new", data=_form(in_force_from=ahead.isoformat())
    )

    assert response.status_code == 400
    assert f"{ahead.isoformat()} is after today" in response.get_data(as_text=True)
    assert _count_rules() == before


def test_in_force_from_saved_and_audited(world, login):
    response = login("admin-a").post(
        "/compliance/rules/new", data=_form(in_force_from="2025-09-01")
    )

    assert response.status_code == 302
    rule = _rule("school-yearly-20", world.uni)
    assert rule.in_force_from == date(2025, 9, 1)
    (entry,) = _audit("compliance_rule.created")
    assert entry.data["in_force_from"] == "2025-09-01"


def test_rules_page_shows_in_force_date(world, login, english):
    _adapted(world, date(2026, 12, 1))
    db.session.commit()

    page = login("hr-a").get("/compliance/rules").get_data(as_text=True)

    assert "In force from 2026-12-01" in page


# Windows counted from Party and rank dates


@pytest.mark.parametrize(
    ("overrides", "kind"),
    [
        ({"window_kind": "probation"}, WindowKind.PROBATION),
        ({"window_kind": "first_member_year"}, WindowKind.FIRST_MEMBER_YEAR),
        (
            {
                "window_kind": "rolling_years_after_rank",
                "window_years": "5",
                "window_months": "12",
            },
            WindowKind.ROLLING_YEARS_AFTER_RANK,
        ),
    ],
)
def test_creates_rule_with_date_window(world, login, overrides, kind):
    response = login("hr-a").post("/compliance/rules/new", _form(**overrides))

    assert response.status_code == 302
    rule = _rule("school-yearly-20", world.uni)
    assert rule.window_kind is kind
    [entry] = _audit("compliance_rule.created")
    assert entry.data["window_kind"] == kind.value


def test_rules_page_describes_date_windows(world, login, english):
    html = login("hr-a").get("/compliance/rules").get_data(as_text=True)

    assert 'data-code="party-probationary-training"' in html
    assert 'data-code="party-new-member-training"' in html
    assert "The first year as a full Party member" in html
    assert "a cadre who reached the rank in them and is short has 12 months" in html


def test_adapt_division_rule_keeps_rank_months(world, login):
    national = _rule("cadre-division-5y")
    page = login("hr-a").get(f"/compliance/rules/{national.id}/adapt")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<option selected value="rolling_years_after_rank">' in html
    assert 'name="window_months" type="number" value="12"' in html


def _postgres_only():
    if db.engine.dialect.name != "postgresql":
        # SQLite makes the other request wait for this one's write lock.
        pytest.skip("needs PostgreSQL: set LMS_TEST_DATABASE_URL")


def _commit_elsewhere(app, institution_id: int, code: str) -> None:
    """Commit a rule of ``code`` from another session, as a parallel request would."""
    with app.app_context():
        db.session.add(
            ComplianceRule(
                institution_id=institution_id,
                code=code,
                name="并行请求保存的规则",
                roles=[Role.COUNSELOR],
                window_kind=WindowKind.CALENDAR_YEAR,
                min_hours=Decimal(20),
            )
        )
        db.session.commit()


def test_create_sent_twice_at_once(app, world, login, english, monkeypatch):
    _postgres_only()
    from lms.compliance import rule_admin

    create_rule = rule_admin.create_rule

    def create_after_other(institution_id, code, values, actor):
        _commit_elsewhere(app, institution_id, code)
        return create_rule(institution_id, code, values, actor)

    monkeypatch.setattr(rule_admin, "create_rule", create_after_other)
    response = login("admin-a").post("/compliance/rules/new", _form())

    assert response.status_code == 400
    assert "already used by another rule" in response.get_data(as_text=True)


def test_adapt_sent_twice_at_once(app, world, login, monkeypatch):
    _postgres_only()
    from lms.compliance import rule_admin

    adapt_rule = rule_admin.adapt_rule

    def adapt_after_other(national, institution_id, values, actor):
        _commit_elsewhere(app, institution_id, national.code)
        return adapt_rule(national, institution_id, values, actor)

    monkeypatch.setattr(rule_admin, "adapt_rule", adapt_after_other)
    national, response = _adapt(login)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/compliance/rules/{national.id}/adapt")
    copy = _rule("counselor-school-yearly", world.uni)
    again = login("admin-a").get(response.headers["Location"])
    assert again.headers["Location"].endswith(f"/compliance/rules/{copy.id}/edit")
