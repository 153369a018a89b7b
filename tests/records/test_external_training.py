"""Trainings taken elsewhere: upload checks, HR review, split crediting, evidence access."""

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from lms.audit import AuditEntry
from lms.extensions import db
from lms.records.external import MAX_EVIDENCE_BYTES
from lms.records.models import (
    ExternalTraining,
    ExternalTrainingStatus,
    HoursEntry,
    ProgressionEntry,
    ProgressionKind,
)
from tests.conftest import count

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EVIDENCE_LABEL = "Evidence (PDF, JPEG or PNG, at most 10 MB)"


def _english(session):
    session.post("/language/en")
    return session


def _form(content: bytes = PDF, filename: str = "结业证书.pdf", **overrides) -> dict:
    form = {
        "title": "全国高校辅导员示范培训",
        "organiser": "教育部思想政治工作司",
        "tier": "national",
        "kind": "demonstration",
        "start_date": "2025-12-29",
        "end_date": "2026-01-02",
        "hours": "10",
        "evidence": (io.BytesIO(content), filename),
    }
    form.update(overrides)
    return form


def _submit(session, **kw):
    return session.post(
        "/records/external", data=_form(**kw), content_type="multipart/form-data"
    )


def _only_training() -> ExternalTraining:
    db.session.expire_all()
    [training] = db.session.scalars(sa.select(ExternalTraining)).all()
    return training


def _audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id))
    )


@pytest.fixture(autouse=True)
def evidence_dir(app, tmp_path, monkeypatch):
    """Give each test an empty evidence folder."""
    folder = tmp_path / "evidence"
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(folder))
    return folder


@pytest.fixture
def submitted(world, login):
    """counselor1 has a pending submission; returns its id."""
    response = _submit(login("counselor1"))
    assert response.status_code == 302
    return _only_training().id


# Submission ----------------------------------------------------------------


def test_submission_is_pending_and_credits_nothing(world, login, app, evidence_dir):
    counselor = _english(login("counselor1"))

    response = _submit(counselor)

    assert response.status_code == 302
    training = _only_training()
    assert training.status is ExternalTrainingStatus.PENDING
    assert training.user_id == world.counselor
    assert training.hours == Decimal("10.0")
    assert training.evidence_name == "结业证书.pdf"
    assert training.evidence_type == "application/pdf"
    stored = evidence_dir / training.evidence_path
    assert stored.read_bytes() == PDF
    assert "结业证书" not in training.evidence_path
    static = Path(app.static_folder).resolve()
    assert static not in stored.resolve().parents
    assert count(HoursEntry) == 0
    page = counselor.get("/records/external").get_data(as_text=True)
    assert "全国高校辅导员示范培训" in page
    assert "Awaiting review" in page


