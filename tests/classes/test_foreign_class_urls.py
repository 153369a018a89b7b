"""Every URL of a class returns 404 to the people of another institution."""

import pytest

from courses import classes
from courses.class_models import EnrolmentMode
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world, make_user

FOREIGN_USERS = ("hr_b", "counselor_b", "trainer_b", "admin_b")


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _class_urls(app, klass, member, session) -> list[tuple[str, str]]:
    """Return (method, URL) for every route of the classes blueprint with a class id."""
    values = {
        "class_id": klass.id,
        "member_id": member.id,
        "session_id": session.id,
        "action": "withdraw",
        # No upload has this id, but the class is checked before the upload.
        "import_id": 999,
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("classes.") or "class_id" not in rule.arguments:
            continue
        url = rule.build({name: values[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, url))
    return urls


def test_foreign_users_get_404_everywhere(app, world, login):
    uni_b = db.session.get(Institution, world.uni_b)
    make_user(uni_b, "trainer_b", Role.TRAINER)
    make_user(uni_b, "admin_b", Role.ADMIN)
    klass = make_class(world, mode=EnrolmentMode.SELF)
    member = classes.request_place(klass, user(world.counselor))
    session = make_session(klass)
    db.session.commit()
    urls = _class_urls(app, klass, member, session)

    statuses = {}
    for username in FOREIGN_USERS:
        client = login(username)
        for method, url in urls:
            response = client.get(url) if method == "GET" else client.post(url)
            statuses[(username, method, url)] = response.status_code

    assert len(urls) > 20
    wrong = {key: status for key, status in statuses.items() if status != 404}
    assert wrong == {}
