"""The review queue in SQL: the same applications as ``can_review``, searched,
filtered and paged."""

import itertools
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution
from lms.promotion import review
from lms.promotion.models import (
    ApplicationStatus,
    PromotionApplication,
    PromotionDecision,
    PromotionTrack,
    ReviewOutcome,
    ReviewStep,
)
from tests.factories import make_department, make_institution, make_user
from tests.promotion.conftest import make_rule

START = datetime(2027, 3, 1, 2, 0, tzinfo=timezone.utc)
_serial = itertools.count()


def _apply(rule, person, status, *, department=..., revision=1, submitted=None):
    closed = status in (
        ApplicationStatus.APPROVED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
    )
    application = PromotionApplication(
        rule_id=rule.id,
        applicant_id=person.id,
        institution_id=person.institution_id,
        department_id=person.department_id if department is ... else department,
        track=PromotionTrack.PROFESSIONAL_TITLE,
        from_value="lecturer",
        to_value="associate_professor",
        status=status,
        revision=revision,
        submitted_at=submitted or START + timedelta(hours=next(_serial)),
        closed_at=START if closed else None,
    )
    db.session.add(application)
    db.session.flush()
    return application


def _decide(application, reviewer, revision=None):
    db.session.add(
        PromotionDecision(
            application_id=application.id,
            revision=revision or application.revision,
            step=ReviewStep.DEPARTMENT,
            outcome=ReviewOutcome.APPROVE,
            reviewer_id=reviewer.id,
        )
    )
    db.session.flush()


@pytest.fixture
def mixed(app_ctx):
    """Applications at every step, in staffed, unstaffed and no departments.

    马克思主义学院 and 物理学院 have HR officers, 化学学院 has none (its only
    officer is inactive), and some applicants belong to no department.
    """
    uni = make_institution("uni-a", "甲大学")
    rival = make_institution("uni-b", "乙大学")
    marxism = make_department(uni, "marxism", "马克思主义学院")
    physics = make_department(uni, "phy", "物理学院")
    chemistry = make_department(uni, "chem", "化学学院")
    hr = make_user(uni, "hr", Role.HR, full_name="钱人事")
    hr_other = make_user(uni, "hr2", Role.HR, full_name="赵人事")
    admin = make_user(uni, "admin", Role.ADMIN, full_name="李管理")
    hr_marxism = make_user(uni, "hr-marx", Role.HR, full_name="马人事")
    hr_marxism.hr_department_id = marxism.id
    hr_physics = make_user(uni, "hr-phy", Role.HR, full_name="孙人事")
    hr_physics.hr_department_id = physics.id
    retired = make_user(uni, "hr-chem", Role.HR, full_name="陈人事")
    retired.hr_department_id = chemistry.id
    retired.active = False
    counselor = make_user(uni, "counselor", full_name="周辅导员", department=marxism)
    rival_hr = make_user(rival, "rival-hr", Role.HR, full_name="吴人事")
    rule = make_rule(uni.id)
    rival_rule = make_rule(rival.id)

    statuses = list(ApplicationStatus)
    departments = [marxism, physics, chemistry, None]
    for number, (status, department) in enumerate(
        itertools.product(statuses, departments)
    ):
        person = make_user(
            uni, f"a{number:02d}", full_name=f"申请人{number:02d}", department=department
        )
        application = _apply(rule, person, status, revision=1 + number % 2)
        if status is ApplicationStatus.INSTITUTION_REVIEW:
            # The department step of this submission, of an earlier one, or none.
            if number % 3 == 0:
                _decide(application, hr)
            elif number % 3 == 1 and application.revision > 1:
                _decide(application, hr, revision=1)
            elif department is not None:
                _decide(application, admin)
    # Reviewers' own applications, and one filed from a department the
    # applicant has since left.
    for reviewer in (hr, hr_marxism, admin):
        _apply(rule, reviewer, ApplicationStatus.DEPARTMENT_REVIEW, department=marxism.id)
        _apply(make_rule(uni.id, code=f"own-{reviewer.id}"), reviewer,
               ApplicationStatus.INSTITUTION_REVIEW, department=None)
    moved = make_user(uni, "moved", full_name="调动人", department=physics)
    _apply(rule, moved, ApplicationStatus.DEPARTMENT_REVIEW, department=marxism.id)
    _apply(rival_rule, make_user(rival, "rival-c", full_name="外校人"),
           ApplicationStatus.DEPARTMENT_REVIEW)
    db.session.commit()
    return [hr, hr_other, admin, hr_marxism, hr_physics, retired, counselor, rival_hr]


