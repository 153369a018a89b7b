"""PDF rendering of certificates from a template version and plain values.

``render_pdf(spec, data)`` is the whole pipeline: it needs no database, no
request and no app config, only a ``TemplateSpec`` (the version's content
with its images as ``data:`` URIs) and the certificate's ``render_data``.
"""

import base64
import re
from dataclasses import dataclass
from datetime import date
from typing import Optional

from markupsafe import escape
from weasyprint import HTML

from certificates import logger
from certificates.render import (
    EM_PER_DISPLAY_UNIT,
    MM_TO_PT,
    CertificateRenderError,
    DataURIOnlyFetcher,
    chinese_date,
    compress_streams_once,
    credential_attachment,
    display_width,
    font_configuration,
    plain_hours,
    qr_data_uri,
)
from certificates.sandbox import clean_css, render_body

#: Page sizes in millimetres, portrait (width, height).
PAGE_SIZES_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "Letter": (215.9, 279.4)}

LEVEL_LABELS = {
    "zh": {"junior": "初级", "intermediate": "中级", "senior": "高级"},
    "en": {"junior": "Junior", "intermediate": "Intermediate", "senior": "Senior"},
}
#: Labels of result codes stored in ``render_data["grade"]``. Other text is
#: shown unchanged.
GRADE_LABELS = {
    "zh": {"pass": "合格", "merit": "良好", "distinction": "优秀"},
    "en": {"pass": "Pass", "merit": "Merit", "distinction": "Distinction"},
}
ENGLISH_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip
#: Share of the page width the holder's name may take on one line.
NAME_WIDTH_SHARE = 0.7
#: Largest and smallest holder name size on an A4 landscape page, in pt;
#: other pages scale both by their width.
NAME_MAX_PT = 36.0
NAME_MIN_PT = 11.0
#: Each retry of a layout that overflows one page multiplies the name size by this.
SHRINK_FACTOR = 0.8
SHRINK_ATTEMPTS = 4
#: Placeholders that a certificate must show whole when its body prints them:
#: whose certificate it is, and what a reader types to verify it.
SHOWN_IN_FULL = ("holder_name", "serial", "verification_code")
#: Tag of the cleaned body HTML, attributes included.
_TAG_RE = re.compile(r"<[^>]*>")
#: Distance in CSS pixels by which a text may cross a clipping edge and still
#: count as shown.
CLIP_TOLERANCE = 1.0

SAMPLE_DATA = {
    "holder_name": "欧阳明辉",
    "employee_no": "T2019001",
    "institution_name": "树人示范大学",
    "institution_name_en": "Shuren Demo University",
    "programme_title": "初级辅导员岗位培训",
    "level": "junior",
    "hours": "40.0",
    "grade": "pass",
    "issued_on": "2026-05-01",
    "expires_on": "2029-04-30",
    "serial": "SR-2026-000123",
    "verification_code": "ABCD-EFGH-JKMN",
    "verification_url": "http://127.0.0.1:5000/verify/ABCD-EFGH-JKMN",
}


@dataclass(frozen=True)
class TemplateSpec:
    """Everything a template version contributes to a PDF, as plain values."""

    page_size: str
    orientation: str
    language: str
    body_html: str
    css: str = ""
    font_family: str = "sans-serif"
    #: Images as data: URIs, or "" when the version has none.
    background: str = ""
    logo: str = ""
    signature: str = ""
    seal: str = ""

    def page_width_mm(self) -> float:
        width, height = PAGE_SIZES_MM[self.page_size]
        return height if self.orientation == "landscape" else width


def data_uri(content: bytes, media_type: str) -> str:
    """Return ``content`` as a base64 ``data:`` URI."""
    return f"data:{media_type};base64,{base64.b64encode(content).decode('ascii')}"


