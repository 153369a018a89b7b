"""The certificate PDF: one A4 landscape page, CJK text embedded and extractable."""

import io
import logging
import shutil
import subprocess

import pytest
import weasyprint
from pypdf import PdfReader
from weasyprint import HTML

from certificates import render
from certificates.render import (
    DataURIOnlyFetcher,
    display_width,
    name_font_size,
    render_certificate_pdf,
)

A4_LANDSCAPE_PT = (841.89, 595.28)
LONG_MIXED_NAME = "阿卜杜热合曼·买买提明 Abdurahman Mamatimin"


def certificate_data(**overrides) -> dict:
    data = {
        "holder_name": "欧阳明辉",
        "employee_no": "T2019001",
        "institution_name": "树人示范大学",
        "institution_name_en": "Shuren Demo University",
        "programme_title": "初级辅导员岗位培训",
        "level": "junior",
        "hours": "40.0",
        "issued_on": "2026-05-01",
        "expires_on": "2029-04-30",
        "serial": "SR-2026-000123",
        "verification_code": "ABCD-EFGH-JKMN",
        "verification_url": "http://127.0.0.1:5000/verify/ABCD-EFGH-JKMN",
    }
    data.update(overrides)
    return data


def page_text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def embedded_fonts(pdf: bytes) -> dict[str, int]:
    """Map each embedded font's BaseFont name to the size of its font program."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    sizes = {}
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        program = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
        sizes[str(font["/BaseFont"])] = (
            len(program.get_object().get_data()) if program else 0
        )
    return sizes


@pytest.fixture
def weasyprint_warnings(caplog):
    """Collect WeasyPrint's warnings, such as ".notdef glyph rendered" (a box)."""
    caplog.set_level(logging.WARNING, logger="weasyprint")

    def collect() -> list[str]:
        return [
            r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")
        ]

    return collect


@pytest.mark.parametrize(
    "name",
    ["欧阳明辉", LONG_MIXED_NAME, "王堃", "李喆", "张堃喆"],
)
def test_pdf_one_page_with_exact_name(app_ctx, weasyprint_warnings, name):
    pdf = render_certificate_pdf(certificate_data(holder_name=name))

    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == tuple(round(v) for v in A4_LANDSCAPE_PT)
    assert name in reader.pages[0].extract_text()
    # A glyph no installed font has would be drawn as a box (.notdef).
    assert not [m for m in weasyprint_warnings() if ".notdef" in m]


def test_pdf_shows_certificate_fields(app_ctx):
    text = page_text(render_certificate_pdf(certificate_data()))

    for expected in (
        "结业证书",
        "Certificate of Completion",
        "初级辅导员岗位培训",
        "40 学时",
        "2026年5月1日",
        "2029年4月30日",
        "树人示范大学",
        "SR-2026-000123",
        "ABCD-EFGH-JKMN",
        "http://127.0.0.1:5000/verify/ABCD-EFGH-JKMN",
        "T2019001",
    ):
        assert expected in text, expected


def test_pdf_without_expiry_omits_valid_until(app_ctx):
    text = page_text(render_certificate_pdf(certificate_data(expires_on=None)))

    assert "有效期至" not in text
    assert "SR-2026-000123" in text


def test_streams_compressed_once_keep_pdf_bytes(app_ctx):
    html = HTML(string="<p>证书编号 SR-2026-000123</p>")
    fonts = render.font_configuration()

    plain = html.render(font_config=fonts).write_pdf(pdf_identifier=b"SR-2026-000123")
    once = html.render(font_config=fonts).write_pdf(
        pdf_identifier=b"SR-2026-000123", finisher=render.compress_streams_once
    )

    assert once == plain
    assert b"/ID [(SR-2026-000123)" in once


def test_pdf_embeds_qr_image(app_ctx):
    reader = PdfReader(io.BytesIO(render_certificate_pdf(certificate_data())))
    contents = reader.pages[0].get_contents().get_data()

    # WeasyPrint draws segno's SVG as vector paths. The QR code of this URL
    # has hundreds of dark modules, so the page has hundreds of path lines.
    assert contents.count(b" re") + contents.count(b" l\n") > 100


