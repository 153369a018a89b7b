"""Due dates on /tasks show the full year in both languages."""

from lms.extensions import db
from tests.assessments.task_builders import make_task


def test_task_due_date_shows_four_digit_year(world, login, english):
    make_task(world, due_at="2030-06-01T18:00")
    db.session.commit()

    page = login("counselor1").get("/tasks").get_data(as_text=True)

    assert "2030-06-01 18:00" in page
    assert "6/1/30," not in page


def test_task_due_date_in_chinese(world, login):
    make_task(world, due_at="2030-06-01T18:00")
    db.session.commit()
    counselor = login("counselor1")
    counselor.post("/language/zh_CN")

    page = counselor.get("/tasks").get_data(as_text=True)

    assert "2030/6/1 18:00" in page
