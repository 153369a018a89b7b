"""Every route and method, requested as every kind of user, returns the expected status.

A route added without an entry in ``EXPECTED`` fails ``test_matrix_covers_every_route``,
so access rules are decided when a route is written, not discovered later.
"""

import sqlalchemy as sa

from assessments import services as quiz_services
from assessments.models import Attempt, Quiz
from certificates.models import Certificate
from courses import services as course_services
from courses.models import Programme
from lms.accounts.models import Role, User
from lms.extensions import db
from tests.conftest import LoggedIn, csrf_from
from tests.factories import make_institution, make_user

ROLES = ("guest", "owner", "other", "trainer", "hr", "hr_other", "dept_hr", "admin")

# Expected status per role, in the order of ROLES. The owner is counselor1, who
# completed the demo programme; "other" is counselor2 of the same institution;
# "hr_other" is HR of a second institution; "dept_hr" is HR limited to the
# department of counselor2, so the owner is out of their reach.
EXPECTED = {
    ("main.health", "GET"): (200, 200, 200, 200, 200, 200, 200, 200),
    ("static", "GET"): (200, 200, 200, 200, 200, 200, 200, 200),
    ("main.dashboard", "GET"): (302, 302, 302, 302, 302, 302, 302, 302),
    ("accounts.login", "GET"): (200, 302, 302, 302, 302, 302, 302, 302),
    ("accounts.login", "POST"): (200, 302, 302, 302, 302, 302, 302, 302),
    ("courses.my_learning", "GET"): (302, 200, 200, 403, 403, 403, 403, 403),
    ("courses.catalogue", "GET"): (302, 200, 200, 200, 200, 200, 200, 200),
    ("courses.programme", "GET"): (302, 200, 200, 200, 200, 404, 200, 200),
    ("courses.course", "GET"): (302, 200, 404, 200, 200, 404, 200, 200),
    ("courses.lesson", "GET"): (302, 200, 404, 200, 200, 404, 200, 200),
    ("assessments.quiz", "GET"): (302, 200, 404, 200, 200, 404, 200, 200),
    ("assessments.attempt", "GET"): (302, 302, 404, 404, 404, 404, 404, 404),
    ("assessments.result", "GET"): (302, 200, 404, 404, 404, 404, 404, 404),
    ("certificates.mine", "GET"): (302, 200, 200, 200, 200, 200, 200, 200),
    ("certificates.issued", "GET"): (302, 403, 403, 403, 200, 200, 200, 200),
    ("certificates.detail", "GET"): (302, 200, 404, 404, 200, 404, 404, 200),
    ("certificates.download", "GET"): (302, 200, 404, 404, 200, 404, 404, 200),
    ("certificates.verify_lookup", "GET"): (200, 200, 200, 200, 200, 200, 200, 200),
    ("certificates.verify", "GET"): (200, 200, 200, 200, 200, 200, 200, 200),
    ("certificates.credential", "GET"): (200, 200, 200, 200, 200, 200, 200, 200),
    ("certificates.credential_download", "GET"): (302, 200, 404, 404, 200, 404, 404, 200),
    ("certificates.issuer", "GET"): (200, 200, 200, 200, 200, 200, 200, 200),
    ("certificates.verify_credential", "GET"): (200, 200, 200, 200, 200, 200, 200, 200),
    ("records.people", "GET"): (302, 403, 403, 403, 200, 200, 200, 200),
    ("records.person_record", "GET"): (302, 200, 404, 404, 200, 404, 404, 200),
    ("records.edit_profile", "GET"): (302, 403, 404, 404, 200, 404, 404, 200),
    ("records.external_trainings", "GET"): (302, 200, 200, 403, 403, 403, 403, 403),
    ("records.external_queue", "GET"): (302, 403, 403, 403, 200, 200, 200, 200),
    ("records.review_external", "GET"): (302, 403, 404, 404, 200, 404, 404, 200),
    ("records.external_evidence", "GET"): (302, 200, 404, 404, 200, 404, 404, 200),
    ("compliance.overview", "GET"): (302, 403, 403, 403, 200, 200, 200, 200),
    ("compliance.rule_people", "GET"): (302, 403, 403, 403, 200, 404, 200, 200),
    ("compliance.export_rule_people", "GET"): (302, 403, 403, 403, 200, 404, 200, 200),
    ("accounts.change_password", "GET"): (302, 200, 200, 200, 200, 200, 200, 200),
    ("promotion.mine", "GET"): (302, 200, 200, 403, 403, 403, 403, 403),
    ("promotion.apply", "GET"): (302, 200, 200, 403, 403, 403, 403, 403),
    ("promotion.application", "GET"): (302, 200, 404, 404, 200, 404, 404, 200),
    ("promotion.review", "GET"): (302, 403, 403, 403, 200, 200, 200, 200),
    ("promotion.rules", "GET"): (302, 403, 403, 403, 200, 200, 200, 200),
    ("promotion.new_rule", "GET"): (302, 403, 403, 403, 200, 200, 403, 200),
    ("promotion.edit_rule", "GET"): (302, 403, 403, 403, 200, 404, 403, 200),
    ("promotion.dossier_pdf", "GET"): (302, 403, 403, 403, 200, 404, 404, 200),
    ("promotion.person_promotions", "GET"): (302, 403, 403, 403, 200, 404, 404, 200),
    ("promotion.export_people", "GET"): (302, 403, 403, 403, 200, 200, 200, 200),
    ("promotion.export_applications", "GET"): (302, 403, 403, 403, 200, 200, 200, 200),
    ("accounts.manage_account", "GET"): (302, 403, 403, 403, 403, 403, 403, 200),
    ("manage.index", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.new_programme", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.edit_programme", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.new_course", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.edit_course", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.new_lesson", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.edit_lesson", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.new_quiz", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.edit_quiz", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.new_question", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    ("manage.edit_question", "GET"): (302, 403, 403, 200, 403, 403, 403, 200),
    # Writes come last, and the ones that would change the world for the
    # following roles are sent with data that fails validation.
    ("courses.complete_lesson", "POST"): (302, 302, 404, 403, 403, 403, 403, 403),
    ("assessments.start", "POST"): (302, 302, 404, 403, 403, 403, 403, 403),
    ("assessments.submit", "POST"): (302, 302, 404, 404, 404, 404, 404, 404),
    ("certificates.revoke", "POST"): (302, 403, 404, 404, 400, 404, 404, 400),
    # HR writes on records are sent empty, so the forms reject them with 400.
    ("records.add_entry", "POST"): (302, 403, 404, 404, 400, 404, 404, 400),
    ("records.edit_profile", "POST"): (302, 403, 404, 404, 400, 404, 404, 400),
    ("records.external_trainings", "POST"): (302, 400, 400, 403, 403, 403, 403, 403),
    ("records.review_external", "POST"): (302, 403, 404, 404, 400, 404, 404, 400),
    # The owner's application is open, so applying again answers 409 and
    # resubmitting 400; counselor2 does not hold the rule's starting step.
    # Decisions, withdrawal and rule forms are sent empty and answer 400.
    ("promotion.apply", "POST"): (302, 409, 400, 403, 403, 403, 403, 403),
    ("promotion.decide", "POST"): (302, 403, 403, 403, 400, 404, 404, 400),
    ("promotion.resubmit", "POST"): (302, 400, 404, 403, 403, 403, 403, 403),
    ("promotion.withdraw", "POST"): (302, 400, 404, 403, 403, 403, 403, 403),
    ("promotion.new_rule", "POST"): (302, 403, 403, 403, 400, 400, 403, 400),
    ("promotion.edit_rule", "POST"): (302, 403, 403, 403, 400, 404, 403, 400),
    ("promotion.set_hr_scope", "POST"): (302, 403, 403, 403, 403, 403, 403, 400),
    # Sent without a file, so the upload form rejects it for everyone.
    ("certificates.verify_credential", "POST"): (400, 400, 400, 400, 400, 400, 400, 400),
    # Authoring writes with empty forms: form pages answer 400 with field
    # errors, and buttons redirect with a message. Publish, archive, remove
    # and delete target objects whose rules reject the change.
    ("manage.new_programme", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.edit_programme", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.add_programme_course", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.move_programme_course", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.set_programme_course_required", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.remove_programme_course", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.publish_programme", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.archive_programme", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.copy_programme", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.new_course", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.edit_course", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.publish_course", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.archive_course", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.copy_course", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.new_lesson", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.edit_lesson", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.move_lesson", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.delete_lesson", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.new_quiz", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.edit_quiz", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.new_question", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.edit_question", "POST"): (302, 403, 403, 400, 403, 403, 403, 400),
    ("manage.move_question", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    ("manage.delete_question", "POST"): (302, 403, 403, 302, 403, 403, 403, 302),
    # An empty change-password form re-renders with field errors. The admin
    # comes last, so ending, disabling and enabling the owner's account
    # changes nothing the other roles see.
    ("accounts.change_password", "POST"): (302, 200, 200, 200, 200, 200, 200, 200),
    ("accounts.end_sessions", "POST"): (302, 403, 403, 403, 403, 403, 403, 302),
    ("accounts.disable_account", "POST"): (302, 403, 403, 403, 403, 403, 403, 302),
    ("accounts.enable_account", "POST"): (302, 403, 403, 403, 403, 403, 403, 302),
    ("courses.enrol", "POST"): (302, 302, 302, 403, 403, 403, 403, 403),
    ("main.set_language", "POST"): (302, 302, 302, 302, 302, 302, 302, 302),
    ("accounts.logout", "POST"): (302, 302, 302, 302, 302, 302, 302, 302),
}

USERNAMES = {
    "owner": "counselor1",
    "other": "counselor2",
    "trainer": "trainer",
    "hr": "hr",
    "hr_other": "hr-b",
    "dept_hr": "hr-cs",
    "admin": "admin",
}


def _build_world() -> dict:
    """Seed the demo, add a second institution, and let counselor1 finish the programme."""
    from lms.seed import seed_demo
    from tests.conftest import TEST_PASSWORD

    seed_demo(password=TEST_PASSWORD)
    other = make_institution("uni-b", "另一所大学")
    make_user(other, "hr-b", Role.HR)
    counselor2 = db.session.scalar(sa.select(User).filter_by(username="counselor2"))
    dept_hr = make_user(counselor2.institution, "hr-cs", Role.HR)
    dept_hr.hr_department_id = counselor2.department_id

    owner = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    programme = db.session.scalar(sa.select(Programme).filter_by(code="junior-prejob-2026"))
    course_services.enrol(owner, programme)
    for link in programme.courses:
        for lesson in link.course.lessons:
            course_services.complete_lesson(owner, lesson)
        quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=link.course.id))
        attempt = quiz_services.start_attempt(owner, quiz)
        answers = {
            q.id: {c.id for c in q.choices if c.is_correct} for q in quiz.questions
        }
        quiz_services.submit_attempt(attempt, answers)
    draft_programme = Programme(
        institution_id=programme.institution_id,
        code="draft-empty",
        title="没有课程的草稿项目",
        tier=programme.tier,
        kind=programme.kind,
        level=programme.level,
    )
    db.session.add(draft_programme)
    db.session.commit()

    external_training, rule = _add_records_world(owner)
    promotion_rule, application = _add_promotion_world(owner)

    course = programme.courses[0].course
    certificate = db.session.scalar(sa.select(Certificate).filter_by(holder_id=owner.id))
    attempt = db.session.scalar(sa.select(Attempt).filter_by(user_id=owner.id))
    return {
        "programme": programme.id,
        "course": course.id,
        "lesson": course.lessons[0].id,
        "quiz": attempt.quiz_id,
        "attempt": attempt.id,
        "serial": certificate.serial,
        "code": certificate.verification_code,
        "owner": owner.id,
        "external": external_training.id,
        "rule": rule.id,
        "institution_code": owner.institution.code,
        "draft_programme": draft_programme.id,
        "link": programme.courses[0].id,
        "question": attempt.quiz.questions[0].id,
        "promotion_rule": promotion_rule.id,
        "application": application.id,
    }


def _add_promotion_world(owner: User):
    """Make the owner a lecturer with an open application for a rule without conditions."""
    from datetime import date

    from lms.promotion import services as promotion_services
    from lms.promotion.models import PromotionRule, PromotionTrack
    from lms.records.models import ProgressionEntry, ProgressionKind

    db.session.add(
        ProgressionEntry(
            user_id=owner.id,
            kind=ProgressionKind.TITLE_CHANGE,
            occurred_on=date(2020, 9, 1),
            title="专业技术职务：讲师",
            detail={"title": "lecturer"},
        )
    )
    rule = PromotionRule(
        institution_id=owner.institution_id,
        code="matrix-lecturer-associate",
        name="讲师晋升副教授（无附加条件）",
        track=PromotionTrack.PROFESSIONAL_TITLE,
        from_value="lecturer",
        to_value="associate_professor",
    )
    db.session.add(rule)
    db.session.flush()
    application = promotion_services.apply(owner, rule, "")
    db.session.commit()
    return rule, application


def _add_records_world(owner: User):
    """Add a pending external training of the owner and a rule of the owner's institution."""
    from datetime import date
    from decimal import Decimal

    from lms.compliance.models import ComplianceRule, WindowKind
    from lms.records import external
    from lms.records.models import TrainingKind, TrainingTier

    training = external.submit(
        owner,
        title="省级辅导员骨干培训",
        organiser="省教育厅",
        tier=TrainingTier.PROVINCIAL,
        kind=TrainingKind.BACKBONE_CAMP,
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 6),
        hours=Decimal(40),
        evidence_name="结业证明.pdf",
        extension="pdf",
        content=b"%PDF-1.4\n%%EOF\n",
    )
    rule = ComplianceRule(
        institution_id=owner.institution_id,
        code="school-own-rule",
        name="本校辅导员每年参加校级培训不少于20学时",
        roles=[Role.COUNSELOR],
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(20),
        tiers=[TrainingTier.SCHOOL],
    )
    db.session.add(rule)
    db.session.commit()
    return training, rule