@pytest.mark.skipif(
    shutil.which("pdffonts") is None, reason="poppler-utils not installed"
)
def test_pdffonts_lists_embedded_cjk_font(app_ctx, tmp_path):
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render_certificate_pdf(certificate_data(holder_name="张堃喆")))

    output = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = output.splitlines()[2:]
    cjk_rows = [row for row in rows if "CJK" in row or "WenQuanYi" in row]
    assert cjk_rows, output
    for row in rows:
        # Columns: name, type, encoding, emb, sub, uni, object id.
        emb, sub, uni = row.split()[-5:-2]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row


def test_long_names_shrink_the_font():
    short = name_font_size("欧阳明辉")
    long = name_font_size(LONG_MIXED_NAME)
    longest = name_font_size("欧" * 100)

    assert display_width("欧阳明辉") == 8
    assert display_width("Ab 欧") == 5
    assert short == 36
    assert long < short
    assert longest < long
    assert longest >= render.fit_font_size("x", 1, max_pt=36, min_pt=11) == 11


@pytest.mark.parametrize(
    "name, title",
    [
        ("欧" * 100, "培" * 200),
        ("W" * 100, "W" * 200),
        (LONG_MIXED_NAME * 2, "初级辅导员岗位培训 " * 20),
    ],
)
def test_maximum_lengths_stay_on_one_page(app_ctx, name, title):
    data = certificate_data(
        holder_name=name[:100],
        programme_title=title[:200],
        institution_name="大" * 200,
        institution_name_en="X" * 200,
        employee_no="E" * 32,
    )
    pdf = render_certificate_pdf(data)

    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_same_data_renders_same_bytes(app_ctx):
    assert render_certificate_pdf(certificate_data()) == render_certificate_pdf(
        certificate_data()
    )


def test_harfbuzz_subsetting_is_active(app_ctx, weasyprint_warnings):
    """Fails when libharfbuzz-subset0 (HarfBuzz >= 4.1) is not installed.

    WeasyPrint 70 then falls back to fontTools and warns. Rendering one
    certificate that way took 79 s against 1.1 s with HarfBuzz 6.0, measured
    once on the development container.
    """
    assert weasyprint.text.ffi.harfbuzz_subset is not None, (
        "WeasyPrint did not load libharfbuzz-subset: "
        "install the libharfbuzz-subset0 package"
    )
    assert render.harfbuzz_subset_available()

    pdf = render_certificate_pdf(certificate_data())

    assert not [m for m in weasyprint_warnings() if "fontTools" in m]
    sizes = embedded_fonts(pdf)
    assert sizes
    # NotoSansCJK-Regular.ttc is about 19 MB, while the subset for one
    # certificate measured under 1 MB with HarfBuzz 6.0.
    assert all(0 < size < 2_000_000 for size in sizes.values()), sizes


def test_font_configuration_is_shared(app_ctx):
    assert render.font_configuration() is render.font_configuration()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/hostname",
        "http://127.0.0.1:9/logo.png",
        "https://example.invalid/x.css",
    ],
)
def test_fetcher_rejects_non_data_urls(caplog, url):
    caplog.set_level(logging.WARNING, logger="lms.certificates")

    with pytest.raises(ValueError):
        DataURIOnlyFetcher().fetch(url)

    assert any("Blocked a fetch" in r.getMessage() for r in caplog.records)


def test_fetcher_loads_data_uris():
    response = DataURIOnlyFetcher().fetch("data:text/plain;base64,aGk=")

    assert response.read() == b"hi"


def test_render_with_file_image_fetches_nothing(caplog, tmp_path):
    secret = tmp_path / "secret.svg"
    secret.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><text>secret</text></svg>'
    )
    caplog.set_level(logging.WARNING)

    pdf = HTML(
        string=f'<p>x</p><img src="{secret.as_uri()}">',
        url_fetcher=DataURIOnlyFetcher(),
    ).write_pdf()

    assert any("Blocked a fetch" in r.getMessage() for r in caplog.records)
    assert "secret" not in page_text(pdf)