def _python_queue(viewer):
    applications = db.session.scalars(db.select(PromotionApplication)).all()
    decidable = [
        application
        for application in applications
        if review.can_review(viewer, application, review.current_step(application))
    ]
    return [a.id for a in sorted(decidable, key=lambda a: (a.submitted_at, a.id))]


def test_sql_queue_equals_can_review_for_each_reviewer(mixed):
    seen = {}
    for viewer in mixed:
        sql = [application.id for application in review.review_queue(viewer)]
        assert sql == _python_queue(viewer), viewer.username
        seen[viewer.username] = len(sql)
    # The world gives each kind of reviewer something to decide, and a
    # counselor nothing; the other institution's HR decides only its own.
    for username in ("hr", "admin", "hr-marx", "hr-phy"):
        assert seen[username] > 0, username
    assert seen["hr"] != seen["hr2"]
    assert seen["counselor"] == 0
    assert seen["rival-hr"] == 1
    assert seen["hr-chem"] > 0  # an inactive officer still passes can_review


def test_sql_queue_equals_can_review_by_step(mixed):
    for viewer, step in itertools.product(mixed, ReviewStep):
        sql = [a.id for a in review.review_queue(viewer, step=step)]
        expected = [
            application_id
            for application_id in _python_queue(viewer)
            if review.current_step(db.session.get(PromotionApplication, application_id))
            is step
        ]
        assert sql == expected, (viewer.username, step)


def test_sql_queue_follows_staffing(mixed):
    hr = mixed[0]
    chemistry_officer = mixed[5]
    before = _python_queue(hr)
    chemistry_officer.active = True
    db.session.commit()

    assert [a.id for a in review.review_queue(hr)] == _python_queue(hr) != before


def test_sql_queue_for_a_role_change(mixed):
    admin = mixed[2]
    admin.role = Role.COUNSELOR
    db.session.commit()

    assert review.review_queue(admin) == []
    assert _python_queue(admin) == []


# The review page


def _english(session):
    session.post("/language/en")
    return session


def _queue_section(page: str) -> str:
    return page[page.index('id="queue-heading"') : page.index('id="all-heading"')]


def _queued(page: str) -> list[str]:
    return re.findall(r'/promotions/applications/\d+">([^<]+)</a>', _queue_section(page))


@pytest.fixture
def waiting(app_ctx):
    """59 waiting applications in two departments and one approved."""
    uni = make_institution()
    education = make_department(uni, "edu", "教育学院")
    physics = make_department(uni, "phy", "物理学院")
    make_user(uni, "hr", Role.HR, full_name="钱人事")
    rule = make_rule(uni.id)
    for number in range(60):
        person = make_user(
            uni,
            f"c{number:03d}",
            full_name=f"辅导员{number:03d}",
            department=education if number % 2 == 0 else physics,
        )
        person.employee_no = f"E{number:05d}"
        if number == 59:
            status = ApplicationStatus.APPROVED
        elif number % 3 == 0:
            status = ApplicationStatus.INSTITUTION_REVIEW
        else:
            status = ApplicationStatus.DEPARTMENT_REVIEW
        _apply(rule, person, status, submitted=START + timedelta(days=60 - number))
    db.session.commit()
    return {"institution": uni.id, "education": education.id, "physics": physics.id}


def test_queue_first_page_has_fifty_oldest_first(waiting, login):
    page = _english(login("hr")).get("/promotions/review").get_data(as_text=True)

    names = _queued(page)
    assert len(names) == 50
    assert names[0] == "辅导员058"
    assert names[1] == "辅导员057"
    assert "59 applications" in _queue_section(page)
    assert 'href="/promotions/review?queue_page=2#queue-heading"' in page


def test_queue_second_page_keeps_the_other_list(waiting, login):
    hr = _english(login("hr"))

    page = hr.get("/promotions/review?queue_page=2&page=1&status=approved")
    html = page.get_data(as_text=True)

    assert _queued(html) == [f"辅导员{number:03d}" for number in range(8, -1, -1)]
    previous = re.search(r'href="(/promotions/review\?[^"]*)" rel="prev"', html)
    assert "status=approved" in previous.group(1)
    assert "queue_page=1" in previous.group(1)


