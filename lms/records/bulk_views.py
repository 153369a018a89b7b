"""HR uploads a spreadsheet of annual grades, title and rank changes and honours.

The upload is checked and shown as a preview; nothing is written until HR
confirms, and the confirmation checks the stored file again. Routes are
registered on the records blueprint.
"""

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import HiddenField

from lms import uploads
from lms.accounts.access import hr_scope, roles_required
from lms.accounts.models import Role
from lms.extensions import db
from lms.form_messages import PlatformForm
from lms.records import bulk
from lms.records.views import bp

AREA = "imports"
#: Start of the name of every stored upload awaiting confirmation.
STORED_PREFIX = "hr-records-"
ALLOWED = ("csv", "txt", "xlsx")
MAX_BYTES = 5 * uploads.MB
uploads.register_field("hr_records", lambda: {"*": MAX_BYTES})


class UploadForm(PlatformForm):
    file = FileField()


class ConfirmForm(PlatformForm):
    token = HiddenField()


def _stored_name(token: str, extension: str) -> str:
    # The user id in the name ties a stored upload to the HR officer who made it.
    return f"{STORED_PREFIX}{current_user.id}-{token}.{extension}"


def _claim_stored(token: str) -> tuple[str, bytes] | None:
    """Read and delete the stored upload of ``token``; None when it is gone.

    Deleting the file claims the upload: when two confirmations of one
    preview overlap, only the request whose delete succeeds records it.
    """
    if not token or not token.isalnum() or len(token) > 64:
        return None
    for extension in ALLOWED:
        path = uploads.path_of(AREA, _stored_name(token, extension))
        if path is None:
            continue
        try:
            content = path.read_bytes()
            path.unlink()
        except FileNotFoundError:
            return None
        return f"upload.{extension}", content
    return None


def _parse(filename: str, content: bytes) -> bulk.Parsed:
    return bulk.parse(filename, content, current_user.institution_id, hr_scope(current_user))


def _no_rows_message(filename: str) -> str:
    return _(
        "%(name)s has no records below its header row. Add one row per event, "
        "such as 20230117,年度考核,2025-12-20,合格,2025, and upload it again.",
        name=uploads.client_filename(filename, 100),
    )


@bp.route("/people/records/upload", methods=["GET", "POST"])
@roles_required(Role.HR, Role.ADMIN)
def upload_records():
    """Check an uploaded file of HR events and show what would be recorded."""
    form = UploadForm()
    if request.method == "GET":
        return render_template("lms/records/upload.html", form=form, parsed=None)
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    try:
        file_type, content = uploads.check(
            upload.filename if upload else "",
            upload.stream if upload else None,
            allowed=ALLOWED,
            max_bytes=MAX_BYTES,
        )
    except uploads.UploadError as error:
        messages = {
            "missing": _("Choose a CSV or XLSX file to upload."),
            "extension": uploads.old_excel_message(upload.filename if upload else "")
            or _("Upload a .csv or .xlsx file."),
            "content": _(
                "The content of %(name)s does not match its extension: it is not "
                "CSV text or an XLSX workbook. Save the records as CSV (UTF-8 or "
                "GBK) or XLSX and upload that file.",
                name=upload.filename if upload else "",
            ),
            "size": _("The file is larger than 5 MB; split it into several files."),
        }
        if error.code == "missing" and upload and upload.filename:
            # check() reports an empty file as "missing" too.
            messages["missing"] = _(
                "The file %(name)s is empty. Choose the CSV or XLSX file"
                " that contains the records.",
                name=upload.filename,
            )
        form.file.errors = [messages[error.code]]
        return render_template("lms/records/upload.html", form=form, parsed=None), 400

    parsed = _parse(upload.filename, content)
    status = 200
    confirm = None
    if parsed.problems or not parsed.rows:
        status = 400
        if not parsed.problems:
            form.file.errors = [_no_rows_message(upload.filename)]
    else:
        token = secrets.token_hex(16)
        path = uploads.upload_root() / AREA / _stored_name(token, file_type.extension)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        confirm = ConfirmForm(token=token)
    return (
        render_template("lms/records/upload.html", form=form, parsed=parsed, confirm=confirm),
        status,
    )


@bp.route("/people/records/upload/confirm", methods=["POST"])
@roles_required(Role.HR, Role.ADMIN)
def confirm_records():
    """Record every event of a previewed upload, or none if it no longer checks out."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    stored = _claim_stored(form.token.data or "")
    if stored is None:
        flash(_("This upload has expired or was already recorded; upload the file again."), "error")
        return redirect(url_for(".upload_records"))
    parsed = _parse(*stored)
    if parsed.problems or not parsed.rows:
        return (
            render_template("lms/records/upload.html", form=UploadForm(), parsed=parsed),
            400,
        )
    count = bulk.record_all(parsed, current_user)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d event was added to the records.",
            "%(num)d events were added to the records.",
            count,
        ),
        "success",
    )
    return redirect(url_for(".people"))
