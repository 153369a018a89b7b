"""Search, filters and paging on the HR people list, through real logins."""

import re

import pytest

from lms.accounts.models import Role
from lms.extensions import db
from tests.factories import make_department, make_institution, make_user


@pytest.fixture
def crowd(app_ctx):
    """One institution with 120 counselors in two departments, and a rival one."""
    institution = make_institution()
    education = make_department(institution, "edu", "教育学院")
    physics = make_department(institution, "phy", "物理学院")
    make_user(institution, "hr", Role.HR, full_name="钱人事")
    officer = make_user(institution, "hr-phy", Role.HR, full_name="孙人事")
    officer.hr_department_id = physics.id
    make_user(institution, "admin", Role.ADMIN, full_name="管理员")
    for number in range(120):
        department = education if number % 2 == 0 else physics
        person = make_user(
            institution,
            f"c{number:03d}",
            full_name=f"辅导员{number:03d}",
            department=department,
        )
        person.employee_no = f"E{number:05d}"
        person.active = number % 10 != 0
    make_user(institution, "zhang", full_name="张晓明", department=education)
    make_user(
        institution, "trainer", Role.TRAINER, full_name="赵培训师", department=physics
    )
    rival = make_institution("uni-b", "另一所大学")
    make_user(rival, "zhou", full_name="张晓红")
    db.session.commit()
    return {"education": education.id, "physics": physics.id}


def _english(session):
    session.post("/language/en")
    return session


def _names(page: str) -> list[str]:
    return re.findall(r"<tr>\s*<td>([^<]+)", page)


def test_people_first_page_has_fifty_rows(crowd, login):
    page = _english(login("hr")).get("/people").get_data(as_text=True)

    assert len(_names(page)) == 50
    assert "125 people" in page
    assert "Page 1 of 3" in page
    assert 'href="/people?page=2"' in page


def test_people_last_page_has_the_rest(crowd, login):
    page = _english(login("hr")).get("/people?page=3").get_data(as_text=True)

    assert len(_names(page)) == 25
    assert "Page 3 of 3" in page


def test_people_search_by_chinese_name(crowd, login):
    page = login("hr").get("/people", query_string={"q": "张晓"}).get_data(as_text=True)

    assert _names(page) == ["张晓明"]


def test_people_search_by_username_and_employee_no(crowd, login):
    hr = login("hr")

    by_username = hr.get("/people", query_string={"q": "C007"}).get_data(as_text=True)
    by_number = hr.get("/people", query_string={"q": "e00011"}).get_data(as_text=True)

    assert _names(by_username) == ["辅导员007"]
    assert _names(by_number) == ["辅导员011"]


def test_people_search_full_width(crowd, login):
    """A Chinese input method in full-width mode types "Ｅ００１１"."""
    page = login("hr").get("/people", query_string={"q": "ｅ０００１１"}).get_data(as_text=True)

    assert _names(page) == ["辅导员011"]


def test_people_search_treats_wildcards_literally(crowd, login):
    page = login("hr").get("/people", query_string={"q": "%"}).get_data(as_text=True)

    assert _names(page) == []


def test_people_filters_by_role_and_status(crowd, login):
    hr = _english(login("hr"))

    trainers = hr.get("/people?role=trainer").get_data(as_text=True)
    inactive = hr.get("/people?status=inactive").get_data(as_text=True)

    assert _names(trainers) == ["赵培训师"]
    assert len(_names(inactive)) == 12
    assert "12 people" in inactive


def test_people_paging_keeps_filters(crowd, login):
    hr = _english(login("hr"))
    url = f"/people?department={crowd['physics']}&status=active&q=%E8%BE%85"

    page = hr.get(url).get_data(as_text=True)

    assert "60 people" in page
    next_link = re.search(r'href="(/people\?[^"]*page=2[^"]*)"', page).group(1)
    assert f"department={crowd['physics']}" in next_link
    assert "status=active" in next_link
    assert "q=%E8%BE%85" in next_link
    export_link = re.search(r'href="(/promotions/exports/people.xlsx[^"]*)"', page)
    assert "status=active" in export_link.group(1)
    assert "q=%E8%BE%85" in export_link.group(1)


@pytest.mark.parametrize("value", ["-1", "0", "abc", str(10**30), "²", "1.5"])
def test_people_bad_page_goes_to_first(crowd, login, value):
    hr = _english(login("hr"))

    response = hr.get("/people", query_string={"page": value, "status": "inactive"})

    assert response.status_code == 302, value
    assert response.headers["Location"] == "/people?status=inactive"
    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert "does not exist" in page
    assert "12 people" in page


def test_people_empty_page_number_is_first(crowd, login):
    response = _english(login("hr")).get("/people?page=")

    assert response.status_code == 200
    assert "Page 1 of 3" in response.get_data(as_text=True)


def test_people_page_past_the_end_goes_to_last(crowd, login):
    hr = _english(login("hr"))

    response = hr.get("/people?page=9")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/people?page=3")


def test_people_bad_filters_are_answered(crowd, login):
    hr = _english(login("hr"))

    long_search = hr.get("/people", query_string={"q": "张" * 300})
    bad_role = hr.get("/people?role=pope")
    bad_status = hr.get("/people?status=asleep")
    nul = hr.get("/people", query_string={"q": "a\x00b"})

    assert long_search.status_code == 200
    assert "Search text is too long" in long_search.get_data(as_text=True)
    assert bad_role.status_code == 200
    assert "Role filter" in bad_role.get_data(as_text=True)
    assert bad_status.status_code == 200
    assert "Status filter" in bad_status.get_data(as_text=True)
    assert nul.status_code == 200


def test_people_search_stays_in_institution(crowd, login):
    page = login("hr").get("/people", query_string={"q": "张晓"}).get_data(as_text=True)

    assert "张晓红" not in page


def test_people_department_officer_sees_own_department(crowd, login):
    officer = _english(login("hr-phy"))

    page = officer.get("/people").get_data(as_text=True)
    searched = officer.get("/people", query_string={"q": "张晓"}).get_data(as_text=True)

    other = officer.get(f"/people?department={crowd['education']}&page=2")
    other_page = other.get_data(as_text=True)

    assert "61 people" in page
    assert "辅导员000" not in page
    assert _names(searched) == []
    assert other.status_code == 200
    assert "Department filter" in other_page
    assert "61 people" in other_page
    assert f"department={crowd['education']}" not in other_page


def test_people_export_applies_filters(crowd, login):
    from io import BytesIO

    from openpyxl import load_workbook

    response = login("hr").get("/promotions/exports/people.xlsx?role=trainer")

    sheet = load_workbook(BytesIO(response.data)).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["赵培训师"]
