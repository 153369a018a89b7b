"""Search, filters and pages on the list of the people a compliance rule covers."""

import csv
import io
import re
from datetime import date

import pytest

from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Department, Institution
from tests.compliance.test_dashboard import TODAY, _hours, _rule
from tests.factories import build_learning_world, make_user


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr("lms.compliance.windows.now_utc", lambda: TODAY)


@pytest.fixture
def crowd(app_ctx):
    """70 more counselors: 35 in each department, every third one met the rule.

    Rule ``yearly`` requires 16 school-level hours in 2026. With 46 days left of
    the year, everyone short of them is at risk.
    """
    world = build_learning_world()
    uni_a = db.session.get(Institution, world.uni_a)
    school = db.session.get(Department, world.school)
    physics = db.session.get(Department, world.physics)
    for number in range(70):
        person = make_user(
            uni_a,
            f"c{number:03d}",
            full_name=f"辅导员{number:03d}",
            department=school if number % 2 == 0 else physics,
        )
        person.employee_no = f"E{number:05d}"
        if number % 3 == 0:
            _hours(person, 16, date(2026, 4, 1))
    dean = make_user(uni_a, "hr-phy", Role.HR, full_name="物理人事")
    dean.hr_department_id = physics.id
    world.yearly = _rule(world.uni_a, "yearly").id
    db.session.commit()
    return world


def _english(session):
    session.post("/language/en")
    return session


def _names(page: str) -> list[str]:
    return re.findall(r'/people/\d+/record">([^<]+)</a>', page)


def test_first_page_has_fifty_and_the_total(crowd, login):
    hr = _english(login("hr"))

    page = hr.get(f"/compliance/rules/{crowd.yearly}").get_data(as_text=True)

    # 72 counselors and 5 other accounts of the institution.
    assert len(_names(page)) == 50
    assert "77 people" in page
    next_link = re.search(r'href="([^"]*)" rel="next"', page).group(1)
    assert next_link == f"/compliance/rules/{crowd.yearly}?year=2026&amp;page=2"


def test_second_page_has_the_rest(crowd, login):
    page = (
        _english(login("hr"))
        .get(f"/compliance/rules/{crowd.yearly}?page=2")
        .get_data(as_text=True)
    )

    assert len(_names(page)) == 27


def test_search_by_name_and_employee_number(crowd, login):
    hr = login("hr")
    url = f"/compliance/rules/{crowd.yearly}"

    by_name = hr.get(url, query_string={"q": "张老"}).get_data(as_text=True)
    by_number = hr.get(url, query_string={"q": "e00012"}).get_data(as_text=True)

    assert _names(by_name) == ["张老师"]
    assert _names(by_number) == ["辅导员012"]


def test_filters_count_the_whole_list(crowd, login):
    hr = _english(login("hr"))
    url = f"/compliance/rules/{crowd.yearly}"

    met = hr.get(url, query_string={"status": "met"}).get_data(as_text=True)
    at_risk = hr.get(
        url, query_string={"status": "at_risk", "department": crowd.physics}
    ).get_data(as_text=True)

    # 24 of the 70 met; 23 of the 35 in physics and 李老师 are at risk.
    assert "24 people" in met
    assert len(_names(met)) == 24
    assert "24 people" in at_risk


def test_paging_keeps_filters(crowd, login):
    hr = _english(login("hr"))

    html = hr.get(
        f"/compliance/rules/{crowd.yearly}", query_string={"q": "辅导员", "status": "at_risk"}
    ).get_data(as_text=True)

    assert "46 people" in html
    export = re.search(r'href="(/compliance/rules/\d+/export.csv[^"]*)"', html).group(1)
    assert "q=%E8%BE%85%E5%AF%BC%E5%91%98" in export
    assert "status=at_risk" in export


def test_export_honours_search_and_filters(crowd, login):
    response = login("hr").get(
        f"/compliance/rules/{crowd.yearly}/export.csv",
        query_string={"q": "辅导员", "status": "met", "department": crowd.school},
    )

    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    names = [row[0] for row in rows[1:]]
    assert len(names) == 12
    assert all(name.startswith("辅导员") for name in names)
    assert "张老师" not in names


@pytest.mark.parametrize("value", ["-1", "0", "abc", str(10**30), "9"])
def test_bad_page_redirects_with_filters(crowd, login, value):
    hr = _english(login("hr"))

    response = hr.get(
        f"/compliance/rules/{crowd.yearly}", query_string={"page": value, "q": "辅"}
    )

    assert response.status_code == 302, value
    assert "q=" in response.headers["Location"]
    assert "does not exist" in hr.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_long_search_is_ignored_with_a_message(crowd, login):
    response = _english(login("hr")).get(
        f"/compliance/rules/{crowd.yearly}", query_string={"q": "x" * 500}
    )

    assert response.status_code == 200
    assert "Search text is too long" in response.get_data(as_text=True)


def test_department_hr_sees_their_department(crowd, login):
    page = (
        _english(login("hr-phy"))
        .get(f"/compliance/rules/{crowd.yearly}", query_string={"q": "辅导员"})
        .get_data(as_text=True)
    )

    assert "35 people" in page
    assert "辅导员000" not in page
