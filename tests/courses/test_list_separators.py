"""Messages that list several values separate them with 、 in the Chinese UI."""

import io
import re

import pytest

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


@pytest.fixture
def trainer(world, login):
    return login("trainer")


@pytest.fixture
def draft(world, trainer):
    """Return the id of a draft version 2 of course 2."""
    response = trainer.post(f"/manage/courses/{world.course2}/versions")
    return int(re.search(r"/manage/courses/(\d+)", response.headers["Location"]).group(1))


def test_removed_markup_listed_with_chinese_separator(trainer, draft):
    response = trainer.post(
        f"/manage/courses/{draft}/lessons/new",
        data={
            "title": "阅读",
            "kind": "text",
            "duration_minutes": "20",
            "body_html": '<p onclick="a()" ondblclick="b()">正文<font>字</font></p>'
            "<script>alert(1)</script>",
        },
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "&lt;font&gt;、&lt;script&gt;" in page
    assert "onclick、ondblclick" in page


def test_upload_types_listed_with_chinese_separator(trainer, draft):
    response = trainer.post(
        f"/manage/courses/{draft}/lessons/new",
        data={
            "title": "视频",
            "kind": "video",
            "duration_minutes": "20",
            "upload": (io.BytesIO(b"%PDF-1.7\n"), "clip.mp4"),
        },
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "mp4、webm" in page
    assert "mp4, webm" not in page