def _url(endpoint: str, w: dict) -> str:
    return {
        "main.health": "/healthz",
        "static": "/static/css/app.css",
        "main.dashboard": "/",
        "accounts.login": "/login",
        "accounts.logout": "/logout",
        "main.set_language": "/language/en",
        "courses.my_learning": "/learning",
        "courses.catalogue": "/programmes",
        "courses.programme": f"/programmes/{w['programme']}",
        "courses.enrol": f"/programmes/{w['programme']}/enrol",
        "courses.course": f"/courses/{w['course']}",
        "courses.lesson": f"/courses/{w['course']}/lessons/{w['lesson']}",
        "courses.complete_lesson": f"/courses/{w['course']}/lessons/{w['lesson']}/complete",
        "assessments.quiz": f"/quizzes/{w['quiz']}",
        "assessments.start": f"/quizzes/{w['quiz']}/start",
        "assessments.attempt": f"/attempts/{w['attempt']}",
        "assessments.result": f"/attempts/{w['attempt']}/result",
        "assessments.submit": f"/attempts/{w['attempt']}/submit",
        "certificates.mine": "/certificates",
        "certificates.issued": "/certificates/issued",
        "certificates.detail": f"/certificates/{w['serial']}",
        "certificates.download": f"/certificates/{w['serial']}.pdf",
        "certificates.revoke": f"/certificates/{w['serial']}/revoke",
        "certificates.verify_lookup": "/verify",
        "certificates.verify": f"/verify/{w['code']}",
        "certificates.credential": f"/credentials/{w['code']}",
        "certificates.credential_download": f"/certificates/{w['serial']}/credential.json",
        "certificates.issuer": f"/issuers/{w['institution_code']}",
        "certificates.verify_credential": "/verify/credential",
        "records.people": "/people",
        "records.person_record": f"/people/{w['owner']}/record",
        "records.add_entry": f"/people/{w['owner']}/record/entries",
        "records.edit_profile": f"/people/{w['owner']}/profile",
        "records.external_trainings": "/records/external",
        "records.external_queue": "/records/external/pending",
        "records.review_external": f"/records/external/{w['external']}/review",
        "records.external_evidence": f"/records/external/{w['external']}/evidence",
        "compliance.overview": "/compliance",
        "compliance.rule_people": f"/compliance/rules/{w['rule']}",
        "compliance.export_rule_people": f"/compliance/rules/{w['rule']}/export.csv",
        "accounts.change_password": "/account/password",
        "promotion.mine": "/promotions",
        "promotion.apply": f"/promotions/apply/{w['promotion_rule']}",
        "promotion.application": f"/promotions/applications/{w['application']}",
        "promotion.decide": f"/promotions/applications/{w['application']}/decide",
        "promotion.resubmit": f"/promotions/applications/{w['application']}/resubmit",
        "promotion.withdraw": f"/promotions/applications/{w['application']}/withdraw",
        "promotion.review": "/promotions/review",
        "promotion.rules": "/promotions/rules",
        "promotion.new_rule": "/promotions/rules/new",
        "promotion.edit_rule": f"/promotions/rules/{w['promotion_rule']}",
        "promotion.dossier_pdf": f"/people/{w['owner']}/dossier.pdf",
        "promotion.person_promotions": f"/people/{w['owner']}/promotions",
        "promotion.export_people": "/promotions/exports/people.xlsx",
        "promotion.set_hr_scope": f"/people/{w['owner']}/hr-scope",
        "promotion.export_applications": "/promotions/exports/applications.xlsx",
        "accounts.manage_account": f"/people/{w['owner']}/account",
        "accounts.end_sessions": f"/people/{w['owner']}/sessions/end",
        "accounts.disable_account": f"/people/{w['owner']}/disable",
        "accounts.enable_account": f"/people/{w['owner']}/enable",
        "manage.index": "/manage/programmes",
        "manage.new_programme": "/manage/programmes/new",
        "manage.edit_programme": f"/manage/programmes/{w['programme']}",
        "manage.add_programme_course": f"/manage/programmes/{w['programme']}/courses",
        "manage.move_programme_course": (
            f"/manage/programmes/{w['programme']}/courses/{w['link']}/move"
        ),
        "manage.set_programme_course_required": (
            f"/manage/programmes/{w['programme']}/courses/{w['link']}/required"
        ),
        "manage.remove_programme_course": (
            f"/manage/programmes/{w['programme']}/courses/{w['link']}/remove"
        ),
        "manage.publish_programme": f"/manage/programmes/{w['draft_programme']}/publish",
        "manage.archive_programme": f"/manage/programmes/{w['draft_programme']}/archive",
        "manage.copy_programme": f"/manage/programmes/{w['draft_programme']}/copy",
        "manage.new_course": "/manage/courses/new",
        "manage.edit_course": f"/manage/courses/{w['course']}",
        "manage.publish_course": f"/manage/courses/{w['course']}/publish",
        "manage.archive_course": f"/manage/courses/{w['course']}/archive",
        "manage.copy_course": f"/manage/courses/{w['course']}/copy",
        "manage.new_lesson": f"/manage/courses/{w['course']}/lessons/new",
        "manage.edit_lesson": f"/manage/courses/{w['course']}/lessons/{w['lesson']}",
        "manage.move_lesson": f"/manage/courses/{w['course']}/lessons/{w['lesson']}/move",
        "manage.delete_lesson": f"/manage/courses/{w['course']}/lessons/{w['lesson']}/delete",
        "manage.new_quiz": f"/manage/courses/{w['course']}/quizzes/new",
        "manage.edit_quiz": f"/manage/quizzes/{w['quiz']}",
        "manage.new_question": f"/manage/quizzes/{w['quiz']}/questions/new",
        "manage.edit_question": f"/manage/quizzes/{w['quiz']}/questions/{w['question']}",
        "manage.move_question": f"/manage/quizzes/{w['quiz']}/questions/{w['question']}/move",
        "manage.delete_question": (
            f"/manage/quizzes/{w['quiz']}/questions/{w['question']}/delete"
        ),
    }[endpoint]


class _Guest:
    def __init__(self, client):
        self.client = client
        self.csrf = csrf_from(client.get("/login").get_data(as_text=True))

    def get(self, url):
        return self.client.get(url)

    def post(self, url, data=None):
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})})


def test_matrix_covers_every_route(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - set(EXPECTED) == set(), "routes without an access-matrix entry"
    assert set(EXPECTED) - routes == set(), "matrix entries for routes that do not exist"


def test_access_matrix(app, app_ctx):
    world = _build_world()
    mismatches = []
    for index, role in enumerate(ROLES):
        if role == "guest":
            session = _Guest(app.test_client())
        else:
            session = LoggedIn(app.test_client(), USERNAMES[role])
        for (endpoint, method), expected in EXPECTED.items():
            url = _url(endpoint, world)
            response = session.get(url) if method == "GET" else session.post(url)
            status = response.status_code
            response.close()
            if status != expected[index]:
                mismatches.append(f"{role} {method} {url}: {status}, expected {expected[index]}")
    assert not mismatches, "\n".join(mismatches)
