"""Evidence, decisions and the approved step show in the reader's language."""

from datetime import date

import sqlalchemy as sa

from lms.extensions import db
from lms.promotion import engine
from lms.promotion.models import PromotionApplication
from tests.promotion.conftest import add_grade, make_rule, set_title


def _apply(world, login) -> PromotionApplication:
    set_title(world.counselor, "lecturer", date(2022, 9, 1))
    for year in (2024, 2025, 2026):
        add_grade(world.counselor, year, "competent")
    rule = make_rule(world.uni.id, min_years=5, assessment_years=3, min_grade="competent")
    db.session.commit()
    response = login("counselor1").post(
        f"/promotions/apply/{rule.id}", {"statement": "主持校级课题一项"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    return db.session.scalars(sa.select(PromotionApplication)).one()


def _approve(login, application_id: int) -> None:
    for reviewer in ("dept_hr", "hr2"):
        response = login(reviewer).post(
            f"/promotions/applications/{application_id}/decide", {"outcome": "approve"}
        )
        assert response.status_code == 302


def _page(session, url: str, language: str) -> str:
    session.post(f"/language/{language}")
    return session.get(url).get_data(as_text=True)


def test_evidence_reads_in_each_language(world, frozen, login):
    application = _apply(world, login)
    [years] = [c for c in application.evidence["conditions"] if c["kind"] == "years"]
    assert years["message"] == "已任讲师 5年（要求5年）"
    url = f"/promotions/applications/{application.id}"
    hr = login("hr")

    english = _page(hr, url, "en")
    chinese = _page(hr, url, "zh_CN")

    assert "5 years as Lecturer (5 required)" in english
    assert "Competent or better in every year of 2024–2026" in english
    assert "已任讲师" not in english
    assert "已任讲师 5年（要求5年）" in chinese
    assert "2024–2026每年均为合格及以上" in chinese


def test_evidence_without_data_shows_stored_text(world, frozen, login):
    application = _apply(world, login)
    evidence = dict(application.evidence)
    evidence["conditions"] = [
        {"kind": "years", "met": True, "message": "已任讲师 5年（要求5年）"}
    ]
    application.evidence = evidence
    db.session.commit()

    english = _page(login("hr"), f"/promotions/applications/{application.id}", "en")

    assert "已任讲师 5年（要求5年）" in english


def test_approved_step_reads_in_each_language(world, frozen, login):
    application = _apply(world, login)
    _approve(login, application.id)
    url = f"/people/{world.counselor.id}/record"
    hr = login("hr")

    english = _page(hr, url, "en")
    chinese = _page(hr, url, "zh_CN")

    assert (
        f"Professional title: Associate professor (promotion application "
        f"#{application.id} approved)" in english
    )
    assert f"专业技术职务：副教授（晋升申请 #{application.id} 审核通过）" in chinese


def test_decision_notice_made_in_english_reads_in_chinese(world, frozen, login):
    application = _apply(world, login)
    _approve(login, application.id)

    chinese = _page(login("counselor1"), "/notifications", "zh_CN")

    assert "您的晋升申请已获批准" in chinese
    assert "Your promotion was approved" not in chinese


def test_plain_text_condition_shown_as_given(app_ctx):
    condition = engine.Condition("custom", True, "院系推荐意见已提交")

    assert condition.message == "院系推荐意见已提交"
