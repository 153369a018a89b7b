"""Parallel writing requests from several gunicorn workers on one SQLite file.

Each learner completes all lessons of a course at once from many
connections. Every request must succeed and the course must be completed
exactly once: a deferred SQLite transaction that reads and then writes
would fail with "database is locked" or miss the last lesson.
"""

import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from lms import PROJECT_ROOT, create_app
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, csrf_from
from tests.factories import make_course, make_institution, make_programme, make_user

LEARNERS = 6
LESSONS = 6
WORKERS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping HTTP client that reports redirects instead of following them."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def log_in(self, username: str) -> str:
        _status, page = self.request("/login")
        status, _ = self.request(
            "/login",
            {"username": username, "password": TEST_PASSWORD, "csrf_token": csrf_from(page)},
        )
        assert status == 302, f"login of {username} failed with {status}"
        _status, page = self.request("/account/password")
        return csrf_from(page)


@pytest.fixture
def database(tmp_path):
    url = f"sqlite:///{tmp_path}/concurrency.sqlite3"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    )
    from courses import services

    with app.app_context():
        db.create_all()
        institution = make_institution()
        course = make_course(institution, "c1", lessons=LESSONS)
        programme = make_programme(institution, "p1", [course])
        for number in range(LEARNERS):
            user = make_user(institution, f"learner{number}")
            services.enrol(user, programme)
        db.session.commit()
        lesson_ids = [lesson.id for lesson in course.lessons]
        course_id = course.id
    yield app, url, course_id, lesson_ids
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def server(database, tmp_path):
    _app, url, _course_id, _lesson_ids = database
    port = _free_port()
    env = dict(
        os.environ,
        LMS_DATABASE_URL=url,
        LMS_SECRET_KEY="concurrency-test-secret",
        LMS_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        LMS_LOGIN_RATE_LIMIT="1000 per minute",
        LMS_LOGIN_ACCOUNT_RATE_LIMIT="1000 per minute",
        LMS_UPLOAD_DIR=str(tmp_path / "uploads"),
        LMS_CERTIFICATE_DIR=str(tmp_path / "certificates"),
        # The lessons are opened just before they are completed.
        LMS_LESSON_MIN_TIME_SHARE="0",
    )
    env.pop("LMS_TEST_DATABASE_URL", None)
    log_path = tmp_path / "gunicorn.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
         "--timeout", "60", "wsgi:app"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                raise RuntimeError(log_path.read_text(errors="replace")[-2000:])
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_parallel_lesson_completions_lose_nothing(database, server):
    app, _url, course_id, lesson_ids = database
    browsers = []
    for number in range(LEARNERS):
        browser = Browser(server)
        browsers.append((browser, browser.log_in(f"learner{number}")))

    for browser, _csrf in browsers:
        for lesson_id in lesson_ids:
            browser.request(f"/courses/{course_id}/lessons/{lesson_id}")

    def complete(job):
        browser, csrf, lesson_id = job
        return browser.request(
            f"/courses/{course_id}/lessons/{lesson_id}/complete", {"csrf_token": csrf}
        )

    jobs = [(b, csrf, lesson) for b, csrf in browsers for lesson in lesson_ids]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(complete, jobs))

    statuses = sorted({status for status, _body in results})
    assert statuses == [302], [body[:300] for status, body in results if status != 302][:3]

    from courses.models import CourseCompletion, LessonProgress
    from lms.records.models import HoursEntry

    with app.app_context():
        progress = db.session.scalar(sa.select(sa.func.count(LessonProgress.id)))
        completions = db.session.scalars(sa.select(CourseCompletion.user_id)).all()
        hours = db.session.scalar(sa.select(sa.func.count(HoursEntry.id)))
    assert progress == LEARNERS * LESSONS
    assert sorted(completions) == sorted(set(completions))
    assert len(completions) == LEARNERS
    assert hours == LEARNERS


def _other_writer_is_blocked(path: str) -> bool:
    import sqlite3

    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    finally:
        other.close()


@pytest.mark.parametrize("method, blocked", [("POST", True), ("GET", False)])
def test_writing_request_holds_write_lock_from_first_read(database, tmp_path, method, blocked):
    app, _url, _course_id, _lesson_ids = database
    from courses.models import Lesson

    with app.test_request_context("/", method=method):
        db.session.scalar(sa.select(sa.func.count(Lesson.id)))
        assert _other_writer_is_blocked(str(tmp_path / "concurrency.sqlite3")) is blocked
        db.session.rollback()
    assert not _other_writer_is_blocked(str(tmp_path / "concurrency.sqlite3"))


def test_cli_and_jobs_can_ask_for_the_write_lock(database, tmp_path):
    app, _url, _course_id, _lesson_ids = database
    with app.app_context():
        with db.engine.connect() as connection:
            connection = connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                assert _other_writer_is_blocked(str(tmp_path / "concurrency.sqlite3"))
