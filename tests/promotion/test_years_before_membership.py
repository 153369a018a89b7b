"""A promotion check does not fail on a year before Party membership or the rank."""

from datetime import date
from decimal import Decimal

from lms.accounts.models import Role
from lms.compliance.models import (
    CadreRank,
    ComplianceRule,
    PartyStatus,
    PersonProfile,
    WindowKind,
)
from lms.extensions import db
from lms.records.models import HoursEntry, TrainingTier
from tests.promotion.conftest import add_grade, make_rule, set_title


def _yearly_rule(world, code: str, **values) -> None:
    db.session.add(
        ComplianceRule(
            institution_id=world.uni.id,
            code=code,
            name=code,
            roles=[Role.COUNSELOR],
            window_kind=WindowKind.CALENDAR_YEAR,
            **values,
        )
    )


def _new_member_and_clerk(world) -> None:
    """counselor2: probation from 2025-03-01, clerk from 2025-09-01, 90 h in 2026."""
    person = world.counselor2
    set_title(person, "lecturer", date(2020, 9, 1))
    for year in (2024, 2025, 2026):
        add_grade(person, year, "competent")
    db.session.add(
        PersonProfile(
            user_id=person.id,
            party_status=PartyStatus.PROBATIONARY,
            probation_started_on=date(2025, 3, 1),
            cadre_rank=CadreRank.CLERK,
            rank_since=date(2025, 9, 1),
        )
    )
    db.session.add(
        HoursEntry(
            user_id=person.id,
            source_type="test",
            source_id=2026,
            title="2026 党员集中培训",
            occurred_on=date(2026, 6, 1),
            year=2026,
            tier=TrainingTier.SCHOOL,
            hours=Decimal(90),
        )
    )
    _yearly_rule(world, "party-yearly", party_member_only=True, min_hours=Decimal(32))
    _yearly_rule(
        world, "cadre-yearly", cadre_ranks=[CadreRank.CLERK.value], min_hours=Decimal(90)
    )
    make_rule(
        world.uni.id,
        compliance_required=True,
        assessment_years=3,
        min_grade="competent",
    )
    db.session.commit()


def test_promotion_page_ignores_early_years(world, frozen, login):
    _new_member_and_clerk(world)

    page = login("counselor2").get("/promotions").get_data(as_text=True)

    assert "Training-hour rules missed" not in page
    assert "/promotions/apply/" in page


def test_promotion_page_names_missed_year(world, frozen, login):
    _new_member_and_clerk(world)
    db.session.query(HoursEntry).filter_by(user_id=world.counselor2.id).update(
        {"hours": Decimal(20)}
    )
    db.session.commit()

    page = login("counselor2").get("/promotions").get_data(as_text=True)

    assert "Training-hour rules missed" in page
    assert "party-yearly" in page
    assert "/promotions/apply/" not in page
