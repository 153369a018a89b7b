"""Pages of the yearly assessment: schemes, score sheets, scoring and filing.

Institution HR and admins edit schemes and finalise. Department HR reads
and scores the counselors of their own department. A counselor files their
own achievements and reads their own result once it is finalised.
"""

import secrets
from decimal import Decimal
from typing import Optional

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from lms import exports, revisions, uploads
from lms.accounts.access import (
    get_person_or_404,
    hr_scope,
    person_roles_required,
    roles_required,
)
from lms.accounts.models import Role, User
from lms.annual_assessment import evaluation as student_evaluation
from lms.annual_assessment import evaluation_withdrawal as withdrawal
from lms.annual_assessment import correction, importing, scoring, services
from lms.annual_assessment.forms import (
    AchievementForm,
    ActionForm,
    AddCodesForm,
    DiscardEvaluationForm,
    FinaliseForm,
    ImportConfirmForm,
    ImportForm,
    OpenEvaluationForm,
    ReopenForm,
    SchemeForm,
    ScoreForm,
    SelfReportForm,
    VoidCodesForm,
)
from lms.annual_assessment.models import (
    AssessmentScheme,
    ComponentKind,
    WorkAchievement,
)
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.organisations.models import Department
from lms.records.services import current_year
from lms.routing import MAX_ID

bp = Blueprint("annual_assessment", __name__, url_prefix="/annual-assessment")

IMPORT_TYPES = ("csv", "txt", "xlsx")
#: Upload area where a checked score sheet waits for its confirmation.
IMPORT_AREA = "imports"
#: Start of the name of every stored score sheet awaiting confirmation.
IMPORT_PREFIX = "assessment-scores-"
IMPORT_MAX_BYTES = 5 * uploads.MB
uploads.register_field("assessment_scores", lambda: {"*": IMPORT_MAX_BYTES})

HR_ROLES = (Role.HR, Role.ADMIN)


def _scheme_or_404(scheme_id: int) -> AssessmentScheme:
    scheme = db.session.get(AssessmentScheme, scheme_id) if scheme_id <= MAX_ID else None
    if scheme is None or scheme.institution_id != current_user.institution_id:
        abort(404)
    return scheme


def _require_institution_reviewer() -> None:
    if not services.is_institution_reviewer(current_user, current_user.institution_id):
        abort(403)


def _counselor_or_404(scheme: AssessmentScheme, person_id: int) -> User:
    """Load a counselor of the scheme's institution whom the viewer may read."""
    person = get_person_or_404(person_id)
    if person.role is not Role.COUNSELOR or person.institution_id != scheme.institution_id:
        abort(404)
    return person


def _sheet_department(raw: str) -> Optional[Department]:
    """Return the department whose sheet is shown; department HR always get theirs."""
    scope = hr_scope(current_user)
    if scope is not None:
        return db.session.get(Department, scope)
    raw = raw.strip()
    # str.isdigit() accepts characters such as "²" that int() rejects.
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        return None
    department = db.session.get(Department, int(raw))
    if department is None or department.institution_id != current_user.institution_id:
        return None
    return department


@bp.route("/")
@login_required
def index():
    if current_user.role is Role.COUNSELOR:
        return redirect(url_for(".mine"))
    if current_user.role not in HR_ROLES:
        abort(403)
    scope = hr_scope(current_user)
    departments = [
        d for d in current_user.institution.departments if scope is None or d.id == scope
    ]
    return render_template(
        "lms/annual_assessment/index.html",
        schemes=services.schemes_of(current_user.institution_id),
        departments=departments,
        may_edit=scope is None,
        this_year=current_year(current_user),
    )


# Schemes


def _fill_scheme_form(form: SchemeForm, scheme: AssessmentScheme) -> None:
    if "year" in form:
        form.year.data = scheme.year
    form.title.data = scheme.title
    form.min_sample_percent.data = Decimal(scheme.min_sample_share) * 100
    for row, component in zip(form.components, scheme.components):
        row.form.name.data = component.name
        row.form.kind.data = component.kind.value
        row.form.weight.data = component.weight if component.kind is not ComponentKind.BONUS else None
        row.form.bonus_cap.data = component.bonus_cap
    for row, band in zip(form.bands, scheme.bands):
        row.form.name.data = band.name
        row.form.min_score.data = band.min_score
        row.form.grade.data = band.grade
    _fill_dimensions(form, services.dimension_specs(scheme) or services.DEFAULT_DIMENSIONS)


