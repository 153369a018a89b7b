"""Pages of the online student evaluation: HR's actions and the public student page.

HR who enter a counselor's student component (institution HR and admins)
open, extend, close and reopen the evaluation, download the codes when
they are generated, void single codes and discard an evaluation whose
score is not recorded. Students need no account: the public page takes a code
and the scores, and is rate-limited for rejected codes.
"""

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from lms import exports
from lms.accounts.access import person_roles_required
from lms.accounts.models import Role
from lms.annual_assessment import evaluation, services
from lms.annual_assessment import evaluation_withdrawal as withdrawal
from lms.annual_assessment.forms import (
    ActionForm,
    AddCodesForm,
    CodeLookupForm,
    DiscardEvaluationForm,
    OpenEvaluationForm,
    StudentEvaluationForm,
    VoidCodesForm,
)
from lms.annual_assessment.models import StudentEvaluation
from lms.annual_assessment.views import (
    _counselor_or_404,
    _may_manage_evaluation,
    _render_person,
    _scheme_or_404,
)
from lms.compliance.windows import local_today
from lms.extensions import db, limiter
from lms.i18n import join_names

logger = logging.getLogger("lms.annual_assessment")

bp = Blueprint("student_evaluation", __name__)

HR_ROLES = (Role.HR, Role.ADMIN)

#: HTTP status of each reason a code is rejected.
REJECTED_STATUS = {"unknown": 404, "void": 410, "used": 409, "closed": 410}


def _evaluation_rate_limit() -> str:
    return current_app.config.get("EVALUATION_RATE_LIMIT", "20 per minute")


def _code_rejected(response) -> bool:
    """Count a request against the limit only when it rejected a code."""
    return response.status_code in REJECTED_STATUS.values()


# HR


def _target(scheme_id: int, person_id: int):
    """Load the scheme and counselor, and require the right to manage the evaluation."""
    scheme = _scheme_or_404(scheme_id)
    person = _counselor_or_404(scheme, person_id)
    if not _may_manage_evaluation(scheme, person):
        abort(403)
    return scheme, person


def _evaluation_or_404(scheme, person) -> StudentEvaluation:
    assessment = services.find_assessment(scheme, person)
    found = services.evaluation_of(assessment) if assessment is not None else None
    if found is None:
        abort(404)
    return found


def _codes_download(scheme, person, codes: list[str], first_number: int):
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    rows = [
        [number, code, f"{base}{url_for('student_evaluation.evaluate', code=code)}"]
        for number, code in enumerate(codes, start=first_number)
    ]
    name = f"{scheme.year}年度学生评议码-{person.full_name}.csv"
    response = exports.csv_response(name, [_("No."), _("Access code"), _("Link")], rows)
    response.headers["Cache-Control"] = "no-store"
    return response


def _field_error(form, error: services.AssessmentError, fallback: str) -> None:
    getattr(form, error.field if error.field in form else fallback).errors = [error.message]


@bp.route(
    "/annual-assessment/schemes/<int:scheme_id>/people/<int:person_id>/evaluation/open",
    methods=["POST"],
)
@person_roles_required(*HR_ROLES)
def open_evaluation(scheme_id: int, person_id: int):
    """Open the evaluation and send its codes as a CSV download."""
    scheme, person = _target(scheme_id, person_id)
    form = OpenEvaluationForm()
    if not form.validate_on_submit():
        return _render_person(scheme, person, open_form=form, status=400)
    assessment = services.assessment_for(scheme, person)
    try:
        _opened, codes = evaluation.open_evaluation(
            assessment, current_user, form.student_count.data, form.code_count.data
        )
    except services.AssessmentError as error:
        _field_error(form, error, "student_count")
        return _render_person(scheme, person, open_form=form, status=400)
    db.session.commit()
    return _codes_download(scheme, person, codes, 1)


@bp.route(
    "/annual-assessment/schemes/<int:scheme_id>/people/<int:person_id>/evaluation/codes",
    methods=["POST"],
)
@person_roles_required(*HR_ROLES)
def add_codes(scheme_id: int, person_id: int):
    """Generate more codes and send them as a CSV download."""
    scheme, person = _target(scheme_id, person_id)
    found = _evaluation_or_404(scheme, person)
    form = AddCodesForm()
    if not form.validate_on_submit():
        return _render_person(scheme, person, codes_form=form, status=400)
    issued_before = evaluation.code_counts(found).issued
    try:
        codes = evaluation.add_codes(found, current_user, form.code_count.data)
    except services.AssessmentError as error:
        _field_error(form, error, "code_count")
        return _render_person(scheme, person, codes_form=form, status=400)
    db.session.commit()
    return _codes_download(scheme, person, codes, issued_before + 1)


