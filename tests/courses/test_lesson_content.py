"""Lesson kinds: sanitised text, uploaded video and files, modules, and resuming."""

import io
import json
import re
import zipfile

import pytest
import sqlalchemy as sa

from courses import services as course_services
from courses.models import Course, CourseModule, CourseVisit, Lesson, LessonKind
from lms.extensions import db

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english")

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def _package(*names: str) -> bytes:
    """Return a ZIP archive with an empty member for each of ``names``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "")
    return buffer.getvalue()


DOCX = _package("[Content_Types].xml", "word/document.xml")

XSS_PAYLOADS = (
    "<p>安全的第一段</p>"
    "<script>alert('xss-script')</script>"
    '<img src="x" onerror="alert(\'xss-onerror\')">'
    '<a href="javascript:alert(\'xss-js\')">链接一</a>'
    '<a href="JaVaScRiPt:alert(\'xss-js2\')">链接二</a>'
    '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">链接三</a>'
    '<svg onload="alert(\'xss-svg\')"></svg>'
    '<iframe src="https://evil.example"></iframe>'
    '<p style="background:url(javascript:alert(1))" onclick="alert(2)">第二段</p>'
    '<a href="https://example.org/ok" onmouseover="alert(3)">可以的链接</a>'
)


def _english(session):
    session.post("/language/en")
    return session


@pytest.fixture
def trainer(world, login):
    return _english(login("trainer"))


@pytest.fixture
def draft(world, trainer):
    """Return the id of a draft version 2 of course 2 (one text lesson)."""
    response = trainer.post(f"/manage/courses/{world.course2}/versions")
    assert response.status_code == 302
    match = re.search(r"/manage/courses/(\d+)", response.headers["Location"])
    return int(match.group(1))


def _lesson_post(trainer, course_id, data, upload=None, lesson_id=None):
    url = (
        f"/manage/courses/{course_id}/lessons/{lesson_id}"
        if lesson_id
        else f"/manage/courses/{course_id}/lessons/new"
    )
    form = {"duration_minutes": "20", **data}
    if upload is not None:
        name, content = upload
        form["upload"] = (io.BytesIO(content), name)
    return trainer.post(url, data=form, content_type="multipart/form-data")


def _lessons(course_id: int) -> list[Lesson]:
    db.session.expire_all()
    return db.session.get(Course, course_id).lessons


def _publish_and_enrol(world, trainer, login, course_id):
    assert trainer.post(f"/manage/courses/{course_id}/publish").status_code == 302
    learner = _english(login("counselor1"))
    learner.post(f"/programmes/{world.programme}/enrol")
    return learner


# Rich text ---------------------------------------------------------------------


def test_xss_payloads_stored_sanitised(world, trainer, login, draft):
    response = _lesson_post(
        trainer, draft, {"title": "XSS", "kind": "text", "body_html": XSS_PAYLOADS}
    )
    lesson = _lessons(draft)[-1]
    learner = _publish_and_enrol(world, trainer, login, draft)

    page = learner.get(f"/courses/{draft}/lessons/{lesson.id}")
    html = page.get_data(as_text=True)
    body = html.split('<div class="lesson-body">', 1)[1].split("</div>", 1)[0]

    assert response.status_code == 302
    for text in (lesson.body_html, body):
        assert "<script" not in text
        assert "<svg" not in text
        assert "<iframe" not in text
        assert "style=" not in text
        assert re.search(r"\son[a-z]+\s*=", text) is None
        assert "javascript:" not in text.lower()
        assert "data:text" not in text
    assert 'href="https://example.org/ok"' in body
    assert "安全的第一段" in body
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


# Uploads -------------------------------------------------------------------------


def test_uploaded_video_is_served_inline(world, trainer, login, draft):
    response = _lesson_post(
        trainer, draft, {"title": "视频课", "kind": "video"}, ("讲座.mp4", MP4)
    )
    lesson = _lessons(draft)[-1]
    learner = _publish_and_enrol(world, trainer, login, draft)

    page = learner.get(f"/courses/{draft}/lessons/{lesson.id}").get_data(as_text=True)
    served = learner.get(f"/courses/{draft}/lessons/{lesson.id}/file")

    assert response.status_code == 302
    assert (lesson.kind, lesson.file_media_type, lesson.video_url) == (
        LessonKind.VIDEO,
        "video/mp4",
        None,
    )
    file_url = f"/courses/{draft}/lessons/{lesson.id}/file"
    assert f'class="lesson-video" src="{file_url}"' in page
    content = served.data
    served.close()
    assert served.status_code == 200
    assert content == MP4
    assert served.mimetype == "video/mp4"
    assert "attachment" not in served.headers.get("Content-Disposition", "")
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_uploaded_file_is_an_attachment(world, trainer, login, draft):
    _lesson_post(trainer, draft, {"title": "讲义", "kind": "file"}, ("讲义.pdf", PDF))
    lesson = _lessons(draft)[-1]
    learner = _publish_and_enrol(world, trainer, login, draft)

    served = learner.get(f"/courses/{draft}/lessons/{lesson.id}/file")
    content = served.data
    served.close()

    assert served.status_code == 200
    assert content == PDF
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert lesson.file_original_name == "讲义.pdf"


def test_file_name_keeps_last_path_component(world, trainer, draft):
    # The multipart header is a quoted string, in which a doubled backslash is one.
    upload = ("..\\\\..\\\\讲义<svg>.pdf", PDF)

    _lesson_post(trainer, draft, {"title": "讲义", "kind": "file"}, upload)

    assert _lessons(draft)[-1].file_original_name == "讲义<svg>.pdf"


def test_stored_file_path_not_served(world, trainer, login, draft):
    _lesson_post(trainer, draft, {"title": "讲义", "kind": "file"}, ("讲义.pdf", PDF))
    lesson = _lessons(draft)[-1]
    lesson.file_original_name = "../../讲义.pdf"
    db.session.commit()
    learner = _publish_and_enrol(world, trainer, login, draft)

    served = learner.get(f"/courses/{draft}/lessons/{lesson.id}/file")
    served.close()

    disposition = served.headers["Content-Disposition"]
    assert disposition == (
        f"attachment; filename=lesson-{lesson.id}.pdf; "
        "filename*=UTF-8''%E8%AE%B2%E4%B9%89.pdf"
    )


def test_chinese_file_name_keeps_ascii_fallback(world, trainer, login, draft):
    _lesson_post(trainer, draft, {"title": "证书", "kind": "file"}, ("证书.pdf", PDF))
    lesson = _lessons(draft)[-1]
    learner = _publish_and_enrol(world, trainer, login, draft)

    served = learner.get(f"/courses/{draft}/lessons/{lesson.id}/file")
    served.close()

    disposition = served.headers["Content-Disposition"]
    assert served.status_code == 200
    assert f"filename=lesson-{lesson.id}.pdf;" in disposition
    assert "filename*=UTF-8''%E8%AF%81%E4%B9%A6.pdf" in disposition
    assert "filename=.pdf" not in disposition


def _status(session, url: str) -> int:
    response = session.get(url)
    response.close()
    return response.status_code


def test_lesson_file_access_checks(app, world, trainer, login, draft):
    _lesson_post(trainer, draft, {"title": "讲义", "kind": "file"}, ("a.docx", DOCX))
    lesson = _lessons(draft)[-1]
    _publish_and_enrol(world, trainer, login, draft)
    url = f"/courses/{draft}/lessons/{lesson.id}/file"
    text_url = f"/courses/{draft}/lessons/{_lessons(draft)[0].id}/file"

    assert _status(login("counselor2"), url) == 404
    assert _status(login("counselor_b"), url) == 404
    assert _status(login("hr_b"), url) == 404
    assert _status(login("hr"), url) == 200
    assert _status(login("counselor1"), url) == 200
    assert _status(login("counselor1"), text_url) == 404
    assert _status(app.test_client(), url) == 302


DOCUMENT_TYPES = "Upload a file of one of these types: pdf, docx, pptx, xlsx."
MISMATCH = "does not match its extension"


@pytest.mark.parametrize(
    ("kind", "upload", "message"),
    [
        ("file", ("page.html", b"<html></html>"), DOCUMENT_TYPES),
        ("file", ("tool.exe", b"MZ\x90\x00"), DOCUMENT_TYPES),
        ("video", ("clip.avi", b"RIFF"), "Upload a file of one of these types: mp4, webm."),
        ("video", ("clip.mp4", PDF), MISMATCH + ". Upload a real mp4, webm file."),
        ("file", ("fake.pdf", b"<script>alert(1)</script>"), MISMATCH),
        ("file", ("fake.docx", PDF), MISMATCH),
        ("file", ("a.docx", b"PK\x03\x04garbage"), MISMATCH),
        ("file", ("a.docx", _package("[Content_Types].xml")), MISMATCH),
        ("file", ("a.docx", _package("word/document.xml")), MISMATCH),
        ("file", ("a.xlsx", _package("[Content_Types].xml", "word/document.xml")), MISMATCH),
        ("file", ("a.pptx", _package("[Content_Types].xml", "xl/workbook.xml")), MISMATCH),
        ("file", ("empty.pdf", b""), "Choose a non-empty file to upload: pdf"),
    ],
)
def test_bad_upload_rejected_with_message(world, trainer, draft, kind, upload, message):
    before = len(_lessons(draft))

    response = _lesson_post(trainer, draft, {"title": "上传", "kind": kind}, upload)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'id="upload-error"' in page
    assert len(_lessons(draft)) == before


@pytest.mark.parametrize(
    ("filename", "main_part"),
    [
        ("a.docx", "word/document.xml"),
        ("a.xlsx", "xl/workbook.xml"),
        ("a.pptx", "ppt/presentation.xml"),
    ],
)
def test_office_package_accepted(world, trainer, draft, filename, main_part):
    content = _package("[Content_Types].xml", main_part)

    response = _lesson_post(trainer, draft, {"title": "讲义", "kind": "file"}, (filename, content))

    assert response.status_code == 302
    lesson = _lessons(draft)[-1]
    assert lesson.file_original_name == filename
    assert lesson.file_media_type.startswith("application/vnd.openxmlformats-officedocument.")


def test_oversized_upload_rejected(app, world, trainer, draft, monkeypatch):
    # Kept under the test client's 500 KB in-memory body limit, so no temp file.
    monkeypatch.setitem(app.config, "LESSON_FILE_MAX_BYTES", 100 * 1024)

    response = _lesson_post(
        trainer,
        draft,
        {"title": "大文件", "kind": "file"},
        ("big.pdf", PDF + b"0" * (100 * 1024)),
    )

    assert response.status_code == 400
    assert "The file is larger than 100 KB. Upload a smaller file." in (
        response.get_data(as_text=True)
    )


def test_file_lesson_needs_upload_message(world, trainer, draft):
    response = _lesson_post(trainer, draft, {"title": "没有文件", "kind": "file"})

    assert response.status_code == 400
    assert "Choose a file to upload: pdf, docx, pptx, xlsx." in response.get_data(
        as_text=True
    )


def test_video_link_replaces_upload(world, trainer, draft):
    _lesson_post(trainer, draft, {"title": "视频", "kind": "video"}, ("v.webm", WEBM))
    lesson = _lessons(draft)[-1]
    assert lesson.file_media_type == "video/webm"

    kept = _lesson_post(
        trainer, draft, {"title": "视频（改）", "kind": "video"}, lesson_id=lesson.id
    )
    kept_lesson = db.session.get(Lesson, lesson.id)
    assert kept.status_code == 302
    assert kept_lesson.file_name == lesson.file_name

    _lesson_post(
        trainer,
        draft,
        {"title": "视频", "kind": "video", "video_url": "https://video.example.org/1"},
        lesson_id=lesson.id,
    )
    linked = _lessons(draft)[-1]
    assert linked.video_url == "https://video.example.org/1"
    assert linked.file_name is None


def test_counselor_cannot_upload(world, login, draft):
    counselor = login("counselor1")

    response = _lesson_post(
        counselor, draft, {"title": "x", "kind": "file"}, ("a.pdf", PDF)
    )

    assert response.status_code == 403


# Offline sessions ----------------------------------------------------------------


def test_offline_session_keeps_date_place_duration(world, trainer, login, draft):
    _lesson_post(
        trainer,
        draft,
        {
            "title": "面授",
            "kind": "offline",
            "duration_minutes": "240",
            "session_starts_at": "2026-11-02T09:00",
            "session_place": "行政楼301",
        },
    )
    lesson = _lessons(draft)[-1]
    learner = _publish_and_enrol(world, trainer, login, draft)

    page = learner.get(f"/courses/{draft}/lessons/{lesson.id}").get_data(as_text=True)

    assert lesson.session_starts_at.isoformat() == "2026-11-02T01:00:00+00:00"
    assert lesson.duration_minutes == 240
    assert "行政楼301" in page
    assert "240 min" in page


# Modules -------------------------------------------------------------------------


def _text_lesson(title: str, module_id: int) -> dict:
    return {
        "title": title,
        "kind": "text",
        "body_html": "<p>正文</p>",
        "module_id": str(module_id),
    }


def _module_ids(course_id: int) -> list[int]:
    db.session.expire_all()
    return [module.id for module in db.session.get(Course, course_id).modules]


def test_modules_group_lessons_in_order(world, trainer, draft):
    trainer.post(f"/manage/courses/{draft}/modules", data={"title": "第一单元"})
    trainer.post(f"/manage/courses/{draft}/modules", data={"title": "第二单元"})
    first_module, second_module = _module_ids(draft)
    placements = (("二-1", second_module), ("一-1", first_module), ("二-2", second_module))
    for title, module in placements:
        _lesson_post(trainer, draft, _text_lesson(title, module))

    order = [(lesson.title, lesson.module_id) for lesson in _lessons(draft)]
    moved = trainer.post(
        f"/manage/courses/{draft}/modules/{second_module}/move",
        data={"direction": "up"},
    )
    after_move = [lesson.title for lesson in _lessons(draft)]
    trainer.post(f"/manage/courses/{draft}/modules/{second_module}/delete")
    after_delete = [(lesson.title, lesson.module_id) for lesson in _lessons(draft)]

    assert order[1:] == [
        ("一-1", first_module),
        ("二-1", second_module),
        ("二-2", second_module),
    ]
    assert moved.status_code == 302
    assert after_move[1:] == ["二-1", "二-2", "一-1"]
    assert _module_ids(draft) == [first_module]
    assert [module_id for _title, module_id in after_delete] == [
        None,
        None,
        None,
        first_module,
    ]
    assert [lesson.position for lesson in _lessons(draft)] == [1, 2, 3, 4]


def test_module_delete_asks_first(world, trainer, draft):
    trainer.post(f"/manage/courses/{draft}/modules", data={"title": "第一单元"})
    (module_id,) = _module_ids(draft)
    _lesson_post(trainer, draft, _text_lesson("一-1", module_id))
    delete_url = f"/manage/courses/{draft}/modules/{module_id}/delete"

    course_page = trainer.get(f"/manage/courses/{draft}").get_data(as_text=True)
    confirm = trainer.get(delete_url)
    text = confirm.get_data(as_text=True)

    assert f'action="{delete_url}"' not in course_page
    assert f'href="{delete_url}"' in course_page
    assert confirm.status_code == 200
    assert "Its 1 lesson stays in the course without a module." in text
    assert f'action="{delete_url}"' in text
    assert _module_ids(draft) == [module_id]


def test_module_title_required(world, trainer, draft):
    response = trainer.post(
        f"/manage/courses/{draft}/modules", data={"title": " "}, follow_redirects=True
    )

    assert "This field is required." in response.get_data(as_text=True)
    assert _module_ids(draft) == []


def test_modules_frozen_on_published_course(world, trainer):
    response = trainer.post(
        f"/manage/courses/{world.course1}/modules",
        data={"title": "新单元"},
        follow_redirects=True,
    )

    assert "Create a new version" in response.get_data(as_text=True)
    assert _module_ids(world.course1) == []


@pytest.mark.parametrize("username", ["counselor1", "hr"])
def test_module_routes_refused(world, login, draft, username):
    response = login(username).post(
        f"/manage/courses/{draft}/modules", data={"title": "x"}
    )

    assert response.status_code == 403
    assert db.session.scalar(sa.select(CourseModule)) is None


def test_course_page_shows_module_headings(world, trainer, login, draft):
    trainer.post(f"/manage/courses/{draft}/modules", data={"title": "实务单元"})
    module = _module_ids(draft)[0]
    _lesson_post(trainer, draft, _text_lesson("单元课", module))
    learner = _publish_and_enrol(world, trainer, login, draft)

    page = learner.get(f"/courses/{draft}").get_data(as_text=True)

    assert "<h3>实务单元</h3>" in page
    assert page.index("<h3>实务单元</h3>") < page.index("单元课")


# Resuming --------------------------------------------------------------------------


def test_continue_link_follows_last_visit(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    first, second = world.lessons1

    fresh = learner.get(f"/courses/{world.course1}").get_data(as_text=True)
    learner.get(f"/courses/{world.course1}/lessons/{second}")
    later = learner.get(f"/courses/{world.course1}").get_data(as_text=True)

    assert f'href="/courses/{world.course1}/lessons/{first}">' in fresh
    assert "c1 第1课" in fresh.split('class="button primary"', 1)[1].split("</a>")[0]
    assert "c1 第2课" in later.split('class="button primary"', 1)[1].split("</a>")[0]


def _primary_buttons(page: str) -> list[str]:
    return [part.split("</a>")[0] for part in page.split('class="button primary"')[1:]]


def test_continue_link_leads_to_quiz_after_lessons(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    for lesson in world.lessons1:
        learner.get(f"/courses/{world.course1}/lessons/{lesson}")
        learner.post(f"/courses/{world.course1}/lessons/{lesson}/complete")

    page = learner.get(f"/courses/{world.course1}").get_data(as_text=True)

    buttons = _primary_buttons(page)
    assert len(buttons) == 1
    assert f'href="/quizzes/{world.quiz}"' in buttons[0]
    assert "/lessons/" not in buttons[0]


def test_continue_link_absent_once_course_complete(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    lesson = world.lessons2[0]
    learner.get(f"/courses/{world.course2}/lessons/{lesson}")
    learner.post(f"/courses/{world.course2}/lessons/{lesson}/complete")

    page = learner.get(f"/courses/{world.course2}").get_data(as_text=True)

    assert "You completed this course" in page
    assert _primary_buttons(page) == []


def _post_json(session, url, payload, token=None):
    return session.client.post(
        url,
        data=json.dumps(payload),
        content_type="application/json",
        headers={"X-CSRFToken": token or session.csrf},
    )


def test_reading_position_saved_and_restored(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    lesson = world.lessons1[0]
    url = f"/courses/{world.course1}/lessons/{lesson}/position"

    lesson_url = f"/courses/{world.course1}/lessons/{lesson}"

    page = learner.get(lesson_url).get_data(as_text=True)
    saved = _post_json(learner, url, {"position": 640})
    again = learner.get(lesson_url).get_data(as_text=True)

    visit = db.session.scalar(sa.select(CourseVisit))
    assert f'data-position-url="{url}"' in page
    assert "js/lesson-position.js" in page
    assert saved.status_code == 200
    assert saved.json == {"saved": True}
    assert (visit.lesson_id, visit.position_permille) == (lesson, 640)
    assert 'data-position="640"' in again


def _visit() -> CourseVisit:
    db.session.expire_all()
    return db.session.scalar(sa.select(CourseVisit))


def test_reopening_a_lesson_within_a_minute_writes_nothing(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    first, second = world.lessons1
    lesson_url = f"/courses/{world.course1}/lessons/{{}}"

    learner.get(lesson_url.format(first))
    opened = _visit().visited_at
    learner.get(lesson_url.format(first))
    reopened = _visit().visited_at
    learner.get(lesson_url.format(second))
    moved = _visit()

    assert reopened == opened
    assert moved.lesson_id == second
    assert moved.visited_at >= opened


def test_reopening_a_lesson_later_refreshes_the_visit(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    lesson_url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}"
    learner.get(lesson_url)
    visit = _visit()
    stale = visit.visited_at - course_services.VISIT_REFRESH
    visit.visited_at = stale
    db.session.commit()

    learner.get(lesson_url)

    assert _visit().visited_at > stale + course_services.VISIT_REFRESH / 2


def test_position_change_saved_at_once(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    lesson = world.lessons1[0]
    url = f"/courses/{world.course1}/lessons/{lesson}/position"
    learner.get(f"/courses/{world.course1}/lessons/{lesson}")

    first = _post_json(learner, url, {"position": 200})
    second = _post_json(learner, url, {"position": 300})

    assert first.status_code == second.status_code == 200
    assert _visit().position_permille == 300


def test_lesson_title_is_plain_text(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")

    page = learner.get(f"/courses/{world.course1}/lessons/{world.lessons1[0]}")
    title = page.get_data(as_text=True).split("<title>")[1].split("</title>")[0]

    assert "<script" not in title
    assert page.get_data(as_text=True).count("js/lesson-position.js") == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"position": 1001},
        {"position": -1},
        {"position": "10"},
        {"position": True},
        [],
    ],
)
def test_position_rejects_bad_values(world, login, payload):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}/position"

    response = _post_json(learner, url, payload)

    assert response.status_code == 400
    assert response.json["error"] == (
        "The reading position must be a whole number from 0 to 1000."
    )


def test_position_needs_csrf(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}/position"

    response = _post_json(learner, url, {"position": 10}, token="forged")

    assert response.status_code == 400
    assert response.is_json
    assert response.json["error"] == "csrf"
    assert db.session.scalar(sa.select(CourseVisit)) is None


def test_position_without_csrf_header_returns_json(world, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}/position"

    response = learner.client.post(
        url,
        data=json.dumps({"position": 10}),
        content_type="application/json",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 400
    assert response.is_json
    assert response.json["error"] == "csrf"


def test_position_of_unenrolled_learner(world, login):
    learner = login("counselor2")
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}/position"

    response = _post_json(learner, url, {"position": 10})

    assert response.status_code == 404


def test_lesson_form_offers_modules_and_upload(world, trainer, draft):
    trainer.post(f"/manage/courses/{draft}/modules", data={"title": "理论单元"})

    page = trainer.get(f"/manage/courses/{draft}/lessons/new").get_data(as_text=True)
    course_page = trainer.get(f"/manage/courses/{draft}").get_data(as_text=True)

    assert 'enctype="multipart/form-data"' in page
    assert 'name="upload"' in page
    assert '<option value="file"' in page
    assert ">理论单元</option>" in page
    assert "<h3>理论单元</h3>" in course_page
    assert "Version 2" in course_page


def test_published_course_page_offers_new_version(world, trainer):
    page = trainer.get(f"/manage/courses/{world.course1}").get_data(as_text=True)

    assert f'action="/manage/courses/{world.course1}/versions"' in page
    assert "Save course" not in page
    assert "Add a lesson" not in page


def test_published_lesson_form_is_read_only(world, trainer):
    url = f"/manage/courses/{world.course1}/lessons/{world.lessons1[0]}"

    page = trainer.get(url).get_data(as_text=True)

    assert "Save lesson" not in page
    assert "Create a new version of the course to edit them." in page


def test_video_position_saved_and_restored(world, trainer, login, draft):
    _lesson_post(trainer, draft, {"title": "视频课", "kind": "video"}, ("a.mp4", MP4))
    lesson = _lessons(draft)[-1]
    learner = _publish_and_enrol(world, trainer, login, draft)
    lesson_url = f"/courses/{draft}/lessons/{lesson.id}"

    learner.get(lesson_url)
    saved = _post_json(learner, f"{lesson_url}/position", {"position": 250})
    page = learner.get(lesson_url).get_data(as_text=True)

    video_tag = page.split("<video", 1)[1].split(">", 1)[0]
    assert saved.status_code == 200
    assert f'data-position-url="{lesson_url}/position"' in video_tag
    assert 'data-position="250"' in video_tag
    assert "js/lesson-position.js" in page
    assert 'data-position-url' not in page.split("<video", 1)[0]
