"""Competency framework pages under /frameworks.

Trainers and administrators create, edit, version, publish, retire, map and
import the frameworks of their own institution. Every signed-in user reads
and exports the published and retired national standards and those of their
own institution; drafts are shown only to those who may change them. A
national standard is shared by every institution, so no one changes it here:
an institution that needs a variant imports an export of it under a code of
its own.
"""

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from lms import revisions
from lms.accounts.access import roles_required
from lms.accounts.models import Role
from lms.competencies import case, csvio, logger, services, transfer
from lms.competencies.year_ranges import join_sentences
from lms.competencies.forms import (
    RELATION_LABELS,
    AreaForm,
    ConfirmForm,
    FrameworkForm,
    ItemForm,
    LevelForm,
    MappingForm,
    VersionForm,
)
from lms.competencies.models import (
    AreaMapping,
    CompetencyItem,
    Framework,
    FrameworkStatus,
    FunctionalArea,
    Level,
    MappingRelation,
)
from lms.exports import csv_response
from lms.extensions import db

bp = Blueprint("frameworks", __name__, url_prefix="/frameworks")

EDITOR_ROLES = services.EDITOR_ROLES


def _is_editor() -> bool:
    return current_user.role in EDITOR_ROLES


def _framework(framework_id: int) -> Framework:
    """Load a framework the current user may read; 404 for others' and hidden drafts."""
    framework = db.session.get(Framework, framework_id)
    if framework is None or not services.may_read(current_user, framework):
        abort(404)
    return framework


def _managed(framework_id: int) -> Framework:
    """Load a framework the current user may change; 403 for a national standard."""
    framework = _framework(framework_id)
    if not services.may_manage(current_user, framework):
        abort(403)
    return framework


def _visible_mappings(framework: Framework) -> list[AreaMapping]:
    """Return the framework's mappings whose other end the current user may read."""
    visible = set(
        db.session.scalars(db.select(Framework.id).where(services.visible_to(current_user)))
    )
    return [
        mapping
        for mapping in services.mappings_of(framework)
        if mapping.source.framework_id in visible and mapping.target.framework_id in visible
    ]


def _part(model, framework: Framework, row_id: int):
    row = db.session.get(model, row_id)
    if row is None or row.framework_id != framework.id:
        abort(404)
    return row


def _apply(error: services.FrameworkError, form) -> None:
    """Show a rejected change on its field, or as a message when it has none."""
    db.session.rollback()
    logger.info("Change by %r rejected: %s", current_user, error.message)
    if error.field and form is not None and error.field in form:
        form[error.field].errors = list(form[error.field].errors) + [error.message]
    else:
        flash(error.message, "error")


def _render_form(form, heading: str, framework=None, status: int = 200, **extra):
    return (
        render_template(
            "competencies/form.html",
            form=form,
            heading=heading,
            framework=framework,
            **extra,
        ),
        status,
    )


# Reading ----------------------------------------------------------------------


@bp.route("")
@login_required
def index():
    query = (
        db.select(Framework)
        .where(services.visible_to(current_user))
        .order_by(Framework.code, Framework.version_number)
    )
    return render_template(
        "competencies/index.html",
        frameworks=db.session.scalars(query).all(),
        editor=_is_editor(),
        button=ConfirmForm(),
    )


@bp.route("/<int:framework_id>")
@login_required
def detail(framework_id: int):
    framework = _framework(framework_id)
    cells = {(item.level_id, item.area_id): item for item in framework.items}
    return render_template(
        "competencies/detail.html",
        framework=framework,
        cells=cells,
        mappings=_visible_mappings(framework),
        relation_labels=RELATION_LABELS,
        editor=services.may_manage(current_user, framework),
        shared=framework.institution_id is None,
        can_adapt=_is_editor(),
        button=ConfirmForm(),
    )


@bp.route("/uri/<identifier>")
@login_required
def case_uri(identifier: str):
    """Resolve the URI of an exported CASE node to the page of its framework."""
    if not transfer.is_uuid(identifier):
        abort(404)
    for model in (Framework, Level, FunctionalArea, CompetencyItem, AreaMapping):
        row = db.session.scalar(db.select(model).filter_by(identifier=identifier))
        if row is None:
            continue
        framework = row if isinstance(row, Framework) else None
        if isinstance(row, AreaMapping):
            framework = row.source.framework
        elif framework is None:
            framework = row.framework
        return redirect(url_for(".detail", framework_id=_framework(framework.id).id))
    abort(404)


@bp.route("/<int:framework_id>/export.csv")
@login_required
def export_csv(framework_id: int):
    framework = _framework(framework_id)
    return csv_response(
        f"{framework.code}-v{framework.version_number}.csv",
        csvio.headers(),
        csvio.export_rows(framework),
    )


@bp.route("/<int:framework_id>/export.json")
@login_required
def export_case(framework_id: int):
    framework = _framework(framework_id)
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    return send_file(
        io.BytesIO(case.export_json(framework, base)),
        mimetype="application/json",
        as_attachment=True,
        download_name=f"{framework.code}-v{framework.version_number}.case.json",
    )