def _person_page(scheme, person):
    return redirect(url_for("annual_assessment.person", scheme_id=scheme.id, person_id=person.id))


@bp.route(
    "/annual-assessment/schemes/<int:scheme_id>/people/<int:person_id>/evaluation/void",
    methods=["POST"],
)
@person_roles_required(*HR_ROLES)
def void_codes(scheme_id: int, person_id: int):
    """Void unused codes that HR lists by number or by the code itself."""
    scheme, person = _target(scheme_id, person_id)
    found = _evaluation_or_404(scheme, person)
    form = VoidCodesForm()
    if not form.validate_on_submit():
        return _render_person(scheme, person, void_form=form, status=400)
    try:
        numbers = withdrawal.void_codes(found, current_user, form.codes.data)
    except services.AssessmentError as error:
        db.session.rollback()
        _field_error(form, error, "codes")
        return _render_person(scheme, person, void_form=form, status=400)
    evaluation_id = found.id
    db.session.commit()
    logger.info(
        "Codes %s of student evaluation %r voided by %r", numbers, evaluation_id, current_user.id
    )
    listed = join_names(str(number) for number in numbers)
    flash(
        ngettext(
            "Code number %(numbers)s is void, so students can no longer use it.",
            "Code numbers %(numbers)s are void, so students can no longer use them.",
            len(numbers),
            numbers=listed,
        ),
        "success",
    )
    return _person_page(scheme, person)


@bp.route(
    "/annual-assessment/schemes/<int:scheme_id>/people/<int:person_id>/evaluation/discard",
    methods=["POST"],
)
@person_roles_required(*HR_ROLES)
def discard(scheme_id: int, person_id: int):
    """Delete an evaluation whose score is not recorded, with its codes and responses."""
    scheme, person = _target(scheme_id, person_id)
    found = _evaluation_or_404(scheme, person)
    form = DiscardEvaluationForm()
    if not form.validate_on_submit():
        return _render_person(scheme, person, discard_form=form, status=400)
    evaluation_id, assessment_id = found.id, found.assessment_id
    try:
        withdrawal.discard(found, current_user, form.reason.data)
    except services.AssessmentError as error:
        db.session.rollback()
        if error.field == "reason":
            form.reason.errors = [error.message]
            return _render_person(scheme, person, discard_form=form, status=400)
        return _render_person(scheme, person, error=error.message, status=400)
    db.session.commit()
    logger.info(
        "Student evaluation %r of assessment %r discarded by %r",
        evaluation_id,
        assessment_id,
        current_user.id,
    )
    flash(
        _(
            "The student evaluation is discarded with its codes and responses. "
            "A new evaluation can be opened."
        ),
        "success",
    )
    return _person_page(scheme, person)


def _action(scheme_id: int, person_id: int, act):
    """Run ``act(evaluation)`` for a POST button, then show the assessment page."""
    scheme, person = _target(scheme_id, person_id)
    found = _evaluation_or_404(scheme, person)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        message = act(found)
    except services.AssessmentError as error:
        db.session.rollback()
        return _render_person(scheme, person, error=error.message, status=400)
    db.session.commit()
    flash(*message)
    return _person_page(scheme, person)


@bp.route(
    "/annual-assessment/schemes/<int:scheme_id>/people/<int:person_id>/evaluation/close",
    methods=["POST"],
)
@person_roles_required(*HR_ROLES)
def close(scheme_id: int, person_id: int):
    def act(found):
        problem = evaluation.close(found, current_user)
        if problem is not None:
            return (
                _("The student evaluation is closed, but its score was not recorded: %(reason)s", reason=problem),
                "error",
            )
        return _("The student evaluation is closed and its score recorded."), "success"

    return _action(scheme_id, person_id, act)


@bp.route(
    "/annual-assessment/schemes/<int:scheme_id>/people/<int:person_id>/evaluation/reopen",
    methods=["POST"],
)
@person_roles_required(*HR_ROLES)
def reopen(scheme_id: int, person_id: int):
    def act(found):
        evaluation.reopen(found, current_user)
        return _("The student evaluation is open again; its unused codes work again."), "success"

    return _action(scheme_id, person_id, act)


