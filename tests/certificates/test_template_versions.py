"""Template versions: frozen issue data, identical re-downloads, defaults, images, fit."""

import hashlib
import io
import logging

import pytest
import sqlalchemy as sa
from PIL import Image
from pypdf import PdfReader

from certificates import services, template_services
from certificates.designs import PAGE_SIZES_MM, render_pdf, sample_data
from certificates.render import CertificateRenderError
from certificates.template_models import CertificateTemplate, TemplateVersion
from certificates.template_services import NewImage, TemplateError
from lms.accounts.models import Role
from lms.audit import AuditEntry
from lms.extensions import db
from tests.certificates.builders import issue, make_institution, make_programme, make_user
from tests.conftest import count

SIMPLE_BODY = (
    '<section class="page"><h1>{{ institution }}</h1>'
    '<p class="name" style="font-size: {{ holder_font_size }}pt">{{ holder_name }}</p>'
    "<p>{{ programme }} · {{ hours }} · {{ grade }}</p>"
    "<p>{{ issue_date_text }} {{ expiry_date_text }} {{ serial }}</p>"
    '{% if logo %}<img class="logo" src="{{ logo }}" alt="">{% endif %}'
    '<img class="qr" src="{{ qr_code }}" alt=""></section>'
)
SIMPLE_CSS = ".qr { width: 25mm; } .logo { width: 20mm; }"


def png_bytes(color=(200, 0, 0)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def fields(**overrides) -> dict:
    result = {
        "page_size": "A4",
        "orientation": "landscape",
        "language": "zh",
        "body_html": SIMPLE_BODY,
        "css": SIMPLE_CSS,
        "validity_months": None,
    }
    result.update(overrides)
    return result


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def school(app_ctx):
    institution = make_institution()
    trainer = make_user(institution, "trainer1", Role.TRAINER)
    counselor = make_user(institution, "c1", full_name="欧阳明辉")
    programme = make_programme(institution)
    return {
        "institution": institution,
        "trainer": trainer,
        "counselor": counselor,
        "programme": programme,
        "admin": make_user(institution, "admin1", Role.ADMIN),
    }


def choose(school, template, programme=None) -> None:
    template_services.update_programme_settings(
        programme or school["programme"],
        school["admin"],
        template_id=template.id,
        renews_programme_id=None,
    )


def test_saving_adds_a_version(school):
    template = template_services.create_template(
        school["institution"], school["trainer"], "简洁证书", **fields()
    )
    first = template.current_version

    second = template_services.save_version(
        template, school["trainer"], **fields(css=SIMPLE_CSS + " h1 { color: red; }")
    )

    assert (first.number, second.number) == (1, 2)
    assert template.current_version.id == second.id
    assert "color: red" not in db.session.get(TemplateVersion, first.id).css
    assert count(TemplateVersion) == 2
    saved = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="certificate_template.saved")
    ).all()
    assert len(saved) == 2


def test_save_rejects_sandbox_violation(school, english):
    template = template_services.create_template(
        school["institution"], school["trainer"], "简洁证书", **fields()
    )

    with pytest.raises(TemplateError) as error:
        template_services.save_version(
            template, school["trainer"], **fields(body_html="<p>{{ config }}</p>")
        )

    assert error.value.field == "body_html"
    assert "'config' is not available" in str(error.value)


@pytest.mark.parametrize(
    "override, field",
    [
        ({"page_size": "A3"}, "page_size"),
        ({"orientation": "diagonal"}, "orientation"),
        ({"language": "fr"}, "language"),
        ({"body_html": "  "}, "body_html"),
        ({"validity_months": 0}, "validity_months"),
        ({"css": "p{} </style>"}, "css"),
    ],
)
def test_save_rejects_bad_fields(school, override, field):
    with pytest.raises(TemplateError) as error:
        template_services.create_template(
            school["institution"], school["trainer"], "坏模板", **fields(**override)
        )

    assert error.value.field == field


def test_duplicate_name_rejected(school, english):
    template_services.create_template(
        school["institution"], school["trainer"], "简洁证书", **fields()
    )

    with pytest.raises(TemplateError, match="exists"):
        template_services.create_template(
            school["institution"], school["trainer"], "简洁证书", **fields()
        )


def test_defaults_seeded_once(school):
    first = template_services.ensure_default_templates(school["institution"])
    second = template_services.ensure_default_templates(school["institution"])

    assert {code: t.id for code, t in first.items()} == {
        code: t.id for code, t in second.items()
    }
    assert set(first) == {"default-zh", "default-en"}
    assert count(CertificateTemplate) == 2
    assert first["default-en"].current_version.language.value == "en"


def test_issue_uses_default_zh_template(school):
    cert = issue(school["counselor"], school["programme"])

    version = db.session.get(TemplateVersion, cert.template_version_id)
    assert version.template.code == "default-zh"
    assert cert.render_data["grade"] == "pass"
    text = page_texts(services.pdf_bytes(cert))[0]
    assert "欧阳明辉" in text
    assert "结业证书" in text