def _fill_dimensions(form: SchemeForm, dimensions) -> None:
    for row, spec in zip(form.dimensions, dimensions):
        row.form.name.data = spec.name
        row.form.min_score.data = spec.min_score
        row.form.max_score.data = spec.max_score


def _specs_from(form: SchemeForm):
    """Return the named component, band and dimension rows, and the incomplete rows.

    Rows without a name are blank and skipped. Choices are checked here,
    not by the select fields, so that blank rows need no choice.
    """
    kinds = {kind.value: kind for kind in ComponentKind}
    components, bands, problems = [], [], []
    for row in form.components:
        name = (row.form.name.data or "").strip()
        if not name:
            continue
        kind = kinds.get(row.form.kind.data or "")
        if kind is None:
            problems.append(
                scoring.Problem(
                    "components",
                    _("Scored by of “%(name)s”: choose who scores the component.", name=name),
                )
            )
            continue
        weight = row.form.weight.data
        if kind is ComponentKind.BONUS and weight:
            problems.append(
                scoring.Problem(
                    "components",
                    _(
                        "Weight of “%(name)s”: a bonus has no weight, because it adds "
                        "its points up to its cap. Clear the weight and set the bonus cap.",
                        name=name,
                    ),
                )
            )
            continue
        if kind is not ComponentKind.BONUS and row.form.bonus_cap.data:
            problems.append(
                scoring.Problem(
                    "components",
                    _(
                        "Bonus cap of “%(name)s”: only a bonus component has a cap. "
                        "Clear the cap, or choose the bonus under Scored by.",
                        name=name,
                    ),
                )
            )
            continue
        components.append(
            scoring.ComponentSpec(
                name,
                kind,
                weight if weight is not None else Decimal(0),
                row.form.bonus_cap.data if kind is ComponentKind.BONUS else None,
            )
        )
    for row in form.bands:
        name = (row.form.name.data or "").strip()
        if not name:
            continue
        bound = row.form.min_score.data
        if bound is None:
            problems.append(
                scoring.Problem(
                    "bands", _("Lower bound of “%(name)s”: enter a bound from 0 to 100.", name=name)
                )
            )
            continue
        bands.append(scoring.BandSpec(name, bound, row.form.grade.data or ""))
    dimensions = []
    for row in form.dimensions:
        name = (row.form.name.data or "").strip()
        if not name:
            continue
        low, high = row.form.min_score.data, row.form.max_score.data
        if low is None or high is None:
            problems.append(
                scoring.Problem(
                    "dimensions",
                    _("Score range of “%(name)s”: enter the lowest and the highest score.", name=name),
                )
            )
            continue
        dimensions.append(scoring.DimensionSpec(name, low, high))
    return components, bands, dimensions, problems


def _has_dimension_rows() -> bool:
    return any(key.startswith("dimensions-") for key in request.form)


def _scheme_page(form: SchemeForm, scheme: Optional[AssessmentScheme], problems=(), status=200):
    locked = scheme is not None and services.is_locked(scheme)
    return (
        render_template(
            "lms/annual_assessment/scheme_form.html",
            form=form,
            scheme=scheme,
            # The lock is explained once: by the problem list when it rejected the save.
            problems=problems,
            locked=locked and not any(p.field == "locked" for p in problems),
            may_correct=locked and current_user.role is Role.ADMIN,
            locked_message=correction.locked_message(),
            dimensions_locked=scheme is not None and services.has_evaluations(scheme),
        ),
        status,
    )


class _SchemeProblems(Exception):
    """Error raised when the posted scheme breaks a rule, with the ``problems`` found."""

    def __init__(self, problems):
        super().__init__(problems)
        self.problems = problems


