"""Images in lesson text: uploaded with the lesson form, served to the institution only."""

import html
import io
import os
import re
from datetime import timedelta

import pytest
from PIL import Image

from courses.authoring import clean_html
from courses.models import Course, Lesson
from lms.accounts.models import Role
from lms.db import now_utc
from lms.extensions import db
from lms.organisations.models import Institution
from tests.factories import make_user
from tests.upload_cleanup import age_file, run_cleanup, use_empty_upload_dir

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english")



def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()
SOURCE = re.compile(r'<img src="(/lesson-images/\d+/[0-9a-f]{32}\.png)" alt="流程图.png">')


@pytest.fixture
def trainer(world, login):
    session = login("trainer")
    session.post("/language/en")
    return session


@pytest.fixture
def draft(world, trainer):
    """Return the id of a draft version 2 of course 2."""
    response = trainer.post(f"/manage/courses/{world.course2}/versions")
    return int(re.search(r"/manage/courses/(\d+)", response.headers["Location"]).group(1))


def _post(trainer, course_id, data, images=()):
    form = {"kind": "text", "duration_minutes": "20", **data}
    form["images"] = [(io.BytesIO(content), name) for name, content in images]
    return trainer.post(
        f"/manage/courses/{course_id}/lessons/new", data=form, content_type="multipart/form-data"
    )


def _last_lesson(course_id: int) -> Lesson:
    db.session.expire_all()
    return db.session.get(Course, course_id).lessons[-1]


def test_clean_html_keeps_only_uploaded_image_sources():
    own = '<img src="/lesson-images/3/' + "a" * 32 + '.png" alt="图" width="300">'
    foreign = '<img src="https://tracker.example/p.png" onerror="alert(1)" alt="外">'

    assert clean_html(own) == own
    assert clean_html(foreign) == ""
    assert clean_html('<p>图<img src="/lesson-images/3/../secret.png"></p>') == "<p>图</p>"


def test_clean_html_drops_source_with_trailing_newline():
    source = "/lesson-images/3/" + "a" * 32 + ".png"

    assert clean_html(f'<p>图<img src="{source}\n"></p>') == "<p>图</p>"
    assert clean_html(f'<p>图<img src="{source}\n" alt="x"></p>') == "<p>图</p>"


def test_uploaded_image_is_added_and_served(world, trainer, login, draft):
    response = _post(
        trainer, draft, {"title": "谈话流程", "body_html": "<p>见下图</p>"}, [("流程图.png", PNG)]
    )

    assert response.status_code == 302
    body = _last_lesson(draft).body_html
    assert body.startswith("<p>见下图</p>")
    source = SOURCE.search(body).group(1)
    served = trainer.get(source)
    content = served.data
    served.close()
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert content == PNG
    learner = login("counselor1").get(source)
    learner.close()
    assert learner.status_code == 200


def test_image_hidden_from_other_institution(world, trainer, login, draft):
    response = _post(trainer, draft, {"title": "谈话流程", "body_html": ""}, [("流程图.png", PNG)])
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    source = SOURCE.search(_last_lesson(draft).body_html).group(1)
    make_user(db.session.get(Institution, world.uni_b), "trainer_b", Role.TRAINER)
    db.session.commit()

    assert login("trainer_b").get(source).status_code == 404
    anonymous = trainer.client.application.test_client().get(source)
    assert anonymous.status_code == 302


def test_form_error_keeps_text_and_images(world, trainer, draft):
    response = _post(
        trainer, draft, {"title": "", "body_html": "<p>已写好的内容</p>"}, [("流程图.png", PNG)]
    )

    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "<p>已写好的内容</p>" in page
    assert SOURCE.search(page) is not None


def test_fake_image_rejected_text_kept(world, trainer, draft):
    lessons_before = len(db.session.get(Course, draft).lessons)

    response = _post(
        trainer, draft, {"title": "谈话流程", "body_html": "<p>正文</p>"}, [("图.png", b"<svg/>")]
    )

    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "does not match its extension" in page
    assert "<p>正文</p>" in page
    assert len(_last_lesson(draft).course.lessons) == lessons_before


