"""A programme with enrolled learners offers no course changes it would reject."""

from courses import services as course_services
from courses.models import Programme
from lms.accounts.models import User
from lms.extensions import db


def _links(world):
    programme = db.session.get(Programme, world.programme)
    link = programme.courses[0]
    base = f"/manage/programmes/{programme.id}/courses/{link.id}"
    return programme, f"{base}/required", f"{base}/remove"


def test_enrolled_programme_hides_remove_and_required(world, login):
    programme, required_url, remove_url = _links(world)
    course_services.enrol(db.session.get(User, world.counselor), programme)
    db.session.commit()

    page = login("trainer").get(f"/manage/programmes/{programme.id}").get_data(as_text=True)

    assert required_url not in page
    assert remove_url not in page


def test_programme_without_learners_offers_remove(world, login):
    programme, required_url, remove_url = _links(world)

    page = login("trainer").get(f"/manage/programmes/{programme.id}").get_data(as_text=True)

    assert required_url in page
    assert remove_url in page
