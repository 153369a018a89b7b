"""Batch page: the per-person list, the resume button and the audit entry."""

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from certificates import batches, services
from certificates.batches import BatchStatus, CertificateBatch, CertificateBatchItem
from certificates.models import Certificate
from certificates.render import CertificateRenderError
from courses.models import Programme
from lms import audit
from lms.accounts.models import Role, User
from lms.extensions import db
from tests.certificates.test_batches import _cohort
from tests.factories import make_department, make_user

RESUME_BUTTON = re.compile(r'action="/certificates/batches/\d+/resume"')


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


def _start_batch(hr, programme_id: int) -> int:
    response = hr.post("/certificates/batches", data={"target": f"programme:{programme_id}"})
    assert response.status_code == 302
    return int(re.search(r"/batches/(\d+)", response.headers["Location"]).group(1))


def _item_rows(page: str) -> list[str]:
    body = page.split('<table id="batch-items">')[1].split("</table>")[0]
    return body.split("<tbody>")[1].split("<tr")[1:]


# Audit entry -----------------------------------------------------------------


def _audit_row(page: str, action: str) -> list[str]:
    """Return the cell texts of the first audit row of ``action``."""
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    for row in body.split("<tr>")[1:]:
        if f'data-action="{action}"' in row:
            cells = [cell.split("</td>")[0] for cell in row.split("<td")[1:]]
            return [cell.split(">", 1)[1].strip() for cell in cells]
    raise AssertionError(f"no audit row of {action}")


def test_batch_created_audit_names_actor_and_title(app_ctx, login, english):
    programme_id, _hr_id = _cohort(2)
    make_user(_user("hr").institution, "admin", Role.ADMIN)
    db.session.commit()
    _start_batch(login("hr"), programme_id)
    title = db.session.scalar(
        sa.select(CertificateBatch).options(sa.orm.joinedload(CertificateBatch.programme))
    ).programme.title

    row = _audit_row(login("admin").get("/admin/audit").get_data(as_text=True),
                     "certificate.batch_created")

    assert row[1] == "hr"
    assert row[4] == f"Batch of 2 certificates created for programme {title}"


def test_old_batch_created_entry_names_programme_id(app_ctx, login, english):
    programme_id, hr_id = _cohort(1)
    make_user(_user("hr").institution, "admin", Role.ADMIN)
    audit.record(
        "certificate.batch_created",
        "certificate_batch",
        1,
        "1 certificates of p1",
        institution_id=_user("hr").institution_id,
        data={"programme_id": programme_id, "people": 1},
    )
    db.session.commit()

    row = _audit_row(login("admin").get("/admin/audit").get_data(as_text=True),
                     "certificate.batch_created")

    assert row[4] == f"Batch of 1 certificate created for programme {programme_id}"


# Resume button ---------------------------------------------------------------


def _set_batch(batch_id: int, **values) -> None:
    db.session.execute(sa.update(CertificateBatch).filter_by(id=batch_id).values(**values))
    db.session.commit()


def test_resume_hidden_while_runner_alive(app_ctx, login):
    programme_id, _hr_id = _cohort(2)
    hr = login("hr")
    batch_id = _start_batch(hr, programme_id)
    now = datetime.now(timezone.utc)

    _set_batch(batch_id, status=BatchStatus.RUNNING, runner="web:1", heartbeat_at=now)
    running = hr.get(f"/certificates/batches/{batch_id}").get_data(as_text=True)
    _set_batch(batch_id, status=BatchStatus.QUEUED, runner="web:1", heartbeat_at=now)
    queued = hr.get(f"/certificates/batches/{batch_id}").get_data(as_text=True)

    assert not RESUME_BUTTON.search(running)
    assert not RESUME_BUTTON.search(queued)


def test_resume_shown_for_stale_or_unclaimed_batch(app_ctx, login):
    programme_id, _hr_id = _cohort(2)
    hr = login("hr")
    batch_id = _start_batch(hr, programme_id)
    unclaimed = hr.get(f"/certificates/batches/{batch_id}").get_data(as_text=True)
    stale_at = datetime.now(timezone.utc) - timedelta(seconds=batches.LEASE_SECONDS + 5)

    _set_batch(batch_id, status=BatchStatus.RUNNING, runner="web:1", heartbeat_at=stale_at)
    stale = hr.get(f"/certificates/batches/{batch_id}").get_data(as_text=True)

    assert RESUME_BUTTON.search(unclaimed)
    assert RESUME_BUTTON.search(stale)


