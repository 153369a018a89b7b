"""HR withdraws an approval given in error: the hours are taken back by
correcting rows, the timeline says why, and a standing certificate blocks it."""

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.audit import AuditEntry
from lms.compliance.ledger import _count_trainings_query
from lms.extensions import db
from lms.records.models import (
    ExternalTraining,
    ExternalTrainingStatus,
    HoursEntry,
    ProgressionEntry,
)

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def evidence_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))


def _form(**overrides) -> dict:
    form = {
        "title": "全国高校辅导员示范培训",
        "organiser": "教育部思想政治工作司",
        "tier": "national",
        "kind": "demonstration",
        "start_date": "2025-12-29",
        "end_date": "2026-01-02",
        "hours": "40",
        "evidence": (io.BytesIO(PDF), "结业证书.pdf"),
    }
    form.update(overrides)
    return form


@pytest.fixture
def approved(world, login):
    """counselor1's training, approved by institution HR; returns its id."""
    login("counselor1").post(
        "/records/external", data=_form(), content_type="multipart/form-data"
    )
    training_id = db.session.scalar(sa.select(ExternalTraining.id))
    login("hr").post(
        f"/records/external/{training_id}/review", data={"decision": "approve"}
    )
    return training_id


def _hours_by_year() -> dict[int, Decimal]:
    db.session.expire_all()
    return {
        year: total
        for year, total in db.session.execute(
            sa.select(HoursEntry.year, sa.func.sum(HoursEntry.hours)).group_by(
                HoursEntry.year
            )
        )
    }


def test_withdrawal_takes_hours_back(world, login, approved):
    assert _hours_by_year() == {2025: Decimal("24"), 2026: Decimal("16")}
    hr = login("hr")

    response = hr.post(
        f"/records/external/{approved}/withdraw", data={"reason": "学时应为4，误录为40"}
    )

    assert response.status_code == 302
    assert _hours_by_year() == {2025: Decimal("0"), 2026: Decimal("0")}
    corrections = db.session.scalars(
        sa.select(HoursEntry).where(HoursEntry.corrects_id.is_not(None))
    ).all()
    assert len(corrections) == 2
    # A withdrawn training no longer counts as a training either.
    assert db.session.execute(_count_trainings_query([], None)).all() == []
    training = db.session.get(ExternalTraining, approved)
    assert training.status is ExternalTrainingStatus.REJECTED
    assert training.review_reason == "学时应为4，误录为40"
    withdrawal = db.session.scalar(
        sa.select(ProgressionEntry).filter_by(
            source_type="external_training_withdrawal", source_id=approved
        )
    )
    assert withdrawal.corrects_id is not None
    assert withdrawal.detail["withdrawn"] is True
    [audit] = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="external_training.withdrawn")
    ).all()
    assert audit.actor_id == world.hr
    record = login("counselor1").get(f"/people/{world.counselor}/record")
    assert "学时应为4，误录为40" in record.get_data(as_text=True)
    again = login("counselor1").post(
        "/records/external",
        data=_form(hours="4"),
        content_type="multipart/form-data",
    )
    assert again.status_code == 302


def test_withdrawal_needs_reason_once(world, login, approved):
    hr = login("hr")
    hr.post("/language/en")
    url = f"/records/external/{approved}/withdraw"

    blank = hr.post(url, data={"reason": "  "})
    assert blank.status_code == 400
    assert "Give a reason for the withdrawal." in blank.get_data(as_text=True)
    assert _hours_by_year() == {2025: Decimal("24"), 2026: Decimal("16")}

    hr.post(url, data={"reason": "重复录入"})
    second = hr.post(url, data={"reason": "重复录入"}, follow_redirects=True)
    assert "Only an approved training can be withdrawn" in second.get_data(as_text=True)
    assert _hours_by_year() == {2025: Decimal("0"), 2026: Decimal("0")}


def test_only_reviewers_withdraw(world, login, approved):
    response = login("counselor1").post(
        f"/records/external/{approved}/withdraw", data={"reason": "x"}
    )
    assert response.status_code == 403
    assert _hours_by_year() == {2025: Decimal("24"), 2026: Decimal("16")}


def test_pending_training_not_withdrawn(world, login):
    login("counselor1").post(
        "/records/external", data=_form(), content_type="multipart/form-data"
    )
    training_id = db.session.scalar(sa.select(ExternalTraining.id))

    login("hr").post(f"/records/external/{training_id}/withdraw", data={"reason": "x"})

    training = db.session.get(ExternalTraining, training_id)
    assert training.status is ExternalTrainingStatus.PENDING


def test_valid_certificate_blocks_withdrawal(world, login, approved):
    hr = login("hr")
    hr.post("/language/en")
    assert hr.post(f"/records/external/{approved}/certificate").status_code == 302

    page = hr.get(f"/records/external/{approved}/review").get_data(as_text=True)
    response = hr.post(
        f"/records/external/{approved}/withdraw",
        data={"reason": "误录"},
        follow_redirects=True,
    )

    assert "Revoke certificate" in page
    assert "Revoke certificate" in response.get_data(as_text=True)
    assert db.session.get(ExternalTraining, approved).status is (
        ExternalTrainingStatus.APPROVED
    )
    assert _hours_by_year() == {2025: Decimal("24"), 2026: Decimal("16")}


def test_withdrawal_audit_names_training_as_ui(world, login, approved):
    login("hr").post(
        f"/records/external/{approved}/withdraw", data={"reason": "学时应为4，误录为40"}
    )

    page = login("admin").get("/admin/audit").get_data(as_text=True)

    assert "已撤回校外培训的审核通过：学时应为4，误录为40" in page
    assert "撤回校外培训审核通过" in page
    assert "外部培训" not in page
