"""Certificate templates: defaults, versions, images, and programme settings."""

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional

import sqlalchemy as sa
from babel.lists import format_list
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy.exc import IntegrityError

from certificates import logger
from certificates.designs import TemplateSpec, data_uri
from certificates.render import CertificateRenderError
from certificates.sandbox import TemplateSourceError, check_source
from certificates.template_models import (
    CertificateTemplate,
    Orientation,
    PageSize,
    ProgrammeCertificateSettings,
    TemplateLanguage,
    TemplateVersion,
)
from courses.models import Programme
from lms import audit, uploads
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.organisations.models import Institution

ASSET_AREA = "certificate_assets"
ASSET_KINDS = ("background", "logo", "signature", "seal")
ASSET_EXTENSIONS = ("png", "jpg", "jpeg")
MAX_ASSET_BYTES = 5 * uploads.MB
uploads.register_field("certificate_image", lambda: {"*": MAX_ASSET_BYTES})
#: An A4 page at 600 dpi is about 35 million pixels, so larger images only
#: cost memory when WeasyPrint decodes them.
MAX_ASSET_PIXELS = 40_000_000
DEFAULTS_DIR = Path(__file__).parent / "default_templates"
#: Seeded templates: code, name and language.
DEFAULT_TEMPLATES = (
    ("default-zh", "默认中文证书", TemplateLanguage.ZH),
    ("default-en", "Default English certificate", TemplateLanguage.EN),
)


#: Seeded on first use for certificates of trainings taken elsewhere.
EXTERNAL_TEMPLATE = ("external-zh", "校外培训认定证书", TemplateLanguage.ZH)


#: Names of the placeholders that ``designs.hidden_values`` checks, as a
#: message lists them.
HIDDEN_VALUE_LABELS = {
    "holder_name": _l("the holder's name"),
    "serial": _l("the serial number"),
    "verification_code": _l("the verification code"),
}