def test_resume_only_with_failures_once_done(app, app_ctx, login, monkeypatch):
    programme_id, _hr_id = _cohort(2)
    hr = login("hr")
    clean_id = _start_batch(hr, programme_id)
    batches.run_batch(app, clean_id, processes=1)
    clean = hr.get(f"/certificates/batches/{clean_id}").get_data(as_text=True)
    db.session.execute(sa.delete(CertificateBatchItem))
    db.session.execute(sa.delete(Certificate))
    db.session.commit()

    def failing(user, programme, completed_at, **options):
        raise RuntimeError("font missing")

    monkeypatch.setattr(services, "issue_programme_certificate", failing)
    failed_id = _start_batch(hr, programme_id)
    batches.run_batch(app, failed_id, processes=1)
    failed = hr.get(f"/certificates/batches/{failed_id}").get_data(as_text=True)

    assert not RESUME_BUTTON.search(clean)
    assert RESUME_BUTTON.search(failed)


def test_resume_is_audited_with_actor(app, app_ctx, login, english, monkeypatch):
    """Does the audit log name who retried a batch's failed items?"""
    programme_id, _hr_id = _cohort(2)
    make_user(_user("hr").institution, "admin", Role.ADMIN)
    db.session.commit()

    def failing(user, programme, completed_at, **options):
        raise RuntimeError("font missing")

    hr = login("hr")
    batch_id = _start_batch(hr, programme_id)
    with monkeypatch.context() as patch:
        patch.setattr(services, "issue_programme_certificate", failing)
        batches.run_batch(app, batch_id, processes=1)

    page = hr.get(f"/certificates/batches/{batch_id}").get_data(as_text=True)
    response = hr.post(
        f"/certificates/batches/{batch_id}/resume",
        data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)},
    )

    assert response.status_code == 302
    row = _audit_row(login("admin").get("/admin/audit").get_data(as_text=True),
                     "certificate.batch_resumed")
    assert row[1] == "hr"
    assert row[4] == "Certificate batch resumed: 2 failed items retried"


# Per-person list -------------------------------------------------------------


@pytest.fixture
def finished_batch(app, app_ctx, monkeypatch):
    """A finished batch of three: learner0 failed, learner1 held, learner2 issued."""
    programme_id, hr_id = _cohort(3)
    for number, employee_no in enumerate(["E1000", "E1001", None]):
        _user(f"learner{number}").employee_no = employee_no
    db.session.commit()
    programme = db.session.get(Programme, programme_id)
    held = services.issue_programme_certificate(
        _user("learner1"), programme, datetime(2026, 6, 30, 2, 0, tzinfo=timezone.utc)
    )
    db.session.commit()
    original = services.issue_programme_certificate
    broken = _user("learner0").id

    def failing(user, programme, completed_at, **options):
        if user.id == broken:
            raise RuntimeError("font missing")
        return original(user, programme, completed_at, **options)

    monkeypatch.setattr(services, "issue_programme_certificate", failing)
    batch = batches.create_batch(db.session.get(User, hr_id), programme)
    db.session.commit()
    batch_id = batch.id
    batches.run_batch(app, batch_id, processes=1)
    db.session.expire_all()
    issued = db.session.scalar(
        sa.select(Certificate).filter_by(holder_id=_user("learner2").id)
    )
    return {"batch_id": batch_id, "held": held.serial, "issued": issued.serial}


def test_hr_sees_people_with_pdf_links(finished_batch, login):
    hr = login("hr")
    page = hr.get(f"/certificates/batches/{finished_batch['batch_id']}").get_data(as_text=True)
    rows = _item_rows(page)

    assert len(rows) == 3
    assert 'data-status="failed"' in rows[0]
    assert "签发失败" in rows[0]
    assert "未通过" not in rows[0]
    assert "学员0" in rows[0]
    assert "E1000" in rows[0]
    assert "证书颁发失败。" in rows[0]
    assert "<summary>技术详情</summary>" in rows[0]
    assert "RuntimeError: font missing" in rows[0]
    by_status = {re.search(r'data-status="(\w+)"', row).group(1): row for row in rows}
    assert "学员1" in by_status["existing"]
    assert f'href="/certificates/{finished_batch["held"]}.pdf"' in by_status["existing"]
    assert "学员2" in by_status["issued"]
    assert f'href="/certificates/{finished_batch["issued"]}.pdf"' in by_status["issued"]
    pdf = hr.get(f"/certificates/{finished_batch['issued']}.pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")


def test_failed_item_error_in_english(finished_batch, login, english):
    page = login("hr").get(f"/certificates/batches/{finished_batch['batch_id']}")
    failed = _item_rows(page.get_data(as_text=True))[0]

    assert "Not issued" in failed
    assert "The certificate could not be issued." in failed
    assert "<summary>Technical details</summary>" in failed
    assert "RuntimeError: font missing" in failed


def _batch_without_pdfs(app, monkeypatch, error: Exception) -> int:
    """Run a batch of one whose PDF rendering raises ``error``; return its id."""
    programme_id, hr_id = _cohort(1)

    def failing(cert, specs=None):
        raise error

    monkeypatch.setattr(services, "render_stored", failing)
    batch = batches.create_batch(
        db.session.get(User, hr_id), db.session.get(Programme, programme_id)
    )
    db.session.commit()
    batch_id = batch.id
    batches.run_batch(app, batch_id, processes=1)
    return batch_id


