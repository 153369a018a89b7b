"""Uploads over the size limits: the 413 page, and the limits each file input carries."""

import json
import re

import pytest
import sqlalchemy as sa

from courses.models import Course
from lms.accounts.models import User
from lms.extensions import db
from lms.uploads import MB

pytestmark = pytest.mark.usefixtures("english")

UPLOAD_URL = "/people/records/upload"


def _post_file(session, size: int, **headers):
    # The body is built in memory: the test client would spool a large file
    # to a temporary file, which a rejected request leaves open.
    boundary = "size-limit-boundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{session.csrf}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="records.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode() + b"a" * size + f"\r\n--{boundary}--\r\n".encode()
    return session.client.post(
        UPLOAD_URL,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def _limits(page: str, input_id: str) -> tuple[dict, int]:
    """Return the per-extension limits and the request limit of a file input."""
    tag = re.search(rf'<input[^>]*id="{input_id}"[^>]*>', page)
    assert tag, f"no input {input_id}"
    limits = re.search(r'data-max-bytes="([^"]*)"', tag.group())
    request = re.search(r'data-max-request-bytes="(\d+)"', tag.group())
    assert limits, f"input {input_id} has no data-max-bytes"
    assert request, f"input {input_id} has no data-max-request-bytes"
    return json.loads(limits.group(1).replace("&#34;", '"')), int(request.group(1))


def test_too_large_page_names_limit(app, seeded, login, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * MB)
    hr = login("hr")
    form_url = f"http://localhost{UPLOAD_URL}"

    response = _post_file(hr, 2 * MB + 1, Referer=form_url)

    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The upload is larger than 2 MB" in page
    assert "choose a smaller file and send the form again" in page
    assert f'<a href="{form_url}">Back to the form</a>' in page


def test_too_large_page_ignores_other_sites(app, seeded, login, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * MB)
    hr = login("hr")

    response = _post_file(hr, 2 * MB + 1, Referer="https://evil.example/form")

    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The upload is larger than 2 MB" in page
    assert "evil.example" not in page
    assert "Back to the form" not in page


def test_too_large_json_names_limit(app, seeded, login, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * MB)
    hr = login("hr")

    response = _post_file(hr, 2 * MB + 1, Accept="application/json")

    assert response.status_code == 413
    assert response.is_json
    assert response.get_json()["error"] == 413
    assert "larger than 2 MB" in response.get_json()["message"]


def test_default_limit_is_50_mb(app, seeded, login):
    hr = login("hr")

    response = _post_file(hr, 50 * MB + 1)

    assert response.status_code == 413
    assert "The upload is larger than 50 MB" in response.get_data(as_text=True)


def test_records_upload_input_carries_limit(seeded, login):
    page = login("hr").get(UPLOAD_URL).get_data(as_text=True)

    limits, request = _limits(page, "file")
    assert limits == {"*": 5 * MB}
    assert request == 50 * MB
    assert "/static/js/file-size.js" in page
    assert "more than the {limit} MB this field accepts" in page


def test_evidence_input_carries_limit(seeded, login):
    page = login("counselor1").get("/records/external").get_data(as_text=True)

    limits, _request = _limits(page, "evidence")
    assert limits == {"*": 10 * MB}
    assert "/static/js/file-size.js" in page


def test_hr_entry_input_carries_limit(seeded, app_ctx, login):
    person = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    page = login("hr").get(f"/people/{person.id}/external/new").get_data(as_text=True)

    limits, _request = _limits(page, "evidence")
    assert limits == {"*": 10 * MB}
    assert "/static/js/file-size.js" in page


def test_lesson_input_limits_by_type(app, seeded, app_ctx, login, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 40 * MB)
    trainer = db.session.scalar(sa.select(User).filter_by(username="trainer"))
    # The form is for the course's authors, so take a course the trainer wrote.
    course = db.session.scalar(
        sa.select(Course).filter_by(institution_id=trainer.institution_id, author_id=trainer.id)
    )
    page = login("trainer").get(f"/manage/courses/{course.id}/lessons/new").get_data(as_text=True)

    limits, request = _limits(page, "upload")
    # The 50 MB video limit is capped at the 40 MB request limit.
    assert limits == {"*": 20 * MB, "mp4": 40 * MB, "webm": 40 * MB}
    assert request == 40 * MB
    assert "/static/js/file-size.js" in page
