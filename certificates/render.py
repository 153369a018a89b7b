"""PDF rendering of certificates with WeasyPrint.

The renderer takes only the plain values stored in ``Certificate.render_data``
and never reads the database, so a later re-render of a stored certificate
produces the same document.
"""

import atexit
import functools
import logging
import threading
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Optional

import pydyf
import segno
from flask import current_app
from weasyprint import HTML, Attachment
from weasyprint.text import ffi as weasyprint_ffi
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from certificates import font_embedding, logger

TEMPLATE = "certificates/certificate_pdf.html"

MM_TO_PT = 72 / 25.4
#: Widths of the text boxes in the template, in millimetres. The page is A4
#: landscape: 277 mm inside the margins, about 240 mm inside the frame.
NAME_BOX_MM = 200
PROGRAMME_BOX_MM = 230
INSTITUTION_BOX_MM = 240
#: Width of one display unit (half a CJK character) in em. An estimate: most
#: Latin glyphs of Noto Sans CJK are narrower, and wider ones (W, M) wrap.
EM_PER_DISPLAY_UNIT = 0.6

LEVEL_LABELS = {
    "junior": "初级 / Junior",
    "intermediate": "中级 / Intermediate",
    "senior": "高级 / Senior",
}

# WeasyPrint logs seven INFO lines per document on this logger.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
# Embeds the same font subsets as WeasyPrint in about 40% less CPU per page.
font_embedding.install()

_font_config: FontConfiguration | None = None
_font_config_lock = threading.Lock()
_missing_subset_logged = False


class CertificateRenderError(Exception):
    """The certificate could not be laid out on exactly one page.

    ``pages`` is the number of pages the layout took, when that is the cause.
    """

    def __init__(self, message: str, pages: int | None = None):
        super().__init__(message)
        self.pages = pages


class DataURIOnlyFetcher(URLFetcher):
    """URL fetcher that loads ``data:`` URIs and rejects every other scheme.

    The certificate template embeds its QR code as a data URI, so any other
    URL (``file:``, ``http:``) can only come from injected content.
    """

    def fetch(self, url, headers=None):
        if not url.lower().startswith("data:"):
            logger.warning(
                "Blocked a fetch of %r while rendering a certificate", url[:200]
            )
            raise ValueError(
                f"certificate rendering loads only data: URIs, not {url[:200]!r}"
            )
        return super().fetch(url, headers)


def font_configuration() -> FontConfiguration:
    """Return the process-wide FontConfiguration, creating it on first use."""
    global _font_config
    with _font_config_lock:
        if _font_config is None:
            _font_config = FontConfiguration()
        return _font_config


@atexit.register
def _release_font_configuration() -> None:
    """Free the process-wide FontConfiguration before the interpreter shuts down.

    Freed during module teardown instead, after a certificate was rendered,
    it crashed the interpreter at exit with a segmentation fault (WeasyPrint
    70, Pango 1.50, Debian 12). The fork server of batch workers exits this
    way. Processes that exit through ``os._exit``, such as multiprocessing
    workers, skip this and do not crash either.
    """
    global _font_config
    with _font_config_lock:
        _font_config = None


def harfbuzz_subset_available() -> bool:
    """Return whether WeasyPrint loaded libharfbuzz-subset (4.1 or newer).

    Without it WeasyPrint 70 falls back to fontTools, which is much slower on
    the CJK fonts (about 19 MB per collection file) and which WeasyPrint
    plans to drop.
    """
    return weasyprint_ffi.harfbuzz_subset is not None and bool(
        weasyprint_ffi.harfbuzz.hb_version_atleast(4, 1, 0)
    )


def display_width(text: str) -> int:
    """Return the display width of ``text``: wide (CJK) characters count 2, others 1."""
    return sum(
        2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text
    )


def fit_font_size(text: str, box_mm: float, max_pt: float, min_pt: float) -> float:
    """Choose a font size in points that fits ``text`` on one line ``box_mm`` wide.

    Text wider than the box at ``min_pt`` wraps instead (the template allows
    breaks anywhere), so it never runs off the page.
    """
    units = max(display_width(text), 1)
    size = box_mm * MM_TO_PT / (units * EM_PER_DISPLAY_UNIT)
    return round(max(min_pt, min(max_pt, size)), 1)


def name_font_size(name: str) -> float:
    """Choose the holder name's font size: 36 pt for short names, down to 11 pt."""
    return fit_font_size(name, NAME_BOX_MM, max_pt=36, min_pt=11)


#: QR mask pattern of every certificate. Readers decode a code with any of
#: the eight masks. segno's automatic choice scores all eight by the ISO/IEC
#: 18004 penalty rules, about 2.5 ms per code (segno 1.6 on a 2-core EPYC VM).
#: Over 600 sample verification URLs, mask 6 had the lowest mean penalty of
#: the eight, about 3% above that of segno's choice for each URL.
QR_MASK = 6


def qr_data_uri(url: str) -> str:
    """Return an SVG QR code for ``url`` as a ``data:`` URI."""
    return segno.make(url, error="m", micro=False, mask=QR_MASK).svg_data_uri(
        scale=4, border=2
    )


