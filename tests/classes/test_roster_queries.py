"""The roster and attendance pages of a class load its members' accounts at once."""

from courses.class_models import ClassMember, MemberStatus
from lms.extensions import db
from lms.organisations.models import Institution
from tests.classes.helpers import make_class, make_session
from tests.factories import build_learning_world, make_user
from tests.test_query_budgets import _empty_tables, queries_for


def _class_of(size: int):
    world = build_learning_world()
    institution = db.session.get(Institution, world.uni_a)
    training_class = make_class(world)
    session = make_session(training_class)
    for number in range(size):
        person = make_user(institution, f"member{number}", full_name=f"学员{number}")
        db.session.flush()
        db.session.add(
            ClassMember(
                class_id=training_class.id, user_id=person.id, status=MemberStatus.ENROLLED
            )
        )
    db.session.commit()
    return training_class.id, session.id


def test_roster_queries_do_not_grow_with_members(app, login):
    counts = {}
    for size in (2, 12):
        with app.app_context():
            class_id, session_id = _class_of(size)
            client = login("trainer").client
            counts[size] = (
                queries_for(app, client, f"/classes/{class_id}/roster"),
                queries_for(app, client, f"/classes/{class_id}/sessions/{session_id}/attendance"),
            )
        _empty_tables(app)

    assert counts[12][0] <= counts[2][0], counts
    assert counts[12][1] <= counts[2][1], counts