class TemplateError(ValueError):
    """A template change was rejected; the message names the field and the fix."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass
class NewImage:
    """An uploaded image for one of ASSET_KINDS."""

    filename: str
    stream: BinaryIO


def can_author(user: User) -> bool:
    """Return whether ``user`` may design templates: trainers and admins."""
    return user.role in (Role.TRAINER, Role.ADMIN)


def templates_of(institution_id: int) -> list[CertificateTemplate]:
    return list(
        db.session.scalars(
            sa.select(CertificateTemplate)
            .where(CertificateTemplate.institution_id == institution_id)
            .order_by(CertificateTemplate.name)
        )
    )


# --- versions -----------------------------------------------------------------


def _store_image(kind: str, image: NewImage) -> tuple[str, str]:
    try:
        stored = uploads.store(
            ASSET_AREA,
            image.filename,
            image.stream,
            allowed=ASSET_EXTENSIONS,
            max_bytes=MAX_ASSET_BYTES,
        )
    except uploads.UploadError as exc:
        raise TemplateError(_upload_message(exc), field=kind) from None
    content = uploads.path_of(ASSET_AREA, stored.name).read_bytes()
    try:
        _check_image(kind, content)
    except TemplateError:
        uploads.remove(ASSET_AREA, stored.name)
        raise
    return stored.name, hashlib.sha256(content).hexdigest()


def _check_image(kind: str, content: bytes) -> None:
    """Raise TemplateError unless ``content`` decodes as an image of sane size.

    The magic bytes alone admit a truncated or corrupt file, which WeasyPrint
    would then fail to draw on every certificate.
    """
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
            image.verify()
    except Image.DecompressionBombError:
        width, height = MAX_ASSET_PIXELS + 1, 1
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        logger.info("Certificate %s image rejected: %s", kind, exc)
        raise TemplateError(
            _("the image is damaged or incomplete: export it again as PNG or JPEG"),
            field=kind,
        ) from None
    if width * height > MAX_ASSET_PIXELS:
        raise TemplateError(
            _(
                "the image has more than %(max)s million pixels: "
                "scale it down and upload it again",
                max=MAX_ASSET_PIXELS // 1_000_000,
            ),
            field=kind,
        )


def _upload_message(exc: uploads.UploadError) -> str:
    if exc.code == "size":
        return _("the image is larger than %(size)d MB.", size=exc.limit // uploads.MB)
    if exc.code == "content":
        return _("the file is not a PNG or JPEG image although its name says so.")
    if exc.code == "extension":
        return _("upload a PNG or JPEG image (.png, .jpg).")
    return _("the file is empty.")


def save_version(
    template: CertificateTemplate,
    author: User,
    *,
    page_size: str,
    orientation: str,
    language: str,
    body_html: str,
    css: str,
    validity_months: Optional[int],
    images: Optional[dict[str, NewImage]] = None,
    remove_images: tuple[str, ...] = (),
) -> TemplateVersion:
    """Add a new version of ``template``; earlier versions stay unchanged.

    Images not uploaded again are carried over from the current version
    unless named in ``remove_images``. The body is checked by the sandbox
    and rendered once with sample data, so a template that cannot fit one
    page is rejected here and not at issue time. Raises TemplateError.
    """
    fields = _checked_fields(page_size, orientation, language, body_html, css)
    if validity_months is not None and not 1 <= validity_months <= 600:
        raise TemplateError(
            _("the validity must be 1 to 600 months, or empty for no expiry."),
            field="validity_months",
        )
    previous = template.current_version
    version = TemplateVersion(
        template_id=template.id,
        number=(previous.number + 1) if previous else 1,
        validity_months=validity_months,
        created_by_id=author.id if author else None,
        **fields,
    )
    for kind in ASSET_KINDS:
        if images and images.get(kind) is not None:
            name, digest = _store_image(kind, images[kind])
        elif previous is not None and kind not in remove_images:
            name = getattr(previous, f"{kind}_file")
            digest = getattr(previous, f"{kind}_sha256")
        else:
            name = digest = None
        setattr(version, f"{kind}_file", name)
        setattr(version, f"{kind}_sha256", digest)

    check_renders(spec_of(version))
    db.session.add(version)
    db.session.flush()
    db.session.refresh(template, attribute_names=["versions"])
    if author is not None:
        audit.record(
            "certificate_template.saved",
            "certificate_template",
            template.id,
            f"{template.name} version {version.number}",
            actor_id=author.id,
            institution_id=template.institution_id,
            data={"version_id": version.id, "number": version.number},
        )
    logger.info(
        "Certificate template %r version %d saved by %r",
        template.name,
        version.number,
        author.username if author else None,
    )
    return version


def _checked_fields(page_size, orientation, language, body_html, css) -> dict:
    try:
        size = PageSize(page_size)
    except ValueError:
        raise TemplateError(_("choose A4, A5 or Letter."), field="page_size") from None
    try:
        turn = Orientation(orientation)
    except ValueError:
        raise TemplateError(
            _("choose landscape or portrait."), field="orientation"
        ) from None
    try:
        lang = TemplateLanguage(language)
    except ValueError:
        raise TemplateError(_("choose zh or en."), field="language") from None
    if not (body_html or "").strip():
        raise TemplateError(
            _("the body is empty. Write the certificate's HTML."), "body_html"
        )
    try:
        check_source(body_html, css or "")
    except TemplateSourceError as exc:
        raise TemplateError(str(exc), field=exc.field) from None
    return {
        "page_size": size,
        "orientation": turn,
        "language": lang,
        "body_html": body_html,
        "css": css or "",
    }


def check_renders(spec: TemplateSpec) -> None:
    """Render ``spec`` with sample data; raise TemplateError if that fails.

    A layout that cuts off the holder's name, the serial or the verification
    code also fails, because WeasyPrint clips it silently on a single page.
    """
    # NOTE: only the sample data is checked here. A programme certificate with
    # much longer values can still be cut off. External-training certificates
    # are checked with their own values before they are issued.
    from certificates.designs import hidden_values, render_pdf, sample_data

    try:
        render_pdf(spec, sample_data())
        hidden = hidden_values(spec, sample_data())
    except TemplateSourceError as exc:
        raise TemplateError(str(exc), field="body_html") from None
    except CertificateRenderError as exc:
        raise TemplateError(render_error_message(exc), field="css") from None
    if hidden:
        raise TemplateError(hidden_values_message(hidden), field="css")


def hidden_values_message(names: list[str]) -> str:
    """Return why a layout that cuts off the placeholders ``names`` is rejected."""
    labels = [str(HIDDEN_VALUE_LABELS[name]) for name in names]
    return _(
        "with the sample data, the certificate cuts off %(values)s: the text lies "
        "outside the page or outside a box with hidden overflow. Shorten the text "
        "or reduce sizes in the template.",
        values=format_list(labels, locale=get_locale()),
    )


def render_error_message(exc: CertificateRenderError) -> str:
    """Return why a template could not be laid out, in the reader's language."""
    if exc.pages is None:
        return str(exc)
    return _(
        "with the sample data the certificate needs %(pages)d pages, but it must "
        "fit on one. Shorten the text or reduce sizes in the template.",
        pages=exc.pages,
    )


