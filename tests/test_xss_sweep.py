"""Stored XSS sweep: script and event-handler payloads saved through the real forms.

Each case logs in as the role that writes the field, submits the payload
through the page's own form (every other field keeps the value the page
shows), and then reads every page that displays the field. A page passes
when the marker text of the payload is shown but no element of the response
can run script: no ``<script>`` other than the site's own files, no ``on*``
event-handler attribute and no ``javascript:`` URL.
"""

import io
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Optional

import sqlalchemy as sa

from assessments.models import Question, QuestionCategory, Quiz
from assessments.tasks_models import PerformanceTask, TaskSubmission
from certificates import sandbox
from certificates.template_models import CertificateTemplate
from courses.models import Course, Lesson, Programme, PublicationStatus
from lms.accounts.models import User
from lms.charts import radar_svg
from lms.extensions import db
from lms.hr_charts import Segment, bar_chart, stacked_bar_chart
from lms.promotion.models import PromotionApplication
from lms.records.models import ExternalTraining
from tests.promotion import conftest as promotion_fixtures
from tests.conftest import demo_row

MARKER = "XSSMARK"

#: One payload per technique. Titles and other short fields get the short one.
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">link</a>',
    "<svg onload=alert(1)>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
)


def long_payload(field: str) -> str:
    """Every payload after a marker naming the field, for text areas."""
    return f"{MARKER}{field} " + " ".join(PAYLOADS)


def short_payload(field: str) -> str:
    """A payload that fits a title of 60 characters or more."""
    return f'{MARKER}{field}"><script>alert(1)</script><svg onload=alert(1)>'

_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}


class _ExecutableMarkup(HTMLParser):
    """Collect every element of a page that would run script in a browser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def _check(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            self.findings.append(f"<script> without a /static/ source: {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}={value!r}>")
            compact = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name in _URL_ATTRIBUTES and compact.startswith(("javascript:", "vbscript:")):
                self.findings.append(f"<{tag} {name}={value!r}>")


def assert_inert(response, where: str, *fields: str) -> None:
    """Assert the page shows each field's marker and contains no executable markup."""
    assert response.status_code == 200, f"{where}: status {response.status_code}"
    html = response.get_data(as_text=True)
    for field in fields:
        assert f"{MARKER}{field}" in html, f"{where}: {field} is not shown"
    parser = _ExecutableMarkup()
    parser.feed(html)
    assert parser.findings == [], f"{where}: {parser.findings}"


class _FormReader(HTMLParser):
    """Read the fields of one form (found by its action) as a browser would submit them."""

    def __init__(self, page_url: str, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.action = action
        self.inside = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: Optional[str] = None
        self._select: Optional[str] = None
        self._select_first: Optional[str] = None
        self._select_chosen = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            action = values.get("action") or self.page_url
            self.inside = not self.found and action == self.action
            self.found = self.found or self.inside
            return
        if not self.inside or "name" in values and "disabled" in values:
            return
        name = values.get("name")
        if tag == "input" and name:
            kind = values.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in values:
                return
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self.fields.append((name, values.get("value", default) or default))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = values.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in values:
                self.fields.append((self._select, value))
                self._select_chosen = True

    def handle_data(self, data):
        if self._textarea is not None:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self.fields.append((self._select, self._select_first))
            self._select = None


def submit_form(client, page_url: str, action: str, changes: dict, files=None):
    """Post the form at ``action`` on ``page_url`` with ``changes`` over its shown values."""
    page = client.get(page_url)
    assert page.status_code == 200, f"{page_url}: status {page.status_code}"
    reader = _FormReader(page_url, action)
    reader.feed(page.get_data(as_text=True))
    assert reader.found, f"{page_url} has no form posting to {action}"
    data: dict[str, list[str]] = {}
    for name, value in reader.fields:
        if name not in changes:
            data.setdefault(name, []).append(value)
    data.update({name: value for name, value in changes.items()})
    if files:
        data.update(files)
    return client.client.post(
        action,
        data=data,
        content_type="multipart/form-data" if files else None,
    )


def assert_saved(response, where: str) -> None:
    """Assert the form was accepted, which every form here shows by redirecting."""
    if response.status_code != 302:
        html = response.get_data(as_text=True)
        errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)', html)
        raise AssertionError(f"{where}: status {response.status_code}, errors {errors}")