def _save_scheme_from(form: SchemeForm, scheme: Optional[AssessmentScheme]):
    components, bands, dimensions, row_problems = _specs_from(form)
    if row_problems:
        return _scheme_page(form, scheme, row_problems, 400)
    share = (form.min_sample_percent.data / 100).quantize(Decimal("0.001"))
    corrected = (
        scheme is not None
        and services.changes_scoring(scheme, components, bands, share)
        and services.is_locked(scheme)
    )
    saved = []

    def apply() -> None:
        result, problems = services.save_scheme(
            current_user.institution_id,
            scheme.year if scheme is not None else form.year.data,
            current_user,
            title=form.title.data.strip(),
            min_sample_share=share,
            components=components,
            bands=bands,
            # A post without dimension rows keeps the scheme's dimensions.
            dimensions=dimensions if _has_dimension_rows() else None,
            scheme=scheme,
            correction_reason=form.correction_reason.data or "",
        )
        if problems:
            raise _SchemeProblems(problems)
        saved.append(result)

    try:
        if scheme is None:
            apply()
            db.session.commit()
            conflict = None
        else:
            conflict = revisions.save(scheme, apply, _scheme_snapshot)
    except _SchemeProblems as error:
        return _scheme_page(form, scheme, error.problems, 400)
    if conflict is not None:
        fresh = _scheme_form_of(scheme)
        revisions.show_conflict(conflict, revisions.differences(form, fresh))
        return _scheme_page(form, scheme, status=409)
    if corrected:
        flash(
            _(
                "Assessment scheme for %(year)s corrected. Totals and grades are "
                "computed when an assessment is finalised, so finalise the reopened "
                "assessments again.",
                year=saved[0].year,
            ),
            "success",
        )
        return redirect(url_for(".index"))
    flash(_("Assessment scheme for %(year)s saved.", year=saved[0].year), "success")
    return redirect(url_for(".index"))


def _scheme_form_of(scheme: AssessmentScheme) -> SchemeForm:
    """Return the edit form of ``scheme`` as stored."""
    form = SchemeForm(formdata=None)
    del form.year
    _fill_scheme_form(form, scheme)
    return form


def _scheme_snapshot(scheme: AssessmentScheme) -> dict:
    return revisions.form_values(_scheme_form_of(scheme))


@bp.route("/schemes/new", methods=["GET", "POST"])
@roles_required(*HR_ROLES)
def new_scheme():
    _require_institution_reviewer()
    form = SchemeForm()
    if request.method == "GET":
        year = current_year(current_user)
        if services.scheme_of(current_user.institution_id, year) is not None:
            year += 1
        previous = services.scheme_of(current_user.institution_id, year - 1)
        if previous is not None:
            _fill_scheme_form(form, previous)
        else:
            _fill_defaults(form)
        form.year.data = year
        form.title.data = _("Counselor assessment %(year)s", year=year)
        return _scheme_page(form, None)
    if not form.validate_on_submit():
        return _scheme_page(form, None, status=400)
    return _save_scheme_from(form, None)


def _fill_defaults(form: SchemeForm) -> None:
    form.min_sample_percent.data = services.DEFAULT_SAMPLE_SHARE * 100
    for row, spec in zip(form.components, services.DEFAULT_COMPONENTS):
        row.form.name.data = spec.name
        row.form.kind.data = spec.kind.value
        row.form.weight.data = spec.weight if spec.kind is not ComponentKind.BONUS else None
        row.form.bonus_cap.data = spec.bonus_cap
    for row, spec in zip(form.bands, services.DEFAULT_BANDS):
        row.form.name.data = spec.name
        row.form.min_score.data = spec.min_score
        row.form.grade.data = spec.grade
    _fill_dimensions(form, services.DEFAULT_DIMENSIONS)


@bp.route("/schemes/<int:scheme_id>/edit", methods=["GET", "POST"])
@roles_required(*HR_ROLES)
def edit_scheme(scheme_id: int):
    _require_institution_reviewer()
    scheme = _scheme_or_404(scheme_id)
    form = SchemeForm()
    # The year of an existing scheme does not change.
    del form.year
    if request.method == "GET":
        _fill_scheme_form(form, scheme)
        return _scheme_page(form, scheme)
    if not form.validate_on_submit():
        return _scheme_page(form, scheme, status=400)
    return _save_scheme_from(form, scheme)


# Score sheet and import


