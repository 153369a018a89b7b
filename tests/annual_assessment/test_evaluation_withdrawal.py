"""Voiding student evaluation codes and discarding an evaluation: rules and pages."""

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.annual_assessment import evaluation, evaluation_withdrawal, services
from lms.annual_assessment.models import (
    AnnualAssessment,
    ComponentScore,
    EvaluationAnswer,
    EvaluationCode,
    EvaluationComment,
    EvaluationResponse,
    StudentEvaluation,
)
from lms.audit import AuditEntry
from lms.extensions import db
from tests.annual_assessment.test_student_evaluation import (
    _answer,
    _codes_from,
    _load,
    _open,
    _open_url,
    _student_submit,
)
from tests.conftest import csrf_from

# Services


def _void(world, opened, text):
    _scheme, _person, hr = _load(world)
    numbers = evaluation_withdrawal.void_codes(opened, hr, text)
    db.session.commit()
    return numbers


def _void_flags(opened) -> list[bool]:
    codes = db.session.scalars(
        sa.select(EvaluationCode)
        .where(EvaluationCode.evaluation_id == opened.id)
        .order_by(EvaluationCode.id)
    )
    return [code.is_void for code in codes]


def _row_count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_void_by_number_and_code(app_ctx, world):
    opened, codes = _open(world)
    assert len(codes) == 3

    assert _void(world, opened, f"1，{codes[2].lower()}") == [1, 3]

    assert _void_flags(opened) == [True, False, True]
    counts = evaluation.code_counts(opened)
    assert (counts.issued, counts.used, counts.void, counts.unused) == (3, 0, 2, 1)
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "student_evaluation.codes_voided")
    )
    assert entry.data["numbers"] == [1, 3]
    assert entry.data["void"] == 2


@pytest.mark.parametrize(
    "text, message",
    [
        ("abc", "is neither a code number nor an access code"),
        ("0", "there is no code number 0"),
        ("4", "there is no code number 4. This evaluation has codes numbered 1 to 3."),
        ("99999999999999999999999", "there is no code number"),
        ("-1", "is neither a code number nor an access code"),
        ("2 2", "code number 2 is listed twice"),
        ("", "enter at least one code number"),
        (" , ; ", "enter at least one code number"),
        ("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ", "is not a code of this evaluation"),
    ],
)
def test_void_rejects_bad_entries(app_ctx, world, english, text, message):
    opened, _codes = _open(world)
    _scheme, _person, hr = _load(world)

    with pytest.raises(services.AssessmentError) as error:
        evaluation_withdrawal.void_codes(opened, hr, f"1 {text}" if text == "2 2" else text)

    assert error.value.field == "codes"
    assert error.value.message.startswith("Codes to void: ")
    assert message in error.value.message
    db.session.rollback()
    assert _void_flags(opened) == [False, False, False]


def test_void_rejects_code_of_other_evaluation(app_ctx, world):
    opened, _codes = _open(world)
    scheme, _person, hr = _load(world)
    bob = services.assessment_for(scheme, db.session.get(User, world.bob))
    _other, other_codes = evaluation.open_evaluation(bob, hr, "10")
    db.session.commit()

    with pytest.raises(services.AssessmentError):
        evaluation_withdrawal.void_codes(opened, hr, other_codes[0])
    db.session.rollback()
    assert not db.session.scalar(
        sa.select(EvaluationCode).where(EvaluationCode.voided_at.is_not(None))
    )


def test_void_refuses_used_code_and_voids_none(app_ctx, world, english):
    opened, codes = _open(world)
    _answer(opened, codes[0], 80)
    _scheme, _person, hr = _load(world)

    with pytest.raises(services.AssessmentError) as error:
        evaluation_withdrawal.void_codes(opened, hr, "2, 1")

    assert "code number 1 was already used" in error.value.message
    db.session.rollback()
    assert _void_flags(opened) == [False, False, False]
    assert _row_count(EvaluationResponse) == 1


def test_void_twice_refused(app_ctx, world, english):
    opened, codes = _open(world)
    _void(world, opened, "2")
    _scheme, _person, hr = _load(world)

    with pytest.raises(services.AssessmentError) as error:
        evaluation_withdrawal.void_codes(opened, hr, codes[1])
    assert "code number 2 is void already" in error.value.message


def test_void_code_rejected_for_students(app_ctx, world):
    opened, codes = _open(world)
    _void(world, opened, "1")

    with pytest.raises(evaluation.CodeRejected) as rejected:
        evaluation.usable_code(codes[0])
    assert rejected.value.reason == "void"
    with pytest.raises(evaluation.CodeRejected):
        _answer(opened, codes[0], 80)
    db.session.rollback()
    assert _row_count(EvaluationResponse) == 0


def test_void_code_can_be_replaced(app_ctx, world, english):
    opened, codes = _open(world, students=3, codes="3")
    _scheme, _person, hr = _load(world)
    with pytest.raises(services.AssessmentError):
        evaluation.add_codes(opened, hr, "1")
    db.session.rollback()

    _void(world, opened, "3")
    assert len(evaluation.add_codes(opened, hr, "1")) == 1
    db.session.commit()
    counts = evaluation.code_counts(opened)
    assert (counts.issued, counts.void, counts.unused) == (4, 1, 3)


