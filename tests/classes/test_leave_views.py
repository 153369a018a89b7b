"""Leave limit through the pages: class form, attendance sheet, roster, learner's class page."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from courses import classes
from courses.class_models import (
    ClassMember,
    EnrolmentMode,
    MemberStatus,
    SessionLength,
    TrainingClass,
    WithdrawalReason,
)
from lms.accounts.models import Role
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Institution
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world, make_user

FIRST_DAY = date(2026, 9, 1)


@pytest.fixture
def world(app_ctx):
    world = build_learning_world()
    training_class = make_class(world)
    training_class.off_the_job = True
    training_class.leave_limit_num, training_class.leave_limit_den = 1, 7
    for person in (world.counselor, world.counselor2):
        classes.add_member(training_class, user(person), by=user(world.trainer))
    world.sessions = [
        make_session(
            training_class, held_on=FIRST_DAY + timedelta(days=i), length=SessionLength.FULL_DAY
        ).id
        for i in range(7)
    ]
    world.klass = training_class.id
    db.session.commit()
    return world


def _sheet_url(world, index: int) -> str:
    return f"/classes/{world.klass}/sessions/{world.sessions[index]}/attendance"


def _member(world, user_id: int) -> ClassMember:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(ClassMember).filter_by(class_id=world.klass, user_id=user_id)
    )


def _absent_twice(world, trainer):
    for index in (0, 1):
        response = trainer.post(
            _sheet_url(world, index), data={f"mark-{world.counselor}": "absent"}
        )
        assert response.status_code == 302


def _form(world, **overrides) -> dict:
    data = {
        "code": "2026-05-leave",
        "title": "2026年脱产培训班",
        "offering": f"p:{world.programme}",
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-20",
        "enrolment_mode": "assigned",
        "tier": "school",
        "trainer_ids": [str(world.trainer)],
    }
    data.update(overrides)
    return data


def _created() -> TrainingClass:
    return db.session.scalar(sa.select(TrainingClass).filter_by(code="2026-05-leave"))


# Class form ----------------------------------------------------------------------


def test_off_the_job_default_one_seventh(world, login):
    response = login("trainer").post(
        "/classes/new", data=_form(world, off_the_job="y", leave_limit="")
    )

    assert response.status_code == 302
    assert (_created().off_the_job, _created().leave_limit_num, _created().leave_limit_den) == (
        True, 1, 7,
    )


def test_on_the_job_class_unlimited(world, login):
    login("trainer").post("/classes/new", data=_form(world, leave_limit=""))

    assert _created().off_the_job is False
    assert _created().leave_limit is None


def test_off_the_job_class_may_have_no_limit(world, login):
    trainer = login("trainer")
    trainer.post("/classes/new", data=_form(world, off_the_job="y", leave_limit="none"))

    page = trainer.get(f"/classes/{_created().id}/edit").get_data(as_text=True)

    assert _created().leave_limit is None
    assert 'name="leave_limit" value="无"' in page


def test_edit_form_shows_the_limit(world, login):
    page = login("trainer").get(f"/classes/{world.klass}/edit").get_data(as_text=True)

    assert 'name="leave_limit" value="1/7"' in page
    assert 'name="off_the_job" value="y" checked' in page


@pytest.mark.parametrize("raw", ["one seventh", "7/7", "1/0", "1/3000"])
def test_bad_limit_names_the_field(world, login, english, raw):
    response = login("trainer").post("/classes/new", data=_form(world, leave_limit=raw))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="leave_limit-error"' in page
    assert "Enter the leave limit" in page or "Enter a leave limit" in page
    assert _created() is None


def test_lowering_the_limit_withdraws_and_tells_the_trainer(world, login, english):
    trainer = login("trainer")
    trainer.post(_sheet_url(world, 0), data={f"mark-{world.counselor}": "absent"})
    data = _form(
        world, code="2026-03", kind="demonstration", off_the_job="y", leave_limit="1/10"
    )

    response = trainer.post(f"/classes/{world.klass}/edit", data=data, follow_redirects=True)

    assert "张老师 missed more of the class&#39;s time than its leave limit of 1/10" in (
        response.get_data(as_text=True)
    )
    assert _member(world, world.counselor).status is MemberStatus.WITHDRAWN


# Attendance sheet and roster ---------------------------------------------------


def test_mark_beyond_limit_withdraws_with_a_warning(world, login, english):
    trainer = login("trainer")
    trainer.post(_sheet_url(world, 0), data={f"mark-{world.counselor}": "absent"})

    response = trainer.post(
        _sheet_url(world, 1), data={f"mark-{world.counselor}": "excused"}, follow_redirects=True
    )

    page = response.get_data(as_text=True)
    assert "missed more of the class&#39;s time than its leave limit of 1/7" in page
    member = _member(world, world.counselor)
    assert member.status is MemberStatus.WITHDRAWN
    assert member.withdrawal_reason is WithdrawalReason.LEAVE_LIMIT
    assert _member(world, world.counselor2).status is MemberStatus.ENROLLED


def test_sheet_shows_each_members_leave(world, login, english):
    trainer = login("trainer")
    trainer.post(_sheet_url(world, 0), data={f"mark-{world.counselor}": "absent"})

    page = trainer.get(_sheet_url(world, 1)).get_data(as_text=True)

    assert "8 of 56 hours missed (14.3%)" in page
    assert "limit 1/7, 0 hours left" in page
    assert "Close to the leave limit" in page
    assert "0 of 56 hours missed (0.0%)" in page


def test_roster_shows_withdrawal_and_reinstates_after_correction(world, login, english):
    trainer = login("trainer")
    _absent_twice(world, trainer)
    member_id = _member(world, world.counselor).id
    reinstate_url = f"/classes/{world.klass}/members/{member_id}/reinstate"

    roster = trainer.get(f"/classes/{world.klass}/roster").get_data(as_text=True)
    corrected = trainer.post(
        _sheet_url(world, 1), data={f"mark-{world.counselor}": "present"}, follow_redirects=True
    ).get_data(as_text=True)
    after = trainer.get(f"/classes/{world.klass}/roster").get_data(as_text=True)
    response = trainer.post(reinstate_url)

    assert "Beyond the leave limit" in roster
    assert "Leave beyond the class&#39;s limit" in roster
    assert reinstate_url not in roster
    assert "is within it now" in corrected
    assert reinstate_url in after
    assert response.status_code == 302
    assert _member(world, world.counselor).status is MemberStatus.ENROLLED
    assert db.session.scalar(
        sa.select(AuditEntry).filter_by(action="class.member_reinstated")
    ).actor_id == world.trainer


def test_reinstate_refused_while_beyond(world, login, english):
    trainer = login("trainer")
    _absent_twice(world, trainer)
    member_id = _member(world, world.counselor).id

    response = trainer.post(
        f"/classes/{world.klass}/members/{member_id}/reinstate", follow_redirects=True
    )

    assert "still beyond the class&#39;s leave limit" in response.get_data(as_text=True)
    assert _member(world, world.counselor).status is MemberStatus.WITHDRAWN


def test_reinstate_refused_for_trainer_withdrawal(world, login, english):
    trainer = login("trainer")
    member_id = _member(world, world.counselor).id
    trainer.post(f"/classes/{world.klass}/members/{member_id}/withdraw")

    response = trainer.post(
        f"/classes/{world.klass}/members/{member_id}/reinstate", follow_redirects=True
    )

    assert "Only a member withdrawn for leave" in response.get_data(as_text=True)
    member = _member(world, world.counselor)
    assert member.status is MemberStatus.WITHDRAWN
    assert member.withdrawal_reason is WithdrawalReason.TRAINER


# Access ---------------------------------------------------------------------------


def test_other_institutions_trainer_cannot_see_or_change(world, login):
    make_user(db.session.get(Institution, world.uni_b), "trainer_b", Role.TRAINER, full_name="郑培训师")
    db.session.commit()
    trainer = login("trainer")
    _absent_twice(world, trainer)
    member_id = _member(world, world.counselor).id
    trainer.post(_sheet_url(world, 1), data={f"mark-{world.counselor}": "present"})
    outsider = login("trainer_b")

    urls = [f"/classes/{world.klass}/roster", _sheet_url(world, 0), f"/classes/{world.klass}"]
    statuses = [outsider.get(url).status_code for url in urls]
    reinstate = outsider.post(f"/classes/{world.klass}/members/{member_id}/reinstate")
    mark = outsider.post(_sheet_url(world, 2), data={f"mark-{world.counselor2}": "absent"})

    assert statuses == [404, 404, 404]
    assert (reinstate.status_code, mark.status_code) == (404, 404)
    assert _member(world, world.counselor).status is MemberStatus.WITHDRAWN


def test_trainer_not_of_the_class_cannot_change(world, login):
    make_user(db.session.get(Institution, world.uni_a), "trainer2", Role.TRAINER, full_name="钱培训师")
    db.session.commit()
    _absent_twice(world, login("trainer"))
    member_id = _member(world, world.counselor).id
    other = login("trainer2")

    reinstate = other.post(f"/classes/{world.klass}/members/{member_id}/reinstate")
    mark = other.post(_sheet_url(world, 2), data={f"mark-{world.counselor2}": "absent"})

    assert (reinstate.status_code, mark.status_code) == (403, 403)


def test_learner_cannot_reinstate_or_read_the_roster(world, login):
    _absent_twice(world, login("trainer"))
    member_id = _member(world, world.counselor).id
    learner = login("counselor1")

    assert learner.post(f"/classes/{world.klass}/members/{member_id}/reinstate").status_code == 403
    assert learner.get(f"/classes/{world.klass}/roster").status_code == 403
    assert _member(world, world.counselor).status is MemberStatus.WITHDRAWN


def test_hr_reads_leave_without_reinstating(world, login, english):
    _absent_twice(world, login("trainer"))
    member_id = _member(world, world.counselor).id
    hr = login("hr")

    page = hr.get(f"/classes/{world.klass}/roster").get_data(as_text=True)

    assert "Beyond the leave limit" in page
    assert f"/members/{member_id}/reinstate" not in page
    assert hr.post(f"/classes/{world.klass}/members/{member_id}/reinstate").status_code == 403


# Learner's class page ---------------------------------------------------------------


def test_learner_sees_only_own_leave_with_warning(world, login, english):
    trainer = login("trainer")
    trainer.post(
        _sheet_url(world, 0),
        data={f"mark-{world.counselor}": "absent", f"mark-{world.counselor2}": "late"},
    )

    mine = login("counselor1").get(f"/classes/{world.klass}").get_data(as_text=True)
    other = login("counselor2").get(f"/classes/{world.klass}").get_data(as_text=True)

    assert "8 of 56 hours missed (14.3%)" in mine
    assert "You have 0 hours of leave left in this class." in mine
    assert "0 of 56 hours missed (0.0%)" in other
    assert "8 of 56 hours missed" not in other
    assert "You have" not in other


def test_withdrawn_learner_is_told_why(world, login, english):
    _absent_twice(world, login("trainer"))

    page = login("counselor1").get(f"/classes/{world.klass}").get_data(as_text=True)

    assert "You were withdrawn from this class because you missed more" in page
    assert "16 of 56 hours missed (28.6%)" in page


def test_class_page_states_the_limit(world, login, english):
    page = login("counselor2").get(f"/classes/{world.klass}").get_data(as_text=True)

    assert "1/7 of the scheduled time (8 hours), excused and absent together" in page
    assert "Off-the-job training (脱产培训)" in page


def test_audit_page_describes_withdrawal(world, login, english):
    _absent_twice(world, login("trainer"))

    page = login("admin").get("/admin/audit?action=class.").get_data(as_text=True)

    assert "Class member withdrawn for leave" in page
    assert "withdrawn for leave, 16 of 56 hours missed, limit 1/7" in page


def test_learner_withdrawn_for_leave_cannot_rejoin(world, login, english):
    klass = db.session.get(TrainingClass, world.klass)
    klass.enrolment_mode = EnrolmentMode.SELF
    db.session.commit()
    _absent_twice(world, login("trainer"))
    learner = login("counselor1")

    page = learner.get(f"/classes/{world.klass}").get_data(as_text=True)
    response = learner.post(f"/classes/{world.klass}/join", follow_redirects=True)

    assert f"/classes/{world.klass}/join" not in page
    assert "cannot join it again yourself" in response.get_data(as_text=True)
    assert _member(world, world.counselor).status is MemberStatus.WITHDRAWN


def _self_enrolment(world) -> None:
    klass = db.session.get(TrainingClass, world.klass)
    klass.enrolment_mode = EnrolmentMode.SELF
    db.session.commit()


def test_learner_withdrawn_by_trainer_cannot_rejoin(world, login, english):
    _self_enrolment(world)
    trainer = login("trainer")
    member_id = _member(world, world.counselor).id
    trainer.post(f"/classes/{world.klass}/members/{member_id}/withdraw")
    trainer_name = user(world.trainer).full_name
    learner = login("counselor1")

    page = learner.get(f"/classes/{world.klass}").get_data(as_text=True)
    response = learner.post(f"/classes/{world.klass}/join", follow_redirects=True)

    assert f"/classes/{world.klass}/join" not in page
    assert f"Ask the class&#39;s trainers ({trainer_name}) to add you again" in page
    message = response.get_data(as_text=True)
    assert "You were taken off the roster of this class, so you cannot join it again" in message
    assert f"Ask the class&#39;s trainers ({trainer_name}) to add you again" in message
    member = _member(world, world.counselor)
    assert member.status is MemberStatus.WITHDRAWN
    assert member.withdrawal_reason is WithdrawalReason.TRAINER


def test_trainer_adds_back_a_member_they_withdrew(world, login, english):
    _self_enrolment(world)
    trainer = login("trainer")
    member_id = _member(world, world.counselor).id
    trainer.post(f"/classes/{world.klass}/members/{member_id}/withdraw")

    response = trainer.post(
        f"/classes/{world.klass}/members", data={"user_ids": [str(world.counselor)]}
    )

    assert response.status_code == 302
    member = _member(world, world.counselor)
    assert member.status is MemberStatus.ENROLLED
    assert member.withdrawal_reason is None
    page = login("counselor1").get(f"/classes/{world.klass}").get_data(as_text=True)
    assert "taken off the roster" not in page


def test_learner_who_left_can_rejoin(world, login, english):
    _self_enrolment(world)
    learner = login("counselor1")
    learner.post(f"/classes/{world.klass}/leave")
    assert _member(world, world.counselor).withdrawal_reason is WithdrawalReason.SELF

    response = learner.post(f"/classes/{world.klass}/join", follow_redirects=True)

    assert "You are enrolled in this class." in response.get_data(as_text=True)
    assert _member(world, world.counselor).status is MemberStatus.ENROLLED


def test_deleting_a_session_can_withdraw(world, login, english):
    trainer = login("trainer")
    trainer.post(_sheet_url(world, 0), data={f"mark-{world.counselor}": "absent"})
    last = world.sessions[-1]

    response = trainer.post(
        f"/classes/{world.klass}/sessions/{last}/delete", follow_redirects=True
    )

    # 8 of the 48 学时 left is beyond 1/7.
    assert "Session deleted." in response.get_data(as_text=True)
    assert "张老师 missed more of the class&#39;s time" in response.get_data(as_text=True)
    assert _member(world, world.counselor).status is MemberStatus.WITHDRAWN


def test_shorter_session_can_withdraw(world, login, english):
    trainer = login("trainer")
    trainer.post(_sheet_url(world, 0), data={f"mark-{world.counselor}": "absent"})
    last = world.sessions[-1]

    response = trainer.post(f"/classes/{world.klass}/sessions/{last}/edit", data={
        "title": "结业式", "held_on": "2026-09-07", "length": "half_day", "place": "",
    }, follow_redirects=True)

    # 8 of 52 学时 is beyond 1/7, which allows 7.4.
    assert "Session saved." in response.get_data(as_text=True)
    assert "张老师 missed more of the class&#39;s time" in response.get_data(as_text=True)
    assert _member(world, world.counselor).status is MemberStatus.WITHDRAWN
