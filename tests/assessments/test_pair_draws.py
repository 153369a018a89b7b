"""Groups and A/B roles of a paired case discussion are drawn, not chosen."""

import pytest
import sqlalchemy as sa

from assessments import pair_draws, tasks
from assessments.tasks_models import PairDraw, PairRole, TaskKind
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Department, Institution
from tests.assessments.task_builders import make_task, user
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def discussion(world):
    task = make_task(world, kind=TaskKind.CASE_DISCUSSION)
    db.session.commit()
    return task


def _draws(task) -> dict[str, PairDraw]:
    db.session.expire_all()
    return {row.user.username: row for row in pair_draws.draws(task)}


def test_submission_needs_a_draw(world, discussion):
    with pytest.raises(tasks.TaskError, match="not been drawn"):
        tasks.submit(discussion, user("counselor1"), text="笔记")


def test_submission_takes_drawn_role(world, discussion):
    pair_draws.draw_pairs(discussion, user("trainer"))
    drawn = _draws(discussion)["counselor1"]

    submission = tasks.submit(discussion, user("counselor1"), text="笔记")

    assert submission.pair_role is drawn.pair_role
    assert submission.pair_group == str(drawn.pair_group)


def test_draw_fills_groups_with_a_and_b(world, discussion):
    made = pair_draws.draw_pairs(discussion, user("trainer"))

    # counselor1, counselor2 and organiser are the candidates.
    assert len(made) == 3
    groups: dict[int, list[PairRole]] = {}
    for row in made:
        groups.setdefault(row.pair_group, []).append(row.pair_role)
    assert sorted(len(roles) for roles in groups.values()) == [1, 2]
    for roles in groups.values():
        assert len(set(roles)) == len(roles)


def test_draw_pairs_two_departments(world):
    uni = db.session.get(Institution, world.uni_a)
    school = db.session.get(Department, world.school)
    for number in range(3):
        make_user(uni, f"edu{number}", Role.COUNSELOR, department=school)
    task = make_task(
        world,
        kind=TaskKind.CASE_DISCUSSION,
        candidates=("counselor1", "counselor2", "edu0", "edu1", "edu2"),
    )
    # The organiser is left out: not enrolled in the course.

    made = pair_draws.draw_pairs(task, user("trainer"))

    groups: dict[int, set] = {}
    for row in made:
        groups.setdefault(row.pair_group, set()).add(row.user.department_id)
    mixed = [departments for departments in groups.values() if len(departments) == 2]
    # Four from 教育学院 and one from 物理学院: one pair can mix them.
    assert len(made) == 5
    assert len(mixed) == 1


def test_second_draw_keeps_earlier_slots(world, discussion):
    first = {row.user_id: (row.pair_group, row.pair_role) for row in
             pair_draws.draw_pairs(discussion, user("trainer"))}
    uni = db.session.get(Institution, world.uni_a)
    late = make_user(uni, "late", Role.COUNSELOR)
    from courses import services as course_services
    from courses.models import Programme

    course_services.enrol(late, db.session.get(Programme, world.programme))

    [added] = pair_draws.draw_pairs(discussion, user("trainer"))

    kept = {row.user_id: (row.pair_group, row.pair_role) for row in _draws(discussion).values()
            if row.user_id != late.id}
    assert kept == first
    assert added.user_id == late.id
    # The late candidate fills the group that had one member.
    members = [row for row in _draws(discussion).values()
               if row.pair_group == added.pair_group]
    assert len(members) == 2


def test_nothing_left_to_draw(world, discussion):
    pair_draws.draw_pairs(discussion, user("trainer"))

    with pytest.raises(pair_draws.DrawError, match="already has a group"):
        pair_draws.draw_pairs(discussion, user("trainer"))


def test_other_kinds_draw_nothing(world):
    task = make_task(world, kind=TaskKind.CASE_ANALYSIS)

    with pytest.raises(pair_draws.DrawError, match="Only a paired case discussion"):
        pair_draws.draw_pairs(task, user("trainer"))


# Pages ------------------------------------------------------------------------------


def test_moderator_draws_on_task_page(world, discussion, login):
    moderator = login("admin")

    response = moderator.post(f"/manage/tasks/{discussion.id}/draw")

    assert response.status_code == 302
    assert len(_draws(discussion)) == 3
    [entry] = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="task.pairs_drawn")
    ).all()
    assert entry.actor_id == world.admin
    page = moderator.get(f"/manage/tasks/{discussion.id}").get_data(as_text=True)
    assert "Groups and roles" in page


def test_learner_sees_drawn_slot_not_a_choice(world, discussion, login):
    pair_draws.draw_pairs(discussion, user("trainer"))
    db.session.commit()
    drawn = _draws(discussion)["counselor1"]
    learner = login("counselor1")

    page = learner.get(f"/tasks/{discussion.id}").get_data(as_text=True)
    response = learner.post(
        f"/tasks/{discussion.id}/submit",
        data={"text": "笔记", "pair_role": "b" if drawn.pair_role is PairRole.A else "a"},
    )

    assert f"group {drawn.pair_group}" in page
    assert 'name="pair_role"' not in page
    assert response.status_code == 302
    db.session.expire_all()
    [submission] = tasks.submissions_of(discussion, db.session.get(User, world.counselor))
    assert submission.pair_role is drawn.pair_role


@pytest.mark.parametrize("username", ["counselor1", "hr"])
def test_others_cannot_draw(world, discussion, login, username):
    response = login(username).post(f"/manage/tasks/{discussion.id}/draw")

    assert response.status_code == 403
    assert _draws(discussion) == {}
