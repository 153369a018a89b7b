"""The online anonymous student evaluation: rules, anonymity and pages."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.annual_assessment import evaluation, scoring, services
from lms.annual_assessment.models import (
    AnnualAssessment,
    AssessmentScheme,
    ComponentScore,
    EvaluationAnswer,
    EvaluationCode,
    EvaluationComment,
    EvaluationResponse,
    StudentEvaluation,
)
from lms.audit import AuditEntry
from lms.extensions import db
from tests.conftest import csrf_from

# Rules without a database


@pytest.mark.parametrize(
    "students, share, needed",
    [(40, "0.300", 12), (41, "0.300", 13), (10, "0.300", 3), (3, "0.300", 1), (7, "0.500", 4)],
)
def test_min_sample_rounds_up_whole_students(students, share, needed):
    assert scoring.min_sample(students, Decimal(share)) == needed


def test_scale_to_hundred_uses_range():
    five_point = scoring.DimensionSpec("德", 1, 5)
    assert scoring.scale_to_hundred(Decimal(3), five_point) == 50
    assert scoring.scale_to_hundred(Decimal(5), five_point) == 100
    assert scoring.scale_to_hundred(Decimal(1), five_point) == 0


def test_evaluation_score_means_dimensions():
    hundred = scoring.DimensionSpec("德", 0, 100)
    five_point = scoring.DimensionSpec("能", 1, 5)
    # Three responses: 德 80, 90, 85 (mean 85); 能 4, 5, 4 (mean 13/3, 83.33 scaled).
    score = scoring.evaluation_score([(hundred, 255), (five_point, 13)], 3)
    assert score == Decimal("84.2")


def test_evaluation_score_needs_responses():
    with pytest.raises(ValueError):
        scoring.evaluation_score([(scoring.DimensionSpec("德", 0, 100), 0)], 0)


def test_check_dimensions_rejects_bad_ranges():
    problems = scoring.check_dimensions(
        [scoring.DimensionSpec("德", 5, 5), scoring.DimensionSpec("能", 0, 101)]
    )
    assert len(problems) == 2
    assert all(problem.field == "dimensions" for problem in problems)


def test_check_dimensions_rejects_duplicates_and_empty():
    assert scoring.check_dimensions([]) != []
    twice = [scoring.DimensionSpec("德", 0, 100), scoring.DimensionSpec("德", 1, 5)]
    assert len(scoring.check_dimensions(twice)) == 1


def test_default_dimensions_valid():
    assert scoring.check_dimensions(list(services.DEFAULT_DIMENSIONS)) == []
    assert [d.name for d in services.DEFAULT_DIMENSIONS] == ["德", "能", "勤", "绩", "廉"]


def test_codes_are_random_and_normalised():
    first, second = evaluation.new_code(), evaluation.new_code()
    assert first != second
    assert len(evaluation.normalise_code(first)) == evaluation.CODE_LENGTH
    assert evaluation.normalise_code(first.lower().replace("-", " ")) == first.replace("-", "")
    assert evaluation.normalise_code("ABCDE") is None
    assert evaluation.normalise_code("0" * evaluation.CODE_LENGTH) is None


# Services


def _load(world):
    scheme = db.session.get(AssessmentScheme, world.scheme)
    person = db.session.get(User, world.alice)
    hr = db.session.get(User, world.hr)
    return scheme, person, hr


def _open(world, students=10, codes=None):
    scheme, person, hr = _load(world)
    assessment = services.assessment_for(scheme, person)
    opened, issued = evaluation.open_evaluation(assessment, hr, str(students), codes)
    db.session.commit()
    return opened, issued


def _scores(opened, *values):
    dimensions = opened.assessment.scheme.dimensions
    return {d.id: value for d, value in zip(dimensions, values)}


def _answer(opened, code, value, comment=""):
    evaluation.submit_response(
        code, _scores(opened, *[value] * 5), comment, date(2026, 6, 1)
    )
    db.session.commit()


def test_open_issues_minimum_sample(app_ctx, world):
    opened, codes = _open(world, students=41)
    assert len(codes) == 13
    assert len(set(codes)) == 13
    stored = set(db.session.scalars(sa.select(EvaluationCode.token_hash)))
    assert len(stored) == 13
    assert not stored & set(codes)
    assert stored == {evaluation.hash_code(evaluation.normalise_code(c)) for c in codes}


def test_open_rejects_fewer_codes_than_sample(app_ctx, world):
    scheme, person, hr = _load(world)
    assessment = services.assessment_for(scheme, person)
    with pytest.raises(services.AssessmentError) as raised:
        evaluation.open_evaluation(assessment, hr, "40", "11")
    assert raised.value.field == "code_count"


@pytest.mark.parametrize("students", ["", "abc", "2", "-5", "4.5", "100001"])
def test_open_rejects_bad_student_count(app_ctx, world, students):
    scheme, person, hr = _load(world)
    assessment = services.assessment_for(scheme, person)
    with pytest.raises(services.AssessmentError) as raised:
        evaluation.open_evaluation(assessment, hr, students)
    assert raised.value.field == "student_count"


def test_add_codes_up_to_one_per_student(app_ctx, world):
    opened, codes = _open(world, students=10)
    hr = db.session.get(User, world.hr)
    more = evaluation.add_codes(opened, hr, "7")
    assert len(more) == 7
    with pytest.raises(services.AssessmentError):
        evaluation.add_codes(opened, hr, "1")


def test_code_is_single_use(app_ctx, world):
    opened, codes = _open(world)
    _answer(opened, codes[0], 90)
    with pytest.raises(evaluation.CodeRejected) as raised:
        _answer(opened, codes[0], 10)
    assert raised.value.reason == "used"
    assert db.session.scalar(sa.select(sa.func.count(EvaluationResponse.id))) == 1


def test_unknown_code_rejected(app_ctx, world):
    _open(world)
    with pytest.raises(evaluation.CodeRejected) as raised:
        evaluation.usable_code(evaluation.new_code())
    assert raised.value.reason == "unknown"


def test_closed_evaluation_rejects_codes(app_ctx, world):
    opened, codes = _open(world)
    evaluation.close(opened, db.session.get(User, world.hr))
    db.session.commit()
    with pytest.raises(evaluation.CodeRejected) as raised:
        _answer(opened, codes[0], 90)
    assert raised.value.reason == "closed"


def test_score_out_of_range_keeps_code(app_ctx, world):
    opened, codes = _open(world)
    with pytest.raises(services.AssessmentError):
        evaluation.submit_response(codes[0], _scores(opened, 101, 90, 90, 90, 90), "", date(2026, 6, 1))
    db.session.rollback()
    assert evaluation.usable_code(codes[0]) is not None


def test_aggregates_hidden_below_three(app_ctx, world):
    opened, codes = _open(world)
    _answer(opened, codes[0], 80, "认真负责")
    _answer(opened, codes[1], 90)
    summary = evaluation.summarise(opened)
    assert summary.responses == 2
    assert summary.score is None
    assert summary.comments is None
    assert all(result.mean is None for result in summary.dimensions)


def test_aggregates_per_dimension(app_ctx, world):
    opened, codes = _open(world)
    _answer(opened, codes[0], 80, "认真负责")
    _answer(opened, codes[1], 90)
    evaluation.submit_response(codes[2], _scores(opened, 85, 70, 70, 70, 70), "", date(2026, 6, 1))
    db.session.commit()
    assert evaluation.summarise(opened).score is None
    evaluation.close(opened, db.session.get(User, world.hr))
    summary = evaluation.summarise(opened)
    assert summary.responses == 3
    assert summary.codes.used == 3
    assert [r.mean for r in summary.dimensions] == [Decimal("85.0")] + [Decimal("80.0")] * 4
    assert summary.score == Decimal("81.0")
    assert summary.comments == ["认真负责"]


def test_response_rows_carry_no_code():
    """No column of a response, answer or comment refers to a code or a time."""
    for model in (EvaluationResponse, EvaluationAnswer, EvaluationComment):
        table = model.__table__
        targets = {fk.column.table.name for fk in table.foreign_keys}
        assert "student_evaluation_code" not in targets, table.name
        assert not any("code" in column.name for column in table.columns), table.name
        for column in table.columns:
            column_type = getattr(column.type, "impl", column.type)
            assert not isinstance(column_type, sa.DateTime), column
            assert not column.name.endswith("_at"), column
    code_columns = {column.name for column in EvaluationCode.__table__.columns}
    # The void time is set only on codes that are never used (a CHECK
    # constraint), so no time on a code row reveals when a response came in.
    assert code_columns == {
        "id",
        "evaluation_id",
        "token_hash",
        "used",
        "created_at",
        "voided_at",
        "voided_by_id",
    }
    checks = {c.name for c in EvaluationCode.__table__.constraints if isinstance(c, sa.CheckConstraint)}
    assert "ck_student_evaluation_code_used_or_void" in checks


def test_submission_writes_no_audit_or_time(app_ctx, world):
    opened, codes = _open(world)
    audited = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    _answer(opened, codes[0], 80, "很好")
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == audited
    response = db.session.scalar(sa.select(EvaluationResponse))
    assert response.submitted_on == date(2026, 6, 1)
    comment = db.session.scalar(sa.select(EvaluationComment))
    assert comment.evaluation_id == opened.id


def test_close_records_score_with_sample(app_ctx, world):
    opened, codes = _open(world, students=10)
    for code, value in zip(codes, (80, 90, 70)):
        _answer(opened, code, value)
    hr = db.session.get(User, world.hr)
    assert evaluation.close(opened, hr) is None
    db.session.commit()
    row = db.session.scalar(sa.select(ComponentScore))
    assert row.score == Decimal("80.0")
    assert row.sample_size == 3
    assert row.student_count == 10
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"student_evaluation.opened", "student_evaluation.closed", "annual_assessment.scored"} <= actions
    scored = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "annual_assessment.scored")
    )
    assert scored.data["source"] == "online_evaluation"


def test_close_below_sample_records_nothing(app_ctx, world, english):
    opened, codes = _open(world, students=20)
    for code in codes[:3]:
        _answer(opened, code, 80)
    problem = evaluation.close(opened, db.session.get(User, world.hr))
    db.session.commit()
    assert "At least 6 students must take part" in problem
    assert not opened.is_open
    assert db.session.scalar(sa.select(ComponentScore)) is None


def test_reopen_lets_unused_codes_work(app_ctx, world):
    opened, codes = _open(world)
    hr = db.session.get(User, world.hr)
    evaluation.close(opened, hr)
    evaluation.reopen(opened, hr)
    db.session.commit()
    assert evaluation.usable_code(codes[0]) is not None


def test_manual_student_score_refused_once_online(app_ctx, world):
    opened, _codes = _open(world)
    scheme, person, hr = _load(world)
    component = evaluation.students_component(opened.assessment)
    with pytest.raises(services.AssessmentError):
        services.record_score(opened.assessment, component, hr, "90", 12, 40)


def test_dimensions_fixed_once_evaluation_opened(app_ctx, world):
    _open(world)
    scheme, _person, hr = _load(world)
    _saved, problems = services.save_scheme(
        world.uni,
        scheme.year,
        hr,
        title=scheme.title,
        min_sample_share=scheme.min_sample_share,
        components=services.component_specs(scheme),
        bands=services.band_specs(scheme),
        dimensions=[scoring.DimensionSpec("德", 1, 5)],
        scheme=scheme,
    )
    assert [p.field for p in problems] == ["dimensions"]


def test_save_scheme_replaces_dimensions(app_ctx, world):
    scheme, _person, hr = _load(world)
    duties = [scoring.DimensionSpec(name, 1, 5) for name in ("思想引领", "党团建设", "学风建设")]
    saved, problems = services.save_scheme(
        world.uni,
        scheme.year,
        hr,
        title=scheme.title,
        min_sample_share=scheme.min_sample_share,
        components=services.component_specs(scheme),
        bands=services.band_specs(scheme),
        dimensions=duties,
        scheme=scheme,
    )
    assert problems == []
    db.session.commit()
    assert services.dimension_specs(saved) == duties


# Pages


def _open_url(world, person_id=None):
    return f"/annual-assessment/schemes/{world.scheme}/people/{person_id or world.alice}/evaluation"


def _codes_from(response) -> list[str]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return [row[1] for row in rows[1:]]


def _dimension_ids(app, world) -> list[int]:
    with app.app_context():
        return [d.id for d in db.session.get(AssessmentScheme, world.scheme).dimensions]


def _student_submit(app, world, code, value="85", comment=""):
    student = app.test_client()
    page = student.get(f"/evaluate?code={code}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "code": code, "comment": comment}
    for dimension_id in _dimension_ids(app, world):
        data[f"dimension_{dimension_id}"] = value
    return student.post("/evaluate", data=data)


def test_hr_opens_and_downloads_codes(app, world, login, english):
    hr = login("hr")
    person_page = f"/annual-assessment/schemes/{world.scheme}/people/{world.alice}"
    assert "Online student evaluation" in hr.get(person_page).get_data(as_text=True)
    response = hr.post(f"{_open_url(world)}/open", {"student_count": "40"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    codes = _codes_from(response)
    assert len(codes) == 12
    assert f"/evaluate?code={codes[0]}" in response.get_data(as_text=True)

    more = hr.post(f"{_open_url(world)}/codes", {"code_count": "3"})
    assert len(_codes_from(more)) == 3
    assert "15 codes issued" in hr.get(person_page).get_data(as_text=True)


def test_open_form_errors_name_field(world, login, english):
    hr = login("hr")
    response = hr.post(f"{_open_url(world)}/open", {"student_count": "many"})
    assert response.status_code == 400
    assert "Number of students: enter a whole number" in response.get_data(as_text=True)


def test_public_page_needs_no_login(app, world, client, english):
    page = client.get("/evaluate")
    assert page.status_code == 200
    assert "Access code" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_student_scores_once(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    page = app.test_client().get(f"/evaluate?code={codes[0].lower()}")
    text = page.get_data(as_text=True)
    assert "王老师" in text
    assert "李老师" not in text
    assert codes[1] not in text

    response = _student_submit(app, world, codes[0], comment="很负责")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/evaluate/thanks")

    again = app.test_client().get(f"/evaluate?code={codes[0]}")
    assert again.status_code == 409
    assert "already used" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EvaluationResponse.id))) == 1


def test_double_post_of_one_form_stores_once(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    student = app.test_client()
    page = student.get(f"/evaluate?code={codes[0]}")
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "code": codes[0]}
    for dimension_id in _dimension_ids(app, world):
        data[f"dimension_{dimension_id}"] = "90"
    assert student.post("/evaluate", data=data).status_code == 303
    second = student.post("/evaluate", data=data)
    assert second.status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EvaluationResponse.id))) == 1


def test_bad_code_gets_clear_message(world, client, english):
    response = client.get("/evaluate?code=ABCDE-FGHJK")
    assert response.status_code == 404
    assert "This access code is not valid" in response.get_data(as_text=True)


def test_missing_score_names_dimension(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    student = app.test_client()
    page = student.get(f"/evaluate?code={codes[0]}")
    response = student.post(
        "/evaluate",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "code": codes[0]},
    )
    assert response.status_code == 400
    assert "德: Choose a score from 0 to 100." in response.get_data(as_text=True)
    assert app.test_client().get(f"/evaluate?code={codes[0]}").status_code == 200


def test_student_post_needs_csrf(app, world, login):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    response = app.test_client().post("/evaluate", data={"code": codes[0]})
    assert response.status_code == 400
    assert app.test_client().get(f"/evaluate?code={codes[0]}").status_code == 200


def test_closed_evaluation_refuses_students(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    assert hr.post(f"{_open_url(world)}/close").status_code == 302
    response = app.test_client().get(f"/evaluate?code={codes[0]}")
    assert response.status_code == 410
    assert "closed" in response.get_data(as_text=True)


def test_rejected_codes_rate_limited(app, world, client, monkeypatch):
    monkeypatch.setitem(app.config, "EVALUATION_RATE_LIMIT", "3 per minute")
    for _ in range(3):
        assert client.get("/evaluate?code=ABCD-EFGH-JKLM-NPQR-STUV-WXYZ").status_code == 404
    assert client.get("/evaluate?code=ABCD-EFGH-JKLM-NPQR-STUV-WXYZ").status_code == 429


def test_close_feeds_component_and_hides_answers(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    for code, value in zip(codes, ("70", "80", "90")):
        assert _student_submit(app, world, code, value, comment=f"意见{value}").status_code == 303
    response = hr.post(f"{_open_url(world)}/close", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "score recorded" in text
    assert "Evaluation score (0 to 100): 80.0" in text
    with app.app_context():
        row = db.session.scalar(sa.select(ComponentScore))
        assert (row.score, row.sample_size, row.student_count) == (Decimal("80.0"), 3, 10)

    alice = login("alice")
    mine = alice.get("/annual-assessment/mine").get_data(as_text=True)
    assert "意见70" not in mine


def test_manual_entry_refused_on_page(world, login, english):
    hr = login("hr")
    hr.post(f"{_open_url(world)}/open", {"student_count": "10"})
    component = world.components["学生评议"]
    response = hr.post(
        f"/annual-assessment/schemes/{world.scheme}/people/{world.alice}/components/{component}",
        {"score": "90", "sample_size": "3", "student_count": "10"},
    )
    assert response.status_code == 400
    assert "runs online" in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["open", "codes", "close", "reopen", "apply"])
def test_other_institution_hr_refused(world, login, action):
    hr2 = login("hr2")
    assert hr2.post(f"{_open_url(world)}/{action}", {"student_count": "10"}).status_code == 404


@pytest.mark.parametrize("action", ["open", "codes", "close", "reopen", "apply"])
def test_counselor_refused(world, login, action):
    alice = login("alice")
    assert alice.post(f"{_open_url(world)}/{action}", {"student_count": "10"}).status_code == 403


def test_department_hr_refused(world, login):
    hr_cs = login("hr_cs")
    response = hr_cs.post(f"{_open_url(world, world.bob)}/open", {"student_count": "10"})
    assert response.status_code == 403
    response = hr_cs.post(f"{_open_url(world)}/open", {"student_count": "10"})
    assert response.status_code == 404


def test_evaluation_row_per_assessment(app, world, login):
    hr = login("hr")
    hr.post(f"{_open_url(world)}/open", {"student_count": "10"})
    response = hr.post(f"{_open_url(world)}/open", {"student_count": "10"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StudentEvaluation.id))) == 1
        assessment = db.session.scalar(sa.select(AnnualAssessment))
        assert assessment.user_id == world.alice


def test_import_rejects_student_score_once_online(app, world, login, english):
    hr = login("hr")
    hr.post(f"{_open_url(world)}/open", {"student_count": "40"})
    text = "工号,学工部考核,学生评议,抽样人数,学生人数\nE001,90,84,12,40\n"
    response = hr.post(
        f"/annual-assessment/schemes/{world.scheme}/sheet/import",
        {"file": (io.BytesIO(text.encode("utf-8")), "scores.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "runs online" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(ComponentScore)) is None


def test_scheme_form_saves_dimensions(app, world, login):
    hr = login("hr")
    page = hr.get(f"/annual-assessment/schemes/{world.scheme}/edit").get_data(as_text=True)
    assert 'value="廉"' in page
    data = {"title": "考核方案", "min_sample_percent": "30"}
    with app.app_context():
        scheme = db.session.get(AssessmentScheme, world.scheme)
        for index, component in enumerate(scheme.components):
            data[f"components-{index}-name"] = component.name
            data[f"components-{index}-kind"] = component.kind.value
            data[f"components-{index}-weight"] = str(component.weight)
            data[f"components-{index}-bonus_cap"] = str(component.bonus_cap or "")
        for index, band in enumerate(scheme.bands):
            data[f"bands-{index}-name"] = band.name
            data[f"bands-{index}-min_score"] = str(band.min_score)
            data[f"bands-{index}-grade"] = band.grade
    for index, name in enumerate(("思想引领", "学风建设")):
        data[f"dimensions-{index}-name"] = name
        data[f"dimensions-{index}-min_score"] = "1"
        data[f"dimensions-{index}-max_score"] = "5"
    response = hr.post(f"/annual-assessment/schemes/{world.scheme}/edit", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        scheme = db.session.get(AssessmentScheme, world.scheme)
        assert [(d.name, d.min_score, d.max_score) for d in scheme.dimensions] == [
            ("思想引领", 1, 5),
            ("学风建设", 1, 5),
        ]


def test_hr_page_hides_small_counts(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    for code in codes[:2]:
        assert _student_submit(app, world, code, "60", comment="只有两人").status_code == 303
    assert hr.post(f"{_open_url(world)}/close").status_code == 302
    page = hr.get(f"/annual-assessment/schemes/{world.scheme}/people/{world.alice}")
    text = page.get_data(as_text=True)
    assert "Results are shown once at least 3 students have responded." in text
    assert "只有两人" not in text
    assert "Mean score" not in text


def test_apply_while_open_refused(app, world, login, english):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    for code in codes:
        assert _student_submit(app, world, code, "75").status_code == 303
    response = hr.post(f"{_open_url(world)}/apply")
    assert response.status_code == 400
    assert "The student evaluation is still open. Close it to record its score" in (
        response.get_data(as_text=True)
    )
    with app.app_context():
        assert db.session.scalar(sa.select(StudentEvaluation)).is_open
        assert db.session.scalar(sa.select(ComponentScore)) is None


def test_open_evaluation_hides_results(app, world, login, english):
    """While open, the page shows counts only: comparing it before and after
    one student responds must not give that student's scores or comment."""
    hr = login("hr")
    page_url = f"/annual-assessment/schemes/{world.scheme}/people/{world.alice}"
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10", "code_count": "4"}))
    for code in codes[:3]:
        assert _student_submit(app, world, code, "80", comment="很好").status_code == 303
    before = hr.get(page_url).get_data(as_text=True)
    assert _student_submit(app, world, codes[3], "20", comment="从不谈心").status_code == 303
    after = hr.get(page_url).get_data(as_text=True)

    for text in (before, after):
        assert "Mean score" not in text
        assert "Evaluation score (0 to 100)" not in text
        assert "很好" not in text
        assert "Results are shown once the evaluation is closed" in text
        assert "Record the current mean" not in text
    assert "从不谈心" not in after
    assert "4 responses" in after

    closed = hr.post(f"{_open_url(world)}/close", follow_redirects=True).get_data(as_text=True)
    assert "Evaluation score (0 to 100): 65.0" in closed
    assert "从不谈心" in closed


