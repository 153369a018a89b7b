"""Requests to review a training elsewhere go out only while it waits for review."""

import io

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.notifications.models import Notification
from lms.records.external import REVIEW_DUE_KIND
from lms.records.models import ExternalTraining

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
        "hours": "10",
        "evidence": (io.BytesIO(PDF), "结业证书.pdf"),
    }
    form.update(overrides)
    return form


def _requests() -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Notification).where(Notification.kind == REVIEW_DUE_KIND)
        )
    )


def _submitted(login) -> int:
    response = login("counselor1").post(
        "/records/external", data=_form(), content_type="multipart/form-data"
    )
    assert response.status_code == 302
    return db.session.scalars(sa.select(ExternalTraining.id)).one()


def test_hr_entry_sends_no_review_request(world, login):
    """A training HR enters is approved at once, so no review request is sent."""
    response = login("hr").post(
        f"/people/{world.counselor}/external/new",
        data=_form(),
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    assert _requests() == []


def test_approval_settles_review_request(world, login):
    """Once a submission is approved, the request to review it is no longer new."""
    training_id = _submitted(login)
    [request] = _requests()
    assert request.read_at is None

    response = login("hr").post(
        f"/records/external/{training_id}/review", data={"decision": "approve"}
    )

    assert response.status_code == 302
    [request] = _requests()
    assert request.read_at is not None


def test_rejection_settles_review_request(world, login):
    """Once a submission is rejected, the request to review it is no longer new."""
    training_id = _submitted(login)

    response = login("hr").post(
        f"/records/external/{training_id}/review",
        data={"decision": "reject", "reason": "证明材料不清晰"},
    )

    assert response.status_code == 302
    [request] = _requests()
    assert request.read_at is not None
