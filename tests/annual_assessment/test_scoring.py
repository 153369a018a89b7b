"""Weights, grade bands, rounding and the student sample rule."""

from decimal import Decimal

import pytest

from lms.annual_assessment import scoring
from lms.annual_assessment.models import ComponentKind
from lms.annual_assessment.services import DEFAULT_BANDS, DEFAULT_COMPONENTS

D = Decimal


@pytest.fixture(autouse=True)
def _context(app_ctx, english):
    yield


def scores(department, institution, students, bonus):
    return {"院系考核": D(department), "学工部考核": D(institution), "学生评议": D(students), "加分": D(bonus)}


def test_default_scheme_is_valid():
    assert scoring.check_components(DEFAULT_COMPONENTS) == []
    assert scoring.check_bands(DEFAULT_BANDS) == []


def test_weighted_total_adds_bonus():
    total = scoring.weighted_total(DEFAULT_COMPONENTS, scores(80, 90, 84, 3))
    # 80 × 0.25 + 90 × 0.25 + 84 × 0.5 + 3 = 20 + 22.5 + 42 + 3
    assert total == D("87.5")


def test_bonus_is_cut_to_cap():
    total = scoring.weighted_total(DEFAULT_COMPONENTS, scores(100, 100, 100, 25))
    assert total == D("110.0")


def test_total_rounds_half_up():
    # 85.3 × 0.25 + 85.5 × 0.25 + 85.5 × 0.5 = 85.45 exactly
    total = scoring.weighted_total(DEFAULT_COMPONENTS, scores("85.3", "85.5", "85.5", 0))
    assert total == D("85.5")


def test_round_half_up_not_bankers():
    assert scoring.round_half_up(D("92.45")) == D("92.5")
    assert scoring.round_half_up(D("92.25")) == D("92.3")
    assert scoring.round_half_up(D("92.44")) == D("92.4")


@pytest.mark.parametrize("value", ["-0", "-0.0", "-0.04"])
def test_round_half_up_drops_negative_zero(value):
    rounded = scoring.round_half_up(D(value))

    assert rounded == 0
    assert str(rounded) == "0.0"


@pytest.mark.parametrize(
    "total, band",
    [
        ("100", "优秀"),
        ("110", "优秀"),
        ("90.0", "优秀"),
        ("89.9", "合格"),
        ("70", "合格"),
        ("69.9", "基本合格"),
        ("60", "基本合格"),
        ("59.9", "不合格"),
        ("0", "不合格"),
    ],
)
def test_band_for_bounds(total, band):
    assert scoring.band_for(DEFAULT_BANDS, D(total)).name == band


def test_weights_must_sum_to_100():
    components = [
        scoring.ComponentSpec("院系", ComponentKind.DEPARTMENT, D(30)),
        scoring.ComponentSpec("学工部", ComponentKind.INSTITUTION, D(25)),
        scoring.ComponentSpec("学生", ComponentKind.STUDENTS, D(50)),
    ]
    problems = scoring.check_components(components)
    assert len(problems) == 1
    assert problems[0].field == "components"
    assert "add up to 105" in problems[0].message


def test_bonus_weight_not_counted():
    components = [
        scoring.ComponentSpec("院系", ComponentKind.DEPARTMENT, D(100)),
        scoring.ComponentSpec("加分", ComponentKind.BONUS, D(0), D(10)),
    ]
    assert scoring.check_components(components) == []


def test_bonus_needs_cap():
    components = [
        scoring.ComponentSpec("院系", ComponentKind.DEPARTMENT, D(100)),
        scoring.ComponentSpec("加分", ComponentKind.BONUS, D(0), None),
    ]
    messages = [problem.message for problem in scoring.check_components(components)]
    assert any("Bonus cap of “加分”" in message for message in messages)


def test_second_student_component_rejected():
    components = [
        scoring.ComponentSpec("学生甲", ComponentKind.STUDENTS, D(50)),
        scoring.ComponentSpec("学生乙", ComponentKind.STUDENTS, D(50)),
    ]
    messages = [problem.message for problem in scoring.check_components(components)]
    assert any("only one" in message for message in messages)


def test_bands_must_start_at_zero():
    bands = [
        scoring.BandSpec("优秀", D(90), "excellent"),
        scoring.BandSpec("合格", D(60), "competent"),
    ]
    problems = scoring.check_bands(bands)
    assert [problem.field for problem in problems] == ["bands"]
    assert "starts at 60" in problems[0].message