@pytest.mark.parametrize(
    "error, code",
    [
        (RuntimeError("font missing"), batches.ItemErrorCode.PDF_NOT_STORED),
        (CertificateRenderError("2 pages", pages=2), batches.ItemErrorCode.PDF_LAYOUT),
    ],
)
def test_pdf_failure_stores_code_and_detail(app, app_ctx, monkeypatch, error, code):
    batch_id = _batch_without_pdfs(app, monkeypatch, error)

    db.session.expire_all()
    item = db.session.scalar(
        sa.select(CertificateBatchItem).filter_by(batch_id=batch_id)
    )
    assert item.status is batches.ItemStatus.ISSUED
    assert item.error_code is code
    assert item.error == f"{type(error).__name__}: {error}"


def test_item_without_pdf_explained_in_chinese(app, app_ctx, login, monkeypatch):
    batch_id = _batch_without_pdfs(app, monkeypatch, RuntimeError("font missing"))

    page = login("hr").get(f"/certificates/batches/{batch_id}")
    [row] = _item_rows(page.get_data(as_text=True))

    assert "PDF not stored" not in row
    assert "证书已颁发，但其 PDF 暂未生成，将在首次下载时生成。" in row
    assert "RuntimeError: font missing" in row


def test_item_without_pdf_explained_in_english(
    app, app_ctx, login, english, monkeypatch
):
    batch_id = _batch_without_pdfs(
        app, monkeypatch, CertificateRenderError("2 pages", pages=2)
    )

    page = login("hr").get(f"/certificates/batches/{batch_id}")
    [row] = _item_rows(page.get_data(as_text=True))

    assert "The certificate was issued, but its template cannot lay out its PDF" in row
    assert "CertificateRenderError: 2 pages" in row


def test_retry_clears_error_code(finished_batch):
    batch = db.session.get(CertificateBatch, finished_batch["batch_id"])

    assert batches.retry_failed(batch) == 1

    db.session.commit()
    db.session.expire_all()
    codes = db.session.scalars(
        sa.select(CertificateBatchItem.error_code).filter_by(batch_id=batch.id)
    ).all()
    assert codes == [None, None, None]


def test_stopped_batch_error_explained(app, app_ctx, login):
    programme_id, hr_id = _cohort(1)
    batch = batches.create_batch(
        db.session.get(User, hr_id), db.session.get(Programme, programme_id)
    )
    batch.last_error = "BrokenProcessPool: A process in the pool was terminated"
    db.session.commit()

    page = login("hr").get(f"/certificates/batches/{batch.id}").get_data(as_text=True)

    assert "本批次的一次运行因错误中止" in page
    assert "BrokenProcessPool: A process in the pool was terminated" in page


def test_trainer_sees_people_without_links(finished_batch, login):
    trainer = login("trainer")
    page = trainer.get(f"/certificates/batches/{finished_batch['batch_id']}").get_data(as_text=True)
    rows = _item_rows(page)

    assert len(rows) == 3
    assert all("href=" not in row for row in rows)
    assert any(finished_batch["issued"] in row for row in rows)
    assert trainer.get(f"/certificates/{finished_batch['issued']}.pdf").status_code == 404


def test_trainer_told_why_serials_have_no_links(finished_batch, login, english):
    page = login("trainer").get(f"/certificates/batches/{finished_batch['batch_id']}")

    assert "shown without links" in page.get_data(as_text=True)


def _department_hr():
    institution = _user("hr").institution
    department = make_department(institution, "d1", "学生工作部")
    make_user(institution, "dept-hr", Role.HR, department=department).hr_department_id = department.id
    db.session.commit()


def test_department_hr_cannot_open_batches(finished_batch, login):
    _department_hr()
    dept_hr = login("dept-hr")
    batch_id = finished_batch["batch_id"]

    assert dept_hr.get("/certificates/batches").status_code == 403
    assert dept_hr.get(f"/certificates/batches/{batch_id}").status_code == 403
    assert dept_hr.get(f"/certificates/batches/{batch_id}/progress.json").status_code == 403
    assert "/certificates/batches" not in dept_hr.get("/certificates/issued").get_data(as_text=True)


def test_department_hr_cannot_start_batch(app, app_ctx, login):
    programme_id, _hr_id = _cohort(2)
    _department_hr()

    response = login("dept-hr").post(
        "/certificates/batches", data={"target": f"programme:{programme_id}"}
    )

    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(CertificateBatch.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_department_hr_batch_service_rejected(app_ctx):
    programme_id, _hr_id = _cohort(1)
    _department_hr()

    with pytest.raises(batches.BatchError):
        batches.create_batch(_user("dept-hr"), db.session.get(Programme, programme_id))
