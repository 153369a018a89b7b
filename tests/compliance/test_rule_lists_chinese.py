"""The rules page lists roles, posts, ranks, tiers and kinds with 、 in Chinese."""

import pytest

from lms.accounts.models import Role
from lms.compliance.seed import seed_rules
from lms.extensions import db
from tests.factories import make_institution, make_user


@pytest.fixture
def hr(app_ctx, login):
    seed_rules()
    uni = make_institution("uni-a", "甲大学")
    make_user(uni, "hr-a", Role.HR)
    db.session.commit()
    return login("hr-a")


def test_rule_lists_joined_chinese(hr):
    """Chinese lists on the rules page use the enumeration comma."""
    page = hr.get("/compliance/rules").get_data(as_text=True)

    assert "辅导员、党务工作者" in page
    assert "副处级、正处级、副厅级、正厅级" in page
    assert "岗前培训、示范培训、专题培训" in page
    assert "辅导员, 党务工作者" not in page
    assert "副处级, 正处级" not in page


def test_rule_lists_joined_english(hr):
    """English lists on the rules page keep the comma."""
    hr.post("/language/en")

    page = hr.get("/compliance/rules").get_data(as_text=True)

    assert "Counselor, Party-work staff" in page