def english_date(iso: Optional[str]) -> str:
    """Format an ISO date as 1 May 2026; None or "" gives ""."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


def training_dates(spec_language: str, data: dict) -> str:
    """Write out the dates of a training taken elsewhere; "" for other certificates."""
    start, end = data.get("training_start"), data.get("training_end")
    if not start or not end:
        return ""
    date_text = chinese_date if spec_language == "zh" else english_date
    if start == end:
        return date_text(start)
    separator = "至" if spec_language == "zh" else " – "
    return f"{date_text(start)}{separator}{date_text(end)}"


def holder_font_size(name: str, page_width_mm: float) -> float:
    """Choose the name's size in pt so it fits on one line, within the limits."""
    scale = page_width_mm / 297.0
    box_mm = page_width_mm * NAME_WIDTH_SHARE
    size = box_mm * MM_TO_PT / (max(display_width(name), 1) * EM_PER_DISPLAY_UNIT)
    return round(max(NAME_MIN_PT * scale, min(NAME_MAX_PT * scale, size)), 1)


def placeholder_values(spec: TemplateSpec, data: dict) -> dict:
    """Derive the placeholder values of ``PLACEHOLDERS`` from stored render data."""
    language = spec.language
    date_text = chinese_date if language == "zh" else english_date
    grade = data.get("grade") or ""
    return {
        "holder_name": data["holder_name"],
        "holder_font_size": holder_font_size(data["holder_name"], spec.page_width_mm()),
        "employee_no": data.get("employee_no") or "",
        "institution": data["institution_name"],
        "institution_en": data.get("institution_name_en") or "",
        "programme": data["programme_title"],
        "organiser": data.get("organiser") or "",
        "training_dates": training_dates(language, data),
        "level": LEVEL_LABELS[language].get(data.get("level") or "", ""),
        "hours": plain_hours(data["hours"]),
        "grade": GRADE_LABELS[language].get(grade, grade),
        "issue_date": data["issued_on"],
        "issue_date_text": date_text(data["issued_on"]),
        "expiry_date": data.get("expires_on") or "",
        "expiry_date_text": date_text(data.get("expires_on")),
        "serial": data["serial"],
        "verification_code": data["verification_code"],
        "verification_url": data["verification_url"],
        "qr_code": qr_data_uri(data["verification_url"]),
        "logo": spec.logo,
        "signature": spec.signature,
        "seal": spec.seal,
    }


def _css_string(text: str) -> str:
    """Quote ``text`` as a CSS string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def page_css(spec: TemplateSpec) -> str:
    """Return the page rules that precede, and yield to, the author's CSS."""
    rules = [
        f"@page {{ size: {spec.page_size} {spec.orientation}; margin: 10mm; }}",
        "html, body { margin: 0; padding: 0; }",
        f"body {{ font-family: {spec.font_family}; color: #1f2933; }}",
    ]
    if spec.background:
        if not spec.background.startswith("data:image/"):
            raise ValueError("the background must be a data:image URI")
        rules.append(
            f"@page {{ background: url({_css_string(spec.background)}) "
            "no-repeat center / cover; }"
        )
    return "\n".join(rules)


def build_html(spec: TemplateSpec, values: dict) -> str:
    """Return the complete HTML document of one certificate."""
    body = render_body(spec.body_html, values)
    lang = "zh-CN" if spec.language == "zh" else "en"
    serial = values["serial"].replace("<", "").replace("&", "")
    issued = values["issue_date"].replace("<", "").replace('"', "")
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{serial}</title>"
        f'<meta name="dcterms.created" content="{issued}">'
        '<meta name="generator" content="Shuren">'
        f"<style>{page_css(spec)}</style>"
        f"<style>{clean_css(spec.css)}</style>"
        f"</head><body>{body}</body></html>"
    )


def _layout(spec: TemplateSpec, data: dict):
    """Lay out the certificate, shrinking the name until the layout fits one page."""
    values = placeholder_values(spec, data)
    floor = NAME_MIN_PT * spec.page_width_mm() / 297.0 * SHRINK_FACTOR**SHRINK_ATTEMPTS
    for attempt in range(SHRINK_ATTEMPTS + 1):
        html = build_html(spec, values)
        document = HTML(string=html, url_fetcher=DataURIOnlyFetcher()).render(
            font_config=font_configuration()
        )
        if len(document.pages) == 1:
            return document
        smaller = round(max(values["holder_font_size"] * SHRINK_FACTOR, floor), 1)
        if smaller >= values["holder_font_size"]:
            break
        logger.info(
            "Certificate %s takes %d pages; retrying with the name at %s pt",
            data["serial"],
            len(document.pages),
            smaller,
        )
        values["holder_font_size"] = smaller
    raise CertificateRenderError(
        f"certificate {data['serial']} needs {len(document.pages)} pages with this "
        "template, expected 1: shorten the text or reduce sizes in the template",
        pages=len(document.pages),
    )