def _sheet_rows(scheme: AssessmentScheme, department: Optional[Department]):
    people = services.counselors_of(
        scheme.institution_id, department.id if department is not None else None
    )
    ids = [person.id for person in people]
    assessments = services.assessments_by_user(scheme, ids)
    counts = services.achievement_counts(scheme, ids)
    rows = []
    for person in people:
        assessment = assessments.get(person.id)
        scores = {s.component_id: s for s in assessment.scores} if assessment else {}
        rows.append(
            {
                "person": person,
                "assessment": assessment,
                "achievements": counts.get(person.id, 0),
                "scores": scores,
            }
        )
    return rows


def _render_sheet(
    scheme, department, import_form=None, parsed=None, *, confirm=None, changed=False, status=200
):
    return (
        render_template(
            "lms/annual_assessment/sheet.html",
            scheme=scheme,
            department=department,
            rows=_sheet_rows(scheme, department),
            import_form=import_form or ImportForm(),
            parsed=parsed,
            confirm=confirm,
            changed=changed,
        ),
        status,
    )


@bp.route("/schemes/<int:scheme_id>/sheet")
@roles_required(*HR_ROLES)
def sheet(scheme_id: int):
    scheme = _scheme_or_404(scheme_id)
    department = _sheet_department(request.args.get("department", ""))
    return _render_sheet(scheme, department)


@bp.route("/schemes/<int:scheme_id>/sheet.<any(csv, xlsx):extension>")
@roles_required(*HR_ROLES)
def sheet_export(scheme_id: int, extension: str):
    """Download the sheet in the layout the import reads, with the current scores."""
    scheme = _scheme_or_404(scheme_id)
    department = _sheet_department(request.args.get("department", ""))
    lines = []
    for row in _sheet_rows(scheme, department):
        person = row["person"]
        line = [person.employee_no or person.username, person.full_name]
        for component in scheme.components:
            score = row["scores"].get(component.id)
            line.append(score.score if score else "")
            if component.kind is ComponentKind.STUDENTS:
                line += [score.sample_size if score else "", score.student_count if score else ""]
        lines.append(line)
    name = f"{scheme.year}年度考核-{department.name if department else scheme.institution.name}.{extension}"
    headers = importing.sheet_headers(scheme)
    if extension == "csv":
        return exports.csv_response(name, headers, lines)
    return exports.xlsx_response(name, headers, lines, sheet_title=str(scheme.year))


def _import_upload_message(error: uploads.UploadError, filename: str) -> str:
    messages = {
        "missing": _("Choose a CSV or XLSX file to upload."),
        "extension": uploads.old_excel_message(filename) or _("Upload a .csv or .xlsx file."),
        "content": _(
            "The content of the file does not match its extension. Save the scores "
            "as CSV (UTF-8 or GBK) or XLSX and upload that file."
        ),
        "size": _("The file is larger than 5 MB; split it into several files."),
    }
    return messages[error.code]


def _stored_import_name(scheme: AssessmentScheme, token: str, extension: str) -> str:
    # The user id in the name ties a stored upload to the HR officer who made it.
    return f"{IMPORT_PREFIX}{current_user.id}-{scheme.id}-{token}.{extension}"


def _store_import(scheme: AssessmentScheme, content: bytes, extension: str) -> str:
    """Keep an upload until it is confirmed, in place of the viewer's earlier one."""
    directory = uploads.upload_root() / IMPORT_AREA
    directory.mkdir(parents=True, exist_ok=True)
    for earlier in directory.glob(f"{IMPORT_PREFIX}{current_user.id}-{scheme.id}-*"):
        earlier.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    (directory / _stored_import_name(scheme, token, extension)).write_bytes(content)
    return token


def _find_import(scheme: AssessmentScheme, token: str) -> Optional[tuple[str, bytes]]:
    if not token or not token.isalnum() or len(token) > 64:
        return None
    for extension in IMPORT_TYPES:
        path = uploads.path_of(IMPORT_AREA, _stored_import_name(scheme, token, extension))
        if path is not None:
            return f"upload.{extension}", path.read_bytes()
    return None


def _remove_import(scheme: AssessmentScheme, token: str) -> None:
    for extension in IMPORT_TYPES:
        uploads.remove(IMPORT_AREA, _stored_import_name(scheme, token, extension))


