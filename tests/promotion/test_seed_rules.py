"""The demo promotion rules load once and keep HR's edits."""

import sqlalchemy as sa

from lms.extensions import db
from lms.promotion.models import PromotionRule, PromotionTrack
from lms.seed import seed_demo
from tests.conftest import count


def test_demo_rules_are_seeded_once_and_edits_survive(app_ctx):
    seed_demo(password="x-demo-pass-2026")
    rules = db.session.scalars(sa.select(PromotionRule)).all()
    assert {rule.track for rule in rules} == set(PromotionTrack)
    level_rule = next(r for r in rules if r.code == "level-junior-intermediate")
    assert level_rule.required_programme_id is not None
    for rule in rules:
        rule.check()

    level_rule.min_years = 4
    db.session.commit()
    seed_demo(password="x-demo-pass-2026")
    db.session.expire_all()

    assert count(PromotionRule) == len(rules)
    assert db.session.get(PromotionRule, level_rule.id).min_years == 4
