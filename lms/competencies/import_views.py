"""Framework import under /frameworks/import: upload, preview, confirm.

The upload is checked and stored outside the web root, read and validated
completely, and shown as a preview. Only the confirm step writes, in one
transaction, after reading and validating the stored file again. The stored
name of the pending file is kept in the uploader's session, so only that
session can confirm it.
"""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms import uploads
from lms.accounts.access import roles_required
from lms.competencies import case_import, csvio, logger, transfer
from lms.competencies.forms import ConfirmForm, ImportForm
from lms.competencies.views import EDITOR_ROLES, bp
from lms.extensions import db
from lms.i18n import join_names

IMPORT_AREA = "framework_imports"
IMPORT_KEY = "framework_import"
IMPORT_MAX_BYTES = 5 * uploads.MB
uploads.register_field("framework_import", lambda: {"*": IMPORT_MAX_BYTES})


def _import_details(form: ImportForm) -> dict:
    names = ("code", "title", "issuer", "version")
    return {name: form[name].data or None for name in names}


def _parse(file_format: str, content: bytes, details: dict) -> transfer.FrameworkData:
    """Read and check an uploaded file; raise ImportRejected with every problem."""
    if file_format == "csv":
        values = {key: value for key, value in details.items() if value}
        values.setdefault("version", "1")
        data = csvio.parse_csv(content, values)
    else:
        data = case_import.parse_package(content, details)
    problems = transfer.validate(data)
    if problems:
        raise transfer.ImportRejected(problems)
    return data


def _render_import(form, problems=(), status=200):
    return (
        render_template("competencies/import.html", form=form, problems=problems),
        status,
    )


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def import_framework():
    form = ImportForm()
    if not form.validate_on_submit():
        return _render_import(form, status=400 if request.method == "POST" else 200)
    allowed = ("csv", "txt") if form.file_format.data == "csv" else ("json",)
    upload = form.upload.data
    try:
        stored = uploads.store(
            IMPORT_AREA,
            upload.filename or "",
            upload.stream,
            allowed=allowed,
            max_bytes=IMPORT_MAX_BYTES,
        )
    except uploads.UploadError as error:
        form.upload.errors = list(form.upload.errors) + [_upload_message(error)]
        return _render_import(form, status=400)
    path = uploads.path_of(IMPORT_AREA, stored.name)
    details = _import_details(form)
    try:
        data = _parse(form.file_format.data, path.read_bytes(), details)
    except transfer.ImportRejected as rejected:
        uploads.remove(IMPORT_AREA, stored.name)
        logger.info("Framework import by %r rejected: %s", current_user, rejected)
        return _render_import(form, rejected.problems, 400)
    # A preview that is never confirmed or replaced keeps its file until the
    # cleanup_temp_uploads job deletes it, after LMS_TEMP_UPLOAD_MAX_AGE_HOURS.
    _forget_import()
    session[IMPORT_KEY] = {
        "name": stored.name,
        "format": form.file_format.data,
        "details": details,
        "original": stored.original_name,
    }
    return render_template(
        "competencies/import_preview.html",
        data=data,
        original=stored.original_name,
        button=ConfirmForm(),
    )


def _upload_message(error: uploads.UploadError) -> str:
    allowed = join_names(f".{ext}" for ext in error.allowed)
    if error.code == "size":
        return _("The file is larger than %(mb)d MB.", mb=error.limit // uploads.MB)
    if error.code == "content":
        return _(
            "The file content does not match its extension;"
            " use a text file (%(allowed)s).",
            allowed=allowed,
        )
    if error.code == "missing":
        return _("The file is empty.")
    return _("Choose a file ending in %(allowed)s for this format.", allowed=allowed)


def _forget_import() -> None:
    pending = session.pop(IMPORT_KEY, None)
    if isinstance(pending, dict) and isinstance(pending.get("name"), str):
        uploads.remove(IMPORT_AREA, pending["name"])


@bp.route("/import/confirm", methods=["POST"])
@roles_required(*EDITOR_ROLES)
def confirm_import():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    pending = session.get(IMPORT_KEY)
    path = None
    if isinstance(pending, dict) and isinstance(pending.get("name"), str):
        path = uploads.path_of(IMPORT_AREA, pending["name"])
    if path is None:
        message = _("No import is waiting for confirmation. Upload the file again.")
        flash(message, "error")
        return redirect(url_for(".import_framework"))
    try:
        data = _parse(pending["format"], path.read_bytes(), pending["details"])
        framework = transfer.write(data, current_user)
    except transfer.ImportRejected as rejected:
        db.session.rollback()
        _forget_import()
        for problem in rejected.problems[:20]:
            flash(str(problem), "error")
        return redirect(url_for(".import_framework"))
    db.session.commit()
    _forget_import()
    if data.is_copy:
        flash(_("Framework imported as a draft copy with new identifiers."), "success")
    else:
        flash(_("Framework imported as a draft."), "success")
    if data.skipped_mappings:
        message = _(
            "%(count)d mappings were left out because their other area"
            " is not on the platform.",
            count=len(data.skipped_mappings),
        )
        flash(message, "warning")
    return redirect(url_for(".detail", framework_id=framework.id))