def chinese_date(iso: str | None) -> str:
    """Format an ISO date as 2026年5月1日; None or an empty string gives ""."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"


def plain_hours(value) -> str:
    """Format hours without a trailing ".0": "40.0" gives "40", "12.5" stays."""
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if hours == hours.to_integral_value():
        return str(hours.quantize(Decimal(1)))
    return str(hours.normalize())


def template_context(data: dict) -> dict:
    """Derive the values the PDF template shows from ``render_data``."""
    name = data["holder_name"]
    institution = data["institution_name"]
    institution_en = data.get("institution_name_en") or ""
    programme = data["programme_title"]
    return {
        "lang": "zh-CN",
        "font_family": current_app.config["CERTIFICATE_FONT_FAMILY"],
        "holder_name": name,
        "name_size_pt": name_font_size(name),
        "name_box_mm": NAME_BOX_MM,
        "employee_no": data.get("employee_no") or "",
        "institution_name": institution,
        "institution_name_en": institution_en,
        "institution_size_pt": fit_font_size(
            f"{institution} · {institution_en}", INSTITUTION_BOX_MM, max_pt=14, min_pt=9
        ),
        "programme_title": programme,
        "programme_size_pt": fit_font_size(
            programme, PROGRAMME_BOX_MM, max_pt=20, min_pt=11
        ),
        "programme_box_mm": PROGRAMME_BOX_MM,
        "level_label": LEVEL_LABELS.get(data.get("level") or "", ""),
        "hours": plain_hours(data["hours"]),
        "issued_on": data["issued_on"],
        "issued_on_zh": chinese_date(data["issued_on"]),
        "expires_on": data.get("expires_on") or "",
        "expires_on_zh": chinese_date(data.get("expires_on")),
        "serial": data["serial"],
        "verification_code": data["verification_code"],
        "verification_url": data["verification_url"],
        "qr_uri": qr_data_uri(data["verification_url"]),
    }


#: Whether this pydyf computes a stream's compressed bytes in a ``data``
#: property, which ``compress_streams_once`` relies on. Other versions keep
#: compressing twice rather than fail.
_STREAM_DATA_IS_PROPERTY = isinstance(getattr(pydyf.Stream, "data", None), property)


class _CompressedOnceStream(pydyf.Stream):
    """A PDF stream that compresses its content once, however often it is serialised."""

    @functools.cached_property
    def data(self) -> bytes:
        return pydyf.Stream.data.fget(self)


def compress_streams_once(document, pdf: pydyf.PDF) -> None:
    """Keep each stream of ``pdf`` from being compressed twice; a WeasyPrint finisher.

    With a ``pdf_identifier``, pydyf (0.13) serialises every object a second
    time to hash the file for the /ID entry, and a stream compresses its
    content with zlib level 9 each time. On the default certificate, whose
    streams are mostly CJK font subsets, the second pass cost about 8 ms of
    85 ms. The bytes written stay the same. WeasyPrint calls finishers after
    drawing the pages, when no stream changes any more.
    """
    if not _STREAM_DATA_IS_PROPERTY:
        return
    for pdf_object in pdf.objects:
        if type(pdf_object) is pydyf.Stream:
            pdf_object.__class__ = _CompressedOnceStream


def credential_attachment(
    credential_json: str, filename: str, issued_on: str
) -> Attachment:
    """Return the signed credential as a PDF file attachment.

    WeasyPrint stamps attachments with the current time unless given dates,
    so both dates are midnight of the issue day to keep the PDF reproducible.
    """
    stamp = datetime.combine(date.fromisoformat(issued_on), time.min)
    return Attachment(
        string=credential_json,
        url_fetcher=DataURIOnlyFetcher(),
        name=filename,
        description="Open Badges 3.0 credential (signed, eddsa-jcs-2022)",
        created=stamp,
        modified=stamp,
        # ISO 32000-2 AFRelationship: a machine-readable form of the page.
        # WeasyPrint 70 writes it only into PDF/A output.
        relationship="Alternative",
    )


def render_certificate_pdf(
    data: dict,
    credential_json: Optional[str] = None,
    credential_filename: str = "credential.json",
) -> bytes:
    """Render a one-page A4 landscape certificate PDF from plain values.

    ``credential_json``, when given, is embedded as the file attachment
    ``credential_filename``. Raises CertificateRenderError when the layout
    takes more than one page. The PDF identifier and creation date come from
    the serial and the issue date, so rendering the same data and credential
    twice with the same fonts and WeasyPrint version gives the same bytes.
    """
    global _missing_subset_logged
    if not harfbuzz_subset_available() and not _missing_subset_logged:
        logger.error(
            "libharfbuzz-subset0 (HarfBuzz >= 4.1) is not loaded; WeasyPrint "
            "falls back to slow fontTools subsetting of CJK fonts"
        )
        _missing_subset_logged = True

    context = template_context(data)
    # Rendered without Flask's context processors, so neither current_user
    # nor the UI locale is injected and the document depends on ``data`` alone.
    html = current_app.jinja_env.get_template(TEMPLATE).render(**context)
    document = HTML(string=html, url_fetcher=DataURIOnlyFetcher()).render(
        font_config=font_configuration()
    )
    if len(document.pages) != 1:
        logger.error(
            "Certificate %s laid out on %d pages, expected 1",
            data["serial"],
            len(document.pages),
        )
        raise CertificateRenderError(
            f"certificate {data['serial']} needs {len(document.pages)} pages, "
            "expected 1",
            pages=len(document.pages),
        )
    attachments = []
    if credential_json:
        attachments.append(
            credential_attachment(
                credential_json, credential_filename, data["issued_on"]
            )
        )
    return document.write_pdf(
        pdf_identifier=data["serial"].encode("ascii"),
        attachments=attachments,
        finisher=compress_streams_once,
    )