def test_queue_search_and_filters(waiting, login):
    hr = _english(login("hr"))

    by_number = hr.get("/promotions/review", query_string={"queue_q": "e00012"})
    by_step = hr.get("/promotions/review?queue_status=institution_review")
    by_department = hr.get(f"/promotions/review?queue_department={waiting['physics']}")

    assert _queued(by_number.get_data(as_text=True)) == ["辅导员012"]
    step_html = by_step.get_data(as_text=True)
    assert "20 applications" in _queue_section(step_html)
    # The list of all applications is not filtered by the queue's filters.
    assert "60 applications" in step_html
    assert "29 applications" in _queue_section(by_department.get_data(as_text=True))


def test_queue_paging_keeps_filters(waiting, login):
    hr = _english(login("hr"))

    html = hr.get(
        "/promotions/review?queue_q=%E8%BE%85&queue_status=department_review&q=x"
    ).get_data(as_text=True)

    assert "39 applications" in _queue_section(html)
    assert len(_queued(html)) == 39
    all_search = re.search(r'<input type="hidden" name="queue_q" value="([^"]*)"', html)
    assert all_search.group(1) == "辅"


def test_queue_rejects_bad_filters_and_pages(waiting, login):
    hr = _english(login("hr"))

    closed = hr.get("/promotions/review?queue_status=approved").get_data(as_text=True)
    unknown = hr.get("/promotions/review?queue_status=lost").get_data(as_text=True)
    past_end = hr.get("/promotions/review?queue_page=9&queue_q=%E8%BE%85&page=1")

    # The messages name the queue's field, 审核环节, not the status of the
    # list of all applications.
    assert "Review step filter: applications with the status approved" in closed
    assert "wait for nobody&#39;s decision" in closed
    assert "59 applications" in _queue_section(closed)
    assert "Review step filter: lost is not a review step" in unknown
    assert "Showing both review steps." in unknown
    assert past_end.status_code == 302
    location = past_end.headers["Location"]
    assert "queue_page=2" in location
    assert "queue_q=" in location
    assert location.endswith("#queue-heading")


def test_queue_empty_search_says_so(waiting, login):
    html = _english(login("hr")).get(
        "/promotions/review", query_string={"queue_q": "nobody"}
    ).get_data(as_text=True)

    assert "No waiting application matches this search." in html


def test_queue_page_loads_one_page(waiting, login):
    """The review page loads the shown page of the queue, not all of it."""
    uni = db.session.get(Institution, waiting["institution"])
    for number in range(60, 130):
        person = make_user(uni, f"x{number:03d}", full_name="加人")
        _apply(make_rule(person.institution_id, code=f"r{number}"), person,
               ApplicationStatus.DEPARTMENT_REVIEW)
    db.session.commit()
    hr = login("hr")
    loaded = []

    def remember(application, context):
        loaded.append(application.id)

    event.listen(PromotionApplication, "load", remember)
    try:
        response = hr.get("/promotions/review?queue_page=2&status=approved")
    finally:
        event.remove(PromotionApplication, "load", remember)
    assert response.status_code == 200
    # One page of the queue and the one approved application.
    assert len(set(loaded)) <= 51


def test_empty_queue_explains_rejected_filters(app_ctx, login):
    """A bad link into an empty queue still says which filter was dropped."""
    uni = make_institution()
    make_department(uni, "edu", "教育学院")
    make_user(uni, "hr", Role.HR, full_name="钱人事")
    db.session.commit()

    html = _english(login("hr")).get(
        "/promotions/review?queue_department=abc&queue_status=lost"
    ).get_data(as_text=True)

    queue = _queue_section(html)
    assert "Department filter: abc is not a department" in queue
    assert "Review step filter: lost is not a review step" in queue
    assert "Nothing waits for you." in queue


def test_bad_department_names_departments(waiting, login):
    """The lists hold applications, so the message speaks of departments, not people."""
    html = _english(login("hr")).get("/promotions/review?department=abc").get_data(as_text=True)

    assert "Department filter: abc is not a department of your institution." in html
    assert "Showing every department." in html
    assert "Showing everyone." not in html
