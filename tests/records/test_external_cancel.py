"""A learner cancels their own outside training while it awaits review."""

import pytest
import sqlalchemy as sa

from lms.audit import AuditEntry
from lms.extensions import db
from lms.notifications.models import Notification
from lms.records.models import ExternalTraining
from tests.conftest import count
from tests.records.test_external_training import _english, _only_training, _submit


@pytest.fixture(autouse=True)
def evidence_dir(app, tmp_path, monkeypatch):
    """Give each test an empty evidence folder."""
    folder = tmp_path / "evidence"
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(folder))
    return folder


@pytest.fixture
def submitted(world, login):
    """counselor1 has a pending submission; returns its id."""
    assert _submit(login("counselor1")).status_code == 302
    return _only_training().id


def _cancel(session, training_id: int):
    return session.post(f"/records/external/{training_id}/cancel")


def test_submitter_cancels_pending(world, login, submitted, evidence_dir):
    stored = evidence_dir / _only_training().evidence_path
    counselor = login("counselor1")

    response = _cancel(counselor, submitted)

    assert response.status_code == 302
    assert response.headers["Location"] == "/records/external"
    assert count(ExternalTraining) == 0
    assert not stored.exists()
    page = counselor.get("/records/external").get_data(as_text=True)
    assert "已撤回“全国高校辅导员示范培训”，您可以更正后重新提交。" in page


def test_cancelled_training_may_be_resubmitted(world, login, submitted):
    counselor = login("counselor1")
    _cancel(counselor, submitted)

    response = _submit(counselor, hours="8")

    assert response.status_code == 302
    assert _only_training().hours == 8


def test_cancel_settles_review_and_is_audited(world, login, submitted):
    _cancel(login("counselor1"), submitted)

    db.session.expire_all()
    request = db.session.scalar(
        sa.select(Notification).filter_by(kind="external_training_review_due")
    )
    entry = db.session.scalar(
        sa.select(AuditEntry).filter_by(action="external_training.cancelled")
    )
    assert request.read_at is not None
    assert entry is not None
    assert entry.subject_id == submitted
    assert entry.actor_id == world.counselor


def test_list_offers_cancel_for_pending(world, login, submitted):
    page = login("counselor1").get("/records/external").get_data(as_text=True)

    assert f'action="/records/external/{submitted}/cancel"' in page
    assert "撤回申请" in page
    assert "如需更正申请，请先撤回，再重新提交。" in page


def test_list_offers_cancel_in_english(world, login, submitted):
    page = _english(login("counselor1")).get("/records/external").get_data(as_text=True)

    assert "Cancel the submission" in page


@pytest.mark.parametrize(
    ("username", "status"), [("counselor2", 404), ("trainer", 404), ("hr", 403)]
)
def test_others_cannot_cancel(world, login, submitted, username, status):
    response = _cancel(login(username), submitted)

    assert response.status_code == status
    assert count(ExternalTraining) == 1


def test_decided_training_is_not_cancelled(world, login, submitted):
    login("hr").post(f"/records/external/{submitted}/review", data={"decision": "approve"})
    counselor = login("counselor1")

    response = _cancel(counselor, submitted)

    assert response.status_code == 302
    assert count(ExternalTraining) == 1
    page = counselor.get("/records/external").get_data(as_text=True)
    assert "只能撤回待审核的申请" in page
    assert f'action="/records/external/{submitted}/cancel"' not in page
    assert "如需更正申请" not in page
