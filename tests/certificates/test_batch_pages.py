"""Batch page and audit entry of certificate batches."""

import re

import sqlalchemy as sa

from certificates.batches import CertificateBatch
from lms import audit
from lms.accounts.models import Role, User
from lms.extensions import db
from tests.certificates.test_batches import _cohort
from tests.factories import make_user


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


def _start_batch(hr, programme_id: int) -> int:
    response = hr.post("/certificates/batches", data={"target": f"programme:{programme_id}"})
    assert response.status_code == 302
    return int(re.search(r"/batches/(\d+)", response.headers["Location"]).group(1))


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

    assert row[4] == f"Batch of 1 certificates created for programme {programme_id}"