def _checked_import(form, scheme, department, parsed, status=400):
    """Render the problems of a parsed sheet, or its lack of changes; None when it has changes."""
    if parsed.problems:
        return _render_sheet(scheme, department, form, parsed, status=status)
    if not parsed.rows:
        if parsed.unchanged:
            form.file.errors = [
                _(
                    "Every score in the file is the one already stored, so nothing "
                    "changes. Fill in the scores that change and upload the file again."
                )
            ]
        else:
            form.file.errors = [
                _("The file contains no scores; fill in at least one score cell.")
            ]
        return _render_sheet(scheme, department, form, status=status)
    return None


@bp.route("/schemes/<int:scheme_id>/sheet/import", methods=["POST"])
@roles_required(*HR_ROLES)
def import_scores(scheme_id: int):
    """Check an uploaded score sheet and show the scores it would change."""
    scheme = _scheme_or_404(scheme_id)
    department = _sheet_department(request.args.get("department", ""))
    form = ImportForm()
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    try:
        file_type, content = uploads.check(
            upload.filename if upload else "",
            upload.stream if upload else None,
            allowed=IMPORT_TYPES,
            max_bytes=IMPORT_MAX_BYTES,
        )
    except uploads.UploadError as error:
        form.file.errors = [_import_upload_message(error, upload.filename if upload else "")]
        return _render_sheet(scheme, department, form, status=400)

    parsed = importing.parse(
        upload.filename, content, scheme, current_user, department.id if department else None
    )
    rejected_page = _checked_import(form, scheme, department, parsed)
    if rejected_page is not None:
        return rejected_page
    token = _store_import(scheme, content, file_type.extension)
    confirm = ImportConfirmForm(formdata=None, token=token, digest=parsed.digest())
    return _render_sheet(scheme, department, form, parsed, confirm=confirm)


@bp.route("/schemes/<int:scheme_id>/sheet/import/confirm", methods=["POST"])
@roles_required(*HR_ROLES)
def confirm_import(scheme_id: int):
    """Save the scores of a previewed sheet if they still change what the preview showed."""
    scheme = _scheme_or_404(scheme_id)
    department = _sheet_department(request.args.get("department", ""))
    form = ImportConfirmForm()
    stored = _find_import(scheme, form.token.data or "") if form.validate_on_submit() else None
    if stored is None:
        flash(_("This upload has expired or was already saved; upload the file again."), "error")
        return redirect(
            url_for(".sheet", scheme_id=scheme.id, department=department.id if department else None)
        )
    parsed = importing.parse(
        *stored, scheme, current_user, department.id if department else None
    )
    import_form = ImportForm(formdata=None)
    rejected_page = _checked_import(import_form, scheme, department, parsed, status=409)
    if rejected_page is not None:
        _remove_import(scheme, form.token.data)
        return rejected_page
    if parsed.digest() != form.digest.data:
        # Someone changed a score or the scheme after the preview was shown.
        confirm = ImportConfirmForm(formdata=None, token=form.token.data, digest=parsed.digest())
        return _render_sheet(
            scheme,
            department,
            import_form,
            parsed,
            confirm=confirm,
            changed=True,
            status=409,
        )
    count = importing.save_all(parsed, scheme, current_user)
    if parsed.problems:
        db.session.rollback()
        return _render_sheet(scheme, department, import_form, parsed, status=400)
    db.session.commit()
    _remove_import(scheme, form.token.data)
    flash(
        ngettext("%(num)d score was saved.", "%(num)d scores were saved.", count),
        "success",
    )
    return redirect(
        url_for(".sheet", scheme_id=scheme.id, department=department.id if department else None)
    )


# One counselor's assessment, for HR


