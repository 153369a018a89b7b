"""A rank change on the record sets the cadre rank the training rules read."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.compliance.engine import Status, evaluate
from lms.compliance.models import CadreRank, ComplianceRule, PersonProfile
from lms.compliance.seed import seed_rules
from lms.extensions import db
from lms.records.models import ProgressionEntry
from tests.records.test_bulk_records import _confirm, _upload


def _rank_form(rank: str, occurred_on: str, **extra) -> dict:
    form = {"kind": "rank_change", "occurred_on": occurred_on, "rank": rank}
    form.update(extra)
    return form


def _cadre_rank(user_id: int):
    db.session.expire_all()
    profile = db.session.get(PersonProfile, user_id)
    return profile.cadre_rank if profile else None


def test_recorded_rank_sets_cadre_rank(world, login):
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data=_rank_form("section_deputy", "2025-08-01"),
    )

    assert response.status_code == 302
    assert _cadre_rank(world.counselor) is CadreRank.SECTION_DEPUTY
    [row] = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="profile.updated")
    ).all()
    assert row.data["changes"]["cadre_rank"] == [None, "section_deputy"]


def test_recorded_rank_brings_cadre_rule(world, login):
    seed_rules()
    db.session.commit()
    rule = db.session.scalar(
        sa.select(ComplianceRule).filter_by(code="cadre-section-yearly")
    )
    person = db.session.get(User, world.counselor)
    assert evaluate(person, rule).status is Status.NOT_APPLICABLE

    login("hr").post(
        f"/people/{world.counselor}/record/entries",
        data=_rank_form("section_chief", "2025-08-01"),
    )

    db.session.expire_all()
    person = db.session.get(User, world.counselor)
    assert evaluate(person, rule).status is not Status.NOT_APPLICABLE


def test_backdated_rank_keeps_latest(world, login):
    hr = login("hr")
    url = f"/people/{world.counselor}/record/entries"
    hr.post(url, data=_rank_form("section_chief", "2025-08-01"))

    hr.post(url, data=_rank_form("clerk", "2020-03-01"))

    assert _cadre_rank(world.counselor) is CadreRank.SECTION_CHIEF


def test_corrected_rank_sets_cadre_rank(world, login):
    hr = login("hr")
    url = f"/people/{world.counselor}/record/entries"
    hr.post(url, data=_rank_form("section_chief", "2025-08-01"))
    entry_id = db.session.scalar(
        sa.select(ProgressionEntry.id).filter_by(user_id=world.counselor)
    )

    hr.post(
        url, data=_rank_form("section_deputy", "2025-08-01", corrects=str(entry_id))
    )

    assert _cadre_rank(world.counselor) is CadreRank.SECTION_DEPUTY


def test_uploaded_rank_sets_cadre_rank(world, login):
    hr = login("hr")
    person = db.session.get(User, world.counselor)
    sheet = f"工号,类型,日期,结果\n{person.username},职级,2024-07-01,正科级\n"
    page = _upload(hr, sheet.encode("gbk")).get_data(as_text=True)

    assert _confirm(hr, page).status_code == 302

    assert _cadre_rank(world.counselor) is CadreRank.SECTION_CHIEF
