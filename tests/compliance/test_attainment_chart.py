"""Mean competency attainment of a population, and its radar on the HR dashboard."""

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from lms.accounts.models import User
from lms.competencies.evidence import CompetencyEvidence, population_attainment
from lms.competencies.models import CompetencyItem, Framework
from lms.extensions import db


def _framework():
    return db.session.scalar(
        sa.select(Framework).filter_by(code="counselor-2014").order_by(Framework.id)
    )


def test_population_mean_counts_people_without_evidence(app_ctx, seeded):
    framework = _framework()
    area = framework.areas[0]
    items = db.session.scalars(
        sa.select(CompetencyItem).filter_by(framework_id=framework.id, area_id=area.id)
    ).all()
    first, second = (
        db.session.scalar(sa.select(User).filter_by(username=name))
        for name in ("counselor1", "counselor2")
    )
    # counselor1: best 0.8 on one item (0.5 is superseded), counselor2: none.
    for fraction, source in (("0.5", 1), ("0.8", 2)):
        db.session.add(
            CompetencyEvidence(
                user_id=first.id, item_id=items[0].id, source_type="test",
                source_id=source, fraction=Decimal(fraction), evidenced_on=date(2026, 5, 1),
            )
        )
    db.session.commit()

    people = sa.select(User.id).where(User.id.in_([first.id, second.id]))
    result = dict((a.id, v) for a, v in population_attainment(people, framework))

    assert result[area.id] == Decimal("0.8") / (len(items) * 2)
    assert result[framework.areas[1].id] == 0
    assert len(result) == len(framework.areas)


def test_dashboard_shows_attainment_radar(app_ctx, seeded, login):
    page = login("hr").get("/compliance").get_data(as_text=True)
    area = _framework().areas[0].name
    assert "<svg" in page
    assert area in page


def test_chart_tooltips_use_chinese_colon(app_ctx, seeded, login):
    page = login("hr").get("/compliance").get_data(as_text=True)
    area = _framework().areas[0].name

    tips = re.findall(r"<title>([^<]*)</title>", page)
    assert f"{area}：0%" in tips
    assert "1月：0" in tips
    assert not [tip for tip in tips if ": " in tip]
