"""Trainer pages for question banks, imports and exports, quiz draws, grants and grading.

Trainers and administrators work on their own institution's banks and
quizzes. Other roles get 403; objects of another institution give 404.
"""

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from assessments import (
    authoring,
    banks,
    grading,
    logger,
    marking,
    pending_imports,
    question_sheet,
    question_sheet_export,
    quiz_report,
    review,
    scoring,
    services,
    transfer,
)
from assessments.formats import FormatError
from certificates import services as certificate_services
from assessments.models import (
    Attempt,
    AttemptAnswer,
    Question,
    QuestionBank,
    Quiz,
    QuizDraw,
    QuizGrant,
)
from courses import teachers, teaching
from courses.authoring import AuthoringError
from courses.manage_views import quiz_page_with_draw
from lms import exports, revisions, uploads
from lms.accounts.access import roles_required
from lms.accounts.models import Role, User
from lms.i18n import format_datetime, join_names, plural_count
from lms.extensions import db

bp = Blueprint("banks", __name__, url_prefix="/manage")

AUTHOR_ROLES = (Role.TRAINER, Role.ADMIN)
IMPORT_AREA = pending_imports.AREA
IMPORT_MAX_BYTES = 5 * uploads.MB
uploads.register_field("question_import", lambda: {"*": IMPORT_MAX_BYTES})
EXPORT_EXTENSIONS = {
    "gift": "gift",
    "aiken": "txt",
    "moodle_xml": "xml",
    "xlsx": "xlsx",
    "csv": "csv",
}
EXPORT_MIMETYPES = {
    "moodle_xml": "application/xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


def _bank(bank_id: int) -> QuestionBank:
    bank = db.session.get(QuestionBank, bank_id)
    if bank is None or bank.institution_id != current_user.institution_id:
        abort(404)
    return bank


def _bank_question(bank_id: int, question_id: int) -> tuple[QuestionBank, Question]:
    bank = _bank(bank_id)
    question = db.session.get(Question, question_id)
    if question is None or question.category is None or question.category.bank_id != bank.id:
        abort(404)
    return bank, question


def _quiz(quiz_id: int) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or quiz.course.institution_id != current_user.institution_id:
        abort(404)
    return quiz


def _graded_quiz(quiz_id: int) -> Quiz:
    """Load a quiz whose results the current user may read: its course's teachers and admins.

    Learners' grades are results behind grading, so another trainer of the
    institution gets 403 (see ``courses.teaching``).
    """
    quiz = _quiz(quiz_id)
    if not teaching.may_grade(current_user, quiz.course):
        abort(403)
    return quiz


def _managed_quiz(quiz_id: int) -> Quiz:
    """Load a quiz whose questions the current user may change: its course's managers.

    The authors of the course and the administrators manage it
    (``courses.teachers.may_manage``). Other trainers get 403.
    """
    quiz = _quiz(quiz_id)
    if not teachers.may_manage(current_user, quiz.course):
        abort(403)
    return quiz


def _flash_errors(error: AuthoringError, labels: dict[str, str] | None = None) -> dict:
    """Roll back, flash each message with its field's label, and return the messages."""
    db.session.rollback()
    errors = error.labelled(labels or {})
    for message in errors.values():
        flash(message, "error")
    return errors


# Banks and categories -----------------------------------------------------------


@bp.route("/banks")
@roles_required(*AUTHOR_ROLES)
def index():
    return render_template(
        "assessments/manage/banks.html",
        banks=banks.banks_of(current_user.institution_id),
        values={},
        errors={},
    )


@bp.route("/banks", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def create_bank():
    data = request.form.to_dict()
    try:
        bank = banks.create_bank(current_user.institution_id, data, current_user)
    except AuthoringError as error:
        db.session.rollback()
        page = render_template(
            "assessments/manage/banks.html",
            banks=banks.banks_of(current_user.institution_id),
            values=data,
            errors=error.errors,
        )
        return page, 400
    db.session.commit()
    flash(_("Question bank created."), "success")
    return redirect(url_for("banks.bank", bank_id=bank.id))


@bp.route("/banks/<int:bank_id>")
@roles_required(*AUTHOR_ROLES)
def bank(bank_id: int):
    bank = _bank(bank_id)
    category = banks.category_of(bank, request.args.get("category"))
    return _bank_page(bank, category)


def _bank_page(bank, category, new_values=None, new_errors=None, status=200):
    """Render a bank page, with ``new_values`` and ``new_errors`` in the new-category form."""
    tag = (request.args.get("tag") or "").strip()[:100]
    in_scope = banks.bank_questions(bank, category)
    page = render_template(
        "assessments/manage/bank.html",
        bank=bank,
        category=category,
        tag=tag,
        new_values=new_values or {},
        new_errors=new_errors or {},
        categories=sorted(bank.categories, key=lambda c: c.path),
        questions=banks.bank_questions(bank, category, tag) if tag else in_scope,
        left_out={
            fmt: _unexportable_count(fmt, in_scope) for fmt in transfer.EXPORT_FORMATS
        },
        formats=transfer.EXPORT_FORMATS,
        format_labels=transfer.FORMAT_LABELS,
    )
    return page, status


@bp.route("/banks/<int:bank_id>/categories", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def create_category(bank_id: int):
    bank = _bank(bank_id)
    data = request.form.to_dict()
    try:
        category = banks.create_category(bank, data, current_user)
    except AuthoringError as error:
        labels = {"name": _("New category name"), "parent_id": _("Parent category")}
        errors = _flash_errors(error, labels)
        bank = _bank(bank_id)
        parent = banks.category_of(bank, data.get("parent_id"))
        return _bank_page(bank, parent, data, errors, status=400)
    db.session.commit()
    flash(_("Category added."), "success")
    return redirect(url_for("banks.bank", bank_id=bank_id, category=category.id))


def _category_values(category) -> dict:
    return {"name": category.name, "parent_id": category.parent_id or ""}


def _category_fields(bank) -> dict:
    return {
        "name": _("Category name"),
        "parent_id": (_("Parent category"), lambda value: _category_path(bank, value)),
    }


def _category_page(bank, category, values, errors, status=200):
    below = set(category.subtree_ids())
    page = render_template(
        "assessments/manage/category_form.html",
        bank=bank,
        category=category,
        values=values,
        errors=errors,
        parents=sorted(
            (each for each in bank.categories if each.id not in below),
            key=lambda each: each.path,
        ),
    )
    return page, status


@bp.route(
    "/banks/<int:bank_id>/categories/<int:category_id>", methods=["GET", "POST"]
)
@roles_required(*AUTHOR_ROLES)
def edit_category(bank_id: int, category_id: int):
    """Rename a category or move it below another category of its bank."""
    bank = _bank(bank_id)
    category = banks.category_of(bank, category_id)
    if category is None:
        abort(404)
    if request.method == "GET":
        return _category_page(bank, category, _category_values(category), {})
    data = request.form.to_dict()
    try:
        conflict = revisions.save(
            category, lambda: banks.update_category(category, data, current_user)
        )
    except AuthoringError as error:
        db.session.rollback()
        bank = _bank(bank_id)
        category = banks.category_of(bank, category_id)
        return _category_page(bank, category, data, error.errors, 400)
    if conflict is not None:
        revisions.show_conflict(
            conflict,
            revisions.value_differences(
                data, _category_values(category), _category_fields(bank)
            ),
        )
        return _category_page(bank, category, data, {}, 409)
    flash(_("Category saved."), "success")
    return redirect(url_for("banks.bank", bank_id=bank_id, category=category_id))


# Bank questions -------------------------------------------------------------------


def _question_page(bank, question, values, errors, status=200):
    answered = authoring.answer_count(question) if question is not None else 0
    page = render_template(
        "assessments/manage/bank_question.html",
        bank=bank,
        question=question,
        values=values,
        errors=errors,
        answered=answered,
        categories=sorted(bank.categories, key=lambda c: c.path),
        **authoring.question_form_context(),
    )
    return page, status


@bp.route("/banks/<int:bank_id>/questions/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_question(bank_id: int):
    bank = _bank(bank_id)
    if request.method == "GET":
        values = {"kind": "single", "points": 1, "category_id": request.args.get("category", "")}
        return _question_page(bank, None, values, {})
    data = request.form.to_dict()
    category = banks.category_of(bank, data.get("category_id"))
    try:
        if category is None:
            raise AuthoringError({"category_id": _("Choose a category of this bank.")})
        banks.save_bank_question(category, data, current_user)
    except AuthoringError as error:
        db.session.rollback()
        return _question_page(_bank(bank_id), None, data, error.errors, 400)
    db.session.commit()
    flash(_("Question saved."), "success")
    return redirect(url_for("banks.bank", bank_id=bank_id, category=category.id))


def _bank_question_values(question) -> dict:
    values = authoring.question_forms.form_values(question)
    values["category_id"] = question.category_id
    return values


def _category_path(bank, category_id) -> str:
    category = banks.category_of(bank, str(category_id))
    return category.path if category is not None else str(category_id)


@bp.route("/banks/<int:bank_id>/questions/<int:question_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_question(bank_id: int, question_id: int):
    bank, question = _bank_question(bank_id, question_id)
    if request.method == "GET":
        return _question_page(bank, question, _bank_question_values(question), {})
    data = request.form.to_dict()
    category = banks.category_of(bank, data.get("category_id"))
    try:
        if category is None:
            raise AuthoringError({"category_id": _("Choose a category of this bank.")})
        conflict = revisions.save(
            question,
            lambda: banks.save_bank_question(category, data, current_user, question),
            _bank_question_values,
        )
    except AuthoringError as error:
        db.session.rollback()
        bank, question = _bank_question(bank_id, question_id)
        return _question_page(bank, question, data, error.errors, 400)
    if conflict is not None:
        fields = authoring.question_forms.field_labels()
        fields["category_id"] = (
            _("Category"),
            lambda value: _category_path(bank, value),
        )
        fresh = _bank_question_values(question)
        revisions.show_conflict(conflict, revisions.value_differences(data, fresh, fields))
        return _question_page(bank, question, data, {}, 409)
    flash(_("Question saved."), "success")
    return redirect(url_for("banks.bank", bank_id=bank_id, category=category.id))


@bp.route(
    "/banks/<int:bank_id>/questions/<int:question_id>/delete", methods=["GET", "POST"]
)
@roles_required(*AUTHOR_ROLES)
def delete_question(bank_id: int, question_id: int):
    """Confirm and delete a bank question, or explain why it cannot be deleted."""
    bank, question = _bank_question(bank_id, question_id)
    if request.method == "GET":
        try:
            authoring.reject_if_answered(question, _("delete"))
            problem = None
        except AuthoringError as error:
            problem = next(iter(error.errors.values()))
        return render_template(
            "assessments/manage/question_delete.html",
            bank=bank,
            question=question,
            problem=problem,
        )
    try:
        banks.delete_bank_question(question, current_user)
    except AuthoringError as error:
        _flash_errors(error)
        return redirect(url_for("banks.bank", bank_id=bank_id))
    db.session.commit()
    flash(_("Question deleted."), "success")
    return redirect(url_for("banks.bank", bank_id=bank_id))


# Import and export ----------------------------------------------------------------


def _import_page(bank, values, errors, problems=(), preview=None, pending=None, status=200):
    page = render_template(
        "assessments/manage/import.html",
        bank=bank,
        values=values,
        errors=errors,
        problems=problems,
        preview=preview,
        pending=pending,
        categories=sorted(bank.categories, key=lambda c: c.path),
        formats=transfer.IMPORT_FORMATS,
        format_labels=transfer.FORMAT_LABELS,
    )
    return page, status


def _read_stored(name: str, fmt: str):
    path = uploads.path_of(IMPORT_AREA, name)
    if path is None:
        return None
    if fmt == "spreadsheet":
        return question_sheet.read_sheet(path.read_bytes())
    return transfer.read_file(fmt, path.read_bytes())


def _store_upload(bank, data: dict, errors: dict):
    """Check the import form and store its file; return the stored file and target."""
    fmt = data.get("format")
    if fmt not in transfer.IMPORT_FORMATS:
        errors["format"] = _("Choose GIFT, Aiken, Moodle XML or a spreadsheet.")
    target = banks.category_of(bank, data.get("category_id"))
    if target is None:
        errors["category_id"] = _("Choose a category of this bank.")
    if errors:
        return None, target

    upload = request.files.get("file")
    try:
        stored = uploads.store(
            IMPORT_AREA,
            upload.filename if upload else "",
            upload.stream if upload else None,
            allowed=transfer.EXTENSIONS[fmt],
            max_bytes=IMPORT_MAX_BYTES,
        )
    except uploads.UploadError as error:
        logger.info("Import upload into bank %s rejected: %s", bank.id, error.code)
        errors["file"] = _upload_message(error, fmt, upload.filename if upload else "")
        return None, target
    return stored, target


def _upload_message(error: uploads.UploadError, fmt: str, filename: str) -> str:
    """Return why the import file was rejected, in the words of ``error.code``."""
    if error.code == "missing" and filename:
        return _(
            "The file %(name)s is empty. Choose the file that contains the questions.",
            name=filename,
        )
    if error.code == "content" and fmt == "spreadsheet":
        return _(
            "The file %(name)s is not a spreadsheet. Save the questions as XLSX, or "
            "as CSV in UTF-8 or GBK, and upload that file.",
            name=filename,
        )
    old_excel = filename.lower().endswith(".xls")
    if error.code == "extension" and fmt == "spreadsheet" and old_excel:
        return _(
            "The file %(name)s is an old Excel 97-2003 workbook (.xls). Save it as "
            "an Excel workbook (.xlsx) or as CSV and upload that file.",
            name=filename,
        )
    if error.code == "content":
        return _(
            "The file %(name)s is not text: it contains binary data. Save the "
            "questions as plain text in UTF-8 or GBK and upload that file.",
            name=filename,
        )
    if error.code == "size":
        return _(
            "The file %(name)s is larger than %(size)d MB. Split the questions "
            "into smaller files.",
            name=filename,
            size=IMPORT_MAX_BYTES // uploads.MB,
        )
    return _(
        "Upload a file in the %(format)s format, ending in %(extensions)s, at most 5 MB.",
        format=str(transfer.FORMAT_LABELS[fmt]),
        extensions=join_names("." + e for e in error.allowed),
    )


@bp.route("/banks/<int:bank_id>/import", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def import_questions(bank_id: int):
    """Upload a file and show what it would import, or every problem with its line."""
    bank = _bank(bank_id)
    if request.method == "GET":
        return _import_page(bank, {"format": "gift"}, {})
    data = request.form.to_dict()
    errors: dict[str, str] = {}
    stored, target = _store_upload(bank, data, errors)
    if errors:
        return _import_page(bank, data, errors, status=400)

    try:
        preview = _read_stored(stored.name, data["format"])
    except FormatError as error:
        uploads.remove(IMPORT_AREA, stored.name)
        logger.info("Import into bank %s rejected: %d problems", bank.id, len(error.problems))
        return _import_page(bank, data, {}, problems=error.problems, status=400)
    pending = pending_imports.keep(target, data["format"], stored, current_user)
    db.session.commit()
    return _import_page(bank, data, {}, preview=preview, pending=pending)


@bp.route("/banks/<int:bank_id>/import/<int:import_id>/confirm", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def confirm_import(bank_id: int, import_id: int):
    """Import the questions of the preview ``import_id``, once."""
    bank = _bank(bank_id)
    try:
        pending = pending_imports.find(import_id, bank, current_user)
        pending_imports.claim(pending)
        target = banks.category_of(bank, pending.category_id)
        preview = _read_stored(pending.stored_name, pending.format)
        if target is None or preview is None:
            raise pending_imports.ImportRejected("unknown")
    except (pending_imports.ImportRejected, FormatError) as error:
        db.session.rollback()
        logger.info("Question import %s into bank %s rejected: %s", import_id, bank_id, error)
        flash(_import_rejected_message(error), "error")
        return redirect(url_for("banks.import_questions", bank_id=bank_id))

    created = transfer.store(target, preview, current_user)
    db.session.commit()
    uploads.remove(IMPORT_AREA, pending.stored_name)
    logger.info(
        "Question import %s into bank %s confirmed by %r", import_id, bank_id, current_user
    )
    flash(
        ngettext(
            "%(num)d question imported.", "%(num)d questions imported.", len(created)
        ),
        "success",
    )
    return redirect(url_for("banks.bank", bank_id=bank_id, category=target.id))


def _import_rejected_message(error: Exception) -> str:
    """Return why a confirmation imported nothing, and what to do next."""
    code = getattr(error, "code", "unknown")
    if code == "imported":
        return _(
            "The questions of %(name)s were imported already, at %(when)s. Nothing "
            "was imported again. Upload the file again to import a second copy.",
            name=error.pending.filename,
            when=format_datetime(error.pending.imported_at, "short"),
        )
    if code == "expired":
        return _(
            "The preview of %(name)s is older than a day and was not imported. "
            "Upload the file again.",
            name=error.pending.filename,
        )
    return _(
        "This import preview was not found: it has expired, or it was made by "
        "another user or for another bank. Nothing was imported. Upload the file again."
    )


@bp.route("/banks/import-template.<extension>")
@roles_required(*AUTHOR_ROLES)
def import_template(extension: str):
    """Download the question sheet template with one example row per question kind."""
    if extension not in question_sheet_export.EXTENSIONS:
        abort(404)
    response = Response(
        question_sheet_export.template_bytes(extension),
        mimetype=EXPORT_MIMETYPES[extension],
        headers={
            "Content-Disposition": (
                f'attachment; filename="question-template.{extension}"'
            ),
            "X-Content-Type-Options": "nosniff",
        },
    )
    return response


def _unexportable_count(fmt: str, questions: list[Question]) -> int:
    if fmt in question_sheet_export.EXTENSIONS:
        return question_sheet_export.unexportable_count(questions)
    return transfer.unexportable_count(fmt, questions)


def _export(fmt: str, questions: list[Question]) -> tuple[bytes, list[Question]]:
    if fmt in question_sheet_export.EXTENSIONS:
        return question_sheet_export.export_bytes(fmt, questions)
    return transfer.export(fmt, questions)


@bp.route("/banks/<int:bank_id>/export")
@roles_required(*AUTHOR_ROLES)
def export_questions(bank_id: int):
    bank = _bank(bank_id)
    fmt = request.args.get("format")
    if fmt not in transfer.EXPORT_FORMATS:
        abort(404)
    category = banks.category_of(bank, request.args.get("category"))
    questions = banks.bank_questions(bank, category)
    body, left_out = _export(fmt, questions)
    extension = EXPORT_EXTENSIONS[fmt]
    response = Response(
        body,
        mimetype=EXPORT_MIMETYPES.get(fmt, "text/plain"),
        headers={
            "Content-Disposition": f'attachment; filename="questions-{bank.id}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            # The number of questions the format cannot hold, e.g. essays in Aiken.
            "X-Questions-Left-Out": str(len(left_out)),
        },
    )
    response.charset = "utf-8"
    return response


# Quiz draws, bank picks and grants ---------------------------------------------------


@bp.route("/quizzes/<int:quiz_id>/draws", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def add_draw(quiz_id: int):
    quiz = _managed_quiz(quiz_id)
    category = None
    for candidate in banks.categories_of(current_user.institution_id):
        if str(candidate.id) == request.form.get("category_id"):
            category = candidate
    data = request.form.to_dict()
    try:
        authoring.save_draw(quiz, category, data, current_user)
    except AuthoringError as error:
        # The page shows each message next to its field, so nothing is flashed.
        db.session.rollback()
        labels = {"category_id": _("Category"), "count": _("Number of questions")}
        return quiz_page_with_draw(_managed_quiz(quiz_id), data, error.labelled(labels))
    db.session.commit()
    flash(_("Random draw saved."), "success")
    return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))


@bp.route("/quizzes/<int:quiz_id>/draws/<int:draw_id>/delete", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def delete_draw(quiz_id: int, draw_id: int):
    quiz = _managed_quiz(quiz_id)
    draw = db.session.get(QuizDraw, draw_id)
    if draw is None or draw.quiz_id != quiz.id:
        abort(404)
    try:
        authoring.delete_draw(quiz, draw, current_user)
    except AuthoringError as error:
        _flash_errors(error)
        return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))
    db.session.commit()
    flash(_("Random draw removed."), "success")
    return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))


@bp.route("/quizzes/<int:quiz_id>/bank-questions", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def pick_questions(quiz_id: int):
    """List bank questions and copy the ticked ones into the quiz as fixed questions."""
    quiz = _managed_quiz(quiz_id)
    own_banks = banks.banks_of(current_user.institution_id)
    if request.method == "GET":
        chosen = next(
            (b for b in own_banks if str(b.id) == request.args.get("bank")),
            own_banks[0] if own_banks else None,
        )
        return render_template(
            "assessments/manage/pick_questions.html",
            quiz=quiz,
            banks=own_banks,
            chosen=chosen,
            questions=banks.bank_questions(chosen) if chosen else [],
        )
    try:
        authoring.require_draft_quiz(quiz)
    except AuthoringError as error:
        _flash_errors(error)
        return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))
    bank_ids = {b.id for b in own_banks}
    added = 0
    for raw in request.form.getlist("question_id"):
        question = db.session.get(Question, int(raw)) if raw.isdigit() else None
        if question is None or question.category is None or question.category.bank_id not in bank_ids:
            continue
        authoring.add_bank_question(quiz, question, current_user)
        added += 1
    if not added:
        flash(_("Tick at least one question to add."), "error")
        return redirect(url_for("banks.pick_questions", quiz_id=quiz_id))
    db.session.commit()
    flash(
        ngettext(
            "%(num)d question added to the quiz.", "%(num)d questions added to the quiz.", added
        ),
        "success",
    )
    return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))