def _programme(code: str) -> Programme:
    return demo_row(Programme, code=code)


def _published_course() -> Course:
    return db.session.scalar(
        sa.select(Course).filter_by(status=PublicationStatus.PUBLISHED).order_by(Course.id)
    )


def _redirect_id(response) -> int:
    return int(re.search(r"/(\d+)(?:/[a-z-]*)?$", response.headers["Location"]).group(1))


def test_checker_finds_each_payload():
    for payload in PAYLOADS:
        parser = _ExecutableMarkup()
        parser.feed(payload)
        assert parser.findings, payload


def test_programme_summary_and_title(seeded, app_ctx, login):
    # The demo programme has no author, so only an administrator changes it.
    admin = login("admin")
    programme = _programme("junior-prejob-2026")
    url = f"/manage/programmes/{programme.id}"
    changes = {"title": short_payload("ptitle"), "summary": long_payload("psummary")}
    assert_saved(submit_form(admin, url, url, changes), url)

    counselor = login("counselor1")
    assert_inert(counselor.get("/programmes"), "/programmes", "ptitle")
    page = f"/programmes/{programme.id}"
    assert_inert(counselor.get(page), page, "ptitle", "psummary")
    assert_inert(admin.get(url), url, "ptitle", "psummary")
    assert_inert(admin.get("/manage/programmes"), "/manage/programmes", "ptitle")


def test_course_title_summary_and_lesson_body(seeded, app_ctx, login):
    trainer = login("trainer")
    changes = {
        "code": "xss-course",
        "title": short_payload("ctitle"),
        "summary": long_payload("csummary"),
        "credit_hours": "2",
    }
    created = submit_form(trainer, "/manage/courses/new", "/manage/courses/new", changes)
    assert_saved(created, "new course")
    course_id = _redirect_id(created)
    lesson_page = f"/manage/courses/{course_id}/lessons/new"
    changes = {
        "title": short_payload("ltitle"),
        "kind": "text",
        "duration_minutes": "10",
        "body_html": long_payload("lbody"),
    }
    assert_saved(submit_form(trainer, lesson_page, lesson_page, changes), "new lesson")
    lesson = db.session.scalar(sa.select(Lesson).filter_by(course_id=course_id))
    assert "<script" not in lesson.body_html
    assert "onerror" not in lesson.body_html

    shown = {
        f"/manage/courses/{course_id}": ("ctitle", "csummary", "ltitle"),
        f"/manage/courses/{course_id}/lessons/{lesson.id}": ("ltitle", "lbody"),
        f"/courses/{course_id}": ("ctitle", "ltitle"),
        f"/courses/{course_id}/lessons/{lesson.id}": ("ctitle", "ltitle", "lbody"),
        "/manage/programmes": ("ctitle",),
    }
    for page, fields in shown.items():
        assert_inert(trainer.get(page), page, *fields)


def test_question_bank_texts(seeded, app_ctx, login):
    trainer = login("trainer")
    changes = {"name": short_payload("bname"), "description": long_payload("bdesc")}
    created = submit_form(trainer, "/manage/banks", "/manage/banks", changes)
    assert_saved(created, "new bank")
    bank_id = _redirect_id(created)
    bank_page = f"/manage/banks/{bank_id}"
    changes = {"name": short_payload("category")}
    category = submit_form(trainer, bank_page, f"{bank_page}/categories", changes)
    assert_saved(category, "new category")
    new_question = f"{bank_page}/questions/new"
    changes = {
        "kind": "single",
        "text": long_payload("qtext"),
        "points": "1",
        "choice_1": short_payload("choice"),
        "correct_1": "on",
        "choice_2": "<img src=x onerror=alert(2)>",
        "tags_topic": short_payload("tag"),
        "explanation": long_payload("explanation"),
    }
    assert_saved(submit_form(trainer, new_question, new_question, changes), "question")
    question_id = db.session.scalar(
        sa.select(sa.func.max(Question.id))
        .join(QuestionCategory, Question.category_id == QuestionCategory.id)
        .where(QuestionCategory.bank_id == bank_id)
    )

    assert_inert(trainer.get("/manage/banks"), "/manage/banks", "bname")
    assert_inert(trainer.get(bank_page), bank_page, "bname", "category", "qtext")
    page = f"{bank_page}/questions/{question_id}"
    assert_inert(trainer.get(page), page, "qtext", "choice", "explanation")
    category_id = db.session.scalar(
        sa.select(sa.func.max(QuestionCategory.id)).where(
            QuestionCategory.bank_id == bank_id
        )
    )
    page = f"{bank_page}/categories/{category_id}"
    assert_inert(trainer.get(page), page, "category")


