"""Template designer, programme certificate settings and serial settings."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from certificates import logger, serials, template_services
from certificates.designs import render_pdf, sample_data
from certificates.render import CertificateRenderError
from certificates.sandbox import PLACEHOLDERS, TemplateSourceError
from certificates.template_forms import (
    IMAGE_LABELS,
    InstitutionSettingsForm,
    ProgrammeSettingsForm,
    TemplateForm,
)
from certificates.template_models import (
    DEFAULT_RENEWAL_WINDOW_DAYS,
    CertificateTemplate,
    TemplateVersion,
)
from certificates.template_services import ASSET_KINDS, NewImage, TemplateError
from courses.models import Programme
from lms import revisions, uploads
from lms.accounts.access import roles_required
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution

bp = Blueprint("certificate_templates", __name__, url_prefix="/certificates")

AUTHORS = (Role.TRAINER, Role.ADMIN)
#: Resolution of PNG previews in dots per inch.
PREVIEW_DPI = 60
PREVIEW_TIMEOUT_SECONDS = 30


def _template_or_404(template_id: int) -> CertificateTemplate:
    template = db.session.get(CertificateTemplate, template_id)
    if template is None or template.institution_id != current_user.institution_id:
        abort(404)
    return template


def _version_or_404(version_id: int) -> TemplateVersion:
    version = db.session.get(TemplateVersion, version_id)
    if version is None:
        abort(404)
    _template_or_404(version.template_id)
    return version


def _programme_or_404(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None or programme.institution_id != current_user.institution_id:
        abort(404)
    return programme


@bp.route("/templates")
@roles_required(*AUTHORS)
def index():
    templates = template_services.templates_of(current_user.institution_id)
    programmes = db.session.scalars(
        sa.select(Programme)
        .where(Programme.institution_id == current_user.institution_id)
        .order_by(Programme.code)
    ).all()
    settings = {p.id: template_services.programme_settings(p.id) for p in programmes}
    return render_template(
        "certificates/templates/index.html",
        templates=templates,
        programmes=programmes,
        settings=settings,
    )


def _images(form: TemplateForm) -> dict[str, NewImage]:
    images = {}
    for kind in ASSET_KINDS:
        upload = getattr(form, kind).data
        if upload is not None and getattr(upload, "filename", ""):
            images[kind] = NewImage(upload.filename, upload.stream)
    return images


def _removed(form: TemplateForm) -> tuple[str, ...]:
    return tuple(k for k in ASSET_KINDS if getattr(form, f"remove_{k}").data)


def _version_fields(form: TemplateForm) -> dict:
    return {
        "page_size": form.page_size.data,
        "orientation": form.orientation.data,
        "language": form.language.data,
        "body_html": form.body_html.data or "",
        "css": form.css.data or "",
        "validity_months": form.validity_months.data,
    }


def _form_page(form, template=None, status=200):
    return (
        render_template(
            "certificates/templates/edit.html",
            form=form,
            template=template,
            placeholders=PLACEHOLDERS,
            image_labels=IMAGE_LABELS,
        ),
        status,
    )


def _add_error(form: TemplateForm, exc: TemplateError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    (field if field is not None else form.body_html).errors.append(str(exc))


@bp.route("/templates/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new():
    form = TemplateForm()
    if request.method == "GET":
        body, css = template_services.default_source(
            template_services.TemplateLanguage.ZH
        )
        form.body_html.data, form.css.data = body, css
        return _form_page(form)
    if not form.validate_on_submit():
        return _form_page(form, status=400)
    try:
        template = template_services.create_template(
            current_user.institution,
            current_user,
            form.name.data,
            images=_images(form),
            **_version_fields(form),
        )
    except TemplateError as exc:
        db.session.rollback()
        _add_error(form, exc)
        return _form_page(form, status=400)
    db.session.commit()
    flash(_("Template %(name)s is saved as version 1.", name=template.name), "success")
    return redirect(url_for(".edit", template_id=template.id))


def _stored_form(template) -> TemplateForm:
    """Return the edit form of ``template`` and its current version."""
    version = template.current_version
    return TemplateForm(
        formdata=None,
        name=template.name,
        page_size=version.page_size.value,
        orientation=version.orientation.value,
        language=version.language.value,
        validity_months=version.validity_months,
        body_html=version.body_html,
        css=version.css,
    )


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def edit(template_id: int):
    template = _template_or_404(template_id)
    if request.method == "GET":
        return _form_page(_stored_form(template), template)
    form = TemplateForm()
    if not form.validate_on_submit():
        return _form_page(form, template, 400)
    saved = []

    def apply() -> None:
        template_services.rename_template(template, form.name.data)
        saved.append(
            template_services.save_version(
                template,
                current_user,
                images=_images(form),
                remove_images=_removed(form),
                **_version_fields(form),
            )
        )
        # A save adds a version row; the template row counts it too.
        revisions.touch(template)

    try:
        conflict = revisions.save(template, apply)
    except TemplateError as exc:
        db.session.rollback()
        template = _template_or_404(template_id)
        _add_error(form, exc)
        return _form_page(form, template, 400)
    if conflict is not None:
        fresh = _stored_form(template)
        revisions.show_conflict(conflict, revisions.differences(form, fresh))
        return _form_page(form, template, 409)
    saved = saved[0]
    flash(
        _(
            "Template %(name)s is saved as version %(number)d.",
            name=template.name,
            number=saved.number,
        ),
        "success",
    )
    return redirect(url_for(".edit", template_id=template.id))


@bp.route("/templates/<int:template_id>/versions")
@roles_required(*AUTHORS)
def versions(template_id: int):
    template = _template_or_404(template_id)
    return render_template("certificates/templates/versions.html", template=template)


def _pdf_response(pdf: bytes, filename: str):
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def png_of(pdf: bytes) -> bytes:
    """Convert the first page of ``pdf`` to PNG with poppler's pdftoppm."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise CertificateRenderError("pdftoppm (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory(prefix="shuren-preview-") as tmp:
        source = Path(tmp) / "preview.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                tool,
                "-png",
                "-r",
                str(PREVIEW_DPI),
                "-singlefile",
                str(source),
                str(Path(tmp) / "preview"),
            ],
            check=True,
            capture_output=True,
            timeout=PREVIEW_TIMEOUT_SECONDS,
        )
        return (Path(tmp) / "preview.png").read_bytes()


