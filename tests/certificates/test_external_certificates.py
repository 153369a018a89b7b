"""Certificates for approved trainings taken elsewhere, issued by HR."""

import io
import json
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from certificates import external as external_certificates
from certificates import services
from certificates.credentials import verify_open_badge
from certificates.models import Certificate
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.records import external
from lms.records.models import TrainingKind, TrainingTier
from tests.factories import build_learning_world

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TITLE = "全国高校辅导员示范培训"
ORGANISER = "教育部思想政治工作司"


@pytest.fixture
def world(app, app_ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    return build_learning_world()


def _training(
    world, *, approved: bool = True, title: str = TITLE, organiser: str = ORGANISER
) -> int:
    person = db.session.get(User, world.counselor)
    fields = dict(
        title=title,
        organiser=organiser,
        tier=TrainingTier.NATIONAL,
        kind=TrainingKind.DEMONSTRATION,
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 6),
        hours=Decimal("32.5"),
        evidence_name="结业证书.pdf",
        extension="pdf",
        content=PDF,
    )
    if approved:
        training = external.enter_for(person, db.session.get(User, world.hr), **fields)
    else:
        training = external.submit(person, **fields)
    db.session.commit()
    return training.id


def _issue(session, training_id: int):
    return session.post(f"/records/external/{training_id}/certificate")


def test_hr_issues_certificate_once(world, login):
    training_id = _training(world)
    hr = login("hr")

    first = _issue(hr, training_id)
    second = _issue(hr, training_id)

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    db.session.expire_all()
    [cert] = db.session.scalars(sa.select(Certificate)).all()
    assert cert.achievement_key == f"external:{training_id}"
    assert cert.holder_id == world.counselor
    assert cert.programme_id is None
    assert cert.title == TITLE
    assert cert.hours == Decimal("32.5")
    assert cert.pdf_sha256
    issued = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="certificate.issued")
    ).all()
    assert len(issued) == 1
    assert issued[0].actor_id == world.hr

    detail = hr.get(f"/certificates/{cert.serial}")
    assert detail.status_code == 200
    assert TITLE in detail.get_data(as_text=True)
    holder_view = login("counselor1").get(f"/certificates/{cert.serial}")
    assert holder_view.status_code == 200
    verify = hr.get(f"/verify/{cert.verification_code}")
    assert verify.status_code == 200
    assert TITLE in verify.get_data(as_text=True)

    pdf = hr.get(f"/certificates/{cert.serial}.pdf")
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text().replace(" ", "").replace("\n", "")
    for expected in ("张老师", TITLE, ORGANISER, "32.5", "2026年3月2日至2026年3月6日"):
        assert expected in text

    credential = json.loads(cert.credential_json)
    assert verify_open_badge(credential).ok
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["name"] == TITLE
    assert ORGANISER in achievement["criteria"]["narrative"]
    assert "（2026年3月2日至2026年3月6日）" in achievement["criteria"]["narrative"]
    assert credential["credentialSubject"]["creditsEarned"] == 32.5
    download = hr.get(f"/certificates/{cert.serial}/credential.json")
    assert download.status_code == 200

    review = hr.get(f"/records/external/{training_id}/review").get_data(as_text=True)
    assert cert.serial in review


def test_counselor_and_other_institution_hr_are_refused(world, login):
    training_id = _training(world)
    assert _issue(login("counselor1"), training_id).status_code == 403
    assert _issue(login("counselor2"), training_id).status_code == 404
    assert _issue(login("hr_b"), training_id).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_pending_training_gets_no_certificate(world, login):
    training_id = _training(world, approved=False)
    response = _issue(login("hr"), training_id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/records/external/{training_id}/review")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    training = external.find(training_id)
    with pytest.raises(services.CertificateError):
        external_certificates.issue_for_training(training, db.session.get(User, world.hr))


def test_service_is_idempotent_and_checks_the_actor(world):
    training = external.find(_training(world))
    hr = db.session.get(User, world.hr)
    first, inserted = external_certificates.issue_for_training(training, hr)
    again, inserted_again = external_certificates.issue_for_training(training, hr)
    assert inserted
    assert not inserted_again
    assert first.id == again.id
    with pytest.raises(services.CertificatePermissionError):
        external_certificates.issue_for_training(
            training, db.session.get(User, world.counselor)
        )


@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils not installed"
)
def test_pdf_labels_in_chinese_and_english(world, login, tmp_path):
    training_id = _training(world)
    hr = login("hr")
    _issue(hr, training_id)
    db.session.expire_all()
    [cert] = db.session.scalars(sa.select(Certificate)).all()

    pdf = hr.get(f"/certificates/{cert.serial}.pdf")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout

    assert len(PdfReader(io.BytesIO(pdf.data)).pages) == 1
    for chinese, english in (
        ("培训认定证书", "Certificate of Recognised Training"),
        ("兹证明", "This is to certify that"),
        ("培训", "has attended the training"),
        ("举办单位", "Organiser"),
        ("培训日期", "Training dates"),
        ("认定学时", "Recognised hours"),
        ("发证日期", "Issued on"),
        ("证书编号", "Serial No."),
        ("验证码", "Verification code"),
        ("扫码或访问以下网址核验", "Scan or visit to verify"),
    ):
        assert chinese in text
        assert english in text
    assert f"({cert.issued_on.isoformat()})" in text


def test_long_training_certificate_not_issued(world, login, english):
    """Is HR stopped from issuing a certificate whose long texts push out the code?"""
    title = ("关于加强新时代高校辅导员队伍建设和学生心理健康教育工作能力提升的专题研修班" * 5)[:200]
    organiser = ("教育部思想政治工作司高校思想政治工作队伍培训研修中心华东师范大学" * 7)[:100]
    training_id = _training(world, title=title, organiser=organiser)
    hr = login("hr")

    response = _issue(hr, training_id)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/records/external/{training_id}/review")
    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert "cuts off the serial number and the verification code" in page
    assert "reduce sizes in that template" in page
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
