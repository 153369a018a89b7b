"""Shuren's font embedding gives the same PDF bytes as WeasyPrint's own, with less work."""

import pytest
import weasyprint
from weasyprint.pdf import fonts as pdf_fonts

from certificates import designs, font_embedding, template_services
from certificates.template_models import TemplateLanguage
from lms.config import certificate_font_family

pytestmark = pytest.mark.skipif(
    font_embedding.unsupported_reason() is not None,
    reason=f"font embedding not installable: {font_embedding.unsupported_reason()}",
)


def _spec(language: TemplateLanguage) -> designs.TemplateSpec:
    body, css = template_services.default_source(language)
    return designs.TemplateSpec(
        page_size="A4",
        orientation="landscape",
        language=language.value,
        body_html=body,
        css=css,
        font_family=certificate_font_family(),
    )


def _render(app, language: TemplateLanguage, **data) -> bytes:
    with app.app_context():
        return designs.render_pdf(_spec(language), {**designs.sample_data(), **data})


@pytest.fixture
def weasyprint_only():
    """Run a block with WeasyPrint's own font embedding, then install Shuren's again."""

    class Switch:
        def __enter__(self):
            font_embedding.uninstall()

        def __exit__(self, *exc):
            font_embedding.install()

    yield Switch()
    font_embedding.install()


def test_installed_by_the_renderer():
    assert font_embedding.installed()
    assert pdf_fonts.Font._harfbuzz_subset is font_embedding._subset_in_one_pass


@pytest.mark.parametrize(
    ("language", "data"),
    [
        (TemplateLanguage.ZH, {}),
        (TemplateLanguage.EN, {"holder_name": "Ouyang Minghui"}),
        # Rare characters of Chinese names (in CJK Extension B and beyond the
        # common set) and one that no installed font has (U+E000, private use).
        (TemplateLanguage.ZH, {"holder_name": "王𠮷堃\ue000"}),
    ],
    ids=["chinese", "english", "rare-and-missing-characters"],
)
def test_same_bytes_as_weasyprint(app, weasyprint_only, language, data):
    ours = _render(app, language, **data)
    with weasyprint_only:
        theirs = _render(app, language, **data)
    assert ours == theirs


def test_full_font_file_never_copied(app, monkeypatch):
    copied = []
    original = font_embedding._original_face_data

    def recording(hb_object, *args, **kwargs):
        data = original(hb_object, *args, **kwargs)
        copied.append(len(data))
        return data

    monkeypatch.setattr(font_embedding, "_original_face_data", recording)
    _render(app, TemplateLanguage.ZH)
    assert copied, "no subset was read out of HarfBuzz"
    # The Noto Sans CJK collections are about 20 MB; a page's subsets are
    # well under one.
    assert max(copied) < 2_000_000


def test_file_content_read_before_subset(app, monkeypatch):
    read = []

    def reading_first(font, to_unicode, hinting):
        read.append(font.file_content[:4])
        read.append(len(font.file_content))
        font_embedding._subset_in_one_pass(font, to_unicode, hinting)

    expected = _render(app, TemplateLanguage.ZH)
    monkeypatch.setattr(pdf_fonts.Font, "_harfbuzz_subset", reading_first)
    assert _render(app, TemplateLanguage.ZH) == expected
    # Both faces come out of TrueType collections of about 20 MB.
    assert read == [b"ttcf", read[1], b"ttcf", read[3]]
    assert min(read[1], read[3]) > 10_000_000


def test_other_weasyprint_version_keeps_its_code(monkeypatch, weasyprint_only):
    monkeypatch.setattr(weasyprint, "__version__", "99.0")
    with weasyprint_only:
        assert "99.0" in font_embedding.unsupported_reason()
        assert font_embedding.install() is False
        assert pdf_fonts.Font._harfbuzz_subset is font_embedding._original_subset
        assert pdf_fonts.get_hb_object_data is font_embedding._original_face_data


def test_uninstall_restores_weasyprint(weasyprint_only):
    with weasyprint_only:
        assert not font_embedding.installed()
        assert pdf_fonts.Font.__init__ is font_embedding._original_init
        assert "file_content" not in vars(pdf_fonts.Font)
    assert font_embedding.installed()
