"""Search, filters and paging on the list of all promotion applications."""

import re
from datetime import datetime, timezone
from io import BytesIO

import pytest
from openpyxl import load_workbook

from lms.accounts.models import Role
from lms.extensions import db
from lms.promotion.models import ApplicationStatus, PromotionApplication, PromotionTrack
from tests.factories import make_department, make_institution, make_user
from tests.promotion.conftest import make_rule


def _apply(rule, person, status=ApplicationStatus.DEPARTMENT_REVIEW):
    closed = status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)
    db.session.add(
        PromotionApplication(
            rule_id=rule.id,
            applicant_id=person.id,
            institution_id=person.institution_id,
            department_id=person.department_id,
            track=PromotionTrack.PROFESSIONAL_TITLE,
            from_value="讲师",
            to_value="副教授",
            status=status,
            closed_at=datetime(2026, 6, 1, tzinfo=timezone.utc) if closed else None,
        )
    )


@pytest.fixture
def applications(app_ctx):
    """60 applications in two departments, 6 of them approved, and a rival's one."""
    institution = make_institution()
    education = make_department(institution, "edu", "教育学院")
    physics = make_department(institution, "phy", "物理学院")
    make_user(institution, "hr", Role.HR, full_name="钱人事")
    officer = make_user(institution, "hr-phy", Role.HR, full_name="孙人事")
    officer.hr_department_id = physics.id
    rule = make_rule(institution.id)
    for number in range(59):
        person = make_user(
            institution,
            f"c{number:03d}",
            full_name=f"辅导员{number:03d}",
            department=education if number % 2 == 0 else physics,
        )
        person.employee_no = f"E{number:05d}"
        approved = number % 10 == 1
        _apply(rule, person, ApplicationStatus.APPROVED if approved else ApplicationStatus.DEPARTMENT_REVIEW)
    _apply(rule, make_user(institution, "zhang", full_name="张晓明", department=education))
    rival = make_institution("uni-b", "另一所大学")
    _apply(make_rule(rival.id), make_user(rival, "zhou", full_name="张晓红"))
    db.session.commit()
    return {"education": education.id, "physics": physics.id}


def _english(session):
    session.post("/language/en")
    return session


def _all_section(page: str) -> str:
    return page[page.index('id="all-heading"') :]


def _applicants(page: str) -> list[str]:
    return re.findall(r'/promotions/applications/\d+">([^<]+)</a>', _all_section(page))


def test_applications_first_page_has_fifty(applications, login):
    page = _english(login("hr")).get("/promotions/review").get_data(as_text=True)

    assert len(_applicants(page)) == 50
    assert "60 applications" in page
    assert 'href="/promotions/review?page=2#all-heading"' in page


def test_applications_second_page_has_the_rest(applications, login):
    page = _english(login("hr")).get("/promotions/review?page=2").get_data(as_text=True)

    assert len(_applicants(page)) == 10


def test_applications_search_by_name_and_number(applications, login):
    hr = login("hr")

    by_name = hr.get("/promotions/review", query_string={"q": "张晓"})
    by_number = hr.get("/promotions/review", query_string={"q": "e00012"})
    by_username = hr.get("/promotions/review", query_string={"q": "C013"})

    assert _applicants(by_name.get_data(as_text=True)) == ["张晓明"]
    assert _applicants(by_number.get_data(as_text=True)) == ["辅导员012"]
    assert _applicants(by_username.get_data(as_text=True)) == ["辅导员013"]


def test_applications_filter_by_status_and_department(applications, login):
    hr = _english(login("hr"))

    approved = hr.get("/promotions/review?status=approved").get_data(as_text=True)
    education = hr.get(
        f"/promotions/review?department={applications['education']}"
    ).get_data(as_text=True)

    assert len(_applicants(approved)) == 6
    assert "6 applications" in approved
    assert "31 applications" in education


def test_applications_paging_keeps_filters(applications, login):
    hr = _english(login("hr"))

    page = hr.get("/promotions/review?status=department_review&q=%E8%BE%85")
    html = page.get_data(as_text=True)

    assert "53 applications" in html
    next_link = re.search(r'href="(/promotions/review\?[^"]*page=2[^"]*)"', html)
    assert "status=department_review" in next_link.group(1)
    assert "q=%E8%BE%85" in next_link.group(1)
    export_link = re.search(r'href="(/promotions/exports/applications.xlsx[^"]*)"', html)
    assert "status=department_review" in export_link.group(1)


@pytest.mark.parametrize("value", ["-1", "0", "abc", str(10**30), "²", "7"])
def test_applications_bad_page_redirects(applications, login, value):
    hr = _english(login("hr"))

    response = hr.get("/promotions/review", query_string={"page": value, "q": "辅"})

    assert response.status_code == 302, value
    assert "q=" in response.headers["Location"]
    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert "does not exist" in page


def test_applications_bad_filters_are_answered(applications, login):
    hr = _english(login("hr"))

    bad_status = hr.get("/promotions/review?status=lost")
    long_search = hr.get("/promotions/review", query_string={"q": "x" * 500})

    assert bad_status.status_code == 200
    assert "Status filter" in bad_status.get_data(as_text=True)
    assert long_search.status_code == 200
    assert "Search text is too long" in long_search.get_data(as_text=True)


def test_applications_stay_in_scope(applications, login):
    hr = login("hr").get("/promotions/review", query_string={"q": "张晓"})
    officer = _english(login("hr-phy")).get("/promotions/review").get_data(as_text=True)

    assert "张晓红" not in hr.get_data(as_text=True)
    assert "29 applications" in officer
    assert "辅导员000" not in officer


def test_applications_export_applies_filters(applications, login):
    response = login("hr").get("/promotions/exports/applications.xlsx?q=%E5%BC%A0")

    sheet = load_workbook(BytesIO(response.data)).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["张晓明"]
