"""Batch issuance: everyone who completed a programme, in the background, resumable."""

import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from certificates import batches, services
from certificates.batches import BatchStatus, CertificateBatch, CertificateBatchItem, ItemStatus
from certificates.models import Certificate
from courses import services as course_services
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from tests.factories import make_course, make_institution, make_programme, make_user

COMPLETED = datetime(2026, 6, 30, 2, 0, tzinfo=timezone.utc)


def _cohort(size: int, *, already_certified: int = 0):
    """A programme completed by ``size`` counselors; return (programme, hr) ids."""
    institution = make_institution()
    hr = make_user(institution, "hr", Role.HR)
    make_user(institution, "trainer", Role.TRAINER)
    programme = make_programme(institution, "p1", [make_course(institution, "c1", lessons=1)])
    for number in range(size):
        user = make_user(institution, f"learner{number}", full_name=f"学员{number}")
        enrolment = course_services.enrol(user, programme)
        enrolment.completed_at = COMPLETED
    make_user(institution, "unfinished")
    course_services.enrol(db.session.scalar(sa.select(User).filter_by(username="unfinished")), programme)
    db.session.flush()
    for number in range(already_certified):
        user = db.session.scalar(sa.select(User).filter_by(username=f"learner{number}"))
        services.issue_programme_certificate(user, programme, COMPLETED)
    db.session.commit()
    return programme.id, hr.id


def _batch(programme_id: int, hr_id: int) -> int:
    from courses.models import Programme

    batch = batches.create_batch(db.session.get(User, hr_id), db.session.get(Programme, programme_id))
    db.session.commit()
    return batch.id


def _serial_numbers() -> list[int]:
    serials = db.session.scalars(sa.select(Certificate.serial)).all()
    return sorted(int(serial.rsplit("-", 1)[1]) for serial in serials)


def test_batch_issues_once_per_person(app, app_ctx):
    programme_id, hr_id = _cohort(4, already_certified=1)
    batch_id = _batch(programme_id, hr_id)

    assert batches.run_batch(app, batch_id, processes=1) is True

    db.session.expire_all()
    batch = db.session.get(CertificateBatch, batch_id)
    counts = batches.progress(batch)
    assert batch.status is BatchStatus.DONE
    assert counts["total"] == 4
    assert counts["issued"] == 3
    assert counts["existing"] == 1
    assert counts["pending"] == 0
    holders = db.session.scalars(sa.select(Certificate.holder_id)).all()
    assert len(holders) == len(set(holders)) == 4
    assert _serial_numbers() == [1, 2, 3, 4]
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).filter_by(action="certificate.batch_finished")
    ) == 1


def test_batch_without_completers_is_refused(app_ctx):
    programme_id, hr_id = _cohort(0)
    with pytest.raises(batches.BatchError):
        _batch(programme_id, hr_id)


def test_crashed_batch_resumes_without_duplicates_or_gaps(app, app_ctx):
    programme_id, hr_id = _cohort(5)
    batch_id = _batch(programme_id, hr_id)
    assert batches.claim(batch_id, "crashed-runner")
    # The runner issues two certificates and dies without releasing its lease.
    assert batches.issue_items(batch_id, "crashed-runner", limit=2) == 2

    # A fresh lease holder is refused while the heartbeat is recent.
    assert batches.run_batch(app, batch_id, processes=1) is False

    # The dead runner's heartbeat grows stale; the scheduler job takes over.
    batch = db.session.get(CertificateBatch, batch_id)
    batch.heartbeat_at = datetime.now(timezone.utc) - timedelta(seconds=batches.LEASE_SECONDS + 5)
    db.session.commit()
    assert batches.resume_batches() == {"batches": 1}

    db.session.expire_all()
    assert db.session.get(CertificateBatch, batch_id).status is BatchStatus.DONE
    assert batches.progress(db.session.get(CertificateBatch, batch_id))["issued"] == 5
    assert _serial_numbers() == [1, 2, 3, 4, 5]


def test_finished_run_clears_stop_error(app, app_ctx, monkeypatch):
    """A run that reaches everyone clears the error of an earlier run that stopped."""
    programme_id, hr_id = _cohort(2)
    batch_id = _batch(programme_id, hr_id)

    def broken_database(*args, **options):
        raise RuntimeError("database went away")

    monkeypatch.setattr(batches, "issue_items", broken_database)
    with pytest.raises(RuntimeError):
        batches.run_batch(app, batch_id, processes=1)
    db.session.expire_all()
    assert db.session.get(CertificateBatch, batch_id).last_error.startswith("RuntimeError")

    monkeypatch.undo()
    assert batches.run_batch(app, batch_id, processes=1) is True

    db.session.expire_all()
    batch = db.session.get(CertificateBatch, batch_id)
    assert batch.status is BatchStatus.DONE
    assert batch.last_error is None