def test_bands_reject_duplicate_bound():
    bands = [
        scoring.BandSpec("优秀", D(90), "excellent"),
        scoring.BandSpec("良好", D(90), "competent"),
        scoring.BandSpec("不合格", D(0), "incompetent"),
    ]
    messages = [problem.message for problem in scoring.check_bands(bands)]
    assert any("90 is used twice" in message for message in messages)


def test_bands_reject_bound_above_100():
    bands = [
        scoring.BandSpec("优秀", D(101), "excellent"),
        scoring.BandSpec("不合格", D(0), "incompetent"),
    ]
    messages = [problem.message for problem in scoring.check_bands(bands)]
    assert any("Lower bound of “优秀”" in message for message in messages)


def test_bands_reject_inverted_grades():
    bands = [
        scoring.BandSpec("甲", D(90), "incompetent"),
        scoring.BandSpec("乙", D(0), "excellent"),
    ]
    messages = [problem.message for problem in scoring.check_bands(bands)]
    assert any("swap their record grades" in message for message in messages)


def test_school_band_names_map_to_record_grades():
    bands = [
        scoring.BandSpec("优", D(90), "excellent"),
        scoring.BandSpec("良", D(70), "competent"),
        scoring.BandSpec("合格", D(60), "competent"),
        scoring.BandSpec("不合格", D(0), "incompetent"),
    ]
    assert scoring.check_bands(bands) == []
    assert scoring.band_for(bands, D("75")).grade == "competent"


def test_bands_all_competent_rejected():
    bands = [
        scoring.BandSpec(name, D(bound), "competent")
        for name, bound in (("优秀", 90), ("合格", 70), ("基本合格", 60), ("不合格", 0))
    ]
    messages = [problem.message for problem in scoring.check_bands(bands)]
    assert len(messages) == 3
    assert any(
        "Record grade of “优秀”: the band's name says Excellent, but it records Competent"
        in message
        for message in messages
    )
    assert any("Record grade of “基本合格”" in message for message in messages)
    assert any("Record grade of “不合格”" in message for message in messages)


@pytest.mark.parametrize(
    "name, grade",
    [("优", "competent"), ("不称职", "basically_competent"), ("Excellent", "competent"), ("基本 合格", "competent")],
)
def test_band_name_contradicting_grade_rejected(name, grade):
    bands = [scoring.BandSpec(name, D(50), grade), scoring.BandSpec("其他", D(0), "incompetent")]
    messages = [problem.message for problem in scoring.check_bands(bands)]
    assert any(f"Record grade of “{name}”" in message for message in messages)


def test_unnamed_grade_bands_accept_any_grade():
    bands = [
        scoring.BandSpec("良好", D(80), "excellent"),
        scoring.BandSpec("一般", D(0), "competent"),
    ]
    assert scoring.check_bands(bands) == []


@pytest.mark.parametrize(
    "students, needed", [(40, 12), (41, 13), (10, 3), (1, 1), (3, 1), (100, 30)]
)
def test_min_sample_rounds_up(students, needed):
    assert scoring.min_sample(students, D("0.3")) == needed


def test_check_sample_rejects_below_share():
    with pytest.raises(scoring.SampleTooSmall) as raised:
        scoring.check_sample(11, 40, D("0.300"))
    assert raised.value.needed == 12
    message = scoring.sample_message(raised.value)
    assert "At least 12 students must take part." in message
    assert "30%" in message


def test_sample_message_singular_counts(app_ctx):
    with pytest.raises(scoring.SampleTooSmall) as raised:
        scoring.check_sample(0, 1, D("0.300"))

    message = scoring.sample_message(raised.value)

    assert "0 of 1 student is below" in message
    assert "At least 1 student must take part." in message


def test_sample_message_in_chinese(app):
    from flask_babel import force_locale

    with pytest.raises(scoring.SampleTooSmall) as raised:
        scoring.check_sample(11, 40, D("0.300"))
    with app.test_request_context(), force_locale("zh_CN"):
        message = scoring.sample_message(raised.value)

    assert message == (
        "抽样人数：40 名学生中抽取 11 名，低于最低比例 30%；至少需要 12 名学生参加评议。"
    )


def test_check_sample_accepts_exact_share():
    scoring.check_sample(12, 40, D("0.300"))


def test_huge_weight_message_stays_short():
    components = [
        scoring.ComponentSpec("院系考核", ComponentKind.DEPARTMENT, D("1e308")),
        scoring.ComponentSpec("学工部考核", ComponentKind.INSTITUTION, D(50)),
    ]
    messages = [problem.message for problem in scoring.check_components(components)]
    assert messages == ["Weight of “院系考核”: enter a weight from 0.1 to 100."]