def _grants_page(quiz, values, errors, status=200):
    grants = db.session.scalars(
        sa.select(QuizGrant).filter_by(quiz_id=quiz.id).order_by(QuizGrant.id)
    ).all()
    page = render_template(
        "assessments/manage/grants.html",
        quiz=quiz,
        grants=grants,
        standings=marking.learner_standings(quiz),
        values=values,
        errors=errors,
    )
    return page, status


@bp.route("/quizzes/<int:quiz_id>/grants", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def grants(quiz_id: int):
    """Give one learner extended time or extra attempts on a quiz.

    The page lists the learners' grades, so it follows the results page:
    the course's teachers and the administrators.
    """
    quiz = _graded_quiz(quiz_id)
    if request.method == "GET":
        return _grants_page(quiz, _grant_values(quiz, request.args.get("username", "")), {})
    data = request.form.to_dict()
    username = (data.get("username") or "").strip()
    learner = db.session.scalar(
        sa.select(User).filter_by(username=username, institution_id=current_user.institution_id)
    )
    try:
        if learner is None or not learner.role.is_learner:
            raise AuthoringError(
                {"username": _("Enter the username of a learner of your institution.")}
            )
        marking.set_grant(quiz, learner, data, current_user)
    except AuthoringError as error:
        db.session.rollback()
        return _grants_page(_graded_quiz(quiz_id), data, error.errors, 400)
    db.session.commit()
    flash(_grant_saved_message(quiz, learner), "success")
    return redirect(url_for("banks.grants", quiz_id=quiz_id))


def _grant_values(quiz, username: str) -> dict:
    """Return the form values of a learner's stored grant, so an edit starts from the totals."""
    username = username.strip()
    if not username:
        return {}
    learner = db.session.scalar(
        sa.select(User).filter_by(username=username, institution_id=current_user.institution_id)
    )
    grant = services.grant_for(learner, quiz) if learner is not None else None
    if grant is None:
        return {"username": username}
    return {
        "username": username,
        "extra_minutes": grant.extra_minutes,
        "extra_attempts": grant.extra_attempts,
        "reason": grant.reason,
    }


def _grant_saved_message(quiz, learner) -> str:
    name = learner.full_name or learner.username
    grant = services.grant_for(learner, quiz)
    allowed = services.allowed_attempts(learner, quiz)
    minutes = ngettext(
        "%(num)d extra minute", "%(num)d extra minutes", grant.extra_minutes
    )
    if allowed is None:
        return _(
            "Grant saved for %(name)s: %(minutes)s in total. "
            "This quiz has no attempt limit.",
            name=name,
            minutes=minutes,
        )
    return _(
        "Grant saved for %(name)s: %(minutes)s and %(attempts)s in total, so %(allowed)s.",
        name=name,
        minutes=minutes,
        attempts=ngettext(
            "%(num)d extra attempt", "%(num)d extra attempts", grant.extra_attempts
        ),
        allowed=ngettext(
            "%(num)d attempt is allowed", "%(num)d attempts are allowed", allowed
        ),
    )


# Quiz results ---------------------------------------------------------------------------


@bp.route("/quizzes/<int:quiz_id>/results")
@roles_required(*AUTHOR_ROLES)
def quiz_results(quiz_id: int):
    """Show each learner's grade at the quiz and the item analysis of its questions."""
    quiz = _graded_quiz(quiz_id)
    return render_template(
        "assessments/manage/quiz_results.html",
        quiz=quiz,
        rows=quiz_report.learner_rows(quiz),
        items=quiz_report.item_analysis(quiz),
    )


@bp.route("/quizzes/<int:quiz_id>/results.csv")
@roles_required(*AUTHOR_ROLES)
def export_quiz_results(quiz_id: int):
    """Export the learners' grades as CSV with a byte order mark, so Excel reads the names."""
    quiz = _graded_quiz(quiz_id)
    zone = authoring.institution_zone(quiz.course.institution_id)
    headers = [
        _("Person"),
        _("Username"),
        _("Employee number"),
        _("Department"),
        _("Attempts"),
        _("Grade (percent)"),
        _("Passed"),
        _("Waiting for grading"),
        _("Last submitted"),
    ]
    table = [
        [
            row.user.full_name,
            row.user.username,
            row.user.employee_no or "",
            row.user.department.name if row.user.department else "",
            row.attempts,
            "" if row.grade is None else scoring.display(row.grade),
            _("Yes") if row.passed else _("No"),
            _("Yes") if row.waiting_for_grading else _("No"),
            row.last_submitted_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            if row.last_submitted_at
            else "",
        ]
        for row in quiz_report.learner_rows(quiz)
    ]
    return exports.csv_response(f"quiz-{quiz.id}-results.csv", headers, table)


@bp.route("/attempts/<int:attempt_id>")
@roles_required(*AUTHOR_ROLES)
def review_attempt(attempt_id: int):
    """Show a learner's submitted attempt with every answer, score and correct answer.

    The course's teachers and administrators read it, as they grade its
    essays. Another institution's attempt, or one not submitted, gives 404.
    """
    attempt = db.session.get(Attempt, attempt_id)
    if (
        attempt is None
        or attempt.submitted_at is None
        or attempt.quiz.course.institution_id != current_user.institution_id
    ):
        abort(404)
    if not teaching.may_grade(current_user, attempt.quiz.course):
        abort(403)
    return render_template(
        "assessments/manage/attempt_review.html",
        attempt=attempt,
        quiz=attempt.quiz,
        learner=attempt.user,
        answers={answer.question_id: answer for answer in attempt.answers},
        show={part: True for part in review.PARTS},
        matched_answer=grading.matched_answer,
        for_trainer=True,
    )


# Manual grading ------------------------------------------------------------------------


@bp.route("/grading")
@roles_required(*AUTHOR_ROLES)
def grading_queue():
    return render_template(
        "assessments/manage/grading_queue.html",
        answers=marking.grading_queue(current_user),
    )


def _answer(answer_id: int) -> AttemptAnswer:
    """Load a submitted answer the current user may grade.

    Another institution's answer gives 404. A trainer who does not teach
    the quiz's course gets 403 (see ``courses.teaching``).
    """
    answer = db.session.get(AttemptAnswer, answer_id)
    if (
        answer is None
        or answer.attempt.submitted_at is None
        or answer.attempt.quiz.course.institution_id != current_user.institution_id
    ):
        abort(404)
    if not teaching.may_grade(current_user, answer.attempt.quiz.course):
        abort(403)
    return answer


def _grade_page(answer, values, errors, status=200):
    page = render_template(
        "assessments/manage/grade_answer.html",
        answer=answer,
        points=marking.scoring_points(answer.question),
        values=values,
        errors=errors,
    )
    return page, status


def _grade_values(answer: AttemptAnswer) -> dict:
    values = {f"point_{i}": s for i, s in enumerate(answer.point_scores or [], start=1)}
    values["comment"] = answer.comment
    return values


def _grade_conflict(answer: AttemptAnswer, typed: dict):
    """Return the grading page with status 409, naming the grade saved meanwhile."""
    db.session.refresh(answer)
    score = ngettext(
        "%(awarded)s of %(max)s point",
        "%(awarded)s of %(max)s points",
        plural_count(answer.question.points),
        awarded=scoring.display(answer.awarded),
        max=scoring.display(answer.question.points),
    )
    conflict = revisions.grade_conflict(answer, answer.graded_by_id, answer.graded_at, score)
    points = marking.scoring_points(answer.question)
    fields = {
        f"point_{index}": _(
            "Scoring point %(number)d (%(point)s)", number=index, point=point["text"][:40]
        )
        for index, point in enumerate(points, start=1)
    }
    fields["comment"] = _("Comment to the learner")
    revisions.show_conflict(
        conflict, revisions.value_differences(typed, _grade_values(answer), fields)
    )
    return _grade_page(answer, typed, {}, 409)


@bp.route("/grading/<int:answer_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def grade_answer(answer_id: int):
    answer = _answer(answer_id)
    if request.method == "GET":
        return _grade_page(answer, _grade_values(answer), {})
    data = request.form.to_dict()
    if revisions.is_stale(answer.grade_version):
        return _grade_conflict(answer, data)
    try:
        kept_awards = marking.grade_essay(
            answer, data, current_user, revisions.posted_version()
        )
    except AuthoringError as error:
        db.session.rollback()
        return _grade_page(_answer(answer_id), data, error.errors, 400)
    except revisions.StaleGrade:
        db.session.rollback()
        return _grade_conflict(_answer(answer_id), data)
    db.session.commit()
    flash(_("Grade saved."), "success")
    if kept_awards:
        flash(_kept_message(kept_awards), "warning")
    return redirect(url_for("banks.grading_queue"))


def _certificate_link(cert) -> Markup:
    """Link a certificate to its page for those who may revoke it, else to its check."""
    if certificate_services.can_manage(current_user, cert):
        url = url_for("certificates.detail", serial=cert.serial)
    else:
        url = url_for("certificates.verify", code=cert.verification_code)
    return Markup('<a href="{}">{}</a>').format(url, cert.serial)


def _kept_message(kept_awards: marking.KeptAchievements) -> Markup:
    """Return the notice that a pass turned into a fail kept the completion and certificates."""
    if not kept_awards.certificates:
        return escape(
            _(
                "The attempt is no longer passed, but the course completion is kept. "
                "A course completion is not withdrawn by a grade."
            )
        )
    links = Markup("、").join(_certificate_link(cert) for cert in kept_awards.certificates)
    # Without arguments gettext leaves the placeholder in place, so the escaped
    # text receives the links as markup.
    text = escape(
        _(
            "The attempt is no longer passed, but the certificates %(serials)s stay "
            "valid. Only HR staff or an administrator of the issuing institution can "
            "revoke them, on the certificate’s page."
        )
    )
    return text % {"serials": links}
