"""Recorded review decisions read as done on the application page and in the XLSX list."""

import io
from datetime import date

import openpyxl
import pytest

from lms.extensions import db
from tests.promotion.conftest import add_grade, make_rule, set_title

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def returned(world, login):
    """Return the URL of an application that department HR approved and HR returned."""
    set_title(world.counselor, "lecturer", date(2022, 9, 1))
    for year in (2024, 2025, 2026):
        add_grade(world.counselor, year, "competent")
    rule = make_rule(world.uni.id, min_years=1, assessment_years=3, min_grade="competent")
    db.session.commit()
    response = login("counselor1").post(
        f"/promotions/apply/{rule.id}", {"statement": "主持校级课题一项"}
    )
    url = response.headers["Location"]
    assert login("dept_hr").post(f"{url}/decide", {"outcome": "approve"}).status_code == 302
    decided = login("hr").post(f"{url}/decide", {"outcome": "return", "comment": "请补充材料"})
    assert decided.status_code == 302
    return url


def test_decision_history_uses_past_tense(returned, login):
    page = login("hr").get(returned).get_data(as_text=True)

    assert "<strong>Approved</strong>" in page
    assert "<strong>Returned for changes</strong>" in page
    assert "<strong>Approve</strong>" not in page
    assert "<strong>Return for changes</strong>" not in page


def test_application_export_uses_past_tense(returned, login):
    response = login("hr").get("/promotions/exports/applications.xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header, row = [cell.value for cell in sheet[1]], [cell.value for cell in sheet[2]]
    assert row[header.index("Last decision")] == "Returned for changes"