def test_png_evidence_is_accepted(world, login):
    response = _submit(login("counselor1"), content=PNG, filename="photo.PNG")

    assert response.status_code == 302
    assert _only_training().evidence_type == "image/png"


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"MZ\x90\x00 not a pdf", "证书.pdf", "The file content is not a PDF"),
        (PNG, "证书.pdf", "The file content is not a PDF"),
        (PDF, "证书.exe", "Upload a PDF, JPEG or PNG file"),
        (PDF, "证书", "Upload a PDF, JPEG or PNG file"),
        (b"<svg></svg>", "image.svg", "Upload a PDF, JPEG or PNG file"),
    ],
)
def test_bad_evidence_is_rejected_naming_field(
    world, login, evidence_dir, content, filename, message
):
    response = _submit(
        _english(login("counselor1")), content=content, filename=filename
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"{EVIDENCE_LABEL}: {message}" in page
    assert count(ExternalTraining) == 0
    assert not evidence_dir.exists() or list(evidence_dir.iterdir()) == []


def test_oversized_evidence_is_rejected(world, login):
    counselor = _english(login("counselor1"))
    content = b"%PDF-" + b"0" * (MAX_EVIDENCE_BYTES - 4)
    fields = _form()
    del fields["evidence"]
    fields["csrf_token"] = counselor.csrf
    fields["evidence"] = FileStorage(io.BytesIO(content), filename="big.pdf")
    # Encoded here, in memory: the test client would spool a body this large
    # to a temporary file that it never closes.
    boundary, body = encode_multipart(fields)

    response = counselor.client.post(
        "/records/external",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    assert response.status_code == 400
    assert f"{EVIDENCE_LABEL}: The file is larger than 10 MB." in response.get_data(
        as_text=True
    )
    assert count(ExternalTraining) == 0


def test_invalid_fields_are_named(world, login):
    counselor = _english(login("counselor1"))
    cases = [
        ({"title": ""}, "Title: This field is required."),
        (
            {"end_date": "2025-12-01"},
            "End date: The end date is before the start date.",
        ),
        ({"end_date": "2999-01-01"}, "End date: Submit a training once it has ended."),
        ({"hours": "0"}, "Hours: Enter a number from 0.5 to 9999."),
        ({"hours": "abc"}, "Hours: Enter a number of hours, e.g. 8 or 3.5."),
        ({"hours": "41"}, "Hours: A training of 5 days earns at most 40 hours"),
        ({"hours": "2.25"}, "Hours: Use at most one decimal place."),
        ({"tier": "county"}, "Tier: “county” is not one of the listed options"),
    ]
    for overrides, message in cases:
        response = _submit(counselor, **overrides)
        assert response.status_code == 400, overrides
        assert message in response.get_data(as_text=True), overrides
    response = counselor.post("/records/external", data={"title": "x"})
    assert response.status_code == 400
    assert f"{EVIDENCE_LABEL}: This field is required." in response.get_data(
        as_text=True
    )
    assert count(ExternalTraining) == 0


@pytest.mark.parametrize(("hours", "status"), [("24", 400), ("8.1", 400), ("8", 302)])
def test_one_day_earns_at_most_a_full_day(world, login, hours, status):
    counselor = _english(login("counselor1"))

    response = _submit(
        counselor, start_date="2026-10-01", end_date="2026-10-01", hours=hours
    )

    assert response.status_code == status
    if status == 400:
        page = response.get_data(as_text=True)
        assert "Hours: A training of 1 day earns at most 8 hours, 8 per day" in page
        assert count(ExternalTraining) == 0


@pytest.mark.parametrize("value", ["abc", "NaN", "inf", "-Infinity", "sNaN", "1e400"])
def test_hours_not_a_number_named(world, login, value):
    counselor = _english(login("counselor1"))

    response = _submit(counselor, hours=value)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    if value == "1e400":
        assert "Hours: Enter a number from 0.5 to 9999." in page
    else:
        assert "Hours: Enter a number of hours, e.g. 8 or 3.5." in page
        assert "Enter a number from" not in page
    assert "Not a valid decimal value" not in page
    assert count(ExternalTraining) == 0


def test_only_learners_submit(world, login):
    for username in ["trainer", "hr", "admin"]:
        session = login(username)
        assert session.get("/records/external").status_code == 403, username
        assert _submit(session).status_code == 403, username
    assert count(ExternalTraining) == 0


# Review --------------------------------------------------------------------


def test_approval_splits_hours_by_year_once(world, login, submitted):
    hr = login("hr")
    url = f"/records/external/{submitted}/review"

    first = hr.post(url, data={"decision": "approve"})
    second = hr.post(url, data={"decision": "approve"})

    assert first.status_code == 302
    assert second.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(sa.select(HoursEntry).order_by(HoursEntry.year)).all()
    # 3 of the 5 days fall in 2025: 10 x 3 / 5 = 6 hours, the rest in 2026.
    assert [(row.year, row.hours) for row in rows] == [
        (2025, Decimal("6.0")),
        (2026, Decimal("4.0")),
    ]
    assert [row.occurred_on for row in rows] == [date(2025, 12, 31), date(2026, 1, 2)]
    assert {(row.source_type, row.source_id) for row in rows} == {
        ("external_training", submitted)
    }
    assert {row.user_id for row in rows} == {world.counselor}
    [entry] = db.session.scalars(sa.select(ProgressionEntry)).all()
    assert entry.kind is ProgressionKind.TRAINING
    assert entry.detail["organiser"] == "教育部思想政治工作司"
    training = _only_training()
    assert training.status is ExternalTrainingStatus.APPROVED
    assert training.reviewed_by_id == world.hr
    [row] = _audit("external_training.approved")
    assert row.actor_id == world.hr
    assert row.data["years"] == {"2025": "6.0", "2026": "4.0"}


def test_approval_after_rejection_changes_nothing(world, login, submitted):
    hr = login("hr")
    url = f"/records/external/{submitted}/review"

    hr.post(url, data={"decision": "reject", "reason": "证明材料不清晰"})
    response = hr.post(url, data={"decision": "approve"})

    assert response.status_code == 302
    training = _only_training()
    assert training.status is ExternalTrainingStatus.REJECTED
    assert training.review_reason == "证明材料不清晰"
    assert count(HoursEntry) == 0
    assert count(ProgressionEntry) == 0
    assert len(_audit("external_training.rejected")) == 1
    assert _audit("external_training.approved") == []


def test_rejection_needs_reason(world, login, submitted):
    hr = _english(login("hr"))

    response = hr.post(
        f"/records/external/{submitted}/review", data={"decision": "reject"}
    )

    assert response.status_code == 400
    assert "Reason: Give a reason when rejecting" in response.get_data(as_text=True)
    assert _only_training().status is ExternalTrainingStatus.PENDING


def test_rejected_submission_shows_reason_to_submitter(world, login, submitted):
    login("hr").post(
        f"/records/external/{submitted}/review",
        data={"decision": "reject", "reason": "学时与通知不符"},
    )

    page = _english(login("counselor1")).get("/records/external").get_data(as_text=True)

    assert "Rejected" in page
    assert "学时与通知不符" in page


def test_queue_lists_own_institution_pending(world, login, submitted):
    page = login("hr").get("/records/external/pending").get_data(as_text=True)
    assert "全国高校辅导员示范培训" in page
    assert f"/records/external/{submitted}/review" in page

    other = login("hr_b").get("/records/external/pending").get_data(as_text=True)
    assert "全国高校辅导员示范培训" not in other

    login("hr").post(
        f"/records/external/{submitted}/review", data={"decision": "approve"}
    )
    page = login("hr").get("/records/external/pending").get_data(as_text=True)
    assert "全国高校辅导员示范培训" not in page


def test_review_access(world, login, submitted):
    url = f"/records/external/{submitted}/review"
    data = {"decision": "approve"}

    assert login("counselor1").get(url).status_code == 403
    assert login("counselor1").post(url, data=data).status_code == 403
    for username in ["counselor2", "trainer", "hr_b"]:
        assert login(username).get(url).status_code == 404, username
        assert login(username).post(url, data=data).status_code == 404, username
    assert login("hr").get("/records/external/987654/review").status_code == 404
    assert count(HoursEntry) == 0
    assert login("admin").get(url).status_code == 200


# Evidence ------------------------------------------------------------------


def test_evidence_download_headers(world, login, submitted):
    for username in ["counselor1", "hr", "admin"]:
        response = login(username).get(f"/records/external/{submitted}/evidence")
        assert response.status_code == 200, username
        assert response.data == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()


def test_evidence_hidden_from_others(world, login, submitted):
    for username in ["counselor2", "trainer", "hr_b", "counselor_b"]:
        response = login(username).get(f"/records/external/{submitted}/evidence")
        assert response.status_code == 404, username


def test_reviewers_are_told_of_a_submission(world, login, submitted):
    from lms.notifications.models import Notification

    notes = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "external_training_review_due")
    ).all()

    assert [note.recipient_id for note in notes] == [world.hr]
    assert notes[0].link == f"/records/external/{submitted}/review"
    assert "张老师" in notes[0].body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"start_date": "0001-01-01", "end_date": "0001-01-02"},
            "Start date: 0001-01-01 is not a plausible training date. Enter a date"
            " from 2000-01-01 to today",
        ),
        (
            {"start_date": "0001-01-01", "end_date": "0001-01-02"},
            "End date: 0001-01-02 is not a plausible training date.",
        ),
        (
            {"start_date": "1999-12-31"},
            "Start date: 1999-12-31 is not a plausible training date.",
        ),
        (
            {"start_date": "2999-01-01", "end_date": "2999-01-02"},
            "End date: Submit a training once it has ended.",
        ),
        (
            {"start_date": "1990-01-01", "end_date": "1990-01-02"},
            "Start date: 1990-01-01 is not a plausible training date.",
        ),
    ],
)
def test_implausible_dates_are_named(world, login, overrides, message):
    counselor = _english(login("counselor1"))

    response = _submit(counselor, **overrides)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'value="全国高校辅导员示范培训"' in page
    assert count(ExternalTraining) == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"start_date": "0000-00-00"},
            "Start date: Enter a date as YYYY-MM-DD, e.g. 2026-09-01.",
        ),
        (
            {"end_date": "2026-02-30"},
            "End date: Enter a date as YYYY-MM-DD, e.g. 2026-09-01.",
        ),
        (
            {"start_date": "2025/12/29"},
            "Start date: Enter a date as YYYY-MM-DD, e.g. 2026-09-01.",
        ),
    ],
)
def test_unparseable_date_gives_format(world, login, overrides, message):
    counselor = _english(login("counselor1"))

    response = _submit(counselor, **overrides)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "Not a valid date value" not in page
    assert 'value="全国高校辅导员示范培训"' in page
    assert count(ExternalTraining) == 0


