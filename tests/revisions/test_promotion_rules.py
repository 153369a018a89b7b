"""Lost-update protection of promotion rules."""

from lms.extensions import db
from lms.promotion.models import PromotionRule
from tests.conftest import demo_row


def test_stale_promotion_rule_save_rejected(app, race):
    with app.app_context():
        rule = demo_row(PromotionRule, code="level-junior-intermediate")
        rule_id, years, excellent = rule.id, rule.min_years, rule.min_excellent

    edit = race(f"/promotions/rules/{rule_id}", "admin", "hr")
    edit.first_saves(min_excellent=str((excellent or 0) + 1))
    edit.second_saves(min_years=str(years + 1))

    with app.app_context():
        rule = db.session.get(PromotionRule, rule_id)
        assert rule.min_excellent == (excellent or 0) + 1
        assert rule.min_years == years

    edit.second_saves_again()
    with app.app_context():
        assert db.session.get(PromotionRule, rule_id).min_years == years + 1