def test_programme_template_is_used(school):
    template = template_services.create_template(
        school["institution"], school["trainer"], "English", **fields(language="en")
    )
    choose(school, template)

    cert = issue(school["counselor"], school["programme"])

    assert cert.template_version_id == template.current_version.id
    text = page_texts(services.pdf_bytes(cert))[0]
    assert "Pass" in text
    assert "1 May 2026" in text


def test_redownload_identical_after_edit_and_rename(school):
    template = template_services.create_template(
        school["institution"], school["trainer"], "简洁证书", **fields()
    )
    choose(school, template)
    cert = issue(school["counselor"], school["programme"])
    original = services.pdf_bytes(cert)
    frozen = dict(cert.render_data)

    template_services.save_version(
        template,
        school["trainer"],
        **fields(body_html="<p>新版 {{ holder_name }}</p>", css="p { color: blue; }"),
    )
    school["counselor"].full_name = "欧阳改名"
    db.session.flush()
    services.pdf_path(cert).unlink()
    again = services.pdf_bytes(cert)

    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(original).hexdigest()
    assert again == original
    assert cert.render_data == frozen
    assert "欧阳明辉" in page_texts(again)[0]
    assert "新版" not in page_texts(again)[0]


def test_new_issue_uses_new_version(school):
    template = template_services.create_template(
        school["institution"], school["trainer"], "简洁证书", **fields()
    )
    choose(school, template)
    other = make_user(school["institution"], "c2", full_name="李喆")
    first = issue(school["counselor"], school["programme"])
    version_two = template_services.save_version(
        template, school["trainer"], **fields(body_html="<p>新版 {{ holder_name }}</p>")
    )

    second = issue(other, school["programme"])

    assert first.template_version_id != second.template_version_id
    assert second.template_version_id == version_two.id
    assert "新版 李喆" in page_texts(services.pdf_bytes(second))[0]


def test_template_validity_applies_without_programme_validity(school):
    programme = make_programme(school["institution"], "no-expiry", validity_months=None)
    template = template_services.create_template(
        school["institution"], school["trainer"], "两年有效", **fields(validity_months=24)
    )
    choose(school, template, programme)

    cert = issue(school["counselor"], programme)

    assert cert.expires_on.isoformat() == "2028-04-30"
    assert cert.render_data["expires_on"] == "2028-04-30"


def test_programme_validity_wins_over_template(school):
    template = template_services.create_template(
        school["institution"], school["trainer"], "两年有效", **fields(validity_months=24)
    )
    choose(school, template)

    cert = issue(school["counselor"], school["programme"])

    assert cert.expires_on.isoformat() == "2029-04-30"


def test_images_embedded_as_data_uris(school):
    template = template_services.create_template(
        school["institution"],
        school["trainer"],
        "带图",
        images={"logo": NewImage("logo.png", io.BytesIO(png_bytes()))},
        **fields(),
    )
    version = template.current_version

    spec = template_services.spec_of(version)

    assert spec.logo.startswith("data:image/png;base64,")
    assert spec.seal == ""
    pdf = render_pdf(spec, sample_data())
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(page.images) >= 1


def test_images_carry_over_and_can_be_removed(school):
    template = template_services.create_template(
        school["institution"],
        school["trainer"],
        "带图",
        images={"seal": NewImage("seal.jpg", io.BytesIO(jpeg_bytes()))},
        **fields(),
    )
    carried = template_services.save_version(template, school["trainer"], **fields())
    removed = template_services.save_version(
        template, school["trainer"], remove_images=("seal",), **fields()
    )

    assert carried.seal_file == template.versions[-1].seal_file
    assert carried.seal_sha256
    assert removed.seal_file is None


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "filename, content, message",
    [
        ("logo.gif", b"GIF89a....", "PNG or JPEG"),
        ("logo.png", b"not an image", "not a PNG or JPEG"),
    ],
)
def test_bad_image_rejected(school, filename, content, message, english):
    with pytest.raises(TemplateError) as error:
        template_services.create_template(
            school["institution"],
            school["trainer"],
            "坏图",
            images={"logo": NewImage(filename, io.BytesIO(content))},
            **fields(),
        )

    assert error.value.field == "logo"
    assert message in str(error.value)


def test_changed_image_file_stops_render(school):
    from lms import uploads

    template = template_services.create_template(
        school["institution"],
        school["trainer"],
        "带图",
        images={"logo": NewImage("logo.png", io.BytesIO(png_bytes()))},
        **fields(),
    )
    path = uploads.path_of(template_services.ASSET_AREA, template.current_version.logo_file)
    path.write_bytes(png_bytes((0, 200, 0)))

    with pytest.raises(CertificateRenderError, match="changed"):
        template_services.spec_of(template.current_version)