def test_earliest_training_date_is_accepted(world, login):
    response = _submit(login("counselor1"), start_date="2000-01-01", end_date="2000-01-02")

    assert response.status_code == 302
    assert _only_training().start_date == date(2000, 1, 1)


def test_overlapping_duplicate_is_rejected(world, login, submitted):
    counselor = _english(login("counselor1"))

    response = _submit(
        counselor,
        title=" 全国高校辅导员示范培训 ",
        start_date="2026-01-01",
        end_date="2026-01-05",
        hours="8",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        "Title: You already submitted 全国高校辅导员示范培训 by 教育部思想政治工作司"
        " from 2025-12-29 to 2026-01-02 (Awaiting review)." in page
    )
    assert "It is listed under My submissions." in page
    assert 'value="2026-01-05"' in page
    assert count(ExternalTraining) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"start_date": "2026-01-03", "end_date": "2026-01-04"},
        {"organiser": "省教育厅"},
        {"title": "心理健康教育专题培训"},
    ],
)
def test_distinct_training_is_not_duplicate(world, login, submitted, overrides):
    response = _submit(login("counselor1"), **overrides)

    assert response.status_code == 302
    assert count(ExternalTraining) == 2


def test_rejected_training_may_be_resubmitted(world, login, submitted):
    hr = login("hr")
    decided = hr.post(
        f"/records/external/{submitted}/review",
        data={"decision": "reject", "reason": "证明不清晰"},
    )
    assert decided.status_code == 302

    response = _submit(login("counselor1"))

    assert response.status_code == 302
    assert count(ExternalTraining) == 2


