"""Batches skip revoked certificates, which are reissued only from their own page."""

import re

import sqlalchemy as sa

from certificates import batches, reissue, services
from certificates.batches import CertificateBatch, CertificateBatchItem, ItemStatus
from certificates.models import Certificate, CertificateStatus
from lms.audit import AuditEntry
from lms.extensions import db
from lms.records.models import TrainingTier
from tests.certificates.test_batches import COMPLETED, _cohort

EN = {"Accept-Language": "en"}
REASON = "颁发信息有误，重新颁发"


def _certify_everyone(app, hr, programme_id: int) -> int:
    """Run a batch for the programme through the pages; return its id."""
    response = hr.post("/certificates/batches", data={"target": f"programme:{programme_id}"})
    assert response.status_code == 302
    batch_id = int(re.search(r"/batches/(\d+)", response.headers["Location"]).group(1))
    assert batches.run_batch(app, batch_id, processes=1) is True
    db.session.expire_all()
    return batch_id


def hr_user():
    from lms.accounts.models import User

    return db.session.scalar(sa.select(User).filter_by(username="hr"))


def _certificates_of(username: str) -> list[Certificate]:
    from lms.accounts.models import User

    user = db.session.scalar(sa.select(User).filter_by(username=username))
    return list(
        db.session.scalars(
            sa.select(Certificate).filter_by(holder_id=user.id).order_by(Certificate.id)
        )
    )


def test_batch_skips_revoked_certificate(app, app_ctx, login):
    programme_id, _hr_id = _cohort(3, already_certified=2)
    hr = login("hr")
    old = _certificates_of("learner0")[0]
    response = hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    assert response.status_code == 302

    batch_id = _certify_everyone(app, hr, programme_id)

    counts = batches.progress(db.session.get(CertificateBatch, batch_id))
    assert counts["issued"] == 1
    assert counts["existing"] == 1
    assert counts["revoked"] == 1
    assert _certificates_of("learner0") == [old]
    assert old.status is CertificateStatus.REVOKED
    assert old.superseded_by_id is None
    item = db.session.scalar(
        sa.select(CertificateBatchItem).filter_by(batch_id=batch_id, user_id=old.holder_id)
    )
    assert item.status is ItemStatus.REVOKED
    assert item.certificate_id == old.id
    assert db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).filter_by(action="certificate.superseded")
    ) == 0


def test_batch_page_points_to_revoked_certificate(app, app_ctx, login, english):
    programme_id, _hr_id = _cohort(2, already_certified=1)
    hr = login("hr")
    old = _certificates_of("learner0")[0]
    hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    batch_id = _certify_everyone(app, hr, programme_id)

    page = hr.get(f"/certificates/batches/{batch_id}").get_data(as_text=True)

    assert "Skipped because the certificate was revoked" in page
    row = [row for row in page.split("<tr") if 'data-status="revoked"' in row]
    assert len(row) == 1
    assert f'href="/certificates/{old.serial}"' in row[0]
    assert "Skipped: revoked" in row[0]


def test_batch_of_revoked_only_is_refused(app, app_ctx, login, english):
    programme_id, _hr_id = _cohort(1)
    hr = login("hr")
    _certify_everyone(app, hr, programme_id)
    old = _certificates_of("learner0")[0]
    hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})

    response = hr.post("/certificates/batches", data={"target": f"programme:{programme_id}"})

    assert response.status_code == 400
    assert "had it revoked" in response.get_data(as_text=True)
    assert _certificates_of("learner0") == [old]


def test_revoked_certificate_stays_verifiable(app, app_ctx, login, client):
    programme_id, _hr_id = _cohort(1)
    hr = login("hr")
    _certify_everyone(app, hr, programme_id)
    old = _certificates_of("learner0")[0]
    hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    reissue.reissue(old, hr_user())
    db.session.commit()
    revoked, new = _certificates_of("learner0")

    old_page = client.get(f"/verify/{services.format_code(revoked.verification_code)}", headers=EN)
    new_page = client.get(f"/verify/{services.format_code(new.verification_code)}", headers=EN)

    assert "Revoked" in old_page.get_data(as_text=True)
    assert REASON in old_page.get_data(as_text=True)
    assert "Valid" in new_page.get_data(as_text=True)
    detail = hr.get(f"/certificates/{new.serial}", headers=EN).get_data(as_text=True)
    assert "Replaces" in detail
    assert revoked.serial in detail


def test_reissue_happens_once(app, app_ctx, login):
    programme_id, _hr_id = _cohort(1)
    hr = login("hr")
    _certify_everyone(app, hr, programme_id)
    old = _certificates_of("learner0")[0]
    hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    reissue.reissue(old, hr_user())
    db.session.commit()
    learner = old.holder
    programme = old.programme

    again = services.issue_programme_certificate(
        learner, programme, COMPLETED, replace_revoked=True
    )

    assert len(_certificates_of("learner0")) == 2
    assert again.status is CertificateStatus.VALID
    assert again.serial != old.serial


def test_completion_does_not_replace_revoked(app, app_ctx, login):
    programme_id, _hr_id = _cohort(1)
    hr = login("hr")
    _certify_everyone(app, hr, programme_id)
    old = _certificates_of("learner0")[0]
    hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    db.session.expire_all()

    held = services.issue_programme_certificate(old.holder, old.programme, COMPLETED)

    assert held.id == old.id
    assert len(_certificates_of("learner0")) == 1


def test_completing_again_does_not_replace_revoked(app, app_ctx, login):
    """A programme completed a second time, as after a regrade back to a pass."""
    from lms import signals

    programme_id, _hr_id = _cohort(1, already_certified=1)
    hr = login("hr")
    old = _certificates_of("learner0")[0]
    hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    db.session.expire_all()

    signals.programme_completed.send(
        None, user_id=old.holder_id, programme_id=programme_id, completed_at=COMPLETED,
        programme_title=old.title, tier=TrainingTier.SCHOOL, kind=None,
    )
    db.session.commit()

    assert _certificates_of("learner0") == [old]
    assert old.status is CertificateStatus.REVOKED


def test_batch_when_everyone_holds_is_refused(app, app_ctx, login):
    programme_id, _hr_id = _cohort(2)
    hr = login("hr")
    _certify_everyone(app, hr, programme_id)

    response = hr.post(
        "/certificates/batches",
        data={"target": f"programme:{programme_id}"},
        headers=EN,
    )

    assert response.status_code == 400
    assert "already holds its certificate" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(CertificateBatch.id))) == 1


def test_batch_finished_audit_counts_revoked(app, app_ctx, login, english):
    """Does the audit summary of a finished batch count the people skipped as revoked?"""
    from lms.accounts.models import Role
    from tests.factories import make_user

    programme_id, _hr_id = _cohort(2, already_certified=1)
    make_user(hr_user().institution, "admin", Role.ADMIN)
    db.session.commit()
    hr = login("hr")
    old = _certificates_of("learner0")[0]
    hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    _certify_everyone(app, hr, programme_id)

    page = login("admin").get("/admin/audit").get_data(as_text=True)

    assert (
        "Certificate batch finished: 1 issued, 0 already held, "
        "1 skipped as revoked, 0 failed"
    ) in page