def test_failed_item_is_reported_and_retried(app, app_ctx, monkeypatch):
    programme_id, hr_id = _cohort(3)
    batch_id = _batch(programme_id, hr_id)
    original = services.issue_programme_certificate
    broken = db.session.scalar(sa.select(User.id).filter_by(username="learner1"))

    def failing(user, programme, completed_at, **options):
        if user.id == broken:
            raise RuntimeError("font missing")
        return original(user, programme, completed_at, **options)

    monkeypatch.setattr(services, "issue_programme_certificate", failing)
    batches.run_batch(app, batch_id, processes=1)
    db.session.expire_all()
    batch = db.session.get(CertificateBatch, batch_id)
    item = db.session.scalar(sa.select(CertificateBatchItem).filter_by(user_id=broken))
    assert batch.status is BatchStatus.DONE
    assert item.status is ItemStatus.FAILED
    assert item.error_code is batches.ItemErrorCode.ISSUE_FAILED
    assert item.error == "RuntimeError: font missing"

    monkeypatch.setattr(services, "issue_programme_certificate", original)
    assert batches.retry_failed(batch) == 1
    db.session.commit()
    batches.run_batch(app, batch_id, processes=1)
    db.session.expire_all()
    assert batches.progress(db.session.get(CertificateBatch, batch_id))["issued"] == 3
    assert _serial_numbers() == [1, 2, 3]


def test_batch_in_two_processes(app, app_ctx):
    programme_id, hr_id = _cohort(6)
    batch_id = _batch(programme_id, hr_id)

    assert batches.run_batch(app, batch_id, processes=2) is True

    db.session.expire_all()
    counts = batches.progress(db.session.get(CertificateBatch, batch_id))
    assert counts["issued"] == 6
    assert _serial_numbers() == [1, 2, 3, 4, 5, 6]
    certificates = db.session.scalars(sa.select(Certificate)).all()
    assert all(cert.pdf_sha256 for cert in certificates)


def test_batch_pages_run_and_show_progress(app, app_ctx, login):
    programme_id, _hr_id = _cohort(2)
    hr = login("hr")
    page = hr.client.get("/certificates/batches").get_data(as_text=True)
    assert "p1" in page or "培训项目p1" in page

    app.config["CERTIFICATE_BATCH_AUTOSTART"] = True
    try:
        response = hr.client.post(
            "/certificates/batches",
            data={"csrf_token": hr.csrf, "target": f"programme:{programme_id}"},
        )
        assert response.status_code == 302
        detail = response.headers["Location"]
        batch_id = int(re.search(r"/batches/(\d+)", detail).group(1))
        deadline = time.monotonic() + 120
        while True:
            data = hr.client.get(f"/certificates/batches/{batch_id}/progress.json").get_json()
            if data["status"] == "done" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        app.config["CERTIFICATE_BATCH_AUTOSTART"] = False
    assert data["status"] == "done"
    assert data["issued"] == 2
    page = hr.client.get(detail).get_data(as_text=True)
    assert 'id="batch-progress"' in page


BATCH_COUNTS_HTML = (
    '<span data-field="done">0</span> / <span data-field="total">1</span>{colon}'
    '{issued} <span data-field="issued">0</span>{comma}'
    '{existing} <span data-field="existing">0</span>{comma}'
    '{failed} <span data-field="failed">0</span>'
)


@pytest.mark.parametrize(
    ("language", "heading", "status", "counts"),
    [
        (
            "en",
            "Certificate batch: ",
            "Status: <strong",
            BATCH_COUNTS_HTML.format(
                colon=": ", issued="issued", existing="already held", failed="failed", comma=", "
            ),
        ),
        (
            "zh_CN",
            "证书批量颁发：",
            "状态：<strong",
            BATCH_COUNTS_HTML.format(
                colon="：", issued="已颁发", existing="已持有", failed="失败", comma="，"
            ),
        ),
    ],
)
def test_batch_page_punctuation(app_ctx, login, language, heading, status, counts):
    batch_id = _batch(*_cohort(1))
    hr = login("hr")
    hr.post(f"/language/{language}")

    page = hr.get(f"/certificates/batches/{batch_id}").get_data(as_text=True)

    assert heading in page
    assert status in page
    assert counts in page


def test_other_institution_cannot_see_batch(app_ctx, login):
    programme_id, hr_id = _cohort(1)
    batch_id = _batch(programme_id, hr_id)
    other = make_institution("uni-b", "乙大学")
    make_user(other, "hr-b", Role.HR)
    db.session.commit()
    outsider = login("hr-b")
    assert outsider.client.get(f"/certificates/batches/{batch_id}").status_code == 404
    response = outsider.client.post(
        "/certificates/batches",
        data={"csrf_token": outsider.csrf, "target": f"programme:{programme_id}"},
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(CertificateBatch.id))) == 1