def test_rubric_task_and_submission(seeded, app_ctx, login):
    trainer = login("trainer")
    definition = (
        f"{short_payload('criterion')} | 1\n"
        f"- 优秀 | 10 | {long_payload('descriptor')}\n"
        f"- 不足 | 0 | {short_payload('descriptor2')}"
    )
    changes = {
        "code": "xss-rubric",
        "title": short_payload("rtitle"),
        "description": long_payload("rdesc"),
        "definition": definition,
    }
    created = submit_form(trainer, "/manage/rubrics/new", "/manage/rubrics/new", changes)
    assert_saved(created, "new rubric")
    rubric_id = _redirect_id(created)
    changes = {
        "kind": "case_analysis",
        "title": short_payload("ttitle"),
        "instructions": long_payload("instructions"),
        "rubric_id": str(rubric_id),
        "course_id": str(_published_course().id),
        "pass_mark": "60",
        "published": "y",
    }
    created = submit_form(trainer, "/manage/tasks/new", "/manage/tasks/new", changes)
    assert_saved(created, "new task")
    task = db.session.scalar(sa.select(PerformanceTask).filter_by(rubric_id=rubric_id))
    # Only learners of the task's course may submit: enrol counselor1 in a
    # programme that contains it.
    from courses import services as course_services
    from courses.models import Programme, ProgrammeCourse
    from lms.accounts.models import User

    programme = db.session.scalar(
        sa.select(Programme)
        .join(ProgrammeCourse, ProgrammeCourse.programme_id == Programme.id)
        .where(ProgrammeCourse.course_id == task.course_id)
    )
    course_services.enrol(
        db.session.scalar(sa.select(User).filter_by(username="counselor1")), programme
    )
    db.session.commit()

    counselor = login("counselor1")
    page = f"/tasks/{task.id}"
    assert_inert(counselor.get(page), page, "ttitle", "instructions", "criterion")
    submitted = counselor.post(f"/tasks/{task.id}/submit", data={"text": long_payload("answer")})
    assert_saved(submitted, "submission")
    submission = db.session.scalar(sa.select(TaskSubmission).filter_by(task_id=task.id))

    assert_inert(counselor.get(page), page, "answer")
    assert_inert(counselor.get("/tasks"), "/tasks", "ttitle")
    shown = {
        "/manage/rubrics": ("rtitle",),
        f"/manage/rubrics/{rubric_id}": ("rtitle", "rdesc", "criterion", "descriptor"),
        "/manage/tasks": ("ttitle",),
        f"/manage/tasks/{task.id}": ("ttitle", "instructions"),
        f"/manage/tasks/{task.id}/submissions": ("ttitle",),
        f"/manage/submissions/{submission.id}": ("answer", "criterion"),
    }
    for url, fields in shown.items():
        assert_inert(trainer.get(url), url, *fields)


def test_framework_texts(seeded, app_ctx, login):
    trainer = login("trainer")
    changes = {
        "code": "xss-framework",
        "title": short_payload("ftitle"),
        "issuer": short_payload("issuer"),
        "year": "2026",
        "version": "1",
        "notes": long_payload("fnotes"),
    }
    created = submit_form(trainer, "/frameworks/new", "/frameworks/new", changes)
    assert_saved(created, "new framework")
    detail = created.headers["Location"]
    for kind, changes in (
        ("levels", {"code": "L1", "name": short_payload("level"), "position": "1"}),
        ("areas", {"code": "A1", "name": short_payload("area"), "position": "1"}),
    ):
        url = f"{detail}/{kind}/new"
        assert_saved(submit_form(trainer, url, url, changes), url)
    url = f"{detail}/items/new"
    changes = {
        "code": "1.1",
        "summary": short_payload("isummary"),
        "work_content": long_payload("work"),
        "ability_requirements": long_payload("ability"),
        "knowledge_requirements": long_payload("knowledge"),
    }
    assert_saved(submit_form(trainer, url, url, changes), url)

    assert_inert(trainer.get("/frameworks"), "/frameworks", "ftitle")
    fields = ("ftitle", "level", "area", "work", "ability", "knowledge")
    assert_inert(trainer.get(detail), detail, *fields)