def create_template(
    institution: Institution, author: Optional[User], name: str, **fields
) -> CertificateTemplate:
    """Create a template with its first version. Raises TemplateError."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TemplateError(_("the name must have 1 to 100 characters."), field="name")
    if _name_taken(institution.id, name):
        raise TemplateError(
            _("a template named '%(name)s' exists. Choose another name.", name=name),
            field="name",
        )
    template = CertificateTemplate(institution_id=institution.id, name=name)
    db.session.add(template)
    db.session.flush()
    save_version(template, author, **fields)
    return template


def rename_template(template: CertificateTemplate, name: str) -> None:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TemplateError(_("the name must have 1 to 100 characters."), field="name")
    if name != template.name and _name_taken(template.institution_id, name):
        raise TemplateError(
            _("a template named '%(name)s' exists. Choose another name.", name=name),
            field="name",
        )
    template.name = name


def _name_taken(institution_id: int, name: str) -> bool:
    return (
        db.session.scalar(
            sa.select(CertificateTemplate.id).filter_by(
                institution_id=institution_id, name=name
            )
        )
        is not None
    )


# --- rendering inputs ----------------------------------------------------------


def _image_uri(version: TemplateVersion, kind: str) -> str:
    name = getattr(version, f"{kind}_file")
    if not name:
        return ""
    path = uploads.path_of(ASSET_AREA, name)
    if path is None:
        raise CertificateRenderError(
            f"image {kind} of template version {version.id} is missing: {name}"
        )
    content = path.read_bytes()
    expected = getattr(version, f"{kind}_sha256")
    if expected and hashlib.sha256(content).hexdigest() != expected:
        raise CertificateRenderError(
            f"image {kind} of template version {version.id} changed since it was saved"
        )
    media_type = uploads.FILE_TYPES[uploads.extension_of(name)].media_type
    return data_uri(content, media_type)


def spec_of(version: TemplateVersion) -> TemplateSpec:
    """Return the plain rendering inputs of a version, its images as data: URIs."""
    return TemplateSpec(
        page_size=version.page_size.value,
        orientation=version.orientation.value,
        language=version.language.value,
        body_html=version.body_html,
        css=version.css,
        font_family=current_app.config["CERTIFICATE_FONT_FAMILY"],
        background=_image_uri(version, "background"),
        logo=_image_uri(version, "logo"),
        signature=_image_uri(version, "signature"),
        seal=_image_uri(version, "seal"),
    )


def preview_spec(
    template: Optional[CertificateTemplate],
    fields: dict,
    images: dict[str, NewImage],
    remove_images: tuple[str, ...],
) -> TemplateSpec:
    """Return the spec of unsaved form content, storing nothing. Raises TemplateError.

    Uploaded images are checked and embedded directly; the others come
    from the template's current version unless removed.
    """
    checked = _checked_fields(
        fields["page_size"],
        fields["orientation"],
        fields["language"],
        fields["body_html"],
        fields["css"],
    )
    current = template.current_version if template is not None else None
    uris = {}
    for kind in ASSET_KINDS:
        if images.get(kind) is not None:
            uris[kind] = _uploaded_uri(kind, images[kind])
        elif current is not None and kind not in remove_images:
            uris[kind] = _image_uri(current, kind)
        else:
            uris[kind] = ""
    return TemplateSpec(
        page_size=checked["page_size"].value,
        orientation=checked["orientation"].value,
        language=checked["language"].value,
        body_html=checked["body_html"],
        css=checked["css"],
        font_family=current_app.config["CERTIFICATE_FONT_FAMILY"],
        **uris,
    )


def _uploaded_uri(kind: str, image: NewImage) -> str:
    try:
        file_type, content = uploads.check(
            image.filename,
            image.stream,
            allowed=ASSET_EXTENSIONS,
            max_bytes=MAX_ASSET_BYTES,
        )
    except uploads.UploadError as exc:
        raise TemplateError(_upload_message(exc), field=kind) from None
    _check_image(kind, content)
    return data_uri(content, file_type.media_type)


# --- defaults and programme choice --------------------------------------------------


def default_source(
    language: TemplateLanguage, name: Optional[str] = None
) -> tuple[str, str]:
    """Return the body and CSS of the built-in template ``name`` (default: ``language``)."""
    body = (DEFAULTS_DIR / f"{name or language.value}.html").read_text(encoding="utf-8")
    css = (DEFAULTS_DIR / "common.css").read_text(encoding="utf-8")
    return body, css


def ensure_default_templates(
    institution: Institution,
) -> dict[str, CertificateTemplate]:
    """Create the Chinese and English default templates unless they exist.

    Idempotent: each is found by its code, and a concurrent insert of the
    same code is caught by the unique key.
    """
    found = {}
    for code, name, language in DEFAULT_TEMPLATES:
        template = _template_by_code(institution.id, code)
        if template is None:
            template = _insert_default(institution, code, name, language)
        found[code] = template
    return found


def _template_by_code(institution_id: int, code: str) -> Optional[CertificateTemplate]:
    return db.session.scalar(
        sa.select(CertificateTemplate).filter_by(
            institution_id=institution_id, code=code
        )
    )


def _insert_default(
    institution, code, name, language, source: Optional[str] = None
) -> CertificateTemplate:
    body, css = default_source(language, source)
    try:
        with db.session.begin_nested():
            template = CertificateTemplate(
                institution_id=institution.id, name=name, code=code
            )
            db.session.add(template)
            db.session.flush()
            version = TemplateVersion(
                template_id=template.id,
                number=1,
                page_size=PageSize.A4,
                orientation=Orientation.LANDSCAPE,
                language=language,
                body_html=body,
                css=css,
            )
            db.session.add(version)
        logger.info("Seeded certificate template %s of %s", code, institution.code)
        return template
    except IntegrityError:
        return _template_by_code(institution.id, code)


def refresh_builtin_layouts(institution: Institution) -> list[CertificateTemplate]:
    """Add a version with the current built-in layout to each unedited built-in template.

    A template counts as unedited while no person has saved a version of it
    and it has no images. Its new version keeps the page settings and
    validity of the one before, and templates an author has saved are left
    as they are. Returns the templates that got a new version. Flushes.
    """
    refreshed = []
    for code, _name, language in (*DEFAULT_TEMPLATES, EXTERNAL_TEMPLATE):
        template = _template_by_code(institution.id, code)
        current = template.current_version if template is not None else None
        if current is None or any(v.created_by_id is not None for v in template.versions):
            continue
        if any(getattr(current, f"{kind}_file") for kind in ASSET_KINDS):
            continue
        body, css = default_source(language, code if code == EXTERNAL_TEMPLATE[0] else None)
        if (current.body_html, current.css) == (body, css):
            continue
        version = save_version(
            template,
            None,
            page_size=current.page_size.value,
            orientation=current.orientation.value,
            language=current.language.value,
            body_html=body,
            css=css,
            validity_months=current.validity_months,
        )
        audit.record(
            "certificate_template.saved",
            "certificate_template",
            template.id,
            f"{template.name} version {version.number}",
            institution_id=institution.id,
            data={"version_id": version.id, "number": version.number},
        )
        refreshed.append(template)
    return refreshed


def version_for_external(institution: Institution) -> TemplateVersion:
    """Return the current version of the template for trainings taken elsewhere.

    The template is created on first use from the built-in layout; trainers
    and admins edit it like any other template.

    A later change to the built-in layout (``external-zh.html``) reaches a
    template created before it through ``refresh_builtin_layouts``, unless
    an author has saved a version of it.
    """
    code, name, language = EXTERNAL_TEMPLATE
    template = _template_by_code(institution.id, code)
    if template is None:
        template = _insert_default(institution, code, name, language, source=code)
        if template is None:
            # An author's template already has the name.
            template = _insert_default(
                institution, code, f"{name} ({code})", language, source=code
            )
        db.session.refresh(template, attribute_names=["versions"])
    return template.current_version


def programme_settings(programme_id: int) -> Optional[ProgrammeCertificateSettings]:
    return db.session.get(ProgrammeCertificateSettings, programme_id)


def version_for_programme(programme: Programme) -> TemplateVersion:
    """Return the current version of the programme's template, or of the zh default."""
    row = programme_settings(programme.id)
    template = row.template if row is not None else None
    if template is None or template.current_version is None:
        institution = db.session.get(Institution, programme.institution_id)
        template = ensure_default_templates(institution)["default-zh"]
        db.session.refresh(template, attribute_names=["versions"])
    return template.current_version


