"""HR enters a training a person took elsewhere: approved on entry, audited, scoped."""

import io

import sqlalchemy as sa

from lms.audit import AuditEntry
from lms.extensions import db
from lms.records.models import ExternalTraining, ExternalTrainingStatus, HoursEntry

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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
        "note": "原件已核验",
    }
    form.update(overrides)
    return form


def _enter(session, person_id: int, **overrides):
    return session.post(
        f"/people/{person_id}/external/new",
        data=_form(**overrides),
        content_type="multipart/form-data",
    )


def test_hr_entry_is_approved_credited_and_audited(world, login, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    hr = login("hr")
    assert hr.get(f"/people/{world.counselor}/external/new").status_code == 200

    response = _enter(hr, world.counselor)

    assert response.status_code == 302
    db.session.expire_all()
    [training] = db.session.scalars(sa.select(ExternalTraining)).all()
    assert response.headers["Location"].endswith(f"/records/external/{training.id}/review")
    assert training.user_id == world.counselor
    assert training.status is ExternalTrainingStatus.APPROVED
    assert training.reviewed_by_id == world.hr
    assert training.review_reason == "原件已核验"
    assert (tmp_path / "evidence" / training.evidence_path).read_bytes() == PDF
    # The training spans New Year: one ledger row per year, 10 hours in all.
    rows = db.session.scalars(sa.select(HoursEntry).order_by(HoursEntry.year)).all()
    assert [row.year for row in rows] == [2025, 2026]
    assert sum(row.hours for row in rows) == 10
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"external_training.entered", "external_training.approved"} <= actions
    entered = db.session.scalar(
        sa.select(AuditEntry).filter_by(action="external_training.entered")
    )
    assert entered.actor_id == world.hr
    page = hr.get(f"/records/external/{training.id}/review").get_data(as_text=True)
    assert "certificate" in page.lower() or "证书" in page


def test_counselor_and_other_institution_hr_cannot_enter(world, login):
    counselor = login("counselor1")
    assert counselor.get(f"/people/{world.counselor}/external/new").status_code == 403
    assert _enter(counselor, world.counselor).status_code == 403
    outsider = login("hr_b")
    assert outsider.get(f"/people/{world.counselor}/external/new").status_code == 404
    assert _enter(outsider, world.counselor).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ExternalTraining.id))) == 0


def test_entry_with_bad_evidence_or_dates_names_the_field(world, login, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    hr = login("hr")
    hr.post("/language/en")

    fake = _enter(hr, world.counselor, evidence=(io.BytesIO(b"MZ not a pdf"), "x.pdf"))
    assert fake.status_code == 400
    assert "not a PDF, JPEG or PNG" in fake.get_data(as_text=True)

    backwards = _enter(hr, world.counselor, start_date="2026-01-05", end_date="2026-01-02")
    assert backwards.status_code == 400
    assert "The end date is before the start date." in backwards.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ExternalTraining.id))) == 0


def test_entry_hours_not_a_number_named(world, login, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    hr = login("hr")
    hr.post("/language/en")

    for value in ("NaN", "Infinity", "abc"):
        response = _enter(hr, world.counselor, hours=value)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, value
        assert "Hours: Enter a number of hours, e.g. 8 or 3.5." in page, value

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ExternalTraining.id))) == 0


def test_entry_duplicate_points_at_existing(world, login, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    hr = login("hr")
    hr.post("/language/en")
    assert _enter(hr, world.counselor).status_code == 302
    [existing] = db.session.scalars(sa.select(ExternalTraining)).all()

    response = _enter(hr, world.counselor, start_date="2025-12-31", end_date="2025-12-31", hours="8")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "already has 全国高校辅导员示范培训 by 教育部思想政治工作司" in page
    assert "from 2025-12-29 to 2026-01-02 (Approved)" in page
    assert f"/records/external/{existing.id}/review" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalTraining)) == 1


def test_entry_rejects_implausible_start(world, login, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    hr = login("hr")
    hr.post("/language/en")

    response = _enter(hr, world.counselor, start_date="0001-01-01", end_date="0001-01-02")

    assert response.status_code == 400
    assert "Start date: 0001-01-01 is not a plausible training date." in response.get_data(
        as_text=True
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalTraining)) == 0


def test_entry_rejects_training_before_2000(world, login, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    hr = login("hr")
    hr.post("/language/en")

    response = _enter(hr, world.counselor, start_date="1990-01-01", end_date="1990-01-02")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Start date: 1990-01-01 is not a plausible training date." in page
    assert "End date: 1990-01-02 is not a plausible training date." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalTraining)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HoursEntry)) == 0


def test_entry_on_same_days_shares_day_cap(world, login, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    hr = login("hr")
    hr.post("/language/en")
    assert _enter(hr, world.counselor, hours="40").status_code == 302

    response = _enter(
        hr, world.counselor, title="省级辅导员专题培训", organiser="省教育厅",
        start_date="2026-01-02", end_date="2026-01-02", hours="4",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "they come to 44.0 hours from 2025-12-29 to 2026-01-02" in page
    assert "5 days earn at most 40 hours" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalTraining)) == 1


def test_hr_entry_asks_nobody_to_review(world, login, app, tmp_path, monkeypatch):
    """An entry is approved at once, so no reviewer is asked to review it."""
    from lms.notifications.models import Notification

    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))

    assert _enter(login("hr"), world.counselor).status_code == 302

    db.session.expire_all()
    kinds = db.session.scalars(sa.select(Notification.kind)).all()
    recipients = db.session.scalars(sa.select(Notification.recipient_id)).all()
    assert kinds == ["external_training_decision"]
    assert recipients == [world.counselor]


def test_review_page_labels_hr_note(world, login, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    hr = login("hr")
    _enter(hr, world.counselor)
    training = db.session.scalar(sa.select(ExternalTraining))
    review_url = f"/records/external/{training.id}/review"

    entered_page = hr.get(review_url).get_data(as_text=True)
    hr.post(
        f"/records/external/{training.id}/withdraw",
        data={"reason": "证书编号与主办方名单不符"},
    )
    withdrawn_page = hr.get(review_url).get_data(as_text=True)

    assert "<dt>备注</dt><dd>原件已核验</dd>" in entered_page
    assert "<dt>理由</dt>" not in entered_page
    assert "<dt>理由</dt><dd>证书编号与主办方名单不符</dd>" in withdrawn_page


def test_review_page_labels_reviewer_reason(world, login, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    counselor = login("counselor1")
    counselor.post(
        "/records/external",
        data=_form(),
        content_type="multipart/form-data",
    )
    training = db.session.scalar(sa.select(ExternalTraining))
    hr = login("hr")
    hr.post(
        f"/records/external/{training.id}/review",
        data={"decision": "reject", "reason": "材料不全"},
    )

    page = hr.get(f"/records/external/{training.id}/review").get_data(as_text=True)

    assert "<dt>理由</dt><dd>材料不全</dd>" in page
