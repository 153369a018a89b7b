"""Browser tests: a record entry form sent with several gaps names every one.

A browser that checks ``required`` itself stops at the first empty field and
sends nothing, so these forms must reach the server, which names them all.
"""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db
from tests.conftest import TEST_PASSWORD


def _log_in(page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_load_state()


def _person_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).filter_by(username=username))


def _error_texts(page) -> str:
    return " ".join(page.locator("main .field-error").all_inner_texts())


def test_counselor_training_form_names_every_gap(live_server, browser_page):
    page = browser_page
    _log_in(page, live_server, "counselor1")
    page.goto(f"{live_server}/records/external")
    page.fill("#title", "全国高校辅导员示范培训")

    with page.expect_response(lambda response: response.request.method == "POST"):
        page.click('main form[enctype] button[type="submit"]')

    errors = _error_texts(page)
    for label in ("主办单位", "开始日期", "结束日期", "学时", "证明材料"):
        assert label in errors
    assert page.input_value("#title") == "全国高校辅导员示范培训"


def test_hr_training_entry_names_every_gap(app, live_server, browser_page):
    page = browser_page
    person_id = _person_id(app, "counselor1")
    _log_in(page, live_server, "hr")
    page.goto(f"{live_server}/people/{person_id}/external/new")
    page.fill("#organiser", "教育部思想政治工作司")
    page.fill("#note", "原件已核验")

    with page.expect_response(lambda response: response.request.method == "POST"):
        page.click('main form[enctype] button[type="submit"]')

    errors = _error_texts(page)
    for label in ("名称", "开始日期", "结束日期", "学时", "证明材料"):
        assert label in errors
    assert page.input_value("#organiser") == "教育部思想政治工作司"
    assert page.input_value("#note") == "原件已核验"


def test_progression_entry_names_every_gap(app, live_server, browser_page):
    page = browser_page
    person_id = _person_id(app, "counselor1")
    _log_in(page, live_server, "hr")
    page.goto(f"{live_server}/people/{person_id}/record")
    page.select_option("#kind", "honour")
    page.fill("#note", "校级表彰")

    with page.expect_response(lambda response: response.request.method == "POST"):
        page.click('#entry-form button[type="submit"]')

    errors = _error_texts(page)
    for label in ("日期", "荣誉", "荣誉级别", "年度"):
        assert label in errors
    assert page.input_value("#kind") == "honour"
    assert page.input_value("#note") == "校级表彰"
