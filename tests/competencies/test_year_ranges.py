"""The years of service of a framework's levels neither overlap nor leave gaps.

A counselor's level is the one whose years contain their year of service,
so two levels on one year make it ambiguous, and a year in no level leaves
it undefined.
"""

import json
from datetime import date

import pytest

from courses.learning import person_level
from courses.models import TargetLevel
from lms.competencies import case, case_import, csvio, services, transfer
from lms.competencies.models import Framework, FrameworkStatus, Level
from lms.compliance.models import PersonProfile
from lms.extensions import db
from tests.competencies.helpers import framework, user

pytestmark = pytest.mark.usefixtures("english")

HEADER = (
    "等级代码,等级,职业功能代码,职业功能,条目代码,概述,工作内容,能力要求,"
    "理论知识要求,最短工作年限,最长工作年限\n"
)
DETAILS = {"code": "imported", "title": "导入的框架", "version": "1"}


def _draft(levels: list[tuple], *, checked: bool = True) -> int:
    """Add a draft of the trainer's institution with these levels and one item.

    Unless ``checked``, the levels are written directly, as an older
    version could hold them, so the checks of ``save_level`` do not run.
    """
    trainer = user("trainer")
    draft = services.save_framework(
        {"code": "years-fw", "title": "年限框架", "version": "1"}, trainer
    )
    for position, (code, name, low, high) in enumerate(levels, start=1):
        values = {
            "code": code,
            "name": name,
            "position": position,
            "min_years": low,
            "max_years": high,
        }
        if checked:
            services.save_level(draft, values)
        else:
            db.session.add(Level(framework_id=draft.id, **values))
    area = services.save_area(draft, {"code": "mental", "name": "心理健康", "position": 1})
    db.session.expire(draft)
    services.save_item(
        draft,
        {"level_id": draft.levels[0].id, "area_id": area.id, "code": "1.1", "summary": "概述"},
    )
    db.session.commit()
    return draft.id


def _level_form(**values) -> dict:
    form = {"code": "intermediate", "name": "中级", "position": "2"}
    form.update(values)
    return form


def test_overlapping_level_rejected_with_fix(app, seeded, login):
    with app.app_context():
        draft_id = _draft([("junior", "初级", 1, 3)])

    response = login("trainer").post(
        f"/frameworks/{draft_id}/levels/new",
        data=_level_form(min_years="3", max_years="8"),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        "Counselors in year 3 of service would have two levels, 初级 (years 1–3) "
        "and 中级 (years 3–8)."
    ) in page
    assert "Start 中级 at year 4, or end 初级 at year 2." in page
    assert 'value="中级"' in page
    assert 'value="3"' in page
    assert 'value="8"' in page
    with app.app_context():
        assert [level.code for level in framework("years-fw").levels] == ["junior"]


def test_gap_saved_with_warning(app, seeded, login):
    with app.app_context():
        draft_id = _draft([("junior", "初级", 1, 3), ("senior", "高级", 9, None)])

    response = login("trainer").post(
        f"/frameworks/{draft_id}/levels/new",
        data=_level_form(position="3", min_years="5", max_years="8"),
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Counselors in year 4 of service would have no level." in page
    assert "Start 中级 at year 4, or end 初级 at year 4." in page
    assert "cannot be published" in page


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (
            [("junior", "初级", 1, 3), ("intermediate", "中级", 5, 8), ("senior", "高级", 9, None)],
            "Counselors in year 4 of service would have no level.",
        ),
        (
            [("junior", "初级", 1, 3), ("intermediate", "中级", 4, 8), ("senior", "高级", 8, None)],
            "Counselors in year 8 of service would have two levels, 中级 (years 4–8) "
            "and 高级 (years 8 and later).",
        ),
        (
            [("junior", "初级", 1, 3), ("intermediate", "中级", 4, 8)],
            "Counselors in years 9 and later of service would have no level.",
        ),
        (
            [("junior", "初级", 2, 3), ("intermediate", "中级", 4, None)],
            "Counselors in year 1 of service would have no level.",
        ),
    ],
)
def test_publish_rejects_bad_ranges(app_ctx, seeded, levels, message):
    draft = db.session.get(Framework, _draft(levels, checked=False))

    with pytest.raises(services.FrameworkError) as raised:
        services.publish(draft, user("trainer"))

    assert message in str(raised.value)
    assert draft.status is FrameworkStatus.DRAFT


def test_contiguous_ranges_publish(app_ctx, seeded):
    draft_id = _draft(
        [("junior", "初级", 1, 3), ("intermediate", "中级", 4, 8), ("senior", "高级", 9, None)]
    )
    draft = db.session.get(Framework, draft_id)

    services.publish(draft, user("trainer"))

    assert draft.status is FrameworkStatus.PUBLISHED


def test_csv_import_names_overlap_and_gap(app_ctx):
    rows = (
        "junior,初级,mental,心理健康,1.1,概述,,,,1,4\n"
        "intermediate,中级,mental,心理健康,2.1,概述,,,,4,8\n"
        "senior,高级,mental,心理健康,3.1,概述,,,,10,\n"
    )

    with pytest.raises(transfer.ImportRejected) as raised:
        csvio.parse_csv((HEADER + rows).encode(), dict(DETAILS))

    problems = [(p.location, p.field, p.message) for p in raised.value.problems]
    assert [(location, field) for location, field, _message in problems] == [
        ("Row 3", "最短工作年限"),
        ("Row 4", "最短工作年限"),
    ]
    assert "Counselors in year 4 of service would have two levels, 初级" in problems[0][2]
    assert "Counselors in year 9 of service would have no level." in problems[1][2]


def test_case_import_names_overlap(app_ctx, seeded):
    package = json.loads(case.export_json(framework("counselor-2014"), "http://x"))
    for node in package["CFItems"]:
        if node.get("CFItemType") == "Level" and node["humanCodingScheme"] == "senior":
            node["extensions"]["minYears"] = 7

    with pytest.raises(transfer.ImportRejected) as raised:
        case_import.parse_package(json.dumps(package).encode(), {"code": "case-copy"})

    [problem] = raised.value.problems
    assert problem.field == "extensions.minYears"
    assert "Counselors in years 7–8 of service would have two levels" in problem.message


def test_national_levels_cover_each_year_once(app_ctx, seeded):
    levels = framework("counselor-2014").levels

    assert [(level.min_years, level.max_years) for level in levels] == [
        (1, 3),
        (4, 8),
        (9, None),
    ]


@pytest.mark.parametrize(
    ("started", "level"),
    [
        (date(2018, 9, 1), TargetLevel.INTERMEDIATE),
        (date(2017, 9, 1), TargetLevel.SENIOR),
    ],
)
def test_eighth_year_stays_intermediate(app_ctx, seeded, started, level):
    counselor = user("counselor1")
    db.session.get(PersonProfile, counselor.id).post_started_on = started

    assert person_level(counselor, date(2026, 6, 1)) is level


def test_national_export_imports_again(app_ctx, seeded):
    original = framework("counselor-2014")

    data = csvio.parse_csv(csvio.export_csv(original), dict(DETAILS))

    assert transfer.validate(data) == []
    assert [(level.min_years, level.max_years) for level in data.levels] == [
        (1, 3),
        (4, 8),
        (9, None),
    ]
