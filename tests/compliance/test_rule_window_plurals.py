"""The rules page counts the months of a window around the post start in the reader's grammar."""

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.compliance.models import ComplianceRule, WindowKind
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


def _around_post_start() -> ComplianceRule:
    return db.session.scalars(
        sa.select(ComplianceRule).filter_by(window_kind=WindowKind.AROUND_POST_START)
    ).first()


def test_around_post_start_singular_month(hr):
    rule = _around_post_start()
    rule.window_months, rule.new_to_post_months = 1, 6
    db.session.commit()
    hr.post("/language/en")

    page = hr.get("/compliance/rules").get_data(as_text=True)

    assert "1 month before taking up the post and the first 6 months in the post" in page
    assert "1 months" not in page


def test_around_post_start_in_chinese(hr):
    rule = _around_post_start()
    rule.window_months, rule.new_to_post_months = 1, 6
    db.session.commit()

    page = hr.get("/compliance/rules").get_data(as_text=True)

    assert "上岗前1个月及上岗后前6个月" in page


def _after_rank() -> ComplianceRule:
    rule = db.session.scalars(
        sa.select(ComplianceRule).filter_by(
            window_kind=WindowKind.ROLLING_YEARS_AFTER_RANK
        )
    ).first()
    rule.window_years, rule.window_months = 1, 1
    db.session.commit()
    return rule


def test_after_rank_singular_year_and_month(hr):
    _after_rank()
    hr.post("/language/en")

    page = hr.get("/compliance/rules").get_data(as_text=True)

    assert (
        "The last 1 year, rolling; a cadre who reached the rank in it and is short"
        " has 1 month from the rank date" in page
    )


def test_after_rank_in_chinese(hr):
    _after_rank()

    page = hr.get("/compliance/rules").get_data(as_text=True)

    assert "最近1年滚动计算；在此期间晋升且未达标的干部，自任现职级之日起有1个月补足" in page