def test_other_person_same_training_is_not_duplicate(world, login, submitted):
    response = _submit(login("counselor2"))

    assert response.status_code == 302
    assert count(ExternalTraining) == 2


def test_evidence_download_keeps_chinese_name(world, login, submitted):
    response = login("counselor1").get(f"/records/external/{submitted}/evidence")

    disposition = response.headers["Content-Disposition"]
    response.close()
    assert disposition.startswith("attachment;")
    assert f"filename=evidence-{submitted}.pdf" in disposition
    assert "filename*=UTF-8''%E7%BB%93%E4%B8%9A%E8%AF%81%E4%B9%A6.pdf" in disposition
    assert "filename=.pdf" not in disposition


def test_evidence_download_ascii_name(world, login):
    assert _submit(login("counselor1"), filename="certificate 2026.pdf").status_code == 302
    training = _only_training()

    response = login("hr").get(f"/records/external/{training.id}/evidence")

    disposition = response.headers["Content-Disposition"]
    response.close()
    assert disposition == 'attachment; filename="certificate 2026.pdf"'


def test_evidence_name_keeps_last_path_component(world, login):
    name = "../../secret<svg onload=alert(1)>.pdf"
    assert _submit(login("counselor1"), filename=name).status_code == 302
    training = _only_training()

    response = login("hr").get(f"/records/external/{training.id}/evidence")

    disposition = response.headers["Content-Disposition"]
    response.close()
    assert training.evidence_name == "secret<svg onload=alert(1)>.pdf"
    assert disposition == 'attachment; filename="secret<svg onload=alert(1)>.pdf"'