# Frameworks -------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def new_framework():
    form = FrameworkForm()
    if form.validate_on_submit():
        try:
            framework = services.save_framework(form.values(), current_user)
        except services.FrameworkError as error:
            _apply(error, form)
        else:
            db.session.commit()
            flash(_("Framework created as a draft."), "success")
            return redirect(url_for(".detail", framework_id=framework.id))
    status = 400 if request.method == "POST" else 200
    return _render_form(form, _("New framework"), status=status)


@bp.route("/<int:framework_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def edit_framework(framework_id: int):
    framework = _managed(framework_id)
    form = FrameworkForm(obj=framework)
    if form.validate_on_submit():
        try:
            conflict = revisions.save(
                framework,
                lambda: services.save_framework(form.values(), current_user, framework),
            )
        except services.FrameworkError as error:
            _apply(error, form)
        else:
            if conflict is None:
                flash(_("Framework saved."), "success")
                return redirect(url_for(".detail", framework_id=framework.id))
            fresh = FrameworkForm(formdata=None, obj=framework)
            revisions.show_conflict(conflict, revisions.differences(form, fresh))
            return _render_form(
                form, _("Edit framework"), framework, 409, versioned=framework
            )
    status = 400 if request.method == "POST" else 200
    return _render_form(
        form, _("Edit framework"), framework, status, versioned=framework
    )


def _button(framework_id: int, action, success: str) -> Response:
    """Run a POST-only lifecycle action and return to the framework page."""
    framework = _managed(framework_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(framework, current_user)
    except services.FrameworkError as error:
        _apply(error, None)
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".detail", framework_id=framework_id))


@bp.route("/<int:framework_id>/publish", methods=["POST"])
@roles_required(*EDITOR_ROLES)
def publish(framework_id: int):
    return _button(framework_id, services.publish, _("Framework published."))


def _confirm_page(framework: Framework, action: str, problem) -> str:
    """Render the page that asks before retiring or deleting ``framework``."""
    return render_template(
        "competencies/confirm.html",
        framework=framework,
        action=action,
        problem=str(problem) if problem else None,
    )