def _padding_rect(box) -> tuple[float, float, float, float]:
    """Return the (left, top, right, bottom) edges of ``box``'s padding box."""
    left, top = box.padding_box_x(), box.padding_box_y()
    return (left, top, left + box.padding_width(), top + box.padding_height())


def _shown_text(box, clip: tuple[float, float, float, float]) -> list[str]:
    """Return the texts of ``box`` and its descendants that lie inside ``clip``.

    ``clip`` narrows at every box whose overflow is not visible, because
    WeasyPrint draws nothing of a descendant outside that box's padding box.
    """
    style = getattr(box, "style", None)
    if style is not None and style["overflow"] != "visible":
        left, top, right, bottom = _padding_rect(box)
        clip = (
            max(clip[0], left),
            max(clip[1], top),
            min(clip[2], right),
            min(clip[3], bottom),
        )
    text = getattr(box, "text", None)
    if text is not None:
        inside = (
            box.position_x >= clip[0] - CLIP_TOLERANCE
            and box.position_y >= clip[1] - CLIP_TOLERANCE
            and box.position_x + box.width <= clip[2] + CLIP_TOLERANCE
            and box.position_y + box.height <= clip[3] + CLIP_TOLERANCE
        )
        return [text] if inside else []
    shown = []
    for child in getattr(box, "children", None) or ():
        shown.extend(_shown_text(child, clip))
    return shown


def _without_spaces(text: str) -> str:
    return "".join(text.split())


def hidden_values(spec: TemplateSpec, data: dict) -> list[str]:
    """Return the SHOWN_IN_FULL placeholders that the body prints but the page cuts off.

    A value counts as shown when its text lies on the page and inside every
    box with hidden overflow around it. Line breaks may split it. Raises as
    ``render_pdf`` does.
    """
    document = _layout(spec, data)
    values = placeholder_values(spec, data)
    # Only text outside tags is printed: a value in an attribute (alt, title) is not.
    printed = _without_spaces(_TAG_RE.sub("", render_body(spec.body_html, values)))
    page = document.pages[0]
    # WeasyPrint keeps a page's layout tree only in the private ``_page_box``.
    shown = _without_spaces(
        "".join(_shown_text(page._page_box, (0.0, 0.0, page.width, page.height)))
    )
    hidden = []
    for name in SHOWN_IN_FULL:
        value = _without_spaces(str(escape(values[name])))
        if value and value in printed and _without_spaces(values[name]) not in shown:
            hidden.append(name)
    return hidden


def render_pdf(
    spec: TemplateSpec,
    data: dict,
    *,
    credential_json: Optional[str] = None,
    credential_filename: str = "credential.json",
) -> bytes:
    """Render one certificate page as PDF from a template spec and plain render data.

    ``data`` has the keys of ``Certificate.render_data``. Raises
    CertificateRenderError when the layout cannot fit on one page and
    ``sandbox.TemplateSourceError`` when the body breaks a sandbox rule.
    Equal inputs with the same fonts and WeasyPrint version give equal bytes.
    """
    document = _layout(spec, data)
    attachments = []
    if credential_json:
        attachments.append(
            credential_attachment(
                credential_json, credential_filename, data["issued_on"]
            )
        )
    return document.write_pdf(
        pdf_identifier=data["serial"].encode("ascii", "replace"),
        attachments=attachments,
        finisher=compress_streams_once,
    )


def sample_data(issued_on: Optional[date] = None) -> dict:
    """Return render data of a made-up certificate for previews."""
    data = dict(SAMPLE_DATA)
    if issued_on is not None:
        data["issued_on"] = issued_on.isoformat()
    return data