@bp.route(
    "/annual-assessment/schemes/<int:scheme_id>/people/<int:person_id>/evaluation/apply",
    methods=["POST"],
)
@person_roles_required(*HR_ROLES)
def apply(scheme_id: int, person_id: int):
    def act(found):
        row = evaluation.apply_result(found, current_user)
        return (
            _(
                "Student evaluation score %(score)s recorded from %(responses)s responses.",
                score=row.score,
                responses=row.sample_size,
            ),
            "success",
        )

    return _action(scheme_id, person_id, act)


# Students


def _public(response):
    """Keep evaluation pages out of caches, search engines and referrer headers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _rejected_message(reason: str) -> str:
    # The log line leaves out the code and the address, so that it cannot be
    # matched with a response.
    logger.info("Student evaluation code rejected: %s", reason)
    messages = {
        "unknown": _(
            "This access code is not valid. Check the code you received; it has "
            "24 letters and digits, such as ABCD-EFGH-JKLM-NPQR-STUV-WXYZ."
        ),
        "void": _(
            "This access code was withdrawn, so it can no longer be used. If it "
            "was given to you, ask the person who gave it to you for a new code."
        ),
        "used": _("This access code was already used. Each code can be used once."),
        "closed": _("This evaluation is closed, so it no longer takes responses."),
    }
    return messages[reason]


def _lookup_page(form: CodeLookupForm, status: int = 200):
    html = render_template("lms/annual_assessment/evaluate_lookup.html", form=form)
    return _public(make_response(html, status))


def _scores_page(code, form, status: int = 200):
    assessment = code.evaluation.assessment
    html = render_template(
        "lms/annual_assessment/evaluate.html",
        form=form,
        person=assessment.user,
        scheme=assessment.scheme,
        dimensions=assessment.scheme.dimensions,
    )
    return _public(make_response(html, status))


@bp.route("/evaluate")
@limiter.limit(_evaluation_rate_limit, deduct_when=_code_rejected)
def evaluate():
    """Ask for a code; a usable code, typed or from a link, shows the score form."""
    if "code" not in request.args:
        return _lookup_page(CodeLookupForm(formdata=None))
    lookup = CodeLookupForm(formdata=request.args)
    if not lookup.validate():
        return _lookup_page(lookup, 400)
    try:
        code = evaluation.usable_code(lookup.code.data)
    except evaluation.CodeRejected as rejected:
        lookup.code.errors = [_rejected_message(rejected.reason)]
        return _lookup_page(lookup, REJECTED_STATUS[rejected.reason])
    form_class = StudentEvaluationForm.for_dimensions(code.evaluation.assessment.scheme.dimensions)
    form = form_class(formdata=None, code=lookup.code.data.strip())
    return _scores_page(code, form)


@bp.route("/evaluate", methods=["POST"])
@limiter.limit(_evaluation_rate_limit, deduct_when=_code_rejected)
def submit():
    """Store a student's scores once per code, then thank them."""
    text = request.form.get("code", "")
    try:
        code = evaluation.usable_code(text)
    except evaluation.CodeRejected as rejected:
        return _rejected_page(text, rejected.reason)
    assessment = code.evaluation.assessment
    form = StudentEvaluationForm.for_dimensions(assessment.scheme.dimensions)()
    if not form.validate_on_submit():
        return _scores_page(code, form, 400)
    scores = {d.id: form[f"dimension_{d.id}"].data for d in assessment.scheme.dimensions}
    try:
        evaluation.submit_response(
            text, scores, form.comment.data or "", local_today(assessment.user.institution)
        )
    except evaluation.CodeRejected as rejected:
        db.session.rollback()
        return _rejected_page(text, rejected.reason)
    except services.AssessmentError as error:
        db.session.rollback()
        _field_error(form, error, "comment")
        return _scores_page(code, form, 400)
    db.session.commit()
    return redirect(url_for(".thanks"), 303)


def _rejected_page(text: str, reason: str):
    lookup = CodeLookupForm(formdata=None, code=text[:64])
    lookup.code.errors = [_rejected_message(reason)]
    return _lookup_page(lookup, REJECTED_STATUS[reason])


@bp.route("/evaluate/thanks")
def thanks():
    return _public(make_response(render_template("lms/annual_assessment/evaluate_thanks.html")))
