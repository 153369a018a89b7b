"""Batches replace revoked certificates and do not count them as held."""

import re

import sqlalchemy as sa

from certificates import batches, services
from certificates.batches import CertificateBatch, CertificateBatchItem, ItemStatus
from certificates.models import Certificate, CertificateStatus
from lms.audit import AuditEntry
from lms.extensions import db
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


def _certificates_of(username: str) -> list[Certificate]:
    from lms.accounts.models import User

    user = db.session.scalar(sa.select(User).filter_by(username=username))
    return list(
        db.session.scalars(
            sa.select(Certificate).filter_by(holder_id=user.id).order_by(Certificate.id)
        )
    )


def test_batch_reissues_revoked_certificate(app, app_ctx, login):
    programme_id, _hr_id = _cohort(2)
    hr = login("hr")
    _certify_everyone(app, hr, programme_id)
    old = _certificates_of("learner0")[0]
    response = hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    assert response.status_code == 302

    batch_id = _certify_everyone(app, hr, programme_id)

    counts = batches.progress(db.session.get(CertificateBatch, batch_id))
    assert counts["issued"] == 1
    assert counts["existing"] == 1
    assert counts["failed"] == 0
    revoked, new = _certificates_of("learner0")
    assert revoked.serial == old.serial
    assert revoked.status is CertificateStatus.REVOKED
    assert revoked.revoked_reason == REASON
    assert revoked.superseded_by_id == new.id
    assert new.status is CertificateStatus.VALID
    assert new.serial != old.serial
    assert new.supersedes_id == revoked.id
    assert new.issued_on == revoked.issued_on
    item = db.session.scalar(
        sa.select(CertificateBatchItem).filter_by(batch_id=batch_id, user_id=new.holder_id)
    )
    assert item.status is ItemStatus.ISSUED
    assert item.certificate_id == new.id
    assert len(_certificates_of("learner1")) == 1
    replaced = db.session.scalars(
        sa.select(AuditEntry.data).filter_by(action="certificate.superseded")
    ).all()
    assert replaced == [{"serial": old.serial, "superseded_by": new.serial, "reissue": True}]


def test_revoked_certificate_stays_verifiable(app, app_ctx, login, client):
    programme_id, _hr_id = _cohort(1)
    hr = login("hr")
    _certify_everyone(app, hr, programme_id)
    old = _certificates_of("learner0")[0]
    hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    _certify_everyone(app, hr, programme_id)
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
    _certify_everyone(app, hr, programme_id)
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
