"""Sandboxed certificate bodies: rejected sources, cleaned output, blocked URLs."""

import io
import logging

import pytest
from pypdf import PdfReader

from certificates.designs import TemplateSpec, build_html, placeholder_values, render_pdf, sample_data
from certificates.sandbox import (
    TemplateSourceError,
    check_source,
    clean_html,
    render_body,
)
from certificates.template_models import TemplateLanguage
from certificates.template_services import default_source

FONT = '"Noto Sans CJK SC", sans-serif'


def spec(body: str, css: str = "", **overrides) -> TemplateSpec:
    fields = {
        "page_size": "A4",
        "orientation": "landscape",
        "language": "zh",
        "body_html": body,
        "css": css,
        "font_family": FONT,
    }
    fields.update(overrides)
    return TemplateSpec(**fields)


def values(**overrides) -> dict:
    result = placeholder_values(spec("<p></p>"), sample_data())
    result.update(overrides)
    return result


def page_text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


@pytest.mark.parametrize(
    "source, expected",
    [
        ("{{ config }}", "'config' is not available"),
        ("{{ config.SECRET_KEY }}", "attribute and item access"),
        ("{{ self }}", "'self' is not available"),
        ("{{ request }}", "'request' is not available"),
        ("{{ session }}", "'session' is not available"),
        ("{{ url_for }}", "'url_for' is not available"),
        ("{{ holder_name.__class__ }}", "attribute and item access"),
        ("{{ holder_name['__class__'] }}", "attribute and item access"),
        ("{{ holder_name.upper() }}", "calls are not allowed"),
        ("{% for x in [1] %}{{ loop.index }}{% endfor %}", "attribute and item access"),
        ("{{ lipsum() }}", "calls are not allowed"),
        ("{{ holder_name|attr('__class__') }}", "filter 'attr' is not available"),
        ("{{ holder_name|format('x') }}", "filter 'format' is not available"),
        ("{% include 'base.html' %}", "include"),
        ("{% extends 'base.html' %}", "extends"),
        ("{% import 'x.html' as x %}", "import"),
        ("{% if holder_name is defined %}x{% endif %}", "tests (is ...)"),
        ("{{ holder_name ", "line 1"),
        ("{{ holder_name * 1000000 }}", "* and ** are not allowed"),
        ("{{ 10 ** 9 }}", "* and ** are not allowed"),
    ],
)
def test_check_source_rejects(source, expected):
    with pytest.raises(TemplateSourceError) as error:
        check_source(source)

    assert expected in str(error.value)


@pytest.mark.parametrize(
    "source",
    [
        "<p>{{ holder_name }}</p><script>alert(1)</script>",
        '<p onclick="steal()">{{ holder_name }}</p>',
        '<img src="javascript:alert(1)">',
    ],
)
def test_check_source_rejects_script(source):
    with pytest.raises(TemplateSourceError, match="scripts"):
        check_source(source)


@pytest.mark.parametrize("css", ["p { color: red } </style><script>", "@import url(x.css);"])
def test_check_source_rejects_css_escape(css):
    with pytest.raises(TemplateSourceError, match="CSS"):
        check_source("<p>{{ holder_name }}</p>", css)


def test_check_source_accepts_placeholders_and_loops():
    check_source(
        "{% set who = holder_name|upper %}<p>{{ who }}</p>"
        "{% for part in [serial, hours] %}<span>{{ part }}</span>{% endfor %}"
        "{% if expiry_date %}{{ expiry_date_text|default('') }}{% endif %}"
    )


def test_default_templates_pass_the_check():
    for language in TemplateLanguage:
        body, css = default_source(language)
        check_source(body, css)


def test_external_template_passes_the_check():
    body, css = default_source(TemplateLanguage.ZH, "external-zh")

    check_source(body, css)


def test_render_rejects_config_at_render_time():
    # A body stored before a rule existed is checked again when it renders.
    with pytest.raises(TemplateSourceError, match="'config' is not available"):
        render_body("{{ config }}", values())


def test_render_refuses_attribute_even_past_the_check(monkeypatch):
    from certificates import sandbox

    monkeypatch.setattr(sandbox, "check_source", lambda *a, **kw: None)

    with pytest.raises(TemplateSourceError, match="sandbox rule"):
        render_body("{{ holder_name.__class__.__mro__ }}", values())


def test_render_rejects_model_objects():
    with pytest.raises(TypeError, match="must be plain"):
        render_body("<p>{{ holder_name }}</p>", values(holder_name=object()))


def test_render_escapes_values():
    html = render_body("<p>{{ holder_name }}</p>", values(holder_name="<b>张三</b>"))

    assert "&lt;b&gt;张三&lt;/b&gt;" in html
    assert "<b>" not in html


def test_clean_html_keeps_data_images_and_drops_others():
    html = clean_html(
        '<p style="color: red">x</p><img src="data:image/png;base64,AAAA">'
        '<img src="http://example.com/a.png"><img src="file:///etc/passwd">'
        '<a href="http://example.com">link</a><iframe src="data:text/html,x"></iframe>'
    )

    assert 'style="color: red"' in html
    assert 'src="data:image/png;base64,AAAA"' in html
    assert "example.com" not in html
    assert "/etc/passwd" not in html
    assert "<iframe" not in html
    assert "<a" not in html


def test_pdf_renders_without_file_and_http_urls(app_ctx, caplog):
    body = (
        '<div class="box"><p>{{ holder_name }}</p>'
        '<img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png"></div>'
    )
    css = (
        ".box { background: url(file:///etc/passwd); }"
        " p { background-image: url('http://127.0.0.1:9/bg.png'); }"
        ' @font-face { font-family: X; src: url("file:///etc/hostname"); }'
    )

    with caplog.at_level(logging.WARNING, logger="lms.certificates"):
        pdf = render_pdf(spec(body, css), sample_data())

    assert "欧阳明辉" in page_text(pdf)
    assert b"root:" not in pdf
    blocked = [r.getMessage() for r in caplog.records if "Blocked a fetch" in r.getMessage()]
    assert any("file:///etc/passwd" in message for message in blocked)
    assert any("http://127.0.0.1:9/bg.png" in message for message in blocked)


def test_build_html_drops_script_from_values_and_body():
    html = build_html(
        spec("<p>{{ holder_name }}</p>"), values(holder_name="<script>x()</script>")
    )

    assert "<script" not in html


def test_pdf_text_contains_holder_name(app_ctx):
    body, css = default_source(TemplateLanguage.EN)
    data = dict(sample_data(), holder_name="Zhang Wei 张伟")

    pdf = render_pdf(spec(body, css, language="en"), data)

    text = page_text(pdf)
    assert "Zhang Wei 张伟" in text
    assert "Pass" in text
    assert "1 May 2026" in text
