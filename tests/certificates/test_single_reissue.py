"""HR reissues one revoked programme certificate from its detail page."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from certificates import services
from certificates.models import Certificate, CertificateStatus
from courses.models import Enrolment
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from tests.certificates.test_batch_reissue import REASON, _certificates_of, _certify_everyone
from tests.certificates.test_batches import _cohort
from tests.certificates.test_certificate_concurrency import postgres_only  # noqa: F401 - fixture
from tests.factories import make_department, make_institution, make_user

EN = {"Accept-Language": "en"}
REISSUE_BUTTON = "Reissue with a new serial number"


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


@pytest.fixture
def revoked(app, app_ctx, login):
    """Return the serial of learner0's certificate after a batch issued it and HR revoked it."""
    programme_id, _hr_id = _cohort(2)
    hr = login("hr")
    _certify_everyone(app, hr, programme_id)
    old = _certificates_of("learner0")[0]
    response = hr.post(f"/certificates/{old.serial}/revoke", data={"reason": REASON})
    assert response.status_code == 302
    return old.serial


def _reissue(session, serial: str, **kw):
    return session.post(f"/certificates/{serial}/reissue", headers=EN, **kw)


def _certificate_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Certificate.id)))


def test_hr_sees_reissue_form(revoked, login):
    page = login("hr").get(f"/certificates/{revoked}", headers=EN).get_data(as_text=True)

    assert REISSUE_BUTTON in page
    assert f"/certificates/{revoked}/reissue" in page


def test_reissue_replaces_revoked_certificate(app, revoked, login):
    hr = login("hr")

    response = _reissue(hr, revoked)

    assert response.status_code == 302
    db.session.expire_all()
    old, new = _certificates_of("learner0")
    assert response.headers["Location"].endswith(f"/certificates/{new.serial}")
    assert new.serial != old.serial
    assert new.status is CertificateStatus.VALID
    assert new.supersedes_id == old.id
    assert new.issued_on == old.issued_on
    assert new.verification_code != old.verification_code
    assert old.status is CertificateStatus.REVOKED
    assert old.revoked_reason == REASON
    assert old.superseded_by_id == new.id
    assert new.pdf_sha256
    assert Path(app.config["CERTIFICATE_DIR"], f"{new.serial}.pdf").is_file()
    assert len(_certificates_of("learner1")) == 1

    next_page = hr.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert f"Certificate {old.serial} is reissued as {new.serial}." in next_page
    assert "Replaces" in next_page


def test_reissue_is_audited_with_actor(revoked, login):
    _reissue(login("hr"), revoked)

    db.session.expire_all()
    old, new = _certificates_of("learner0")
    hr = _user("hr")
    replaced = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="certificate.superseded")
    ).all()
    assert [entry.data for entry in replaced] == [
        {"serial": old.serial, "superseded_by": new.serial, "reissue": True}
    ]
    assert replaced[0].actor_id == hr.id
    issued = db.session.scalar(
        sa.select(AuditEntry).filter_by(action="certificate.issued", subject_id=new.id)
    )
    assert issued.actor_id == hr.id


def test_old_certificate_shows_replacement(revoked, login):
    hr = login("hr")
    _reissue(hr, revoked)
    db.session.expire_all()
    _old, new = _certificates_of("learner0")

    page = hr.get(f"/certificates/{revoked}", headers=EN).get_data(as_text=True)

    assert "Revoked" in page
    assert "Replaced by" in page
    assert new.serial in page
    assert REISSUE_BUTTON not in page


def test_second_post_shows_existing_replacement(revoked, login):
    hr = login("hr")
    first = _reissue(hr, revoked)

    second = _reissue(hr, revoked)

    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    db.session.expire_all()
    assert _certificate_count() == 3
    _old, new = _certificates_of("learner0")
    next_page = hr.get(second.headers["Location"], headers=EN).get_data(as_text=True)
    assert f"Certificate {revoked} was already replaced by {new.serial}; nothing changed." in next_page


def test_valid_certificate_is_rejected(app, app_ctx, login):
    programme_id, _hr_id = _cohort(1)
    hr = login("hr")
    _certify_everyone(app, hr, programme_id)
    [cert] = _certificates_of("learner0")

    response = _reissue(hr, cert.serial)

    assert response.status_code == 409
    assert "is not revoked" in response.get_data(as_text=True)
    assert _certificate_count() == 1
    detail = hr.get(f"/certificates/{cert.serial}", headers=EN).get_data(as_text=True)
    assert REISSUE_BUTTON not in detail


def test_holder_without_completion_is_rejected(revoked, login):
    holder = _user("learner0")
    enrolment = db.session.scalar(sa.select(Enrolment).filter_by(user_id=holder.id))
    enrolment.completed_at = None
    db.session.commit()
    hr = login("hr")

    response = _reissue(hr, revoked)

    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "has no completion of the programme on record any more" in text
    assert _certificate_count() == 2
    detail = hr.get(f"/certificates/{revoked}", headers=EN).get_data(as_text=True)
    assert REISSUE_BUTTON not in detail
    assert "has no completion of the programme on record any more" in detail


def test_holder_in_other_institution_is_rejected(revoked, login):
    holder = _user("learner0")
    holder.institution_id = make_institution("uni-z", "另一所学校").id
    db.session.commit()

    response = _reissue(login("hr"), revoked)

    assert response.status_code == 409
    assert "no longer belongs to this institution" in response.get_data(as_text=True)
    assert _certificate_count() == 2


