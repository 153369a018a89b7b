"""The course pages count lessons and lesson completions in one query each."""

import sqlalchemy as sa

from courses.models import Course
from lms.extensions import db
from tests.test_query_budgets import queries_for


def _add_lessons(trainer, course_id: int, count: int, start: int) -> None:
    for number in range(start, start + count):
        response = trainer.post(
            f"/manage/courses/{course_id}/lessons/new",
            data={
                "title": f"第{number}课",
                "kind": "text",
                "duration_minutes": "20",
                "body_html": "<p>内容</p>",
            },
        )
        assert response.status_code == 302


def test_course_page_does_not_grow_with_lessons(app, world, login):
    trainer = login("trainer")
    response = trainer.post(
        "/manage/courses/new",
        data={"code": "talk-101", "title": "谈心谈话实务", "summary": "", "credit_hours": "2"},
    )
    assert response.status_code == 302
    course = db.session.scalar(sa.select(Course).filter_by(code="talk-101"))
    url = f"/manage/courses/{course.id}"

    _add_lessons(trainer, course.id, 1, 0)
    few = queries_for(app, trainer.client, url)
    _add_lessons(trainer, course.id, 6, 1)
    many = queries_for(app, trainer.client, url)

    assert many <= few, (few, many)


def test_manage_index_does_not_grow_with_courses(app, world, login):
    trainer = login("trainer")

    few = queries_for(app, trainer.client, "/manage/programmes")
    for number in range(4):
        response = trainer.post(
            "/manage/courses/new",
            data={"code": f"extra-{number}", "title": f"课程{number}", "credit_hours": "2"},
        )
        assert response.status_code == 302
        course = db.session.scalar(sa.select(Course).filter_by(code=f"extra-{number}"))
        _add_lessons(trainer, course.id, 2, 0)
    page = trainer.get("/manage/programmes").get_data(as_text=True)
    many = queries_for(app, trainer.client, "/manage/programmes")

    assert many <= few, (few, many)
    assert "<td>2</td>" in page
