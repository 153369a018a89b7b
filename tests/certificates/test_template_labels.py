"""Template lists show translated language and orientation labels, not stored codes."""

import pytest

from certificates import template_services
from lms.accounts.models import Role
from lms.extensions import db
from tests.certificates.builders import make_institution, make_user

BODY = "<p>{{ holder_name }}</p>"


@pytest.fixture
def template_id(app_ctx):
    institution = make_institution()
    make_user(institution, "trainer1", Role.TRAINER)
    template = template_services.create_template(
        institution, None, "英文横向证书", page_size="A4", orientation="landscape",
        language="en", body_html=BODY, css="", validity_months=None,
    )
    db.session.commit()
    return template.id


def _cells(page: str) -> str:
    return page.split("<tbody>")[1].split("</tbody>")[0]


def test_template_list_in_chinese(template_id, login):
    cells = _cells(login("trainer1").get("/certificates/templates").get_data(as_text=True))

    assert "<td>英文</td>" in cells
    assert "A4 横向" in cells
    assert "landscape" not in cells
    assert "<td>en</td>" not in cells


def test_template_versions_in_chinese(template_id, login):
    page = login("trainer1").get(f"/certificates/templates/{template_id}/versions")
    cells = _cells(page.get_data(as_text=True))

    assert "<td>英文</td>" in cells
    assert "A4 横向" in cells
    assert "landscape" not in cells


def test_template_list_in_english(template_id, login, english):
    cells = _cells(login("trainer1").get("/certificates/templates").get_data(as_text=True))

    assert "<td>English</td>" in cells
    assert "A4 Landscape" in cells