@pytest.mark.parametrize("page_size", ["A4", "A5", "Letter"])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_long_name_shrinks_to_one_page(school, page_size, orientation, caplog):
    # No fixed frame: a spacer fills 90% of the page, so a long
    # name at its first size needs a second page and must shrink.
    width, height = PAGE_SIZES_MM[page_size]
    spacer_mm = round(((width if orientation == "landscape" else height) - 20) * 0.9)
    body = (
        f'<div style="height: {spacer_mm}mm"></div>'
        '<p style="margin: 0; font-size: {{ holder_font_size }}pt; line-height: 1.2">'
        "{{ holder_name }}</p>"
    )
    template = template_services.create_template(
        school["institution"],
        school["trainer"],
        f"{page_size}-{orientation}",
        **fields(body_html=body, css="", page_size=page_size, orientation=orientation),
    )
    data = dict(sample_data(), holder_name="阿卜杜热合曼·买买提明 Abdurahman " * 20)

    with caplog.at_level(logging.INFO, logger="lms.certificates"):
        pdf = render_pdf(template_services.spec_of(template.current_version), data)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert "阿卜杜热合曼" in reader.pages[0].extract_text()
    if (page_size, orientation) == ("A4", "landscape"):
        # The first size is 11 pt here, too large for the space left.
        assert any("retrying with the name" in r.getMessage() for r in caplog.records)


def test_template_that_never_fits_rejected_at_save(school, marked_gettext):
    body = '<div style="height: 900mm"></div><p>{{ holder_name }}</p>'

    with pytest.raises(TemplateError) as error:
        template_services.create_template(
            school["institution"], school["trainer"], "太长", **fields(body_html=body)
        )

    message = str(error.value)
    assert error.value.field == "css"
    assert message.startswith("⟦with the sample data the certificate needs ")
    assert message.endswith("but it must fit on one. Shorten the text or reduce sizes in the template.⟧")


def test_seed_command_is_idempotent(app, school):
    db.session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["lms", "seed-certificate-templates"])
    second = runner.invoke(args=["lms", "seed-certificate-templates"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "uni-a: default-en, default-zh" in first.output
    db.session.expire_all()
    assert count(CertificateTemplate) == 2


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_name_error_is_translatable(school, marked_gettext, name):
    with pytest.raises(TemplateError) as error:
        template_services.create_template(
            school["institution"], school["trainer"], name, **fields()
        )

    assert error.value.field == "name"
    assert str(error.value) == "⟦the name must have 1 to 100 characters.⟧"


def test_taken_name_error_is_translatable(school, marked_gettext):
    template_services.create_template(
        school["institution"], school["trainer"], "简洁证书", **fields()
    )

    with pytest.raises(TemplateError) as error:
        template_services.create_template(
            school["institution"], school["trainer"], "简洁证书", **fields()
        )

    assert str(error.value) == "⟦a template named '简洁证书' exists. Choose another name.⟧"


def test_page_size_error_is_translatable(school, marked_gettext):
    with pytest.raises(TemplateError) as error:
        template_services.create_template(
            school["institution"], school["trainer"], "简洁证书", **fields(page_size="B5")
        )

    assert error.value.field == "page_size"
    assert str(error.value) == "⟦choose A4, A5 or Letter.⟧"


def _age_builtin(template: CertificateTemplate) -> TemplateVersion:
    """Make the template's stored layout an older built-in one, as after an upgrade."""
    version = template.current_version
    version.css = version.css + "\nfooter .ids .code { letter-spacing: 1pt; }"
    db.session.flush()
    return version


def test_refresh_updates_unedited_builtins(school):
    institution = school["institution"]
    found = template_services.ensure_default_templates(institution)
    external = template_services.version_for_external(institution).template
    for template in (*found.values(), external):
        old = _age_builtin(template)
    old.validity_months = 36

    refreshed = template_services.refresh_builtin_layouts(institution)
    again = template_services.refresh_builtin_layouts(institution)

    assert sorted(t.code for t in refreshed) == ["default-en", "default-zh", "external-zh"]
    assert again == []
    for template in refreshed:
        db.session.refresh(template, attribute_names=["versions"])
        current = template.current_version
        assert current.number == 2
        assert current.created_by_id is None
        assert "letter-spacing: 1pt; }\n" not in current.css
        source = "external-zh" if template.code == "external-zh" else None
        assert (current.body_html, current.css) == template_services.default_source(
            current.language, source
        )
    assert external.current_version.validity_months == 36
    entries = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="certificate_template.saved")
    ).all()
    assert len(entries) == 3
    assert all(e.actor_id is None for e in entries)


def test_refresh_keeps_edited_templates(school):
    institution = school["institution"]
    found = template_services.ensure_default_templates(institution)
    edited, with_logo = found["default-zh"], found["default-en"]
    body, css = template_services.default_source(edited.current_version.language)
    template_services.save_version(
        edited, school["trainer"], **fields(body_html=body, css=css + "\n.x { color: red; }")
    )
    _age_builtin(with_logo).logo_file = "logo.png"
    db.session.flush()

    assert template_services.refresh_builtin_layouts(institution) == []
    db.session.refresh(with_logo, attribute_names=["versions"])
    assert with_logo.current_version.number == 1


def test_seed_command_reports_refreshed_templates(app, school):
    found = template_services.ensure_default_templates(school["institution"])
    _age_builtin(found["default-zh"])
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["lms", "seed-certificate-templates"])

    assert result.exit_code == 0, result.output
    assert "updated to the current layout: default-zh" in result.output