def test_damaged_image_rejected(world, trainer, draft):
    response = _post(
        trainer, draft, {"title": "谈话流程", "body_html": "<p>正文</p>"},
        [("坏图.png", PNG[:40])],
    )

    assert response.status_code == 400
    assert "The image 坏图.png is damaged or incomplete" in response.get_data(as_text=True)


def test_large_image_rejected(app, world, trainer, draft, monkeypatch):
    # Below the size at which the upload would be spooled to a temporary file.
    monkeypatch.setitem(app.config, "LESSON_IMAGE_MAX_BYTES", 300_000)
    large = PNG + b"\x00" * 300_000

    response = _post(
        trainer, draft, {"title": "谈话流程", "body_html": "<p>正文</p>"}, [("大图.png", large)]
    )

    assert response.status_code == 400
    assert "The image 大图.png is larger than 0.2 MB" in response.get_data(as_text=True)


def _stored(upload_dir, source: str):
    institution_id, name = source.split("/")[2:]
    return upload_dir / f"lesson_images_{institution_id}" / name


def _served(session, source: str) -> int:
    response = session.get(source)
    response.close()
    return response.status_code


def test_cleanup_deletes_old_images_no_lesson_shows(
    app, world, trainer, draft, monkeypatch, tmp_path
):
    upload_dir = use_empty_upload_dir(app, monkeypatch, tmp_path)
    abandoned_page = _post(
        trainer, draft, {"title": "", "body_html": "<p>正文</p>"}, [("流程图.png", PNG)]
    )
    assert abandoned_page.status_code == 400
    abandoned = SOURCE.search(html.unescape(abandoned_page.get_data(as_text=True))).group(1)
    saved = _post(trainer, draft, {"title": "谈话流程", "body_html": ""}, [("流程图.png", PNG)])
    assert saved.status_code == 302
    in_draft = SOURCE.search(_last_lesson(draft).body_html).group(1)
    # An image that only a lesson of the published version shows.
    shown_page = _post(trainer, draft, {"title": "", "body_html": ""}, [("流程图.png", PNG)])
    in_published = SOURCE.search(html.unescape(shown_page.get_data(as_text=True))).group(1)
    published = _last_lesson(world.course2)
    published.body_html = f'<p>见图</p><p><img src="{in_published}" alt="图"></p>'
    db.session.commit()
    young_page = _post(trainer, draft, {"title": "", "body_html": ""}, [("流程图.png", PNG)])
    young = SOURCE.search(html.unescape(young_page.get_data(as_text=True))).group(1)
    for source in (abandoned, in_draft, in_published):
        age_file(_stored(upload_dir, source))

    result = run_cleanup()

    assert result["lesson_images_deleted"] == 1
    assert result["files_deleted"] == 1
    assert not _stored(upload_dir, abandoned).exists()
    assert _served(trainer, abandoned) == 404
    for source in (in_draft, in_published, young):
        assert _stored(upload_dir, source).exists()
        assert _served(trainer, source) == 200


def test_cleanup_leaves_other_entries_of_image_folders(app, app_ctx, monkeypatch, tmp_path):
    upload_dir = use_empty_upload_dir(app, monkeypatch, tmp_path)
    folder = upload_dir / "lesson_images_7"
    folder.mkdir(parents=True)
    foreign = folder / "notes.png"
    foreign.write_bytes(PNG)
    outside = tmp_path / ("b" * 32 + ".png")
    outside.write_bytes(PNG)
    link = folder / ("c" * 32 + ".png")
    link.symlink_to(outside)
    for path in (foreign, outside):
        age_file(path)
    stamp = (now_utc() - timedelta(days=3)).timestamp()
    os.utime(link, (stamp, stamp), follow_symlinks=False)

    result = run_cleanup()

    assert result["lesson_images_deleted"] == 0
    assert foreign.exists()
    assert link.is_symlink()
    assert outside.exists()