def test_discard_deletes_codes_and_responses(app_ctx, world):
    opened, codes = _open(world)
    _answer(opened, codes[0], 80, "很好")
    _answer(opened, codes[1], 70)
    _void(world, opened, "3")
    _scheme, _person, hr = _load(world)
    assessment_id = opened.assessment_id

    evaluation_withdrawal.discard(opened, hr, "学生人数填错")
    db.session.commit()

    for model in (
        StudentEvaluation,
        EvaluationCode,
        EvaluationResponse,
        EvaluationAnswer,
        EvaluationComment,
    ):
        assert _row_count(model) == 0, model
    assert db.session.get(AnnualAssessment, assessment_id) is not None
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "student_evaluation.discarded")
    )
    assert entry.subject_id == assessment_id
    assert entry.data["reason"] == "学生人数填错"
    assert (entry.data["issued"], entry.data["used"], entry.data["void"]) == (3, 2, 1)
    assert (entry.data["responses"], entry.data["comments"]) == (2, 1)

    _again, new_codes = _open(world)
    assert len(new_codes) == 3


def test_discard_of_closed_evaluation_without_score(app_ctx, world):
    opened, codes = _open(world)
    _answer(opened, codes[0], 80)
    _scheme, _person, hr = _load(world)
    assert evaluation.close(opened, hr) is not None
    db.session.commit()
    assert not evaluation_withdrawal.is_applied(opened)

    evaluation_withdrawal.discard(opened, hr, "误开")
    db.session.commit()
    assert _row_count(StudentEvaluation) == 0


def test_discard_refused_after_apply(app_ctx, world, english):
    opened, codes = _open(world)
    for code in codes:
        _answer(opened, code, 80)
    _scheme, _person, hr = _load(world)
    assert evaluation.close(opened, hr) is None
    db.session.commit()
    assert evaluation_withdrawal.is_applied(opened)

    with pytest.raises(services.AssessmentError) as error:
        evaluation_withdrawal.discard(opened, hr, "误开")
    assert "cannot be discarded because its score is recorded" in error.value.message
    assert "reopen the evaluation" in error.value.message
    db.session.rollback()
    assert _row_count(EvaluationResponse) == 3
    assert _row_count(EvaluationCode) == 3


def test_discard_keeps_score_entered_before(app_ctx, world):
    scheme, person, hr = _load(world)
    assessment = services.assessment_for(scheme, person)
    component = evaluation.students_component(assessment)
    services.record_score(assessment, component, hr, "88", "12", "40")
    db.session.commit()
    opened, _codes = _open(world)
    assert not evaluation_withdrawal.is_applied(opened)

    evaluation_withdrawal.discard(opened, hr, "纸质评议已完成")
    db.session.commit()

    row = db.session.scalar(sa.select(ComponentScore))
    assert (str(row.score), row.sample_size, row.student_count) == ("88.0", 12, 40)


@pytest.mark.parametrize("reason", ["", "   ", "长" * 501])
def test_discard_needs_short_reason(app_ctx, world, english, reason):
    opened, _codes = _open(world)
    _scheme, _person, hr = _load(world)

    with pytest.raises(services.AssessmentError) as error:
        evaluation_withdrawal.discard(opened, hr, reason)
    assert error.value.field == "reason"
    assert error.value.message.startswith("Reason: ")


# Pages


def _person_url(world) -> str:
    return f"/annual-assessment/schemes/{world.scheme}/people/{world.alice}"


def test_hr_voids_code_on_page(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))

    response = hr.post(f"{_open_url(world)}/void", {"codes": "2"}, follow_redirects=True)

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Code number 2 is void, so students can no longer use it." in text
    assert "3 codes issued (0 used, 1 void, 2 unused), 0 responses" in text
    with app.app_context():
        flags = [c.is_void for c in db.session.scalars(sa.select(EvaluationCode).order_by(EvaluationCode.id))]
        assert flags == [False, True, False]
    assert app.test_client().get(f"/evaluate?code={codes[0]}").status_code == 200


def test_public_page_rejects_void_code(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    student = app.test_client()
    form_page = student.get(f"/evaluate?code={codes[0]}")
    assert form_page.status_code == 200
    assert hr.post(f"{_open_url(world)}/void", {"codes": codes[0]}).status_code == 302

    page = app.test_client().get(f"/evaluate?code={codes[0]}")
    text = page.get_data(as_text=True)
    assert page.status_code == 410
    assert "This access code was withdrawn" in text
    assert "王老师" not in text
    assert page.headers["Cache-Control"] == "no-store"

    # A form opened before the code was voided cannot store a response.
    data = {"csrf_token": csrf_from(form_page.get_data(as_text=True)), "code": codes[0]}
    with app.app_context():
        for dimension in db.session.scalar(sa.select(StudentEvaluation)).assessment.scheme.dimensions:
            data[f"dimension_{dimension.id}"] = "90"
    posted = student.post("/evaluate", data=data)
    assert posted.status_code == 410
    assert "王老师" not in posted.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EvaluationResponse.id))) == 0


