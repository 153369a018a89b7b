"""The promotion rules page counts years and grades with the right plural forms."""

from lms.extensions import db
from tests.promotion.conftest import make_rule


def _rules_page(world, login, language: str) -> str:
    make_rule(
        world.uni.id, min_years=1, assessment_years=3, min_grade="competent", min_excellent=1
    )
    db.session.commit()
    hr = login("hr")
    hr.post(f"/language/{language}")
    return hr.get("/promotions/rules").get_data(as_text=True)


def test_rule_conditions_singular_in_english(world, login):
    page = _rules_page(world, login, "en")

    assert "1 year in the current step" in page
    assert "At least 1 excellent grade in the last 3 annual assessments" in page
    assert "Competent or better in each of the last 3 annual assessments" in page
    assert "1 years" not in page
    assert "1 excellent grades" not in page


def test_rule_conditions_in_chinese(world, login):
    page = _rules_page(world, login, "zh_CN")

    assert "现任职务满1年" in page
    assert "最近3次年度考核中至少1次优秀" in page
    assert "最近3次年度考核均为合格及以上" in page