def test_class_batch_covers_only_its_members(app, app_ctx):
    from courses.class_models import ClassMember, EnrolmentMode, MemberStatus, TrainingClass
    from courses.models import Programme

    programme_id, hr_id = _cohort(4)
    programme = db.session.get(Programme, programme_id)
    training_class = TrainingClass(
        institution_id=programme.institution_id, code="k1", title="2026年第3期 示范培训班",
        programme_id=programme_id, starts_on=COMPLETED.date(), ends_on=COMPLETED.date(),
        enrolment_mode=EnrolmentMode.ASSIGNED,
    )
    db.session.add(training_class)
    db.session.flush()
    for number in (0, 2):
        user = db.session.scalar(sa.select(User).filter_by(username=f"learner{number}"))
        db.session.add(
            ClassMember(class_id=training_class.id, user_id=user.id, status=MemberStatus.ENROLLED)
        )
    db.session.commit()

    batch = batches.create_batch(db.session.get(User, hr_id), training_class=training_class)
    db.session.commit()
    batches.run_batch(app, batch.id, processes=1)

    db.session.expire_all()
    holders = set(db.session.scalars(sa.select(Certificate.holder_id)))
    expected = set(
        db.session.scalars(
            sa.select(User.id).where(User.username.in_(["learner0", "learner2"]))
        )
    )
    assert holders == expected


def test_crash_before_pdf_resumes_with_pdf_only(app, app_ctx, monkeypatch):
    programme_id, hr_id = _cohort(3)
    batch_id = _batch(programme_id, hr_id)
    assert batches.claim(batch_id, "crashed-runner")

    def crash(item_id, specs):
        raise RuntimeError("worker killed")

    # The first certificate is committed, then the worker dies before its PDF.
    monkeypatch.setattr(batches, "_store_item_pdf", crash)
    with pytest.raises(RuntimeError):
        batches.issue_items(batch_id, "crashed-runner")
    monkeypatch.undo()
    db.session.rollback()
    [half_done] = db.session.scalars(
        sa.select(CertificateBatchItem).where(CertificateBatchItem.certificate_id.is_not(None))
    ).all()
    assert half_done.status is ItemStatus.PENDING
    assert db.session.get(Certificate, half_done.certificate_id).pdf_sha256 is None

    batch = db.session.get(CertificateBatch, batch_id)
    batch.heartbeat_at = datetime.now(timezone.utc) - timedelta(seconds=batches.LEASE_SECONDS + 5)
    db.session.commit()
    assert batches.run_batch(app, batch_id, processes=1) is True

    db.session.expire_all()
    counts = batches.progress(db.session.get(CertificateBatch, batch_id))
    assert counts["issued"] == 3
    assert counts["existing"] == 0
    assert _serial_numbers() == [1, 2, 3]
    assert all(cert.pdf_sha256 for cert in db.session.scalars(sa.select(Certificate)))


def test_lease_renewed_once_per_interval(app_ctx, monkeypatch):
    programme_id, hr_id = _cohort(3)
    batch_id = _batch(programme_id, hr_id)
    assert batches.claim(batch_id, "runner")
    claimed_at = db.session.get(CertificateBatch, batch_id).heartbeat_at
    renewals = []
    renew = batches._heartbeat
    monkeypatch.setattr(batches, "HEARTBEAT_SECONDS", 3600)
    monkeypatch.setattr(
        batches, "_heartbeat", lambda *args: (renewals.append(args), renew(*args))
    )

    assert batches.issue_items(batch_id, "runner") == 3

    # All three items fall in one interval: only the first renews the lease.
    assert renewals == [(batch_id, "runner")]
    db.session.expire_all()
    assert db.session.get(CertificateBatch, batch_id).heartbeat_at >= claimed_at


def test_lease_renewed_each_step_when_due(app_ctx, monkeypatch):
    programme_id, hr_id = _cohort(2)
    batch_id = _batch(programme_id, hr_id)
    assert batches.claim(batch_id, "runner")
    renewals = []
    monkeypatch.setattr(batches, "HEARTBEAT_SECONDS", 0)
    monkeypatch.setattr(batches, "_heartbeat", lambda *args: renewals.append(args))

    assert batches.issue_items(batch_id, "runner") == 2

    # Issuing and storing the PDF each renew it.
    assert len(renewals) == 4


def test_worker_warmup_single_threaded_without_error():
    from lms import PROJECT_ROOT

    code = (
        "import threading\n"
        "import certificates.worker_warmup\n"
        "print(threading.active_count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    # The fork server forks workers from this state, which is safe only
    # with a single thread.
    assert result.stdout.strip() == "1"
    assert "Warm-up of the batch worker fork server failed" not in result.stderr


def _die(*args):
    import os

    os._exit(1)


def test_dead_worker_stops_the_run_instead_of_hanging(app, app_ctx, monkeypatch):
    programme_id, hr_id = _cohort(2)
    batch_id = _batch(programme_id, hr_id)
    monkeypatch.setattr(batches, "_worker_main", _die)

    with pytest.raises(Exception) as stopped:
        batches.run_batch(app, batch_id, processes=2)

    assert "BrokenProcessPool" in type(stopped.value).__name__ or "terminated" in str(stopped.value)
    db.session.expire_all()
    batch = db.session.get(CertificateBatch, batch_id)
    assert batch.runner is None
    assert batch.last_error
    assert batches.progress(batch)["pending"] == 2
