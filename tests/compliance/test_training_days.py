"""The section cadre rule ("12 days or 90 学时") counts the days a training
records, not only its hours."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.compliance.engine import Status, evaluate
from lms.compliance.models import CadreRank, ComplianceRule, PersonProfile
from lms.compliance.seed import seed_rules
from lms.extensions import db
from lms.records.models import ExternalTraining, HoursEntry, TrainingTier
from tests.factories import build_learning_world

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RULE = "cadre-section-yearly"


@pytest.fixture(autouse=True)
def evidence_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))


@pytest.fixture
def world(app_ctx):
    """The learning world, its national rules, and counselor1 a section chief."""
    world = build_learning_world()
    seed_rules()
    db.session.add(
        PersonProfile(
            user_id=world.counselor,
            cadre_rank=CadreRank.SECTION_CHIEF,
            rank_since=date(2020, 1, 1),
        )
    )
    db.session.commit()
    return world


def _approve_training(login, start: str, end: str, hours: str) -> int:
    form = {
        "title": "全省辅导员专题培训班",
        "organiser": "省委教育工委",
        "tier": "provincial",
        "kind": "thematic",
        "start_date": start,
        "end_date": end,
        "hours": hours,
        "evidence": (io.BytesIO(PDF), "结业证书.pdf"),
    }
    response = login("counselor1").post(
        "/records/external", data=form, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    training_id = db.session.scalar(
        sa.select(ExternalTraining.id).order_by(ExternalTraining.id.desc())
    )
    response = login("hr").post(
        f"/records/external/{training_id}/review", data={"decision": "approve"}
    )
    assert response.status_code == 302
    return training_id


def _verdict(world, year: int):
    db.session.expire_all()
    person = db.session.get(User, world.counselor)
    rule = db.session.scalar(sa.select(ComplianceRule).filter_by(code=RULE))
    return evaluate(person, rule, date(year, 12, 31), year=year)


def _rule_line(page: str) -> str:
    match = re.search(r"<li>\s*<span class=\"badge[^>]*>([^<]*)</span>\s*"
                      r"<strong>乡科级[^<]*</strong>\s*<p>([^<]*)</p>", page)
    assert match, page
    return f"{match.group(1)} {match.group(2)}"


def test_twelve_days_of_six_hours_meet_rule(world, login):
    _approve_training(login, "2026-03-02", "2026-03-13", "72")

    verdict = _verdict(world, 2026)

    assert verdict.achieved == Decimal(72)
    assert verdict.achieved_days == Decimal(12)
    assert verdict.status is Status.MET
    assert verdict.missing == Decimal(0)
    line = _rule_line(
        login("counselor1").get(f"/people/{world.counselor}/record").get_data(
            as_text=True
        )
    )
    assert line.startswith("达标")
    assert "12 天" in line


def test_eleven_days_fall_short(world, login):
    _approve_training(login, "2026-03-02", "2026-03-12", "66")

    verdict = _verdict(world, 2026)

    assert verdict.achieved_days == Decimal(11)
    assert verdict.status is Status.AT_RISK


def test_hours_only_entries_count_as_days(world, login):
    _approve_training(login, "2026-03-02", "2026-03-07", "36")
    db.session.add(
        HoursEntry(
            user_id=world.counselor,
            title="网络专题课程",
            occurred_on=date(2026, 5, 10),
            year=2026,
            tier=TrainingTier.SCHOOL,
            hours=Decimal(48),
        )
    )
    db.session.commit()

    verdict = _verdict(world, 2026)

    # 6 recorded days, and 48 hours without days count as 6 more.
    assert verdict.achieved == Decimal(84)
    assert verdict.achieved_days == Decimal(12)
    assert verdict.status is Status.MET


def test_days_split_across_new_year(world, login):
    _approve_training(login, "2025-12-25", "2026-01-05", "72")

    assert _verdict(world, 2025).achieved_days == Decimal(7)
    assert _verdict(world, 2026).achieved_days == Decimal(5)


def test_withdrawn_training_takes_days_back(world, login):
    training_id = _approve_training(login, "2026-03-02", "2026-03-13", "72")

    response = login("hr").post(
        f"/records/external/{training_id}/withdraw", data={"reason": "证书不实"}
    )

    assert response.status_code == 302
    verdict = _verdict(world, 2026)
    assert verdict.achieved_days == Decimal(0)
    assert verdict.status is Status.AT_RISK