def test_evidence_name_windows_path(world, login):
    # The multipart header is a quoted string, in which a doubled backslash is one.
    name = "C:\\\\Users\\\\吴敏\\\\结业证书.pdf"
    assert _submit(login("counselor1"), filename=name).status_code == 302

    assert _only_training().evidence_name == "结业证书.pdf"


def test_evidence_download_strips_stored_path(world, login, submitted):
    training = db.session.get(ExternalTraining, submitted)
    training.evidence_name = "..\\..\\证书\r\nSet-Cookie: a=b.pdf"
    db.session.commit()

    response = login("counselor1").get(f"/records/external/{submitted}/evidence")

    disposition = response.headers["Content-Disposition"]
    response.close()
    assert response.status_code == 200
    assert disposition == (
        f"attachment; filename=evidence-{submitted}.pdf; "
        "filename*=UTF-8''%E8%AF%81%E4%B9%A6Set-Cookie%3A%20a%3Db.pdf"
    )
    assert "Set-Cookie" not in response.headers


def test_evidence_download_path_only_name(world, login, submitted):
    training = db.session.get(ExternalTraining, submitted)
    training.evidence_name = "../"
    db.session.commit()

    response = login("counselor1").get(f"/records/external/{submitted}/evidence")

    disposition = response.headers["Content-Disposition"]
    response.close()
    assert disposition == f"attachment; filename=evidence-{submitted}.pdf"


def test_field_error_shown_once_in_chinese(world, login):
    response = _submit(login("counselor1"), title="")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.count("此项为必填项。") == 1, page
    assert "名称：此项为必填项。" in page
    assert "名称: 此项为必填项。" not in page
    assert "该字段是必填字段。" not in page
    assert 'href="#title"' in page


