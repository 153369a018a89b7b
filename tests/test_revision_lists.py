"""An edit conflict lists a saved field's several values the reader's way."""

from flask_babel import force_locale

from lms import revisions

FIELDS = {"trainers": "Trainers"}


def test_saved_values_joined_in_chinese(app):
    with app.test_request_context(), force_locale("zh_CN"):
        found = revisions.value_differences({}, {"trainers": ["王慧敏", "赵静"]}, FIELDS)

    assert found == [("Trainers", "王慧敏、赵静")]


def test_saved_values_joined_in_english(app):
    with app.test_request_context(), force_locale("en"):
        found = revisions.value_differences({}, {"trainers": ["Wang", "Zhao"]}, FIELDS)

    assert found == [("Trainers", "Wang, Zhao")]
