"""Builders shared by the framework tests."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.competencies import services
from lms.competencies.models import Framework, FunctionalArea
from lms.extensions import db


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


def framework(code: str, version_number: int = 1) -> Framework:
    return db.session.scalar(
        sa.select(Framework).filter_by(code=code, version_number=version_number)
    )


def adopt(code: str, username: str = "trainer") -> Framework:
    """Make the framework ``code`` one of ``username``'s institution, as if it had made it."""
    row = framework(code)
    row.institution_id = user(username).institution_id
    db.session.commit()
    return row


def area(framework_code: str, area_code: str) -> FunctionalArea:
    return next(a for a in framework(framework_code).areas if a.code == area_code)


def make_draft(actor: User, code: str = "demo-fw") -> Framework:
    """Add a draft with two levels, two areas and three items."""
    draft = services.save_framework(
        {"code": code, "title": "演示框架", "issuer": "示范大学", "version": "1", "year": 2026},
        actor,
    )
    junior = services.save_level(
        draft, {"code": "junior", "name": "初级", "position": 1, "min_years": 1, "max_years": 3}
    )
    senior = services.save_level(
        draft, {"code": "senior", "name": "高级", "position": 2, "min_years": 4, "max_years": None}
    )
    mental = services.save_area(draft, {"code": "mental", "name": "心理健康教育", "position": 1})
    online = services.save_area(draft, {"code": "online", "name": "网络思政", "position": 2})
    cells = ((junior, mental, "1.1"), (junior, online, "1.2"), (senior, mental, "2.1"))
    for level, area_row, code in cells:
        services.save_item(
            draft,
            {
                "level_id": level.id,
                "area_id": area_row.id,
                "code": code,
                "summary": f"条目{code}的概述",
                "work_content": "第一项工作\n  第二项工作  \n\n",
                "ability_requirements": "=SUM(A1) 看起来像公式\n能力二",
                "knowledge_requirements": "知识一",
            },
        )
    db.session.flush()
    return draft


def snapshot(fw: Framework) -> dict:
    """Return the content of a framework without database ids."""
    return {
        "levels": [(lv.code, lv.name, lv.position) for lv in fw.levels],
        "areas": [(ar.code, ar.name, ar.position) for ar in fw.areas],
        "items": sorted(
            (
                it.level.code,
                it.area.code,
                it.code,
                it.summary,
                it.work_content,
                it.ability_requirements,
                it.knowledge_requirements,
            )
            for it in fw.items
        ),
    }