def _preview_error(error: str):
    """Return a plain-text 400 response that names why the preview failed."""
    response = make_response(_("The preview failed: %(error)s", error=error), 400)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


def _preview_data() -> dict:
    """Return the sample certificate with the viewer's institution and address."""
    from certificates.services import verification_url

    institution = current_user.institution
    data = sample_data()
    data["institution_name"] = institution.name
    data["institution_name_en"] = institution.name_en or ""
    # The sample code is stored grouped, as printed; the address groups it again.
    data["verification_url"] = verification_url(data["verification_code"].replace("-", ""))
    return data


def _preview_response(spec, output_format: str):
    try:
        pdf = render_pdf(spec, _preview_data())
    except TemplateSourceError as exc:
        return _preview_error(str(exc))
    except CertificateRenderError as exc:
        return _preview_error(template_services.render_error_message(exc))
    if output_format != "png":
        return _pdf_response(pdf, "preview.pdf")
    try:
        png = png_of(pdf)
    except (CertificateRenderError, subprocess.SubprocessError, OSError):
        logger.exception("Converting a certificate preview to PNG failed")
        return _pdf_response(pdf, "preview.pdf")
    response = make_response(png)
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/templates/versions/<int:version_id>/preview")
@roles_required(*AUTHORS)
def preview_version(version_id: int):
    """Render a saved version with sample data, as PDF or ``?format=png``."""
    version = _version_or_404(version_id)
    spec = template_services.spec_of(version)
    return _preview_response(spec, request.args.get("format", "pdf"))


@bp.route("/templates/preview", methods=["POST"])
@roles_required(*AUTHORS)
def preview():
    """Render the unsaved form content with sample data; nothing is stored.

    Images come from the form's uploads, else from the current version of
    the template named by ``template_id``.
    """
    form = TemplateForm()
    form.name.data = form.name.data or "preview"
    if not form.validate_on_submit():
        errors = "; ".join(
            f"{form[name].label.text}: {messages[0]}"
            for name, messages in form.errors.items()
        )
        return _preview_error(errors)
    template = None
    if request.form.get("template_id", "").isdigit():
        template = _template_or_404(int(request.form["template_id"]))
    try:
        spec = template_services.preview_spec(
            template, _version_fields(form), _images(form), _removed(form)
        )
    except TemplateError as exc:
        return _preview_error(str(exc))
    return _preview_response(spec, request.form.get("format", "pdf"))


