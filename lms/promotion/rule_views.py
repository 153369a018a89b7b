"""Promotion rule editing for institution HR and admins, and the department
scope of HR accounts."""

from typing import Optional

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms import revisions
from lms.accounts.access import (
    get_person_or_404,
    hr_scope,
    person_roles_required,
    roles_required,
)
from lms.accounts.models import Role
from lms.accounts.views import render_manage_page
from lms.extensions import db
from lms.promotion import engine, services
from lms.promotion.forms import HrScopeForm, RuleForm, code_taken_message
from lms.promotion.models import PromotionRule
from lms.promotion.views import (
    HR_ROLES,
    bp,
    flash_error,
    programme_titles,
    programmes_of,
)
from lms.routing import MAX_ID


def _can_edit_rules() -> bool:
    return current_user.role is Role.ADMIN or (
        current_user.role is Role.HR and hr_scope(current_user) is None
    )


@bp.route("/promotions/rules")
@roles_required(*HR_ROLES)
def rules():
    return render_template(
        "promotion/rules.html",
        rules=engine.rules_of(current_user.institution_id, active_only=False),
        programmes=programme_titles(current_user.institution_id),
        can_edit=_can_edit_rules(),
    )


def _edit_rule(rule: Optional[PromotionRule]):
    if not _can_edit_rules():
        abort(403)
    institution_id = current_user.institution_id
    programmes = programmes_of(institution_id)
    form = RuleForm(institution_id=institution_id, rule=rule, programmes=programmes)
    if rule is not None and not form.is_submitted():
        form.fill(rule)
    if form.validate_on_submit():
        conflict = revisions.check(rule) if rule is not None else None
        if conflict is None:
            try:
                return _save_rule(form, rule, institution_id)
            except revisions.StaleDataError:
                conflict = revisions.stale(rule)
        fresh = RuleForm(
            formdata=None, institution_id=institution_id, rule=rule, programmes=programmes
        )
        fresh.fill(rule)
        revisions.show_conflict(conflict, revisions.differences(form, fresh))
        return render_template("promotion/rule_form.html", form=form, rule=rule), 409
    status = 400 if form.is_submitted() else 200
    return render_template("promotion/rule_form.html", form=form, rule=rule), status


def _save_rule(form: RuleForm, rule: Optional[PromotionRule], institution_id: int):
    created = rule is None
    target = rule or PromotionRule(institution_id=institution_id)
    before = None if created else services.rule_values(rule)
    form.apply_to(target)
    try:
        changed = services.save_rule(
            target, current_user, created=created, before=before
        )
    except services.PromotionError:
        # The same form, sent twice at once, stored the code first.
        db.session.rollback()
        form.code.errors = [code_taken_message(form.code.data)]
        return render_template("promotion/rule_form.html", form=form, rule=rule), 400
    db.session.commit()
    if changed:
        flash(_("Promotion rule saved: %(name)s", name=target.name), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for(".rules"))


@bp.route("/promotions/rules/new", methods=["GET", "POST"])
@roles_required(*HR_ROLES)
def new_rule():
    return _edit_rule(None)


@bp.route("/promotions/rules/<int:rule_id>", methods=["GET", "POST"])
@roles_required(*HR_ROLES)
def edit_rule(rule_id: int):
    rule = None
    if rule_id <= MAX_ID:
        rule = services.find_rule(current_user.institution_id, rule_id)
    if rule is None:
        abort(404)
    return _edit_rule(rule)


@bp.route("/people/<int:person_id>/hr-scope", methods=["POST"])
@person_roles_required(Role.ADMIN)
def set_hr_scope(person_id: int):
    """Limit an HR account to one department, or give it the whole institution."""
    person = get_person_or_404(person_id)
    form = HrScopeForm(departments=person.institution.departments)
    if not form.validate_on_submit():
        return render_manage_page(person, 400, hr_scope_form=form)
    choice = form.department.data
    try:
        changed = services.set_hr_scope(
            person, None if choice == "all" else int(choice), current_user
        )
    except services.PromotionError as error:
        flash_error(error)
        return redirect(url_for("accounts.manage_account", person_id=person.id))
    db.session.commit()
    if changed:
        flash(_("HR scope of %(name)s saved.", name=person.full_name), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("accounts.manage_account", person_id=person.id))