def _render_person(
    scheme,
    person,
    *,
    score_errors=None,
    reopen_form=None,
    finalise_form=None,
    finalise_error=None,
    error=None,
    open_form=None,
    codes_form=None,
    void_form=None,
    discard_form=None,
    status=200,
):
    assessment = services.find_assessment(scheme, person)
    scores = services.scores_by_component(assessment) if assessment else {}
    evaluation = services.evaluation_of(assessment) if assessment else None
    score_forms = {}
    for component in scheme.components:
        if not services.may_score(current_user, component, person):
            continue
        if evaluation is not None and component.kind is ComponentKind.STUDENTS:
            continue
        existing = scores.get(component.id)
        form = ScoreForm(
            formdata=None,
            score=existing.score if existing else "",
            sample_size=existing.sample_size if existing else "",
            student_count=existing.student_count if existing else "",
        )
        errors = (score_errors or {}).get(component.id)
        if errors is not None:
            form = errors
        score_forms[component.id] = form
    return (
        render_template(
            "lms/annual_assessment/person.html",
            scheme=scheme,
            person=person,
            assessment=assessment,
            scores=scores,
            score_forms=score_forms,
            may_finalise=services.is_institution_reviewer(current_user, scheme.institution_id),
            missing=services.missing_components(assessment) if assessment else scheme.components,
            action_form=ActionForm(),
            reopen_form=reopen_form or ReopenForm(formdata=None),
            finalise_form=finalise_form or FinaliseForm(formdata=None),
            finalise_error=finalise_error,
            error=error,
            min_sample=scoring.percent(scheme.min_sample_share),
            evaluation=evaluation,
            evaluation_summary=student_evaluation.summarise(evaluation) if evaluation else None,
            may_manage_evaluation=_may_manage_evaluation(scheme, person),
            open_form=open_form or OpenEvaluationForm(formdata=None),
            codes_form=codes_form or AddCodesForm(formdata=None),
            void_form=void_form or VoidCodesForm(formdata=None),
            discard_form=discard_form or DiscardEvaluationForm(formdata=None),
            evaluation_applied=withdrawal.is_applied(evaluation) if evaluation else False,
            min_responses=scoring.MIN_REPORTED_RESPONSES,
        ),
        status,
    )


def _may_manage_evaluation(scheme: AssessmentScheme, person: User) -> bool:
    """Return whether the viewer opens and closes ``person``'s online student evaluation."""
    component = next(
        (c for c in scheme.components if c.kind is ComponentKind.STUDENTS), None
    )
    return component is not None and services.may_score(current_user, component, person)


@bp.route("/schemes/<int:scheme_id>/people/<int:person_id>")
@person_roles_required(*HR_ROLES)
def person(scheme_id: int, person_id: int):
    scheme = _scheme_or_404(scheme_id)
    return _render_person(scheme, _counselor_or_404(scheme, person_id))


@bp.route(
    "/schemes/<int:scheme_id>/people/<int:person_id>/components/<int:component_id>",
    methods=["POST"],
)
@person_roles_required(*HR_ROLES)
def score(scheme_id: int, person_id: int, component_id: int):
    scheme = _scheme_or_404(scheme_id)
    person = _counselor_or_404(scheme, person_id)
    component = next((c for c in scheme.components if c.id == component_id), None)
    if component is None:
        abort(404)
    if not services.may_score(current_user, component, person):
        abort(403)
    form = ScoreForm()
    if not form.validate_on_submit():
        abort(400)
    assessment = services.assessment_for(scheme, person)
    try:
        services.record_score(
            assessment,
            component,
            current_user,
            form.score.data or "",
            form.sample_size.data,
            form.student_count.data,
        )
    except services.AssessmentError as error:
        if not error.field:
            # The scheme's components changed, so the page loads them afresh.
            db.session.rollback()
            return _render_person(scheme, person, error=error.message, status=400)
        if assessment.is_finalised:
            return _render_person(scheme, person, error=error.message, status=400)
        getattr(form, error.field if error.field in form else "score").errors = [error.message]
        return _render_person(scheme, person, score_errors={component.id: form}, status=400)
    db.session.commit()
    flash(_("Score of “%(name)s” saved.", name=component.name), "success")
    return redirect(url_for(".person", scheme_id=scheme.id, person_id=person.id))


