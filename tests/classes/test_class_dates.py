"""Class pages and enrolment notices write dates in the reader's language."""

from datetime import date

import pytest

from courses.class_models import EnrolmentMode
from lms.extensions import db
from tests.classes.helpers import make_class, make_session
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _chinese(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@pytest.fixture
def dated_class(world):
    training_class = make_class(world, mode=EnrolmentMode.SELF)
    session = make_session(training_class, held_on=date(2026, 9, 2))
    db.session.commit()
    return training_class, session


def test_class_pages_write_chinese_dates(world, dated_class, login):
    training_class, session = dated_class
    period = f"2026年9月1日至{_chinese(training_class.ends_on)}"
    trainer = login("trainer")

    index = trainer.get("/classes").get_data(as_text=True)
    detail = trainer.get(f"/classes/{training_class.id}").get_data(as_text=True)
    sheet = trainer.get(
        f"/classes/{training_class.id}/sessions/{session.id}/attendance"
    ).get_data(as_text=True)
    learner = login("counselor1").get("/classes").get_data(as_text=True)

    assert period in index
    assert period in detail
    assert "2026年9月2日" in detail
    assert "2026年9月2日" in sheet
    assert period in learner
    assert "2026-09-01 – " not in index + detail + learner


def test_class_pages_write_english_dates(world, dated_class, login, english):
    training_class, session = dated_class
    period = f"2026-09-01 to {training_class.ends_on.isoformat()}"

    detail = login("trainer").get(f"/classes/{training_class.id}").get_data(as_text=True)

    assert period in detail
    assert "2026-09-02" in detail


def test_enrolment_notice_dates_follow_reader(world, dated_class, login):
    training_class, _ = dated_class
    counselor = login("counselor1")
    counselor.post(f"/classes/{training_class.id}/join")

    chinese = counselor.get("/notifications").get_data(as_text=True)
    counselor.post("/language/en")
    english = counselor.get("/notifications").get_data(as_text=True)

    assert f"培训时间：2026年9月1日至{_chinese(training_class.ends_on)}。" in chinese
    assert f"The class runs 2026-09-01 to {training_class.ends_on.isoformat()}." in english