def test_public_score_form_lists_dimensions(app, world, login):
    hr = login("hr")
    codes = _codes_from(hr.post(f"{_open_url(world)}/open", {"student_count": "10"}))
    page = app.test_client().get(f"/evaluate?code={codes[0]}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for name in ("德", "能", "勤", "绩", "廉"):
        assert name in text
    assert text.count('type="number"') == 5
    assert 'min="0"' in text
    assert 'max="100"' in text


# Counts of one student ----------------------------------------------------------


def test_one_response_too_few_singular(app_ctx, world, english):
    opened, codes = _open(world, students=20)
    _answer(opened, codes[0], 80)
    hr = db.session.get(User, world.hr)
    evaluation.close(opened, hr)

    with pytest.raises(services.AssessmentError) as raised:
        evaluation.apply_result(opened, hr)

    assert raised.value.message == (
        "1 student responded; the evaluation score needs at least 3 responses."
    )


def test_sample_above_one_student_singular(app_ctx, world, english):
    scheme, person, hr = _load(world)
    assessment = services.assessment_for(scheme, person)
    component = evaluation.students_component(assessment)

    with pytest.raises(services.AssessmentError) as raised:
        services.record_score(assessment, component, hr, "80", "2", "1")

    assert raised.value.message == (
        "Sampled students: 2 is more than the 1 student of the counselor;"
        " enter at most 1."
    )


def test_sample_above_one_student_in_chinese(app_ctx, world):
    scheme, person, hr = _load(world)
    assessment = services.assessment_for(scheme, person)
    component = evaluation.students_component(assessment)

    with pytest.raises(services.AssessmentError) as raised:
        services.record_score(assessment, component, hr, "80", "2", "1")

    assert raised.value.message == (
        "抽样人数：2 超过了该辅导员所带的 1 名学生；请输入不超过 1 的人数。"
    )