def update_programme_settings(
    programme: Programme,
    actor: User,
    *,
    template_id: Optional[int],
    renews_programme_id: Optional[int],
) -> ProgrammeCertificateSettings:
    """Set the programme's template and the programme it renews. Flushes.

    Both must belong to the programme's institution, and a programme cannot
    renew itself. Raises TemplateError.
    """
    if template_id is not None:
        template = db.session.get(CertificateTemplate, template_id)
        if template is None or template.institution_id != programme.institution_id:
            raise TemplateError(_("choose a template of your institution."), "template_id")
    if renews_programme_id is not None:
        renewed = db.session.get(Programme, renews_programme_id)
        if renewed is None or renewed.institution_id != programme.institution_id:
            raise TemplateError(
                _("choose a programme of your institution."), "renews_programme_id"
            )
        if renewed.id == programme.id:
            raise TemplateError(
                _("a programme cannot renew its own certificates."), "renews_programme_id"
            )
    row = programme_settings(programme.id)
    if row is None:
        row = ProgrammeCertificateSettings(programme_id=programme.id)
        db.session.add(row)
    row.template_id = template_id
    row.renews_programme_id = renews_programme_id
    db.session.flush()
    audit.record(
        "certificate_programme_settings.saved",
        "programme",
        programme.id,
        f"certificate template {template_id}, renews {renews_programme_id}",
        actor_id=actor.id,
        institution_id=programme.institution_id,
        data={"template_id": template_id, "renews_programme_id": renews_programme_id},
    )
    return row