@bp.route("/schemes/<int:scheme_id>/people/<int:person_id>/finalise", methods=["POST"])
@person_roles_required(*HR_ROLES)
def finalise(scheme_id: int, person_id: int):
    scheme = _scheme_or_404(scheme_id)
    person = _counselor_or_404(scheme, person_id)
    _require_institution_reviewer()
    form = FinaliseForm()
    if not form.validate_on_submit():
        # CSRF failures are rejected before the view runs, so this is the reason's length.
        return _render_person(scheme, person, finalise_form=form, status=400)
    assessment = services.assessment_for(scheme, person)
    try:
        services.finalise(
            assessment,
            current_user,
            local_today(person.institution),
            form.unsubmitted_reason.data or "",
        )
    except services.AssessmentError as error:
        if assessment.is_finalised:
            # The finalise form is gone from the page once finalised.
            return _render_person(scheme, person, error=error.message, status=409)
        if error.field == "unsubmitted_reason":
            form.unsubmitted_reason.errors = [error.message]
            return _render_person(scheme, person, finalise_form=form, status=400)
        return _render_person(
            scheme, person, finalise_form=form, finalise_error=error.message, status=400
        )
    db.session.commit()
    flash(
        _(
            "Assessment of %(name)s finalised: %(total)s, %(band)s.",
            name=person.full_name,
            total=assessment.total,
            band=assessment.band_name,
        ),
        "success",
    )
    return redirect(url_for(".person", scheme_id=scheme.id, person_id=person.id))


@bp.route("/schemes/<int:scheme_id>/people/<int:person_id>/reopen", methods=["POST"])
@person_roles_required(*HR_ROLES)
def reopen(scheme_id: int, person_id: int):
    scheme = _scheme_or_404(scheme_id)
    person = _counselor_or_404(scheme, person_id)
    _require_institution_reviewer()
    form = ReopenForm()
    assessment = services.find_assessment(scheme, person)
    if assessment is None:
        abort(404)
    if not form.validate_on_submit():
        return _render_person(scheme, person, reopen_form=form, status=400)
    try:
        services.reopen(assessment, current_user, form.reason.data)
    except services.AssessmentError as error:
        form.reason.errors = [error.message]
        return _render_person(scheme, person, reopen_form=form, status=400)
    db.session.commit()
    flash(_("Assessment of %(name)s reopened.", name=person.full_name), "success")
    return redirect(url_for(".person", scheme_id=scheme.id, person_id=person.id))


# The counselor's own assessment


def _own_scheme() -> Optional[AssessmentScheme]:
    raw = request.args.get("year", "")
    valid = raw.isascii() and raw.isdigit() and 2000 <= int(raw) <= 2100
    year = int(raw) if valid else current_year(current_user)
    return services.scheme_of(current_user.institution_id, year)


def _render_mine(scheme, *, achievement_form=None, report_form=None, error=None, status=200):
    assessment = services.find_assessment(scheme, current_user) if scheme else None
    if report_form is None:
        report_form = SelfReportForm(
            formdata=None, self_report=assessment.self_report if assessment else ""
        )
    return (
        render_template(
            "lms/annual_assessment/mine.html",
            scheme=scheme,
            schemes=services.schemes_of(current_user.institution_id),
            assessment=assessment,
            scores=services.scores_by_component(assessment) if assessment else {},
            achievement_form=achievement_form or AchievementForm(formdata=None),
            report_form=report_form,
            action_form=ActionForm(),
            error=error,
            this_year=current_year(current_user),
        ),
        status,
    )


def _require_counselor() -> None:
    if current_user.role is not Role.COUNSELOR:
        abort(403)


@bp.route("/mine")
@login_required
def mine():
    _require_counselor()
    return _render_mine(_own_scheme())


def _own_scheme_from_form() -> AssessmentScheme:
    raw = request.args.get("scheme", "")
    if not (raw.isascii() and raw.isdigit()):
        abort(404)
    return _scheme_or_404(int(raw))


def _evidence_message(error: uploads.UploadError, filename: str) -> str:
    messages = {
        "missing": _("Evidence: the file %(name)s is empty.", name=filename),
        "extension": _("Evidence: upload a PDF, JPG, PNG or DOCX file."),
        "content": _(
            "Evidence: the content of %(name)s does not match its extension; "
            "save it as PDF, JPG, PNG or DOCX again.",
            name=filename,
        ),
        "size": _("Evidence: the file is larger than 10 MB; upload a smaller file."),
    }
    return messages[error.code]