# --- programme and institution settings ------------------------------------------


def _programme_form(programme: Programme, **kwargs) -> ProgrammeSettingsForm:
    """Build the settings form with the institution's templates and programmes."""
    row = template_services.programme_settings(programme.id)
    form = ProgrammeSettingsForm(
        template_id=(row.template_id or 0) if row else 0,
        renews_programme_id=(row.renews_programme_id or 0) if row else 0,
        **kwargs,
    )
    form.template_id.choices = [SelectChoice(0, _("Default (Chinese)"))] + [
        SelectChoice(t.id, t.name)
        for t in template_services.templates_of(programme.institution_id)
    ]
    others = db.session.scalars(
        sa.select(Programme)
        .where(
            Programme.institution_id == programme.institution_id,
            Programme.id != programme.id,
        )
        .order_by(Programme.code)
    )
    form.renews_programme_id.choices = [SelectChoice(0, _("None"))] + [
        SelectChoice(p.id, f"{p.code} {p.title}") for p in others
    ]
    return form


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def programme_settings(programme_id: int):
    """Choose a programme's certificate template and the programme it renews."""
    programme = _programme_or_404(programme_id)
    row = template_services.programme_settings(programme.id)
    form = _programme_form(programme)
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return _programme_page(form, programme, row, status)

    def apply():
        template_services.update_programme_settings(
            programme,
            current_user,
            template_id=form.template_id.data or None,
            renews_programme_id=form.renews_programme_id.data or None,
        )

    try:
        conflict = revisions.save_or_create(
            row, apply, lambda: template_services.programme_settings(programme_id)
        )
    except TemplateError as exc:
        db.session.rollback()
        getattr(form, exc.field).errors.append(str(exc))
        return _programme_page(form, programme, row, 400)
    if conflict is not None:
        fresh = _programme_form(programme, formdata=None)
        revisions.show_conflict(conflict, revisions.differences(form, fresh))
        return _programme_page(form, programme, conflict.row, 409)
    flash(
        _("Certificate settings of %(title)s are saved.", title=programme.title),
        "success",
    )
    return redirect(url_for(".index"))


def _programme_page(form, programme: Programme, row, status: int):
    html = render_template(
        "certificates/templates/programme.html",
        form=form,
        programme=programme,
        settings=row,
    )
    return make_response(html, status)


def _institution_form(institution, **kwargs) -> InstitutionSettingsForm:
    row = serials.settings_of(institution.id)
    return InstitutionSettingsForm(
        serial_prefix=institution.serial_prefix,
        serial_pattern=serials.serial_pattern(institution.id),
        renewal_window_days=(
            row.renewal_window_days if row else DEFAULT_RENEWAL_WINDOW_DAYS
        ),
        **kwargs,
    )


def _institution_values(row) -> tuple:
    """Return the values the settings page shows.

    The serial prefix is stored on the institution, not on the settings row.
    """
    institution = db.session.get(Institution, row.institution_id)
    return (institution.serial_prefix, row.serial_pattern, row.renewal_window_days)


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def institution_settings():
    """Serial prefix, serial pattern and renewal window of the admin's institution."""
    institution = current_user.institution
    row = serials.settings_of(institution.id)
    form = _institution_form(institution)
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return _institution_page(form, institution, row, status)

    def apply():
        serials.update_settings(
            institution,
            prefix=form.serial_prefix.data.strip(),
            pattern=form.serial_pattern.data.strip(),
            renewal_window_days=form.renewal_window_days.data,
            actor=current_user,
        )

    try:
        conflict = revisions.save_or_create(
            row,
            apply,
            lambda: serials.settings_of(institution.id),
            _institution_values,
        )
    except serials.SerialPatternError as exc:
        db.session.rollback()
        getattr(form, exc.field).errors.append(str(exc))
        return _institution_page(form, institution, row, 400)
    if conflict is not None:
        fresh = _institution_form(institution, formdata=None)
        revisions.show_conflict(conflict, revisions.differences(form, fresh))
        return _institution_page(form, institution, conflict.row, 409)
    flash(_("Certificate settings are saved."), "success")
    return redirect(url_for(".institution_settings"))


def _institution_page(form, institution, row, status: int):
    example = None
    if status == 200:
        example = serials.format_serial(institution, 2026, 123)
    html = render_template(
        "certificates/templates/settings.html",
        form=form,
        example=example,
        settings=row,
    )
    return make_response(html, status)

