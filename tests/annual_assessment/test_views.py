"""The yearly assessment through the test client, with real logins per role."""

import io
from datetime import date

import pytest
import sqlalchemy as sa

from lms.annual_assessment.models import AnnualAssessment, AssessmentStatus, WorkAchievement
from lms.audit import AuditEntry
from lms.extensions import db
from lms.promotion.engine import assessment_grades
from lms.records.models import ProgressionEntry, ProgressionKind
from lms.accounts.models import User

PDF = b"%PDF-1.7 evidence"


def person_url(world, person_id):
    return f"/annual-assessment/schemes/{world.scheme}/people/{person_id}"


def score_url(world, person_id, component):
    return f"{person_url(world, person_id)}/components/{world.components[component]}"


def enter_all(hr, world, person_id, department="80", institution="90", students="84", bonus="3"):
    for name, value in (("院系考核", department), ("学工部考核", institution), ("加分", bonus)):
        response = hr.post(score_url(world, person_id, name), {"score": value})
        assert response.status_code == 302, response.get_data(as_text=True)
    response = hr.post(
        score_url(world, person_id, "学生评议"),
        {"score": students, "sample_size": "12", "student_count": "40"},
    )
    assert response.status_code == 302


def finalise(client, world, person_id):
    """Finalise with the reason that an unsubmitted filing asks for."""
    return client.post(
        f"{person_url(world, person_id)}/finalise", {"unsubmitted_reason": "逾期未提交"}
    )


def grade_entries(person_id):
    return list(
        db.session.scalars(
            sa.select(ProgressionEntry)
            .where(
                ProgressionEntry.user_id == person_id,
                ProgressionEntry.kind == ProgressionKind.ASSESSMENT_GRADE,
            )
            .order_by(ProgressionEntry.id)
        )
    )


# Counselor filing


