"""Record entries the platform words show in the reader's language, through real logins."""

from datetime import date

import sqlalchemy as sa

from lms.extensions import db
from lms.records.models import ProgressionEntry, ProgressionKind


def _record_page(session, person_id: int, language: str) -> str:
    session.post(f"/language/{language}")
    return session.get(f"/people/{person_id}/record").get_data(as_text=True)


def _entry(user_id: int) -> ProgressionEntry:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(ProgressionEntry).where(ProgressionEntry.user_id == user_id)
    ).one()


def test_grade_recorded_in_chinese_reads_in_english(world, login):
    hr = login("hr")
    hr.post("/language/zh_CN")
    hr.post(
        f"/people/{world.counselor}/record/entries",
        data={
            "kind": "assessment_grade",
            "occurred_on": "2026-01-15",
            "grade": "competent",
            "year": "2025",
            "note": "学院考核小组评定",
        },
        follow_redirects=True,
    )
    assert _entry(world.counselor).title == "2025年度考核：合格"

    english = _record_page(hr, world.counselor, "en")
    chinese = _record_page(hr, world.counselor, "zh_CN")

    assert "Annual assessment 2025: Competent" in english
    assert "2025年度考核" not in english
    assert "学院考核小组评定" in english
    assert "2025年度考核：合格" in chinese


def test_title_recorded_in_english_reads_in_chinese(world, login):
    hr = login("hr")
    hr.post("/language/en")
    hr.post(
        f"/people/{world.counselor}/record/entries",
        data={
            "kind": "title_change",
            "occurred_on": "2026-01-15",
            "professional_title": "lecturer",
        },
        follow_redirects=True,
    )

    chinese = _record_page(hr, world.counselor, "zh_CN")
    english = _record_page(hr, world.counselor, "en")

    assert "专业技术职务：讲师" in chinese
    assert "Professional title: Lecturer" in english


def test_honour_name_stays_as_typed(world, login):
    hr = login("hr")
    hr.post(
        f"/people/{world.counselor}/record/entries",
        data={
            "kind": "honour",
            "occurred_on": "2026-01-15",
            "honour_name": "最美高校辅导员",
            "honour_level": "provincial",
            "year": "2025",
        },
        follow_redirects=True,
    )

    english = _record_page(hr, world.counselor, "en")

    assert "Honour (Provincial level, 2025): 最美高校辅导员" in english


def test_entry_without_data_shows_stored_title(world, login):
    db.session.add(
        ProgressionEntry(
            user_id=world.counselor,
            kind=ProgressionKind.ASSESSMENT_GRADE,
            occurred_on=date(2025, 1, 10),
            title="2024年度考核：合格",
            detail={"grade": "competent", "year": 2024, "note": ""},
        )
    )
    db.session.commit()

    english = _record_page(login("hr"), world.counselor, "en")

    assert "2024年度考核：合格" in english