@bp.route("/mine/achievements", methods=["POST"])
@login_required
def add_achievement():
    _require_counselor()
    scheme = _own_scheme_from_form()
    form = AchievementForm()
    if not form.validate_on_submit():
        return _render_mine(scheme, achievement_form=form, status=400)
    assessment = services.assessment_for(scheme, current_user)

    stored = None
    upload = request.files.get("evidence")
    if upload is not None and upload.filename:
        try:
            stored = uploads.store(
                services.EVIDENCE_AREA,
                upload.filename,
                upload.stream,
                allowed=services.EVIDENCE_TYPES,
                max_bytes=services.EVIDENCE_MAX_BYTES,
            )
        except uploads.UploadError as error:
            form.evidence.errors = [_evidence_message(error, upload.filename)]
            return _render_mine(scheme, achievement_form=form, status=400)

    try:
        services.add_achievement(
            assessment,
            current_user,
            occurred_on=form.occurred_on.data,
            duty=form.duty.data,
            description=form.description.data,
            evidence=stored,
        )
    except services.AssessmentError as error:
        if stored is not None:
            uploads.remove(services.EVIDENCE_AREA, stored.name)
        field = getattr(form, error.field, None)
        if field is None:
            return _render_mine(scheme, achievement_form=form, error=error.message, status=400)
        field.errors = [error.message]
        return _render_mine(scheme, achievement_form=form, status=400)
    db.session.commit()
    flash(_("Achievement filed."), "success")
    return redirect(url_for(".mine", year=scheme.year))


def _own_achievement_or_404(achievement_id: int) -> WorkAchievement:
    achievement = db.session.get(WorkAchievement, achievement_id) if achievement_id <= MAX_ID else None
    if achievement is None or achievement.assessment.user_id != current_user.id:
        abort(404)
    return achievement


@bp.route("/mine/achievements/<int:achievement_id>/delete", methods=["POST"])
@login_required
def delete_achievement(achievement_id: int):
    _require_counselor()
    achievement = _own_achievement_or_404(achievement_id)
    scheme = achievement.assessment.scheme
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.delete_achievement(achievement, current_user)
    except services.AssessmentError as error:
        return _render_mine(scheme, error=error.message, status=400)
    db.session.commit()
    flash(_("Achievement removed."), "success")
    return redirect(url_for(".mine", year=scheme.year))


@bp.route("/mine/self-report", methods=["POST"])
@login_required
def save_self_report():
    _require_counselor()
    scheme = _own_scheme_from_form()
    form = SelfReportForm()
    if not form.validate_on_submit():
        return _render_mine(scheme, report_form=form, status=400)
    assessment = services.assessment_for(scheme, current_user)
    try:
        services.save_self_report(assessment, current_user, form.self_report.data or "")
    except services.AssessmentError as error:
        form.self_report.errors = [error.message]
        return _render_mine(scheme, report_form=form, status=400)
    db.session.commit()
    flash(_("Self-report saved."), "success")
    return redirect(url_for(".mine", year=scheme.year))


@bp.route("/mine/submit", methods=["POST"])
@login_required
def submit():
    _require_counselor()
    scheme = _own_scheme_from_form()
    if not ActionForm().validate_on_submit():
        abort(400)
    assessment = services.assessment_for(scheme, current_user)
    try:
        services.submit(assessment, current_user)
    except services.AssessmentError as error:
        return _render_mine(scheme, error=error.message, status=400)
    db.session.commit()
    flash(_("Your filing for %(year)s was submitted.", year=scheme.year), "success")
    return redirect(url_for(".mine", year=scheme.year))


@bp.route("/achievements/<int:achievement_id>/evidence")
@login_required
def evidence(achievement_id: int):
    """Send an achievement's evidence to its owner or to HR who may read it."""
    achievement = db.session.get(WorkAchievement, achievement_id) if achievement_id <= MAX_ID else None
    if achievement is None or not achievement.evidence_path:
        abort(404)
    owner: User = achievement.assessment.user
    if not services.may_read(current_user, owner):
        abort(404)
    return uploads.send(
        services.EVIDENCE_AREA,
        achievement.evidence_path,
        achievement.evidence_name or achievement.evidence_path,
        fallback_stem="evidence",
    )