def test_trainings_on_same_days_share_day_cap(world, login):
    """Two trainings of one day each earn no more together than a full day of 8 学时."""
    counselor = _english(login("counselor1"))
    assert _submit(
        counselor, title="校级心理健康培训", start_date="2026-03-02",
        end_date="2026-03-02", hours="6",
    ).status_code == 302

    response = _submit(
        counselor, title="校级网络思政培训", start_date="2026-03-02",
        end_date="2026-03-02", hours="4",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Trainings already submitted on these dates: 校级心理健康培训" in page
    assert "(2026-03-02 – 2026-03-02, 6.0 hours)" in page
    assert "they come to 10.0 hours from 2026-03-02 to 2026-03-02" in page
    assert "1 day earns at most 8 hours" in page
    assert count(ExternalTraining) == 1


def test_overlapping_trainings_within_cap_accepted(world, login):
    counselor = login("counselor1")
    assert _submit(
        counselor, title="校级心理健康培训", start_date="2026-03-02",
        end_date="2026-03-03", hours="8",
    ).status_code == 302

    response = _submit(
        counselor, title="校级网络思政培训", start_date="2026-03-03",
        end_date="2026-03-04", hours="8",
    )

    assert response.status_code == 302
    assert count(ExternalTraining) == 2


def test_rejected_training_leaves_day_cap(world, login):
    counselor = login("counselor1")
    _submit(counselor, title="校级心理健康培训", start_date="2026-03-02",
            end_date="2026-03-02", hours="8")
    login("hr").post(
        f"/records/external/{_only_training().id}/review",
        data={"decision": "reject", "reason": "日期有误"},
    )

    response = _submit(
        counselor, title="校级网络思政培训", start_date="2026-03-02",
        end_date="2026-03-02", hours="8",
    )

    assert response.status_code == 302


def _notes(kind: str, recipient_id: int):
    from lms.notifications.models import Notification

    db.session.expire_all()
    return db.session.scalars(
        sa.select(Notification).filter_by(kind=kind, recipient_id=recipient_id)
    ).all()


def test_rejection_notifies_submitter(world, login, submitted):
    login("hr").post(
        f"/records/external/{submitted}/review",
        data={"decision": "reject", "reason": "证明材料不清晰"},
    )

    [note] = _notes("external_training_decision", world.counselor)
    page = _english(login("counselor1")).get("/notifications").get_data(as_text=True)
    assert note.link == "/records/external"
    assert "Your outside training was rejected" in page
    assert "全国高校辅导员示范培训 was rejected." in page
    assert "Reason: 证明材料不清晰" in page


def test_approval_notifies_and_settles_review(world, login, submitted):
    login("hr").post(f"/records/external/{submitted}/review", data={"decision": "approve"})

    [note] = _notes("external_training_decision", world.counselor)
    [request] = _notes("external_training_review_due", world.hr)
    page = _english(login("counselor1")).get("/notifications").get_data(as_text=True)
    assert "Your outside training was approved" in page
    assert "全国高校辅导员示范培训 (10 hours) was approved, so its hours count." in page
    assert request.read_at is not None


def test_withdrawal_notifies_submitter(world, login, submitted):
    hr = login("hr")
    hr.post(f"/records/external/{submitted}/review", data={"decision": "approve"})

    hr.post(f"/records/external/{submitted}/withdraw", data={"reason": "学时应为4"})

    notes = _notes("external_training_decision", world.counselor)
    page = _english(login("counselor1")).get("/notifications").get_data(as_text=True)
    assert len(notes) == 2
    assert "The approval of your outside training was withdrawn" in page
    assert "so its 10 hours no longer count." in page
    assert "Reason: 学时应为4" in page


def test_rejection_notice_in_chinese(world, login, submitted):
    login("hr").post(
        f"/records/external/{submitted}/review",
        data={"decision": "reject", "reason": "证明材料不清晰"},
    )

    page = login("counselor1").get("/notifications").get_data(as_text=True)

    assert "您的校外培训未通过审核" in page
    assert "您可以更正信息或证明材料后重新提交。理由：证明材料不清晰" in page


def test_one_hour_notices_are_singular(world, login):
    assert _submit(login("counselor1"), hours="1").status_code == 302
    training_id = _only_training().id
    hr = login("hr")
    review = _english(hr).get("/notifications").get_data(as_text=True)

    hr.post(f"/records/external/{training_id}/review", data={"decision": "approve"})
    hr.post(f"/records/external/{training_id}/withdraw", data={"reason": "学时有误"})

    page = _english(login("counselor1")).get("/notifications").get_data(as_text=True)
    assert "全国高校辅导员示范培训 (1 hour) with evidence" in review
    assert "全国高校辅导员示范培训 (1 hour) was approved, so its hour counts." in page
    assert "so its 1 hour no longer counts." in page
    assert "1 hours" not in page + review


@pytest.fixture
def one_hour_days(app):
    app.config["CLASS_FULL_DAY_HOURS"] = "1"
    yield
    app.config["CLASS_FULL_DAY_HOURS"] = "8"


def test_one_hour_day_cap_singular(world, login, one_hour_days):
    counselor = _english(login("counselor1"))

    response = _submit(
        counselor, start_date="2026-10-01", end_date="2026-10-01", hours="2"
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Hours: A training of 1 day earns at most 1 hour, 1 per day" in page


def test_shared_one_hour_day_cap_singular(world, login, one_hour_days):
    counselor = _english(login("counselor1"))
    assert _submit(
        counselor, title="校级心理健康培训", start_date="2026-03-02",
        end_date="2026-03-02", hours="0.5",
    ).status_code == 302

    response = _submit(
        counselor, title="校级网络思政培训", start_date="2026-03-02",
        end_date="2026-03-02", hours="1",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "1 day earns at most 1 hour, 1 per day as a full day counts" in page


def test_one_hour_day_cap_in_chinese(world, login, one_hour_days):
    response = _submit(
        login("counselor1"), start_date="2026-10-01", end_date="2026-10-01", hours="2"
    )

    page = response.get_data(as_text=True)
    assert "1 天的培训最多计 1 学时（按全天计，每天 1 学时）。" in page
