"""Template designer pages: create, edit as new version, preview, programme choice."""

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from certificates import template_services
from certificates.template_models import (
    CertificateTemplate,
    ProgrammeCertificateSettings,
    TemplateVersion,
)
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution
from tests.certificates.builders import make_institution, make_programme, make_user
from tests.conftest import count

BODY = '<p style="font-size: {{ holder_font_size }}pt">{{ holder_name }}</p><p>{{ serial }}</p>'


def form_data(**overrides) -> dict:
    data = {
        "name": "简洁证书",
        "page_size": "A4",
        "orientation": "landscape",
        "language": "zh",
        "validity_months": "",
        "body_html": BODY,
        "css": "p { text-align: center; }",
    }
    data.update(overrides)
    return data


def png_file(name="logo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(buffer, format="PNG")
    buffer.seek(0)
    return (buffer, name)


@pytest.fixture
def world(app_ctx):
    institution = make_institution()
    other = make_institution("uni-b", "另一所大学", prefix="OT")
    make_user(institution, "trainer1", Role.TRAINER)
    make_user(institution, "admin1", Role.ADMIN)
    make_user(institution, "hr1", Role.HR)
    make_user(institution, "c1")
    make_user(other, "trainer-b", Role.TRAINER)
    programme = make_programme(institution)
    other_template = template_services.create_template(
        other, None, "别校模板", **{
            "page_size": "A4", "orientation": "landscape", "language": "zh",
            "body_html": BODY, "css": "", "validity_months": None,
        }
    )
    db.session.commit()
    return {
        "institution": institution.id,
        "programme": programme.id,
        "other_template": other_template.id,
        "other_version": other_template.current_version.id,
    }


def create(trainer, **overrides):
    return trainer.post(
        "/certificates/templates/new",
        data=form_data(**overrides),
        content_type="multipart/form-data",
    )


def only_template(name="简洁证书") -> CertificateTemplate:
    db.session.expire_all()
    return db.session.scalar(sa.select(CertificateTemplate).filter_by(name=name))


def test_create_template(world, login):
    trainer = login("trainer1")

    response = create(trainer, logo=png_file())

    assert response.status_code == 302
    template = only_template()
    assert template.institution_id == world["institution"]
    version = template.current_version
    assert version.number == 1
    assert version.logo_file.endswith(".png")
    assert version.created_by.username == "trainer1"


def test_new_form_prefilled_with_default(world, login):
    page = login("trainer1").get("/certificates/templates/new").get_data(as_text=True)

    assert "结业证书" in page
    assert "holder_font_size" in page


def test_save_with_config_shows_clear_error(world, login, english):
    trainer = login("trainer1")

    response = create(trainer, body_html="<p>{{ config.SECRET_KEY }}</p>")

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "attribute and item access" in page
    assert count(CertificateTemplate) == 1


def test_save_with_unknown_name_shows_clear_error(world, login, english):
    response = create(login("trainer1"), body_html="<p>{{ request }}</p>")

    assert response.status_code == 400
    assert "&#39;request&#39; is not available" in response.get_data(as_text=True)


def test_save_with_script_rejected(world, login, english):
    response = create(login("trainer1"), body_html="<script>alert(1)</script>")

    assert response.status_code == 400
    assert "scripts" in response.get_data(as_text=True)


def test_bad_logo_rejected_with_field(world, login, english):
    response = create(login("trainer1"), logo=(io.BytesIO(b"GIF89a"), "logo.gif"))

    assert response.status_code == 400
    assert "PNG or JPEG" in response.get_data(as_text=True)
    assert only_template() is None


def test_edit_saves_new_version(world, login):
    trainer = login("trainer1")
    create(trainer, logo=png_file())
    template = only_template()
    first_id = template.current_version.id

    response = trainer.post(
        f"/certificates/templates/{template.id}",
        data=form_data(name="简洁证书二", body_html="<p>二 {{ holder_name }}</p>"),
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    template = only_template("简洁证书二")
    assert [v.number for v in template.versions] == [2, 1]
    assert template.current_version.logo_file == template.versions[1].logo_file
    assert db.session.get(TemplateVersion, first_id).body_html == BODY
    page = trainer.get(f"/certificates/templates/{template.id}/versions")
    assert page.status_code == 200
    assert "测试trainer1" in page.get_data(as_text=True)
    edit_page = trainer.get(f"/certificates/templates/{template.id}").get_data(as_text=True)
    assert 'name="remove_logo"' in edit_page
    assert 'name="remove_seal"' not in edit_page


def test_edit_form_shows_current_version(world, login):
    trainer = login("trainer1")
    create(trainer)
    template = only_template()

    page = trainer.get(f"/certificates/templates/{template.id}").get_data(as_text=True)

    assert "{{ holder_name }}" in page
    assert "text-align: center" in page


def test_other_institution_template_is_404(world, login):
    trainer = login("trainer1")

    assert trainer.get(f"/certificates/templates/{world['other_template']}").status_code == 404
    preview = f"/certificates/templates/versions/{world['other_version']}/preview"
    assert trainer.get(preview).status_code == 404
    response = trainer.post(
        f"/certificates/templates/{world['other_template']}",
        data=form_data(),
        content_type="multipart/form-data",
    )
    assert response.status_code == 404


@pytest.mark.parametrize("username", ["hr1", "c1"])
def test_designer_forbidden_for_others(world, login, username):
    assert login(username).get("/certificates/templates").status_code == 403


def test_preview_saved_version_pdf_and_png(world, login):
    trainer = login("trainer1")
    create(trainer)
    version = only_template().current_version

    pdf = trainer.get(f"/certificates/templates/versions/{version.id}/preview")
    png = trainer.get(f"/certificates/templates/versions/{version.id}/preview?format=png")

    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    assert png.status_code == 200
    assert png.headers["Content-Type"] == "image/png"
    assert png.data.startswith(b"\x89PNG")


def test_live_preview_renders_unsaved_form(world, login):
    from pypdf import PdfReader

    trainer = login("trainer1")

    response = trainer.post(
        "/certificates/templates/preview",
        data=form_data(body_html="<p>预览 {{ holder_name }} {{ serial }}</p>", format="pdf"),
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "预览 欧阳明辉 SR-2026-000123" in text
    assert count(CertificateTemplate) == 1
    assert count(TemplateVersion) == 1


def test_preview_uses_own_institution_address(world, login, app, monkeypatch):
    from pypdf import PdfReader

    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://peixun.example.edu.cn/")
    trainer = login("trainer-b")

    response = trainer.post(
        "/certificates/templates/preview",
        data=form_data(
            body_html="<p>{{ institution }}|{{ verification_url }}</p>", format="pdf"
        ),
        content_type="multipart/form-data",
    )

    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "另一所大学|https://peixun.example.edu.cn/verify/" in text
    # The address is wrapped over two lines in the PDF; its code has two dashes.
    address = text.split("/verify/", 1)[1].replace("\n", "")
    assert address.startswith("ABCD-EFGH-JKMN"), address
    assert "树人示范大学" not in text
    assert "127.0.0.1" not in text


def test_live_preview_reports_sandbox_error(world, login, english):
    response = login("trainer1").post(
        "/certificates/templates/preview",
        data=form_data(body_html="<p>{{ self }}</p>", format="png"),
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "'self' is not available" in response.get_data(as_text=True)


def test_programme_chooses_template(world, login):
    trainer = login("trainer1")
    create(trainer)
    template = only_template()
    institution = db.session.get(Institution, world["institution"])
    refresher = make_programme(institution, "refresh", title="复训")
    db.session.commit()

    response = trainer.post(
        f"/certificates/programmes/{refresher.id}",
        data={"template_id": str(template.id), "renews_programme_id": str(world["programme"])},
    )

    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(ProgrammeCertificateSettings, refresher.id)
    assert row.template_id == template.id
    assert row.renews_programme_id == world["programme"]


def test_programme_cannot_choose_other_institution_template(world, login):
    response = login("trainer1").post(
        f"/certificates/programmes/{world['programme']}",
        data={"template_id": str(world["other_template"]), "renews_programme_id": "0"},
    )

    assert response.status_code == 400
    assert db.session.get(ProgrammeCertificateSettings, world["programme"]) is None


def test_programme_settings_other_institution_is_404(world, login):
    assert login("trainer-b").get(f"/certificates/programmes/{world['programme']}").status_code == 404


def test_index_lists_templates_and_programmes(world, login):
    trainer = login("trainer1")
    create(trainer)

    page = trainer.get("/certificates/templates").get_data(as_text=True)

    assert "简洁证书" in page
    assert "初级辅导员岗位培训" in page
    assert "别校模板" not in page


def test_edit_removes_image(world, login):
    trainer = login("trainer1")
    create(trainer, logo=png_file())
    template = only_template()

    response = trainer.post(
        f"/certificates/templates/{template.id}",
        data=form_data(remove_logo="y"),
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    template = only_template()
    assert template.current_version.logo_file is None
    assert template.versions[1].logo_file is not None


@pytest.mark.parametrize(
    "body, message",
    [
        ("<p>{{ config.SECRET_KEY }}</p>", "⟦line 1: attribute and item access"),
        ("<p>\n{{ request }}</p>", "⟦line 2: &#39;request&#39; is not available"),
        ("<p>{{ holder_name.upper() }}</p>", "⟦line 1: calls are not allowed."),
        ("<p>{{ holder_name ", "⟦line 1: the template syntax is invalid. Jinja reports:"),
        ("<p>{% if holder_name is defined %}x{% endif %}</p>", "⟦line 1: tests (is ...)"),
    ],
)
def test_sandbox_errors_are_translatable(world, login, marked_gettext, body, message):
    response = create(login("trainer1"), body_html=body)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_css_error_is_translatable_on_css(world, login, marked_gettext):
    response = create(login("trainer1"), css="@import url(x.css);")
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "⟦the CSS contains &#39;%(text)s&#39;" not in page
    assert "⟦the CSS contains &#39;@import&#39;, which is not allowed." in page


def test_programme_settings_text_id_named(world, login, english):
    response = login("trainer1").post(
        f"/certificates/programmes/{world['programme']}",
        data={"template_id": "abc", "renews_programme_id": "x1"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“abc” is not one of the listed options; choose one from the list." in page
    assert "“x1” is not one of the listed options; choose one from the list." in page
    assert "could not coerce" not in page
    assert db.session.get(ProgrammeCertificateSettings, world["programme"]) is None


def test_a5_default_layout_rejected(world, login, english):
    """Is the built-in layout refused on an A5 page, where it cuts off the holder's name?"""
    body, css = template_services.default_source(template_services.TemplateLanguage.ZH)

    response = create(
        login("trainer1"), page_size="A5", orientation="portrait", body_html=body, css=css
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "CSS: with the sample data, the certificate cuts off the holder&#39;s name" in page
    assert "Shorten the text or reduce sizes in the template." in page
    assert count(CertificateTemplate) == 1


def test_clipped_serial_rejected(world, login, english):
    """Is a layout refused when hidden overflow cuts off the serial and the code?"""
    body = (
        '<div class="frame"><p>{{ holder_name }}</p>'
        '<p class="ids">{{ serial }} {{ verification_code }}</p></div>'
    )
    css = ".frame { height: 20mm; overflow: hidden; } .ids { margin-top: 40mm; }"

    response = create(login("trainer1"), body_html=body, css=css)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "cuts off the serial number and the verification code" in page
    assert count(CertificateTemplate) == 1


def test_a4_default_layouts_saved(world, login):
    """Do the built-in layouts on A4 pages still save?"""
    trainer = login("trainer1")

    for number, language in enumerate(template_services.TemplateLanguage):
        body, css = template_services.default_source(language)
        for orientation in ("landscape", "portrait"):
            response = create(
                trainer,
                name=f"布局{number}{orientation}",
                language=language.value,
                orientation=orientation,
                body_html=body,
                css=css,
            )
            assert response.status_code == 302, (language, orientation)


def test_serial_only_in_alt_text_saved(world, login):
    """Is a body that puts the serial only in an attribute still saved?"""
    body = '<p>{{ holder_name }}</p><img src="{{ qr_code }}" alt="{{ serial }}">'

    response = create(login("trainer1"), body_html=body)

    assert response.status_code == 302


def _field_errors(response) -> list[str]:
    return re.findall(r'<p class="field-error">(.*?)</p>', response.get_data(as_text=True))


def test_letters_in_validity_one_message(world, login):
    response = create(login("trainer1"), validity_months="abc")

    assert response.status_code == 400
    assert _field_errors(response) == ["有效期（月）：请输入1至600之间的整数。"]
    assert only_template() is None


def test_letters_in_validity_one_message_english(world, login, english):
    response = create(login("trainer1"), validity_months="two")

    assert response.status_code == 400
    assert _field_errors(response) == ["Validity (months): Enter a whole number from 1 to 600."]


def test_validity_out_of_range_keeps_message(world, login, english):
    response = create(login("trainer1"), validity_months="0")

    assert response.status_code == 400
    assert _field_errors(response) == ["Validity (months): Enter a number from 1 to 600."]