@bp.route("/<int:framework_id>/retire", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def retire(framework_id: int):
    """Confirm and retire a published framework, which cannot be undone."""
    if request.method == "GET":
        framework = _managed(framework_id)
        published = framework.status is FrameworkStatus.PUBLISHED
        problem = None if published else _("Only a published framework can be retired.")
        return _confirm_page(framework, "retire", problem)
    return _button(framework_id, services.retire, _("Framework retired."))


@bp.route("/<int:framework_id>/delete", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def delete_framework(framework_id: int):
    """Confirm and delete a draft framework with everything in it."""
    framework = _managed(framework_id)
    if request.method == "GET":
        problem = None if framework.is_draft else _(
            "Only a draft can be changed. Create a new version to change it."
        )
        return _confirm_page(framework, "delete", problem)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.delete_framework(framework, current_user)
    except services.FrameworkError as error:
        _apply(error, None)
        return redirect(url_for(".detail", framework_id=framework_id))
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:framework_id>/new-version", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def new_version(framework_id: int):
    framework = _managed(framework_id)
    form = VersionForm()
    if request.method == "GET":
        form.version.data = str(framework.version_number + 1)
    if form.validate_on_submit():
        try:
            copy = services.new_version(framework, current_user, form.version.data)
        except services.FrameworkError as error:
            _apply(error, form)
        else:
            db.session.commit()
            flash(_("New version created as a draft."), "success")
            return redirect(url_for(".detail", framework_id=copy.id))
    status = 400 if request.method == "POST" else 200
    return _render_form(form, _("New version"), framework, status)


# Levels, areas and items --------------------------------------------------------


def _edit_part(framework_id: int, model, form_class, save, heading: str, row_id=None):
    framework = _managed(framework_id)
    row = _part(model, framework, row_id) if row_id is not None else None
    form = _part_form(form_class, framework, row)
    if form.validate_on_submit():
        try:
            conflict = _save_part(framework, form, save, row)
        except services.FrameworkError as error:
            _apply(error, form)
        else:
            if conflict is None:
                flash(_("Saved."), "success")
                if model is Level:
                    _warn_year_gaps(framework)
                return redirect(url_for(".detail", framework_id=framework.id))
            fresh = _part_form(form_class, framework, row, formdata=None)
            revisions.show_conflict(conflict, revisions.differences(form, fresh))
            return _render_form(form, heading, framework, 409, versioned=row)
    status = 400 if request.method == "POST" else 200
    return _render_form(form, heading, framework, status, versioned=row)


def _warn_year_gaps(framework: Framework) -> None:
    """Name the years of service that the saved levels leave out or share."""
    problems = services.year_problems_of(framework)
    if problems:
        flash(
            _(
                "The framework cannot be published until each year of service is "
                "in exactly one level. %(problems)s",
                problems=join_sentences(problem.message for problem in problems),
            ),
            "warning",
        )


def _part_form(form_class, framework: Framework, row, **kwargs):
    if form_class is ItemForm:
        return ItemForm(framework, obj=row, **kwargs)
    return form_class(obj=row, **kwargs)


def _save_part(framework: Framework, form, save, row):
    """Save a level, area or item, and reject a stale save of an existing one."""
    if row is None:
        save(framework, form.values(), row)
        db.session.commit()
        return None
    return revisions.save(row, lambda: save(framework, form.values(), row))


def _delete_part(framework_id: int, model, row_id: int, delete) -> Response:
    framework = _managed(framework_id)
    row = _part(model, framework, row_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        delete(row)
    except services.FrameworkError as error:
        _apply(error, None)
    else:
        db.session.commit()
        flash(_("Deleted."), "success")
    return redirect(url_for(".detail", framework_id=framework_id))


@bp.route("/<int:framework_id>/levels/new", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def new_level(framework_id: int):
    heading = _("New level")
    return _edit_part(framework_id, Level, LevelForm, services.save_level, heading)


@bp.route("/<int:framework_id>/levels/<int:level_id>", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def edit_level(framework_id: int, level_id: int):
    heading = _("Edit level")
    return _edit_part(
        framework_id, Level, LevelForm, services.save_level, heading, level_id
    )


@bp.route("/<int:framework_id>/levels/<int:level_id>/delete", methods=["POST"])
@roles_required(*EDITOR_ROLES)
def delete_level(framework_id: int, level_id: int):
    return _delete_part(framework_id, Level, level_id, services.delete_level)


@bp.route("/<int:framework_id>/areas/new", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def new_area(framework_id: int):
    heading = _("New functional area")
    return _edit_part(
        framework_id, FunctionalArea, AreaForm, services.save_area, heading
    )


@bp.route("/<int:framework_id>/areas/<int:area_id>", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def edit_area(framework_id: int, area_id: int):
    heading = _("Edit functional area")
    return _edit_part(
        framework_id, FunctionalArea, AreaForm, services.save_area, heading, area_id
    )


@bp.route("/<int:framework_id>/areas/<int:area_id>/delete", methods=["POST"])
@roles_required(*EDITOR_ROLES)
def delete_area(framework_id: int, area_id: int):
    return _delete_part(framework_id, FunctionalArea, area_id, services.delete_area)


@bp.route("/<int:framework_id>/items/new", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def new_item(framework_id: int):
    heading = _("New competency item")
    return _edit_part(
        framework_id, CompetencyItem, ItemForm, services.save_item, heading
    )


@bp.route("/<int:framework_id>/items/<int:item_id>", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def edit_item(framework_id: int, item_id: int):
    heading = _("Edit competency item")
    return _edit_part(
        framework_id, CompetencyItem, ItemForm, services.save_item, heading, item_id
    )


@bp.route("/<int:framework_id>/items/<int:item_id>/delete", methods=["POST"])
@roles_required(*EDITOR_ROLES)
def delete_item(framework_id: int, item_id: int):
    return _delete_part(framework_id, CompetencyItem, item_id, services.delete_item)


# Area mappings ------------------------------------------------------------------


def _other_frameworks(framework: Framework) -> list[Framework]:
    query = (
        db.select(Framework)
        .where(Framework.id != framework.id)
        .where(Framework.status != FrameworkStatus.RETIRED)
        .where(services.visible_to(current_user))
        .order_by(Framework.code, Framework.version_number)
    )
    return db.session.scalars(query).all()


@bp.route("/<int:framework_id>/mappings", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def mappings(framework_id: int):
    framework = _managed(framework_id)
    form = MappingForm(framework, _other_frameworks(framework))
    if form.validate_on_submit():
        source = _part(FunctionalArea, framework, form.source_area_id.data)
        target = db.session.get(FunctionalArea, form.target_area_id.data)
        relation = MappingRelation(form.relation.data)
        note = form.note.data or None
        try:
            services.add_mapping(source, target, relation, note, current_user)
        except services.FrameworkError as error:
            _apply(error, form)
        else:
            db.session.commit()
            flash(_("Mapping added."), "success")
            return redirect(url_for(".mappings", framework_id=framework.id))
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "competencies/mappings.html",
            framework=framework,
            form=form,
            mappings=_visible_mappings(framework),
            relation_labels=RELATION_LABELS,
            button=ConfirmForm(),
        ),
        status,
    )


@bp.route("/<int:framework_id>/mappings/<int:mapping_id>/delete", methods=["POST"])
@roles_required(*EDITOR_ROLES)
def delete_mapping(framework_id: int, mapping_id: int):
    framework = _managed(framework_id)
    mapping = db.session.get(AreaMapping, mapping_id)
    area_ids = {area.id for area in framework.areas}
    ends = {mapping.source_area_id, mapping.target_area_id} if mapping else set()
    if not ends & area_ids:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_mapping(mapping, current_user)
    db.session.commit()
    flash(_("Mapping deleted."), "success")
    return redirect(url_for(".mappings", framework_id=framework_id))


from lms.competencies import import_views  # noqa: E402,F401  (registers routes on bp)