def test_missing_csrf_is_rejected(revoked, login):
    hr = login("hr")

    response = _reissue(hr, revoked, data={"csrf_token": ""})

    assert response.status_code == 400
    assert _certificate_count() == 2


@pytest.mark.parametrize(
    ("username", "status"),
    [("learner0", 403), ("learner1", 404), ("trainer", 404)],
)
def test_learners_and_trainers_cannot_reissue(revoked, login, username, status):
    session = login(username)

    response = _reissue(session, revoked)

    assert response.status_code == status
    assert _certificate_count() == 2


def test_holder_sees_no_reissue_form(revoked, login):
    page = login("learner0").get(f"/certificates/{revoked}", headers=EN).get_data(as_text=True)

    assert "Revoked" in page
    assert REISSUE_BUTTON not in page


def test_department_hr_reissues_within_department(revoked, login):
    holder = _user("learner0")
    institution = holder.institution
    inside = make_department(institution, "d1", "学生工作部")
    outside = make_department(institution, "d2", "教务处")
    holder.department_id = inside.id
    make_user(institution, "hr-in", Role.HR).hr_department_id = inside.id
    make_user(institution, "hr-out", Role.HR).hr_department_id = outside.id
    db.session.commit()

    rejected = _reissue(login("hr-out"), revoked)
    accepted = _reissue(login("hr-in"), revoked)

    assert rejected.status_code == 404
    assert accepted.status_code == 302
    db.session.expire_all()
    assert len(_certificates_of("learner0")) == 2


def test_admin_reissues(revoked, login):
    institution = _user("hr").institution
    make_user(institution, "admin", Role.ADMIN)
    db.session.commit()

    response = _reissue(login("admin"), revoked)

    assert response.status_code == 302
    db.session.expire_all()
    assert len(_certificates_of("learner0")) == 2


def test_reissued_certificate_can_be_reissued(revoked, login):
    hr = login("hr")
    _reissue(hr, revoked)
    db.session.expire_all()
    _old, second = _certificates_of("learner0")
    hr.post(f"/certificates/{second.serial}/revoke", data={"reason": REASON})

    stale = _reissue(hr, revoked)
    response = _reissue(hr, second.serial)

    assert stale.status_code == 302
    assert stale.headers["Location"].endswith(f"/certificates/{second.serial}")
    assert response.status_code == 302
    db.session.expire_all()
    first, second, third = _certificates_of("learner0")
    assert second.superseded_by_id == third.id
    assert third.supersedes_id == second.id
    assert third.status is CertificateStatus.VALID
    assert services.held_certificate(first.achievement_key).id == third.id


def test_external_training_certificate_is_rejected(app, app_ctx, tmp_path, monkeypatch, login):
    from tests.certificates.test_external_certificates import _issue, _training
    from tests.factories import build_learning_world

    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    world = build_learning_world()
    training_id = _training(world)
    hr = login("hr")
    _issue(hr, training_id)
    db.session.expire_all()
    [cert] = db.session.scalars(sa.select(Certificate)).all()
    hr.post(f"/certificates/{cert.serial}/revoke", data={"reason": REASON})

    response = _reissue(hr, cert.serial)

    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "not external-training certificates" in text
    assert _certificate_count() == 1
    detail = hr.get(f"/certificates/{cert.serial}", headers=EN).get_data(as_text=True)
    assert REISSUE_BUTTON not in detail
    assert "not external-training certificates" in detail


def test_parallel_reissues_issue_once(app, revoked, postgres_only):
    import threading

    from certificates import reissue as reissues

    hr_id = _user("hr").id
    cert_id = services.find_by_serial(revoked).id
    barrier = threading.Barrier(2, timeout=30)
    results, errors = [], []

    def worker():
        with app.app_context():
            try:
                cert = db.session.get(Certificate, cert_id)
                actor = db.session.get(User, hr_id)
                barrier.wait()
                new, issued = reissues.reissue(cert, actor)
                db.session.commit()
                results.append((new.id, issued))
            except Exception as exc:  # reported by the assert below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len({new_id for new_id, _issued in results}) == 1
    assert sorted(issued for _new_id, issued in results) == [False, True]
    db.session.expire_all()
    assert len(_certificates_of("learner0")) == 2


def test_parallel_reissue_posts_issue_once(app, revoked, login):
    """Two HR tabs posting the reissue at the same instant get one new certificate.

    Through real requests, so on SQLite the POSTs' BEGIN IMMEDIATE
    serialises them and the second one finds the replacement.
    """
    import threading

    tabs = [login("hr"), login("hr")]
    barrier = threading.Barrier(2, timeout=30)
    pages, errors = [], []

    def post(tab):
        try:
            barrier.wait()
            response = _reissue(tab, revoked)
            pages.append(tab.get(response.headers["Location"], headers=EN).get_data(as_text=True))
        except Exception as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    db.session.expire_all()
    _old, new = _certificates_of("learner0")
    assert _certificate_count() == 3
    reissued = [page for page in pages if f"is reissued as {new.serial}" in page]
    replaced = [page for page in pages if f"was already replaced by {new.serial}" in page]
    assert len(reissued) == 1
    assert len(replaced) == 1
