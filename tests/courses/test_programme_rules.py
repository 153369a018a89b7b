"""Programme completion (required courses plus elective hours) and prerequisites."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from courses import authoring, services
from courses.authoring import AuthoringError
from courses.models import Course, Enrolment, LessonProgress, Programme, ProgrammeCourse
from lms.accounts.models import User
from lms.extensions import db
from lms.organisations.models import Institution
from tests.factories import make_course, make_programme, finish_lesson


@pytest.fixture(autouse=True)
def _english_messages(app_ctx):
    with force_locale("en"):
        yield


@pytest.fixture
def trainer(world):
    return db.session.get(User, world.trainer)


@pytest.fixture
def electives(world):
    """A programme: required r (2 h), electives e1 (2 h) and e2 (3 h), 3 elective hours.

    e2 needs r first. Returns a dict of ids. No course has a quiz.
    """
    uni = db.session.get(Institution, world.uni_a)
    required = make_course(uni, "r", title="必修课", hours="2", lessons=1)
    elective1 = make_course(uni, "e1", title="选修一", hours="2", lessons=1)
    elective2 = make_course(uni, "e2", title="选修二", hours="3", lessons=1)
    trainer = db.session.get(User, world.trainer)
    programme = make_programme(
        uni, "pe", [required, elective1, elective2], author=trainer
    )
    programme.min_elective_hours = Decimal(3)
    link_r, link_e1, link_e2 = programme.courses
    link_e1.required = False
    link_e2.required = False
    link_e2.prerequisites = [link_r]
    db.session.commit()
    return {
        "programme": programme.id,
        "r": required.id,
        "e1": elective1.id,
        "e2": elective2.id,
        "link_r": link_r.id,
        "link_e1": link_e1.id,
        "link_e2": link_e2.id,
    }


def _finish(user, course_id: int) -> None:
    from courses.models import Course

    for lesson in db.session.get(Course, course_id).lessons:
        finish_lesson(user, lesson)


def _enrol(world, electives, name="counselor") -> tuple[User, Enrolment]:
    user = db.session.get(User, getattr(world, name))
    enrolment = services.enrol(user, db.session.get(Programme, electives["programme"]))
    db.session.commit()
    return user, enrolment


# Completion rule --------------------------------------------------------------------


def test_too_few_elective_hours_not_complete(world, electives):
    user, enrolment = _enrol(world, electives)

    _finish(user, electives["r"])
    _finish(user, electives["e1"])

    standing = services.programme_standing(enrolment)
    assert enrolment.completed_at is None
    assert standing["missing_required"] == []
    assert standing["elective_hours_done"] == 2
    assert standing["elective_hours_missing"] == 1


def test_enough_elective_hours_completes(world, electives):
    user, enrolment = _enrol(world, electives)

    _finish(user, electives["r"])
    _finish(user, electives["e2"])

    db.session.refresh(enrolment)
    assert enrolment.completed_at is not None


def test_dashboard_explains_elective_progress(
    world, electives, login
):
    user, _enrolment = _enrol(world, electives)
    _finish(user, electives["r"])
    _finish(user, electives["e2"])
    db.session.commit()
    learner = login("counselor1")
    learner.post("/language/en")

    page = learner.get("/learning").get_data(as_text=True)

    assert "2 of 3 completed" in page
    assert "Required: 1 of 1. Electives: 3 of the 3 hours needed." in page



def test_dashboard_one_elective_hour_singular(world, electives, login):
    programme = db.session.get(Programme, electives["programme"])
    programme.min_elective_hours = Decimal("1")
    user, _enrolment = _enrol(world, electives)
    _finish(user, electives["e1"])
    db.session.commit()
    learner = login("counselor1")
    learner.post("/language/en")

    page = learner.get("/learning").get_data(as_text=True)

    assert "Required: 0 of 1. Electives: 2 of the 1 hour needed." in page


def test_dashboard_elective_hours_in_chinese(world, electives, login):
    programme = db.session.get(Programme, electives["programme"])
    programme.min_elective_hours = Decimal("1.5")
    user, _enrolment = _enrol(world, electives)
    db.session.commit()

    page = login("counselor1").get("/learning").get_data(as_text=True)

    assert "必修：已完成 0 / 1 门；选修：已获 0 学时，需 1.5 学时。" in page


def test_electives_without_required_not_complete(world, electives):
    user, enrolment = _enrol(world, electives)
    _finish(user, electives["r"])
    # Completing every elective but not a second required course stays open.
    extra = make_course(db.session.get(Institution, world.uni_a), "r2", lessons=1)
    enrolment.programme.courses.append(
        ProgrammeCourse(course_id=extra.id, position=4, required=True)
    )
    db.session.flush()

    _finish(user, electives["e1"])
    _finish(user, electives["e2"])

    assert enrolment.completed_at is None
    missing = services.programme_standing(enrolment)["missing_required"]
    assert [course.code for course in missing] == ["r2"]


def test_total_hours_counts_minimum_electives(world, electives):
    programme = db.session.get(Programme, electives["programme"])

    assert programme.total_hours == Decimal(5)
    assert programme.elective_hours_offered == Decimal(5)


# Prerequisites ----------------------------------------------------------------------


def test_locked_course_cannot_be_started(world, electives):
    from courses.models import Course

    user, _enrolment = _enrol(world, electives)
    lesson = db.session.get(Course, electives["e2"]).lessons[0]

    with pytest.raises(services.CourseLocked) as raised:
        finish_lesson(user, lesson)

    assert [c.code for c in raised.value.prerequisites] == ["r"]
    progress = sa.select(LessonProgress).filter_by(user_id=user.id)
    assert db.session.scalar(progress) is None
    _finish(user, electives["r"])
    finish_lesson(user, lesson)
    assert services.find_completion(user, lesson.course) is not None


@pytest.mark.usefixtures("english")
def test_locked_course_page_shows_locked_not_progress(world, electives, login):
    _enrol(world, electives)
    counselor = login("counselor1")

    locked = counselor.get(f"/courses/{electives['e2']}").get_data(as_text=True)
    open_page = counselor.get(f"/courses/{electives['r']}").get_data(as_text=True)

    assert "Locked until the prerequisite courses are completed" in locked
    assert "0 of 1 finished" not in locked
    assert "Finish 1 lesson" not in locked
    assert "0 of 1 finished" in open_page
    assert "Finish 1 lesson" in open_page
    assert "Locked until" not in open_page


def test_other_programme_without_prerequisite_opens(world, electives):
    from courses.models import Course

    user, _enrolment = _enrol(world, electives)
    e2 = db.session.get(Course, electives["e2"])
    open_programme = make_programme(
        db.session.get(Institution, world.uni_a), "open", [e2]
    )
    services.enrol(user, open_programme)

    assert services.missing_prerequisites(user, e2) == []


def test_staff_are_never_locked(world, electives, trainer):
    from courses.models import Course

    assert services.missing_prerequisites(
        trainer, db.session.get(Course, electives["e2"])
    ) == []


def test_locked_lesson_page_redirects(world, electives, login):
    learner = login("counselor1")
    learner.post("/language/en")
    learner.post(f"/programmes/{electives['programme']}/enrol")
    from courses.models import Course

    lesson_id = db.session.get(Course, electives["e2"]).lessons[0].id

    page = learner.get(f"/courses/{electives['e2']}/lessons/{lesson_id}")
    complete = learner.post(
        f"/courses/{electives['e2']}/lessons/{lesson_id}/complete",
        follow_redirects=True,
    )
    outline = learner.get(f"/courses/{electives['e2']}").get_data(as_text=True)
    programme_page = learner.get(f"/programmes/{electives['programme']}").get_data(
        as_text=True
    )

    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/courses/{electives['e2']}")
    assert "Complete 必修课 before starting this course." in complete.get_data(
        as_text=True
    )
    assert "This course opens once you have completed: 必修课." in outline
    assert f'href="/courses/{electives["e2"]}/lessons/{lesson_id}"' not in outline
    assert "Locked" in programme_page
    assert "Elective hours: 0 done, 3 still to complete." in programme_page
    assert db.session.scalar(sa.select(LessonProgress.id)) is None


# Authoring prerequisites and rules ------------------------------------------------


def test_prerequisite_cycle_is_rejected(world, electives, trainer):
    programme = db.session.get(Programme, electives["programme"])
    link_r = db.session.get(ProgrammeCourse, electives["link_r"])

    with pytest.raises(AuthoringError) as raised:
        authoring.set_prerequisites(
            programme, link_r, [str(electives["link_e2"])], trainer
        )

    assert "r → e2 → r" in raised.value.errors["prerequisite_ids"]
    assert link_r.prerequisites == []


@pytest.mark.parametrize("choice", ["self", "foreign", "junk"])
def test_prerequisite_must_be_other_link(world, electives, trainer, choice):
    programme = db.session.get(Programme, electives["programme"])
    link_e1 = db.session.get(ProgrammeCourse, electives["link_e1"])
    foreign = db.session.get(Programme, world.programme).courses[0].id
    raw = {"self": electives["link_e1"], "foreign": foreign, "junk": "abc"}[choice]

    with pytest.raises(AuthoringError) as raised:
        authoring.set_prerequisites(programme, link_e1, [str(raw)], trainer)

    message = raised.value.errors["prerequisite_ids"]
    assert "other courses of this programme" in message


def test_removing_course_drops_it_as_prerequisite(world, electives, trainer):
    programme = db.session.get(Programme, electives["programme"])
    link_r = db.session.get(ProgrammeCourse, electives["link_r"])

    authoring.remove_course(programme, link_r, trainer)

    link_e2 = db.session.get(ProgrammeCourse, electives["link_e2"])
    assert link_e2.prerequisites == []


def test_publish_rejects_unreachable_elective_minimum(world, trainer):
    uni = db.session.get(Institution, world.uni_a)
    programme = make_programme(
        uni, "pm", [make_course(uni, "m1"), make_course(uni, "m2", hours="1")]
    )
    programme.status = programme.status.DRAFT
    programme.courses[1].required = False
    programme.min_elective_hours = Decimal(4)
    db.session.flush()

    with pytest.raises(AuthoringError) as raised:
        authoring.publish_programme(programme, trainer)

    assert "asks for 4 elective hours" in raised.value.errors["form"]
    assert "offer 1." in raised.value.errors["form"]


def _programme_data(**overrides) -> dict:
    data = {
        "code": "rules",
        "title": "规则",
        "tier": "provincial",
        "kind": "backbone_camp",
        "level": "intermediate",
    }
    data.update(overrides)
    return data


def test_save_programme_stores_audience_in_order(world, trainer):
    programme = authoring.save_programme(
        world.uni_a,
        _programme_data(
            audience_posts=["party_organiser", "full_time_counselor"],
            min_elective_hours="2.5",
        ),
        trainer,
    )

    assert programme.audience_posts == ["full_time_counselor", "party_organiser"]
    assert programme.min_elective_hours == Decimal("2.5")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_elective_hours", "-1", "Hours cannot be negative."),
        ("min_elective_hours", "abc", "Enter the hours as a number, e.g. 4 or 1.5."),
        ("min_elective_hours", "NaN", "Enter the hours as a number, e.g. 4 or 1.5."),
        ("min_elective_hours", "-Infinity", "Enter the hours as a number, e.g. 4 or 1.5."),
        ("min_elective_hours", "1.25", "one decimal place"),
        ("audience_posts", ["dean"], "Choose the audience from the listed posts."),
    ],
)
def test_save_programme_rejects_bad_rules(world, trainer, field, value, message):
    with pytest.raises(AuthoringError) as raised:
        authoring.save_programme(
            world.uni_a, _programme_data(**{field: value}), trainer
        )

    assert message in raised.value.errors[field]


@pytest.mark.parametrize("value", ["1", ""])
def test_elective_minimum_frozen_once_enrolled(world, electives, trainer, value):
    _enrol(world, electives)
    programme = db.session.get(Programme, electives["programme"])

    with pytest.raises(AuthoringError) as raised:
        authoring.save_programme(
            world.uni_a,
            _programme_data(code="pe", min_elective_hours=value),
            trainer,
            programme,
        )

    assert "cannot change" in raised.value.errors["min_elective_hours"]
    assert programme.min_elective_hours == 3


def test_prerequisites_route_saves(world, electives, login):
    trainer = login("trainer")

    response = trainer.post(
        f"/manage/programmes/{electives['programme']}/courses/"
        f"{electives['link_e1']}/prerequisites",
        data={"prerequisite_ids": [str(electives["link_r"])]},
    )

    db.session.expire_all()
    link = db.session.get(ProgrammeCourse, electives["link_e1"])
    assert response.status_code == 302
    assert [each.id for each in link.prerequisites] == [electives["link_r"]]


@pytest.mark.usefixtures("english")
def test_prerequisites_saved_flash_names_title(world, electives, login):
    trainer = login("trainer")

    response = trainer.post(
        f"/manage/programmes/{electives['programme']}/courses/"
        f"{electives['link_e1']}/prerequisites",
        data={"prerequisite_ids": [str(electives["link_r"])]},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "Prerequisites of “选修一” saved." in page


@pytest.mark.parametrize("username", ["counselor1", "hr"])
def test_prerequisites_route_refused(world, electives, login, username):
    response = login(username).post(
        f"/manage/programmes/{electives['programme']}/courses/"
        f"{electives['link_e1']}/prerequisites",
        data={"prerequisite_ids": [str(electives["link_r"])]},
    )

    db.session.expire_all()
    assert response.status_code == 403
    assert db.session.get(ProgrammeCourse, electives["link_e1"]).prerequisites == []


def test_programme_form_saves_audience(world, login):
    trainer = login("trainer")

    response = trainer.post(
        "/manage/programmes/new",
        data={
            **_programme_data(code="form-rules"),
            "audience_posts": ["part_time_counselor", "teacher_branch_secretary"],
            "min_elective_hours": "4",
        },
    )

    programme = db.session.scalar(sa.select(Programme).filter_by(code="form-rules"))
    assert response.status_code == 302
    assert programme.audience_posts == [
        "part_time_counselor",
        "teacher_branch_secretary",
    ]
    page = trainer.get(f"/manage/programmes/{programme.id}").get_data(as_text=True)
    assert 'value="part_time_counselor" checked' in page
    assert 'value="full_time_counselor" checked' not in page


def test_programme_page_continue_link(world, electives, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{electives['programme']}/enrol")
    user = db.session.get(User, world.counselor)
    _finish(user, electives["e1"])
    db.session.commit()

    page = learner.get(f"/programmes/{electives['programme']}").get_data(as_text=True)

    continue_link = page.split('class="button primary"', 1)[1].split("</a>")[0]
    assert f'href="/courses/{electives["r"]}/lessons/' in continue_link
    assert "必修课" in continue_link


def test_resume_point_skips_locked_course(world, electives, trainer):
    programme = db.session.get(Programme, electives["programme"])
    link_e1 = db.session.get(ProgrammeCourse, electives["link_e1"])
    authoring.set_prerequisites(
        programme, link_e1, [str(electives["link_e2"])], trainer
    )
    user, _enrolment = _enrol(world, electives)
    _finish(user, electives["r"])

    course, lesson = services.resume_point(user, programme)

    assert course.code == "e2"
    assert lesson.id == course.lessons[0].id


def test_enrolled_programme_takes_only_electives(world, electives, trainer):
    _enrol(world, electives)
    programme = db.session.get(Programme, electives["programme"])
    extra = make_course(db.session.get(Institution, world.uni_a), "x1", lessons=1)

    with pytest.raises(AuthoringError) as raised:
        authoring.add_course(programme, extra, True, trainer)
    link = authoring.add_course(programme, extra, False, trainer)

    assert "cannot add a required course" in raised.value.errors["form"]
    assert link.required is False


def test_started_course_stays_open(world, electives, trainer):
    from courses.models import Course

    user, _enrolment = _enrol(world, electives)
    programme = db.session.get(Programme, electives["programme"])
    elective = db.session.get(Course, electives["e1"])
    finish_lesson(user, elective.lessons[0])
    link_e1 = db.session.get(ProgrammeCourse, electives["link_e1"])

    authoring.set_prerequisites(
        programme, link_e1, [str(electives["link_r"])], trainer
    )

    assert services.missing_prerequisites(user, elective) == []


# Credited hours ---------------------------------------------------------------------


def _programme_ledger(user: User, programme_id: int) -> list:
    from lms.records.models import HoursEntry

    db.session.expire_all()
    return db.session.scalars(
        sa.select(HoursEntry)
        .where(
            HoursEntry.user_id == user.id,
            HoursEntry.training_type == "programme",
            HoursEntry.training_id == programme_id,
        )
        .order_by(HoursEntry.id)
    ).all()


def test_electives_credit_only_programme_minimum(world, electives):
    user, _enrolment = _enrol(world, electives)

    _finish(user, electives["r"])
    _finish(user, electives["e1"])
    _finish(user, electives["e2"])

    rows = _programme_ledger(user, electives["programme"])
    credited = {row.title: row.hours for row in rows}
    assert credited == {"必修课": 2, "选修一": 2, "选修二": 1}
    assert sum(row.hours for row in rows) == Decimal(5)


def test_elective_after_completion_credits_nothing(world, electives):
    user, enrolment = _enrol(world, electives)
    _finish(user, electives["r"])
    _finish(user, electives["e2"])
    db.session.refresh(enrolment)
    assert enrolment.completed_at is not None

    _finish(user, electives["e1"])

    rows = _programme_ledger(user, electives["programme"])
    assert [row.hours for row in rows] == [2, 3, 0]
    completion = services.find_completion(user, db.session.get(Course, electives["e1"]))
    assert completion.hours == 0


def test_certificate_hours_match_ledger(world, electives, login):
    from certificates import hours as certificate_hours
    from certificates import services as certificate_services
    from certificates.models import Certificate

    user, _enrolment = _enrol(world, electives)
    for key in ("r", "e1", "e2"):
        _finish(user, electives[key])
    db.session.commit()
    cert = db.session.scalar(sa.select(Certificate).filter_by(holder_id=user.id))

    assert cert.hours == Decimal(5)
    assert certificate_hours.withdrawable_hours(cert) == cert.hours
    page = login("counselor1").get(f"/verify/{cert.verification_code}")
    assert "<dd>5</dd>" in page.get_data(as_text=True)

    hr = db.session.get(User, world.hr)
    certificate_services.revoke(cert, "代考", hr)
    withdrawn = certificate_hours.withdraw_hours(cert, hr, "代考")
    assert -sum(row.hours for row in withdrawn) == cert.hours


def test_programme_progress_counts_credited_hours(world, electives):
    user, _enrolment = _enrol(world, electives)
    for key in ("r", "e1", "e2"):
        _finish(user, electives[key])
    programme = db.session.get(Programme, electives["programme"])

    progress = services.programme_progress(user, programme)

    assert progress["hours_done"] == programme.total_hours
    assert progress["elective_hours_done"] == Decimal(5)


def test_capped_upgrade_rows_withdraw_net_hours(world, electives):
    """An elective lowered on upgrade is neither withdrawn nor taken back twice."""
    from certificates import hours as certificate_hours
    from certificates import services as certificate_services
    from certificates.models import Certificate
    from courses.models import CourseCompletion
    from lms.records.models import HoursEntry, TrainingTier
    from lms.records.services import ELECTIVE_CAP_SOURCE_TYPE, correction_of

    user, enrolment = _enrol(world, electives)
    _finish(user, electives["r"])
    _finish(user, electives["e1"])
    # What the upgrade leaves of e2 (3 hours) completed after e1 before
    # electives were capped: a full row and a correction down to 1 hour.
    completion = CourseCompletion(
        user_id=user.id, course_id=electives["e2"], enrolment_id=enrolment.id, hours=1
    )
    db.session.add(completion)
    db.session.flush()
    row = HoursEntry(
        user_id=user.id, source_type="course_completion", source_id=completion.id,
        training_type="programme", training_id=electives["programme"], title="选修二",
        occurred_on=enrolment.enrolled_at.date(), year=enrolment.enrolled_at.year,
        tier=TrainingTier.SCHOOL, hours=Decimal(3),
    )
    db.session.add(row)
    db.session.flush()
    cap = correction_of(row, source_type=ELECTIVE_CAP_SOURCE_TYPE, source_id=row.id)
    cap.hours = Decimal(-2)
    db.session.add(cap)
    services.evaluate_programme(enrolment)
    db.session.commit()
    programme = db.session.get(Programme, electives["programme"])
    cert = db.session.scalar(sa.select(Certificate).filter_by(holder_id=user.id))

    progress = services.programme_progress(user, programme)
    assert progress["hours_done"] == Decimal(5)
    assert progress["hours_withdrawn"] == 0
    assert certificate_hours.withdrawable_hours(cert) == Decimal(5)

    hr = db.session.get(User, world.hr)
    certificate_services.revoke(cert, "代考", hr)
    withdrawn = certificate_hours.withdraw_hours(cert, hr, "代考")
    assert -sum(entry.hours for entry in withdrawn) == Decimal(5)
    db.session.expire_all()
    net = db.session.scalar(
        sa.select(sa.func.sum(HoursEntry.hours)).where(HoursEntry.user_id == user.id)
    )
    assert net == 0


def test_record_shows_course_hours_of_capped_elective(world, electives, login):
    user, _enrolment = _enrol(world, electives)
    for key in ("r", "e1", "e2"):
        _finish(user, electives[key])
    db.session.commit()
    hr = login("hr")
    hr.post("/language/en")

    page = hr.get(f"/people/{user.id}/record").get_data(as_text=True)

    assert "(the course has 3 hours;" in page


# Pre-job programmes -----------------------------------------------------------------


def test_short_pre_job_programme_warns(world, login):
    from lms.compliance.seed import seed_rules

    seed_rules()
    db.session.commit()
    trainer = login("trainer")
    trainer.post("/language/en")

    # The world's pre-job programme has 3.5 hours.
    page = trainer.get(f"/manage/programmes/{world.programme}").get_data(as_text=True)

    assert "credits 3.5 hours" in page
    assert "asks for 40 hours" in page


def test_long_pre_job_programme_no_warning(world, login):
    from lms.compliance.seed import seed_rules

    seed_rules()
    uni = db.session.get(Institution, world.uni_a)
    long_course = make_course(uni, "long", hours="40", lessons=1)
    programme = make_programme(
        uni, "long-prejob", [long_course], author=db.session.get(User, world.trainer)
    )
    db.session.commit()
    trainer = login("trainer")
    trainer.post("/language/en")

    page = trainer.get(f"/manage/programmes/{programme.id}").get_data(as_text=True)

    assert "asks for 40 hours" not in page