def test_class_title_and_summary(seeded, app_ctx, login):
    trainer = login("trainer")
    changes = {
        "code": "xss-class",
        "title": short_payload("klass"),
        "summary": long_payload("ksummary"),
        "starts_on": "2026-09-01",
        "ends_on": (date.today() + timedelta(days=365)).isoformat(),
        "enrolment_mode": "self",
    }
    created = submit_form(trainer, "/classes/new", "/classes/new", changes)
    assert_saved(created, "new class")
    class_id = _redirect_id(created)
    page = f"/classes/{class_id}"
    opened = trainer.post(f"{page}/status", data={"status": "open"})
    assert_saved(opened, "open class")

    assert_inert(trainer.get("/classes"), "/classes", "klass")
    assert_inert(trainer.get(page), page, "klass", "ksummary")
    counselor = login("counselor1")
    assert_inert(counselor.get("/classes"), "/classes", "klass")
    assert_inert(counselor.get(page), page, "klass", "ksummary")


def test_external_training_review_and_notification(seeded, app_ctx, login):
    counselor = login("counselor1")
    changes = {
        "title": short_payload("etitle"),
        "organiser": short_payload("organiser"),
        "start_date": "2026-03-02",
        "end_date": "2026-03-03",
        "hours": "8",
    }
    evidence = {"evidence": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "<svg onload=alert(1)>.pdf")}
    submitted = submit_form(
        counselor, "/records/external", "/records/external", changes, files=evidence
    )
    assert_saved(submitted, "external training")
    training = db.session.scalar(sa.select(ExternalTraining))
    assert training is not None

    hr = login("hr")
    assert_inert(hr.get("/records/external/pending"), "pending", "etitle")
    review = f"/records/external/{training.id}/review"
    assert_inert(hr.get(review), review, "etitle", "organiser")
    changes = {"decision": "reject", "reason": long_payload("reason")}
    assert_saved(submit_form(hr, review, review, changes), "review")

    assert_inert(counselor.get("/records/external"), "/records/external", "etitle", "reason")
    download = counselor.get(f"/records/external/{training.id}/evidence")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    download.close()


def test_certificate_template_body(seeded, app_ctx, login):
    trainer = login("trainer")
    new = "/certificates/templates/new"
    for payload in PAYLOADS:
        changes = {"name": "xss", "body_html": f"<p>{{{{ holder_name }}}}</p>{payload}"}
        rejected = submit_form(trainer, new, new, changes)
        assert rejected.status_code == 400, payload
    assert db.session.scalar(sa.select(CertificateTemplate).filter_by(name="xss")) is None

    body = (
        f"<h1>{{{{ holder_name }}}}</h1><p>{MARKER}cbody</p>"
        '<iframe src="https://example.org/"></iframe>'
        '<img src="https://example.org/tracker.png">'
    )
    changes = {"name": short_payload("cname"), "body_html": body}
    created = submit_form(trainer, new, new, changes)
    assert_saved(created, "new certificate template")
    edit = created.headers["Location"]
    assert_inert(trainer.get("/certificates/templates"), "templates", "cname")
    assert_inert(trainer.get(edit), edit, "cname", "cbody")

    values = {key: "" for key in sandbox.PLACEHOLDERS}
    values["holder_name"] = long_payload("holder")
    rendered = sandbox.render_body(body, values)
    assert f"{MARKER}holder" in rendered
    parser = _ExecutableMarkup()
    parser.feed(rendered)
    assert parser.findings == []
    assert "<iframe" not in rendered
    assert "example.org" not in rendered