def test_void_codes_count_against_rate_limit(app, world, login, monkeypatch):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    hr.post(f"{_open_url(world)}/void", {"codes": "1"})
    monkeypatch.setitem(app.config, "EVALUATION_RATE_LIMIT", "2 per minute")
    student = app.test_client()

    assert student.get(f"/evaluate?code={codes[0]}").status_code == 410
    assert student.get(f"/evaluate?code={codes[0]}").status_code == 410
    assert student.get(f"/evaluate?code={codes[0]}").status_code == 429


@pytest.mark.parametrize(
    "text, message",
    [
        ("abc", "Codes to void: “abc” is neither a code number nor an access code."),
        ("0", "Codes to void: there is no code number 0."),
        ("7", "Codes to void: there is no code number 7."),
        ("1, 1", "Codes to void: code number 1 is listed twice."),
        ("", "Codes to void: enter at least one code number or access code."),
    ],
)
def test_void_form_errors_name_field(app, world, login, english, text, message):
    hr = login("hr")
    hr.post(f"{_open_url(world)}/open", {"student_count": "10"})

    response = hr.post(f"{_open_url(world)}/void", {"codes": text})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(
            sa.select(EvaluationCode).where(EvaluationCode.voided_at.is_not(None))
        ) is None


def test_void_used_code_refused_on_page(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    assert _student_submit(app, world, codes[0]).status_code == 303

    response = hr.post(f"{_open_url(world)}/void", {"codes": "1"})

    assert response.status_code == 400
    assert "code number 1 was already used, so it cannot be voided" in response.get_data(as_text=True)
    page = hr.get(_person_url(world)).get_data(as_text=True)
    assert "3 codes issued (1 used, 0 void, 2 unused), 1 responses" in page


def test_void_needs_csrf(app, world, login):
    hr = login("hr")
    hr.post(f"{_open_url(world)}/open", {"student_count": "10"})

    response = hr.post(f"{_open_url(world)}/void", {"codes": "1", "csrf_token": ""})

    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(
            sa.select(EvaluationCode).where(EvaluationCode.voided_at.is_not(None))
        ) is None


def test_hr_discards_before_apply(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    assert _student_submit(app, world, codes[0], comment="很好").status_code == 303

    response = hr.post(
        f"{_open_url(world)}/discard", {"reason": "学生人数填错"}, follow_redirects=True
    )

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The student evaluation is discarded with its codes and responses." in text
    assert "Open the evaluation and download the codes" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StudentEvaluation.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(EvaluationResponse.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(EvaluationComment.id))) == 0
    assert app.test_client().get(f"/evaluate?code={codes[1]}").status_code == 404


def test_discard_refused_after_apply_on_page(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    for code in codes:
        assert _student_submit(app, world, code, "75").status_code == 303
    assert hr.post(f"{_open_url(world)}/close").status_code == 302
    page = hr.get(_person_url(world)).get_data(as_text=True)
    assert "Its score is recorded in the assessment." in page
    assert "Discard the evaluation" not in page

    response = hr.post(f"{_open_url(world)}/discard", {"reason": "误开"})

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "cannot be discarded because its score is recorded in the assessment" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EvaluationResponse.id))) == 3


def test_discard_without_reason_names_field(app, world, login, english):
    hr = login("hr")
    hr.post(f"{_open_url(world)}/open", {"student_count": "10"})

    response = hr.post(f"{_open_url(world)}/discard", {"reason": " "})

    assert response.status_code == 400
    assert "Reason: say why the student evaluation is discarded." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StudentEvaluation.id))) == 1


@pytest.mark.parametrize("action, data", [("void", {"codes": "1"}), ("discard", {"reason": "误开"})])
def test_other_institution_hr_cannot_withdraw(app, world, login, action, data):
    hr = login("hr")
    hr.post(f"{_open_url(world)}/open", {"student_count": "10"})

    assert login("hr2").post(f"{_open_url(world)}/{action}", data).status_code == 404
    assert login("alice").post(f"{_open_url(world)}/{action}", data).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StudentEvaluation.id))) == 1
        assert db.session.scalar(
            sa.select(EvaluationCode).where(EvaluationCode.voided_at.is_not(None))
        ) is None
    assert hr.post(f"{_open_url(world)}/{action}", data).status_code == 302


def test_voided_numbers_listed_in_chinese(app, world, login):
    hr = login("hr")
    hr.post(f"{_open_url(world)}/open", {"student_count": "10"})

    response = hr.post(f"{_open_url(world)}/void", {"codes": "1, 3"}, follow_redirects=True)

    assert "序号为 1、3 的评议码已作废" in response.get_data(as_text=True)


def test_voided_numbers_listed_in_english(app, world, login, english):
    hr = login("hr")
    hr.post(f"{_open_url(world)}/open", {"student_count": "10"})

    response = hr.post(f"{_open_url(world)}/void", {"codes": "1, 3"}, follow_redirects=True)

    assert "Code numbers 1, 3 are void" in response.get_data(as_text=True)
