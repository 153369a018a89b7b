"""Deleting a draft framework and retiring a framework ask first."""

import pytest

from lms.competencies.models import Framework, FrameworkStatus
from lms.extensions import db
from tests.competencies.helpers import adopt, make_draft, user

pytestmark = pytest.mark.usefixtures("english")


def test_draft_page_links_to_delete_confirmation(app, seeded, login):
    with app.app_context():
        draft_id = make_draft(user("trainer")).id
        db.session.commit()
    delete_url = f"/frameworks/{draft_id}/delete"

    page = login("trainer").get(f"/frameworks/{draft_id}").get_data(as_text=True)

    assert f'href="{delete_url}"' in page
    assert f'action="{delete_url}"' not in page


def test_delete_confirmation_deletes_nothing(app, seeded, login):
    with app.app_context():
        draft_id = make_draft(user("trainer")).id
        db.session.commit()
    delete_url = f"/frameworks/{draft_id}/delete"

    response = login("trainer").get(delete_url)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This cannot be undone." in page
    assert f'action="{delete_url}"' in page
    with app.app_context():
        assert db.session.get(Framework, draft_id) is not None


def test_published_page_links_to_retire_confirmation(app, seeded, login):
    with app.app_context():
        fw_id = adopt("counselor-2014").id
        db.session.commit()
    retire_url = f"/frameworks/{fw_id}/retire"

    page = login("trainer").get(f"/frameworks/{fw_id}").get_data(as_text=True)
    confirm = login("trainer").get(retire_url).get_data(as_text=True)

    assert f'href="{retire_url}"' in page
    assert f'action="{retire_url}"' not in page
    assert "A retired version cannot be published again" in confirm
    assert f'action="{retire_url}"' in confirm
    with app.app_context():
        assert db.session.get(Framework, fw_id).status is FrameworkStatus.PUBLISHED


def test_delete_confirmation_of_published_framework_explains(app, seeded, login):
    with app.app_context():
        fw_id = adopt("counselor-2014").id
        db.session.commit()

    page = login("trainer").get(f"/frameworks/{fw_id}/delete").get_data(as_text=True)

    assert 'id="confirm-problem"' in page
    assert f'action="/frameworks/{fw_id}/delete"' not in page
