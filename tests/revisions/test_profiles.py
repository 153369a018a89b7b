"""Lost-update protection of the person profile page."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.compliance.models import PersonProfile
from lms.extensions import db
from tests.revisions.forms import text_of


def _person(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_stale_profile_save_names_changer(app, race):
    with app.app_context():
        person = _person("counselor1")
        person_id, old_gender = person.id, person.gender

    edit = race(f"/people/{person_id}/profile", "admin", "hr")
    edit.first_saves(phone="13811112222")
    chosen = "female" if old_gender is None or old_gender.value != "female" else "male"
    html = edit.second_saves(gender=chosen)

    with app.app_context():
        admin = _person("admin")
        assert f"{admin.full_name} changed this on" in text_of(html)
        person = db.session.get(User, person_id)
        assert person.phone == "13811112222"
        assert person.gender == old_gender
        assert "13811112222" in text_of(html)

    edit.second_saves_again()
    with app.app_context():
        person = db.session.get(User, person_id)
        assert person.gender.value == chosen


def test_new_profile_rejects_stale_page(app, race):
    with app.app_context():
        person = _person("counselor1")
        person_id = person.id
        db.session.delete(db.session.get(PersonProfile, person_id))
        db.session.commit()

    edit = race(f"/people/{person_id}/profile", "admin", "hr")
    assert edit.second_page["lock_version"] == "0"
    edit.first_saves(phone="13811112222")
    edit.second_saves(party_status="member")
    with app.app_context():
        assert db.session.get(User, person_id).phone == "13811112222"