def test_counselor_files_and_submits(app, world, login, english):
    alice = login("alice")
    page = alice.get("/annual-assessment/mine")
    assert page.status_code == 200
    on = date(world.year, 1, 1).isoformat()
    response = alice.post(
        f"/annual-assessment/mine/achievements?scheme={world.scheme}",
        {
            "occurred_on": on,
            "duty": "online",
            "description": "建设班级网络思政阵地",
            "evidence": (io.BytesIO(PDF), "证明.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    response = alice.post(
        f"/annual-assessment/mine/self-report?scheme={world.scheme}",
        {"self_report": "本年度工作总结"},
    )
    assert response.status_code == 302
    response = alice.post(f"/annual-assessment/mine/submit?scheme={world.scheme}")
    assert response.status_code == 302

    with app.app_context():
        assessment = db.session.scalar(sa.select(AnnualAssessment))
        assert assessment.status is AssessmentStatus.SUBMITTED
        assert assessment.self_report == "本年度工作总结"
        achievement = db.session.scalar(sa.select(WorkAchievement))
        assert achievement.duty == "online"
        assert achievement.evidence_name == "证明.pdf"
        achievement_id = achievement.id

    late = alice.post(
        f"/annual-assessment/mine/achievements?scheme={world.scheme}",
        {"occurred_on": on, "duty": "crisis", "description": "晚到的"},
        content_type="multipart/form-data",
    )
    assert late.status_code == 400
    assert "was submitted" in late.get_data(as_text=True)
    evidence = alice.get(f"/annual-assessment/achievements/{achievement_id}/evidence")
    assert evidence.status_code == 200
    assert evidence.data == PDF
    evidence.close()


def test_achievement_outside_year_rejected(world, login, english):
    alice = login("alice")
    response = alice.post(
        f"/annual-assessment/mine/achievements?scheme={world.scheme}",
        {"occurred_on": f"{world.year - 1}-12-31", "duty": "crisis", "description": "去年的"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert f"enter a date in {world.year}" in response.get_data(as_text=True)


def test_achievement_bad_evidence_type(world, login, english):
    alice = login("alice")
    response = alice.post(
        f"/annual-assessment/mine/achievements?scheme={world.scheme}",
        {
            "occurred_on": f"{world.year}-01-01",
            "duty": "crisis",
            "description": "处置危机",
            "evidence": (io.BytesIO(b"MZ\x90\x00"), "tool.exe"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "upload a PDF, JPG, PNG or DOCX file" in response.get_data(as_text=True)


def test_counselor_cannot_read_another(app, world, login):
    alice = login("alice")
    alice.post(
        f"/annual-assessment/mine/achievements?scheme={world.scheme}",
        {
            "occurred_on": f"{world.year}-01-01",
            "duty": "crisis",
            "description": "处置危机",
            "evidence": (io.BytesIO(PDF), "a.pdf"),
        },
        content_type="multipart/form-data",
    )
    with app.app_context():
        achievement_id = db.session.scalar(sa.select(WorkAchievement.id))
    bob = login("bob")
    assert bob.get(f"/annual-assessment/achievements/{achievement_id}/evidence").status_code == 404
    assert bob.get(person_url(world, world.alice)).status_code == 404
    assert bob.post(f"/annual-assessment/mine/achievements/{achievement_id}/delete").status_code == 404
    assert bob.get(f"/annual-assessment/schemes/{world.scheme}/sheet").status_code == 403


def test_hr_reads_achievements(app, world, login):
    alice = login("alice")
    alice.post(
        f"/annual-assessment/mine/achievements?scheme={world.scheme}",
        {"occurred_on": f"{world.year}-01-01", "duty": "crisis", "description": "处置危机",
         "evidence": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        achievement_id = db.session.scalar(sa.select(WorkAchievement.id))
    hr = login("hr")
    page = hr.get(person_url(world, world.alice))
    assert page.status_code == 200
    assert "处置危机" in page.get_data(as_text=True)
    download = hr.get(f"/annual-assessment/achievements/{achievement_id}/evidence")
    assert download.status_code == 200
    download.close()
    hr_cs = login("hr_cs")
    assert hr_cs.get(person_url(world, world.alice)).status_code == 404
    assert hr_cs.get(f"/annual-assessment/achievements/{achievement_id}/evidence").status_code == 404


# Scope of scoring


def test_department_hr_scores_own_department(app, world, login, english):
    hr_cs = login("hr_cs")
    response = hr_cs.post(score_url(world, world.bob, "院系考核"), {"score": "88"})
    assert response.status_code == 302
    assert hr_cs.post(score_url(world, world.alice, "院系考核"), {"score": "88"}).status_code == 404
    assert hr_cs.post(score_url(world, world.bob, "学工部考核"), {"score": "88"}).status_code == 403
    assert hr_cs.post(f"{person_url(world, world.bob)}/finalise").status_code == 403
    assert hr_cs.get(f"/annual-assessment/schemes/{world.scheme}/edit").status_code == 403
    sheet = hr_cs.get(f"/annual-assessment/schemes/{world.scheme}/sheet?department={world.edu}")
    text = sheet.get_data(as_text=True)
    assert "李老师" in text
    assert "王老师" not in text


def test_other_institution_sees_nothing(world, login):
    hr2 = login("hr2")
    assert hr2.get(f"/annual-assessment/schemes/{world.scheme}/sheet").status_code == 404
    assert hr2.get(f"/annual-assessment/schemes/{world.scheme}/edit").status_code == 404
    assert hr2.get(person_url(world, world.alice)).status_code == 404
    assert hr2.post(score_url(world, world.alice, "学工部考核"), {"score": "1"}).status_code == 404
    index = hr2.get("/annual-assessment/").get_data(as_text=True)
    assert f"/schemes/{world.scheme}/" not in index
    carol = login("carol")
    assert carol.get(f"/annual-assessment/mine?year={world.year}").status_code == 200
    assert carol.post(f"/annual-assessment/mine/submit?scheme={world.scheme}").status_code == 404


def test_trainer_forbidden(world, login):
    trainer = login("trainer")
    assert trainer.get("/annual-assessment/").status_code == 403
    assert trainer.get("/annual-assessment/mine").status_code == 403


def test_score_without_csrf_rejected(app, world, login):
    hr = login("hr")
    response = hr.client.post(score_url(world, world.alice, "学工部考核"), data={"score": "80"})
    assert response.status_code == 400


# Scores, finalising and the record


def test_sample_below_share_rejected(world, login, english):
    hr = login("hr")
    response = hr.post(
        score_url(world, world.alice, "学生评议"),
        {"score": "90", "sample_size": "11", "student_count": "40"},
    )
    assert response.status_code == 400
    assert "At least 12 students must take part" in response.get_data(as_text=True)


def test_score_out_of_range_rejected(world, login, english):
    hr = login("hr")
    response = hr.post(score_url(world, world.alice, "加分"), {"score": "12"})
    assert response.status_code == 400
    assert "enter a score from 0 to 10" in response.get_data(as_text=True)
    response = hr.post(score_url(world, world.alice, "学工部考核"), {"score": "abc"})
    assert response.status_code == 400
    assert "is not a number" in response.get_data(as_text=True)



def test_full_width_score_saved(world, login, english):
    hr = login("hr")

    response = hr.post(score_url(world, world.alice, "学工部考核"), {"score": "８５．５"})

    assert response.status_code == 302
    page = hr.get(person_url(world, world.alice)).get_data(as_text=True)
    assert "85.5" in page

def test_score_huge_exponent_rejected(world, login, english):
    hr = login("hr")
    response = hr.post(score_url(world, world.alice, "学工部考核"), {"score": "9e30"})
    assert response.status_code == 400
    assert "enter a score from 0 to 100" in response.get_data(as_text=True)


def test_sample_superscript_digit_rejected(world, login, english):
    hr = login("hr")
    response = hr.post(
        score_url(world, world.alice, "学生评议"),
        {"score": "90", "sample_size": "²", "student_count": "40"},
    )
    assert response.status_code == 400
    assert "Sampled students: enter a whole number" in response.get_data(as_text=True)


def test_finalise_needs_every_component(world, login, english):
    hr = login("hr")
    hr.post(score_url(world, world.alice, "学工部考核"), {"score": "80"})
    response = finalise(hr, world, world.alice)
    assert response.status_code == 400
    assert "missing: 院系考核, 学生评议, 加分" in response.get_data(as_text=True)


def test_missing_components_listed_in_chinese(world, login):
    hr = login("hr")
    hr.post(score_url(world, world.alice, "学工部考核"), {"score": "80"})

    response = finalise(hr, world, world.alice)
    page = hr.get(person_url(world, world.alice)).get_data(as_text=True)

    assert "院系考核、学生评议、加分" in response.get_data(as_text=True)
    assert "尚缺：院系考核、学生评议、加分" in page


def test_finalise_writes_grade(app, world, login, english):
    hr = login("hr")
    enter_all(hr, world, world.alice, department="95", institution="92", students="94", bonus="2")
    response = finalise(hr, world, world.alice)
    assert response.status_code == 302
    with app.app_context():
        assessment = db.session.scalar(sa.select(AnnualAssessment))
        # 95 × .25 + 92 × .25 + 94 × .5 + 2 = 23.75 + 23 + 47 + 2 = 95.75 -> 95.8
        assert str(assessment.total) == "95.8"
        assert assessment.band_name == "优秀"
        entries = grade_entries(world.alice)
        assert len(entries) == 1
        assert entries[0].detail["grade"] == "excellent"
        assert entries[0].detail["year"] == world.year
        alice = db.session.get(User, world.alice)
        assert assessment_grades(alice)[world.year] == "excellent"
        actions = set(db.session.scalars(sa.select(AuditEntry.action)))
        assert "annual_assessment.finalised" in actions
        assert "annual_assessment.scored" in actions


def test_counselor_sees_result_once_finalised(world, login, english):
    hr = login("hr")
    enter_all(hr, world, world.alice)
    alice = login("alice")
    before = alice.get("/annual-assessment/mine").get_data(as_text=True)
    assert "Total:" not in before
    finalise(hr, world, world.alice)
    after = alice.get("/annual-assessment/mine").get_data(as_text=True)
    assert "Total: 87.5" in after
    assert "学生评议" in after
    # Only the mean counts; the sample and student numbers stay with HR.
    assert "students sampled" not in after


def test_filing_locked_message_says_finalised(world, login, english):
    """HR finalised a filing the counselor never submitted, so the error says finalised."""
    hr = login("hr")
    enter_all(hr, world, world.alice)
    finalise(hr, world, world.alice)

    response = login("alice").post(
        f"/annual-assessment/mine/self-report?scheme={world.scheme}",
        {"self_report": "补交的述职"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This assessment is finalised, so its achievements and self-report" in page
    assert "was submitted" not in page


def test_manual_grade_blocked_after_finalise(app, world, login, english):
    hr = login("hr")
    enter_all(hr, world, world.alice)
    finalise(hr, world, world.alice)
    response = hr.post(
        f"/people/{world.alice}/record/entries",
        {
            "kind": "assessment_grade",
            "occurred_on": date.today().isoformat(),
            "grade": "excellent",
            "year": str(world.year),
        },
    )
    assert response.status_code == 400
    assert "comes from the finalised annual assessment" in response.get_data(as_text=True)
    with app.app_context():
        entry_id = grade_entries(world.alice)[0].id
    correction = hr.post(
        f"/people/{world.alice}/record/entries",
        {
            "kind": "assessment_grade",
            "occurred_on": date.today().isoformat(),
            "grade": "excellent",
            "year": str(world.year - 1),
            "corrects": str(entry_id),
        },
    )
    assert correction.status_code == 400
    assert "Reopen the assessment" in correction.get_data(as_text=True)
    past = hr.post(
        f"/people/{world.alice}/record/entries",
        {
            "kind": "assessment_grade",
            "occurred_on": date.today().isoformat(),
            "grade": "competent",
            "year": str(world.year - 1),
        },
    )
    assert past.status_code == 302


def test_finalise_corrects_manual_grade(app, world, login):
    hr = login("hr")
    manual = hr.post(
        f"/people/{world.alice}/record/entries",
        {
            "kind": "assessment_grade",
            "occurred_on": date.today().isoformat(),
            "grade": "competent",
            "year": str(world.year),
        },
    )
    assert manual.status_code == 302
    enter_all(hr, world, world.alice, department="95", institution="95", students="95", bonus="5")
    finalise(hr, world, world.alice)
    with app.app_context():
        first, second = grade_entries(world.alice)
        assert second.corrects_id == first.id
        alice = db.session.get(User, world.alice)
        assert assessment_grades(alice)[world.year] == "excellent"


def test_reopen_needs_reason_and_refinalise(app, world, login, english):
    hr = login("hr")
    enter_all(hr, world, world.alice)
    finalise(hr, world, world.alice)
    blocked = hr.post(score_url(world, world.alice, "学工部考核"), {"score": "50"})
    assert blocked.status_code == 400
    assert "reopen it before changing a score" in blocked.get_data(as_text=True)
    no_reason = hr.post(f"{person_url(world, world.alice)}/reopen", {"reason": ""})
    assert no_reason.status_code == 400
    assert hr.post(f"{person_url(world, world.alice)}/reopen", {"reason": "学生评议录入有误"}).status_code == 302
    hr.post(score_url(world, world.alice, "学生评议"), {"score": "40", "sample_size": "12", "student_count": "40"})
    assert finalise(hr, world, world.alice).status_code == 302
    with app.app_context():
        reopened = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "annual_assessment.reopened")
        )
        assert reopened.data["reason"] == "学生评议录入有误"
        first, second = grade_entries(world.alice)
        assert second.corrects_id == first.id
        # 80 × .25 + 90 × .25 + 40 × .5 + 3 = 65.5
        assert second.detail["total"] == "65.5"
        assert second.detail["grade"] == "basically_competent"


# Schemes


def scheme_form(year, weights=("25", "25", "50"), bands=(("优秀", "90"), ("合格", "60"), ("不合格", "0"))):
    data = {"year": str(year), "title": "考核方案", "min_sample_percent": "30"}
    kinds = ("department", "institution", "students")
    for index, (kind, weight) in enumerate(zip(kinds, weights)):
        data[f"components-{index}-name"] = f"组成{index}"
        data[f"components-{index}-kind"] = kind
        data[f"components-{index}-weight"] = weight
    data["components-3-name"] = "加分"
    data["components-3-kind"] = "bonus"
    data["components-3-bonus_cap"] = "10"
    grades = ("excellent", "competent", "incompetent")
    for index, ((name, bound), grade) in enumerate(zip(bands, grades)):
        data[f"bands-{index}-name"] = name
        data[f"bands-{index}-min_score"] = bound
        data[f"bands-{index}-grade"] = grade
    return data


def test_new_scheme_saved(app, world, login):
    hr = login("hr")
    assert hr.get("/annual-assessment/schemes/new").status_code == 200
    response = hr.post("/annual-assessment/schemes/new", scheme_form(world.year + 1))
    assert response.status_code == 302
    with app.app_context():
        from lms.annual_assessment.services import scheme_of

        scheme = scheme_of(world.uni, world.year + 1)
        assert [c.name for c in scheme.components] == ["组成0", "组成1", "组成2", "加分"]
        assert [b.name for b in scheme.bands] == ["优秀", "合格", "不合格"]


def test_scheme_weights_must_total_100(world, login, english):
    hr = login("hr")
    response = hr.post("/annual-assessment/schemes/new", scheme_form(world.year + 1, ("30", "25", "50")))
    assert response.status_code == 400
    assert "add up to 105" in response.get_data(as_text=True)


def test_scheme_two_decimal_places_rejected(app, world, login, english):
    hr = login("hr")
    cases = (
        (scheme_form(world.year + 1, ("33.33", "33.33", "33.34")), "Weight of “组成0”: enter at most one decimal place"),
        (scheme_form(world.year + 1, bands=(("优秀", "89.95"), ("合格", "60"), ("不合格", "0"))), "Lower bound of “优秀”: enter at most one decimal place"),
        ({**scheme_form(world.year + 1), "components-3-bonus_cap": "7.25"}, "Bonus cap of “加分”: enter at most one decimal place"),
        ({**scheme_form(world.year + 1), "min_sample_percent": "33.33"}, "Enter at most one decimal place"),
    )
    for data, message in cases:
        response = hr.post("/annual-assessment/schemes/new", data)
        assert response.status_code == 400, message
        assert message in response.get_data(as_text=True)
    with app.app_context():
        from lms.annual_assessment.services import scheme_of

        assert scheme_of(world.uni, world.year + 1) is None


def test_scheme_nan_numbers_rejected(world, login, english):
    hr = login("hr")
    for field in ("components-0-weight", "components-3-bonus_cap", "bands-1-min_score", "min_sample_percent"):
        for value in ("NaN", "sNaN"):
            data = {**scheme_form(world.year + 1), field: value}
            response = hr.post("/annual-assessment/schemes/new", data)
            assert response.status_code == 400, (field, value)
            assert "Enter a number such as 25 or 33.3." in response.get_data(as_text=True)


def test_scheme_bands_need_zero(world, login, english):
    hr = login("hr")
    response = hr.post(
        "/annual-assessment/schemes/new",
        scheme_form(world.year + 1, bands=(("优秀", "90"), ("合格", "60"), ("不合格", "10"))),
    )
    assert response.status_code == 400
    assert "set the lowest band" in response.get_data(as_text=True)


def test_scheme_locked_after_scores(world, login, english):
    hr = login("hr")
    hr.post(score_url(world, world.alice, "学工部考核"), {"score": "80"})
    response = hr.post(f"/annual-assessment/schemes/{world.scheme}/edit", scheme_form(world.year))
    assert response.status_code == 400
    assert "only an administrator can change its components" in response.get_data(as_text=True)


def test_scheme_edit_keeps_year(app, world, login):
    hr = login("hr")
    data = scheme_form(world.year + 5, weights=("20", "30", "50"))
    response = hr.post(f"/annual-assessment/schemes/{world.scheme}/edit", data)
    assert response.status_code == 302
    with app.app_context():
        from lms.annual_assessment.models import AssessmentScheme

        scheme = db.session.get(AssessmentScheme, world.scheme)
        assert scheme.year == world.year
        assert [str(c.weight) for c in scheme.components] == ["20.0", "30.0", "50.0", "0.0"]


def test_new_scheme_offers_next_year(world, login):
    page = login("hr").get("/annual-assessment/schemes/new").get_data(as_text=True)
    assert f'value="{world.year + 1}"' in page


def test_bulk_upload_rejects_assessed_year(app, world, login, english):
    hr = login("hr")
    enter_all(hr, world, world.alice)
    finalise(hr, world, world.alice)
    with app.app_context():
        from lms.records import bulk

        text = f"工号,类型,日期,结果,年度\nE001,年度考核,{date.today().isoformat()},优秀,{world.year}\n"
        parsed = bulk.parse("grades.csv", text.encode("gbk"), world.uni)
        assert parsed.rows == []
        assert [problem.column for problem in parsed.problems] == ["年度"]
        assert "finalised annual assessment" in parsed.problems[0].message


def test_score_with_huge_exponent_rejected(world, login, english):
    hr = login("hr")
    response = hr.post(score_url(world, world.alice, "学工部考核"), {"score": "1e400"})
    assert response.status_code == 400
    assert "enter a score from 0 to 100" in response.get_data(as_text=True)


def test_scheme_not_a_number_rejected(world, login, english):
    hr = login("hr")
    for field in ("components-0-weight", "components-3-bonus_cap", "bands-1-min_score"):
        for value in ("NaN", "Infinity", "abc"):
            data = scheme_form(world.year + 1)
            data[field] = value
            response = hr.post("/annual-assessment/schemes/new", data)
            assert response.status_code == 400, (field, value)
            page = response.get_data(as_text=True)
            assert "Enter a number such as 25 or 33.3." in page, (field, value)


def test_scheme_row_errors_translated(world, login):
    hr = login("hr")
    data = scheme_form(world.year + 1)
    data["components-0-name"] = "组" * 101
    response = hr.post("/annual-assessment/schemes/new", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Field cannot be longer than" not in page
    assert "字段长度" not in page
    assert "组成部分：最多输入100个字符。" in page


def test_achievement_button_not_file_label(world, login, english):
    page = login("alice").get("/annual-assessment/mine").get_data(as_text=True)
    assert ">Add achievement</button>" in page


def test_achievement_date_not_ahead(app, world, login, english):
    from lms.compliance.windows import local_today
    from lms.organisations.models import Institution

    with app.app_context():
        today = local_today(db.session.get(Institution, world.uni))
    alice = login("alice")
    response = alice.post(
        f"/annual-assessment/mine/achievements?scheme={world.scheme}",
        {"occurred_on": f"{world.year}-12-31", "duty": "crisis", "description": "尚未发生"},
    )

    if today.isoformat() == f"{world.year}-12-31":
        pytest.skip("today is the last day of the year, so no date of the year is ahead")
    assert response.status_code == 400
    assert f"Date: {world.year}-12-31 has not come yet." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkAchievement)) == 0


def test_empty_score_asks_for_number(app, world, login, english):
    hr = login("hr")

    response = hr.post(score_url(world, world.alice, "学工部考核"), {"score": ""})

    assert response.status_code == 400
    assert "Score: enter a number, such as 85.5." in response.get_data(as_text=True)


def test_sheet_status_not_submission_time(world, login):
    alice = login("alice")
    alice.post(f"/annual-assessment/mine/submit?scheme={world.scheme}")
    hr = login("hr")

    sheet = hr.get(f"/annual-assessment/schemes/{world.scheme}/sheet")

    assert sheet.status_code == 200
    assert "提交时间" not in sheet.get_data(as_text=True)


def test_sheet_status_submitted_in_english(world, login, english):
    alice = login("alice")
    alice.post(f"/annual-assessment/mine/submit?scheme={world.scheme}")
    hr = login("hr")

    sheet = hr.get(f"/annual-assessment/schemes/{world.scheme}/sheet")

    assert "Filing submitted" in sheet.get_data(as_text=True)


def test_superscript_digit_ids_not_errors(world, login):
    hr = login("hr")
    alice = login("alice")
    sheet = f"/annual-assessment/schemes/{world.scheme}/sheet"
    assert hr.get(f"{sheet}?department=²").status_code == 200
    assert hr.get(f"{sheet}.csv?department=²").status_code == 200
    assert alice.get("/annual-assessment/mine?year=²").status_code == 200
    report = alice.post("/annual-assessment/mine/self-report?scheme=²", {"self_report": "x"})
    assert report.status_code == 404


def default_scheme_form(bands=None, **changes):
    """Return the edit form of the seeded default scheme, with ``changes`` applied."""
    data = {"title": "考核方案", "min_sample_percent": "30"}
    components = (
        ("院系考核", "department", "25", ""),
        ("学工部考核", "institution", "25", ""),
        ("学生评议", "students", "50", ""),
        ("加分", "bonus", "", "10"),
    )
    for index, (name, kind, weight, cap) in enumerate(components):
        data[f"components-{index}-name"] = name
        data[f"components-{index}-kind"] = kind
        data[f"components-{index}-weight"] = weight
        data[f"components-{index}-bonus_cap"] = cap
    bands = bands or (
        ("优秀", "90", "excellent"),
        ("合格", "70", "competent"),
        ("基本合格", "60", "basically_competent"),
        ("不合格", "0", "incompetent"),
    )
    for index, (name, bound, grade) in enumerate(bands):
        data[f"bands-{index}-name"] = name
        data[f"bands-{index}-min_score"] = bound
        data[f"bands-{index}-grade"] = grade
    data.update(changes)
    return data


def edit_url(world):
    return f"/annual-assessment/schemes/{world.scheme}/edit"


def test_scheme_bands_all_one_grade_rejected(world, login, english):
    bands = tuple(
        (name, bound, "competent")
        for name, bound in (("优秀", "90"), ("合格", "70"), ("基本合格", "60"), ("不合格", "0"))
    )
    response = login("admin").post(edit_url(world), default_scheme_form(bands))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Record grade of “优秀”: the band&#39;s name says Excellent, but it records Competent" in page


def test_scheme_bonus_weight_rejected(app, world, login, english):
    data = default_scheme_form(**{"components-3-weight": "10"})
    response = login("hr").post(edit_url(world), data)
    assert response.status_code == 400
    assert "Weight of “加分”: a bonus has no weight" in response.get_data(as_text=True)


def test_scheme_cap_on_scored_row_rejected(world, login, english):
    data = default_scheme_form(**{"components-0-bonus_cap": "5"})
    response = login("hr").post(edit_url(world), data)
    assert response.status_code == 400
    assert "Bonus cap of “院系考核”: only a bonus component has a cap" in response.get_data(as_text=True)


def test_scheme_lock_message_shown_once(world, login, english):
    hr = login("hr")
    hr.post(score_url(world, world.alice, "学工部考核"), {"score": "80"})
    page = hr.get(edit_url(world)).get_data(as_text=True)
    assert page.count("only an administrator can change its components") == 1
    data = default_scheme_form(**{"bands-1-min_score": "80"})
    response = hr.post(edit_url(world), data)
    assert response.status_code == 400
    assert response.get_data(as_text=True).count("only an administrator can change its components") == 1


def test_locked_scheme_title_still_editable(app, world, login):
    hr = login("hr")
    hr.post(score_url(world, world.alice, "学工部考核"), {"score": "80"})
    response = hr.post(edit_url(world), default_scheme_form(title="新标题"))
    assert response.status_code == 302
    with app.app_context():
        from lms.annual_assessment.models import AssessmentScheme

        assert db.session.get(AssessmentScheme, world.scheme).title == "新标题"


def test_admin_corrects_scheme_after_reopen(app, world, login, english):
    hr = login("hr")
    enter_all(hr, world, world.alice)
    finalise(hr, world, world.alice)
    admin = login("admin")
    corrected = default_scheme_form(**{"bands-1-min_score": "90", "bands-0-min_score": "95"})
    corrected["correction_reason"] = "合格线录入错误"
    blocked = admin.post(edit_url(world), corrected)
    assert blocked.status_code == 400
    assert "1 assessment under this scheme is finalised. Reopen it first" in blocked.get_data(as_text=True)

    admin.post(f"{person_url(world, world.alice)}/reopen", {"reason": "方案更正"})
    no_reason = admin.post(edit_url(world), {**corrected, "correction_reason": ""})
    assert no_reason.status_code == 400
    assert "Reason for the correction" in no_reason.get_data(as_text=True)

    response = admin.post(edit_url(world), corrected)
    assert response.status_code == 302, response.get_data(as_text=True)
    # 80 × .25 + 90 × .25 + 84 × .5 + 3 = 87.5, now below 合格 at 90.
    assert finalise(hr, world, world.alice).status_code == 302
    with app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "annual_assessment_scheme.corrected")
        )
        assert entry.data["reason"] == "合格线录入错误"
        assert entry.data["before"]["bands"][1] == ["合格", "70", "competent"]
        assert entry.data["bands"][1] == ["合格", "90", "competent"]
        assessment = db.session.scalar(sa.select(AnnualAssessment))
        assert len(assessment.scores) == 4
        assert assessment.band_name == "基本合格"
        first, second = grade_entries(world.alice)
        assert second.corrects_id == first.id
        assert second.detail["grade"] == "basically_competent"


def test_hr_cannot_correct_scheme_with_scores(world, login, english):
    hr = login("hr")
    hr.post(score_url(world, world.alice, "学工部考核"), {"score": "80"})
    data = default_scheme_form(**{"bands-1-min_score": "80", "correction_reason": "x"})
    response = hr.post(edit_url(world), data)
    assert response.status_code == 400
    assert "only an administrator can change" in response.get_data(as_text=True)


def test_correction_keeps_scored_components(world, login, english):
    hr = login("hr")
    hr.post(score_url(world, world.alice, "学工部考核"), {"score": "80"})
    admin = login("admin")
    kind = default_scheme_form(
        **{"components-1-kind": "department", "correction_reason": "调整"}
    )
    response = admin.post(edit_url(world), kind)
    assert response.status_code == 400
    assert "Scored by of “学工部考核”: the component has scores" in response.get_data(as_text=True)
    removed = default_scheme_form(
        **{
            "components-1-name": "",
            "components-0-weight": "50",
            "correction_reason": "调整",
        }
    )
    response = admin.post(edit_url(world), removed)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Component “学工部考核” has scores, so it cannot be removed" in page


def test_correction_rechecks_stored_samples(world, login, english):
    hr = login("hr")
    hr.post(
        score_url(world, world.alice, "学生评议"),
        {"score": "84", "sample_size": "12", "student_count": "40"},
    )
    data = default_scheme_form(min_sample_percent="50", correction_reason="抽样比例调整")
    response = login("admin").post(edit_url(world), data)
    assert response.status_code == 400
    assert "the stored student evaluations of 王老师 drew fewer students than 50%" in response.get_data(as_text=True)


def test_finalise_unsubmitted_needs_reason(app, world, login, english):
    hr = login("hr")
    enter_all(hr, world, world.alice)
    page = hr.get(person_url(world, world.alice)).get_data(as_text=True)
    assert "王老师 has not submitted the filing yet" in page
    response = hr.post(f"{person_url(world, world.alice)}/finalise")
    assert response.status_code == 400
    assert "王老师 has not submitted the filing" in response.get_data(as_text=True)
    with app.app_context():
        assert grade_entries(world.alice) == []
    assert finalise(hr, world, world.alice).status_code == 302
    with app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "annual_assessment.finalised")
        )
        assert entry.data["submitted"] is False
        assert entry.data["unsubmitted_reason"] == "逾期未提交"


def test_finalise_submitted_needs_no_reason(app, world, login):
    alice = login("alice")
    assert alice.post(f"/annual-assessment/mine/submit?scheme={world.scheme}").status_code == 302
    hr = login("hr")
    enter_all(hr, world, world.alice)
    page = hr.get(person_url(world, world.alice)).get_data(as_text=True)
    assert "unsubmitted_reason" not in page
    assert hr.post(f"{person_url(world, world.alice)}/finalise").status_code == 302


def test_finalise_twice_explains(world, login, english):
    hr = login("hr")
    enter_all(hr, world, world.alice)
    finalise(hr, world, world.alice)
    response = finalise(hr, world, world.alice)
    assert response.status_code == 409
    assert "This assessment is already finalised, with the total 87.5" in response.get_data(as_text=True)


def test_self_report_after_submit_keeps_text(app, world, login, english):
    alice = login("alice")
    alice.post(f"/annual-assessment/mine/self-report?scheme={world.scheme}", {"self_report": "初稿"})
    alice.post(f"/annual-assessment/mine/submit?scheme={world.scheme}")
    response = alice.post(
        f"/annual-assessment/mine/self-report?scheme={world.scheme}",
        {"self_report": "第二个标签页里写的新内容"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This assessment was submitted, so its achievements and self-report can no longer change." in page
    assert "第二个标签页里写的新内容</textarea>" in page
    with app.app_context():
        assert db.session.scalar(sa.select(AnnualAssessment)).self_report == "初稿"


def test_scheme_huge_weight_message_short(world, login, english):
    data = default_scheme_form(**{"components-0-weight": "1e308"})
    response = login("hr").post(edit_url(world), data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Weight of “院系考核”: enter a weight from 0.1 to 100." in page
    assert "0" * 30 not in page


def test_tampered_duty_names_field(world, login, english):
    response = login("alice").post(
        f"/annual-assessment/mine/achievements?scheme={world.scheme}",
        {"occurred_on": date(world.year, 1, 1).isoformat(), "duty": "martian", "description": "工作"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Duty: “martian” is not one of the listed options; choose one from the list." in page
    assert "Not a valid choice" not in page


def test_evidence_label_names_accepted_types(app, seeded, login):
    page = login("counselor1").get("/annual-assessment/mine").get_data(as_text=True)

    assert "证明材料（可选：PDF、JPG、PNG 或 DOCX 文件）" in page


def _bonus_cap_of_one(app, world):
    from decimal import Decimal

    from lms.annual_assessment.models import AssessmentComponent

    with app.app_context():
        component = db.session.get(AssessmentComponent, world.components["加分"])
        component.bonus_cap = Decimal("1")
        db.session.commit()


def test_bonus_cap_of_one_point_singular(app, world, login, english):
    _bonus_cap_of_one(app, world)

    page = login("hr").get(person_url(world, world.alice)).get_data(as_text=True)

    assert "up to 1.0 point<" in page
    assert "1.0 points" not in page


def test_bonus_cap_in_chinese(app, world, login):
    _bonus_cap_of_one(app, world)

    page = login("hr").get(person_url(world, world.alice)).get_data(as_text=True)

    assert "最多 1.0 分" in page
