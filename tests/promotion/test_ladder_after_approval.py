"""After a promotion passes, the ladder follows later changes HR records."""

from datetime import date

import sqlalchemy as sa

from lms.compliance.models import CadreRank, PersonProfile
from lms.extensions import db
from lms.promotion import engine
from lms.promotion.models import PromotionApplication, PromotionTrack
from lms.records import events
from lms.records.models import ProgressionKind
from tests.promotion.conftest import add_entry, make_rule, set_title


def _approve(login, rule) -> PromotionApplication:
    counselor = login("counselor1")
    assert counselor.post(f"/promotions/apply/{rule.id}", {"statement": ""}).status_code == 302
    application = db.session.scalars(sa.select(PromotionApplication)).one()
    url = f"/promotions/applications/{application.id}/decide"
    assert login("dept_hr").post(url, {"outcome": "approve"}).status_code == 302
    assert login("hr").post(url, {"outcome": "approve"}).status_code == 302
    db.session.expire_all()
    return db.session.get(PromotionApplication, application.id)


def test_rank_change_after_approval_is_read(world, frozen, login, english):
    add_entry(
        world.counselor, ProgressionKind.RANK_CHANGE, date(2021, 7, 1), {"rank": "clerk"}
    )
    rank_rule = dict(track=PromotionTrack.ADMINISTRATIVE_RANK)
    make_rule(world.uni.id, code="clerk-deputy", from_value="clerk",
              to_value="section_deputy", min_years=3, **rank_rule)
    make_rule(world.uni.id, code="deputy-chief", from_value="section_deputy",
              to_value="section_chief", **rank_rule)
    db.session.commit()
    rule = db.session.scalars(
        sa.select(engine.PromotionRule).where(engine.PromotionRule.code == "clerk-deputy")
    ).one()
    _approve(login, rule)
    # HR records, the same day, that the person went back to clerk.
    events.record_event(
        world.counselor, world.hr, ProgressionKind.RANK_CHANGE, date(2027, 9, 1),
        {"rank": "clerk"},
    )
    db.session.commit()

    position = engine.positions(world.counselor)[PromotionTrack.ADMINISTRATIVE_RANK]
    assert (position.value, position.since) == ("clerk", date(2027, 9, 1))
    profile = db.session.get(PersonProfile, world.counselor.id)
    assert profile.cadre_rank is CadreRank.CLERK
    page = login("counselor1").get("/promotions").get_data(as_text=True)
    assert "Clerk · since" in page
    assert "Deputy section level → Section level" not in page
    assert "0 of 3 required years as Clerk" in page


def test_title_change_after_approval_is_read(world, frozen, login, english):
    set_title(world.counselor, "lecturer", date(2020, 9, 1))
    rule = make_rule(world.uni.id)
    make_rule(world.uni.id, code="associate-professor", from_value="associate_professor",
              to_value="professor")
    db.session.commit()
    _approve(login, rule)
    events.record_event(
        world.counselor, world.hr, ProgressionKind.TITLE_CHANGE, date(2027, 9, 1),
        {"title": "professor"},
    )
    db.session.commit()

    title = engine.positions(world.counselor)[PromotionTrack.PROFESSIONAL_TITLE]
    assert title.value == "professor"
    page = login("counselor1").get("/promotions").get_data(as_text=True)
    assert "Associate professor → Professor" not in page
