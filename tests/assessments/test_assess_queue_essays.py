"""The assessor queue points trainers to the quiz essays that wait for them."""

import pytest

pytestmark = pytest.mark.usefixtures("english")


def test_trainer_queue_names_waiting_essays(seeded, app_ctx, login):
    page = login("trainer").get("/assess").get_data(as_text=True)

    assert "1 quiz essay waits for your grade." in page
    assert 'href="/manage/grading"' in page


def test_counselor_queue_mentions_no_essays(seeded, app_ctx, login):
    page = login("counselor1").get("/assess").get_data(as_text=True)

    assert 'id="essays-waiting"' not in page


def test_hr_queue_mentions_no_essays(seeded, app_ctx, login):
    page = login("hr").get("/assess").get_data(as_text=True)

    assert 'id="essays-waiting"' not in page