def test_promotion_statement_comment_and_notification(app_ctx, login, monkeypatch):
    monkeypatch.setattr("lms.compliance.windows.now_utc", lambda: promotion_fixtures.NOW)
    monkeypatch.setattr("lms.records.services.now_utc", lambda: promotion_fixtures.NOW)
    world = promotion_fixtures.build_world()
    promotion_fixtures.set_title(world.counselor, "lecturer", date(2022, 9, 1))
    for year in (2024, 2025, 2026):
        promotion_fixtures.add_grade(world.counselor, year, "competent")
    rule = promotion_fixtures.make_rule(
        world.uni.id,
        name=short_payload("rule"),
        min_years=5,
        assessment_years=3,
        min_grade="competent",
    )
    db.session.commit()

    counselor = login("counselor1")
    applied = counselor.post(
        f"/promotions/apply/{rule.id}", {"statement": long_payload("statement")}
    )
    assert_saved(applied, "application")
    application = db.session.scalars(sa.select(PromotionApplication)).one()
    page = f"/promotions/applications/{application.id}"
    reviewer = login("dept_hr")
    assert_inert(reviewer.get("/promotions/review"), "review queue")
    assert_inert(reviewer.get(page), page, "rule", "statement")
    decided = reviewer.post(
        f"{page}/decide", {"outcome": "reject", "comment": long_payload("comment")}
    )
    assert_saved(decided, "decision")

    assert_inert(counselor.get(page), page, "statement", "comment")
    assert_inert(counselor.get("/promotions"), "/promotions", "rule")
    assert_inert(counselor.get("/notifications"), "/notifications", "comment")
    assert_inert(login("admin").get("/admin/audit"), "/admin/audit")


def test_svg_charts_escape_labels():
    labels = [short_payload("area1"), long_payload("area2"), "<svg onload=alert(1)>"]
    rendered = [
        radar_svg(labels, [0.2, 0.5, 1.0], title=short_payload("radar")),
        bar_chart(short_payload("bars"), labels, [1, 2, 3]),
        stacked_bar_chart(
            short_payload("stacked"),
            [(label, [Segment(short_payload("segment"), 1)]) for label in labels],
        ),
    ]
    for svg in rendered:
        parser = _ExecutableMarkup()
        parser.feed(str(svg))
        assert parser.findings == []
        assert f"{MARKER}area1" in svg


def test_quiz_question_texts_reach_learner_inert(seeded, app_ctx, login):
    trainer = login("trainer")
    programme = _programme("junior-prejob-2026")
    course_id = programme.courses[0].course_id
    # The seeded course has no author, so an administrator drafts its version
    # and makes the trainer its author, who alone may then change its content.
    draft = login("admin").post(f"/manage/courses/{course_id}/versions")
    assert_saved(draft, "new course version")
    draft_id = _redirect_id(draft)
    db.session.get(Course, draft_id).author_id = demo_row(User, username="trainer").id
    db.session.commit()
    quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=draft_id))
    quiz_page = f"/manage/quizzes/{quiz.id}"
    changes = {
        "title": short_payload("quiz"),
        "instructions": long_payload("instructions"),
        "review_responses": "immediately",
        "review_correct": "immediately",
        "review_feedback": "immediately",
    }
    assert_saved(submit_form(trainer, quiz_page, quiz_page, changes), quiz_page)
    question = quiz.questions[0]
    page = f"{quiz_page}/questions/{question.id}"
    changes = {
        "text": long_payload("qtext"),
        "choice_1": short_payload("choice"),
        "explanation": long_payload("explanation"),
    }
    assert_saved(submit_form(trainer, page, page, changes), page)
    published = trainer.post(f"/manage/courses/{draft_id}/publish")
    assert_saved(published, "publish")

    counselor = login("counselor1")
    assert_saved(counselor.post(f"/programmes/{programme.id}/enrol"), "enrol")
    assert_inert(counselor.get(f"/quizzes/{quiz.id}"), "quiz page", "quiz", "instructions")
    started = counselor.post(f"/quizzes/{quiz.id}/start")
    assert_saved(started, "start attempt")
    attempt = started.headers["Location"]
    assert_inert(counselor.get(attempt), attempt, "qtext", "choice")
    submitted = counselor.post(f"{attempt}/submit", {})
    assert_saved(submitted, "submit attempt")
    result = submitted.headers["Location"]
    assert_inert(counselor.get(result), result, "qtext", "explanation")


def test_record_honour_and_note(seeded, app_ctx, login):
    person_id = db.session.scalar(sa.select(User.id).filter_by(username="counselor1"))
    hr = login("hr")
    record = f"/people/{person_id}/record"
    changes = {
        "kind": "honour",
        "occurred_on": "2026-05-04",
        "year": "2026",
        "honour_name": short_payload("honour"),
        "honour_level": "school",
        "note": long_payload("note"),
    }
    assert_saved(submit_form(hr, record, f"{record}/entries", changes), "record entry")

    assert_inert(hr.get(record), record, "honour", "note")
    counselor = login("counselor1")
    assert_inert(counselor.get(record), record, "honour")
