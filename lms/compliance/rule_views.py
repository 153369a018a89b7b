"""The compliance rules page and the editor of an institution's rules.

Who may do what is decided in ``rule_admin``: HR and admins read the page,
and admins and HR of the whole institution change their institution's rules.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms import revisions
from lms.accounts.access import roles_required
from lms.compliance import rule_admin
from lms.compliance.forms import RetireForm, RuleForm, code_taken_message
from lms.compliance.models import ComplianceRule
from lms.compliance.views import bp
from lms.compliance.windows import local_today
from lms.extensions import db


def _require_manager() -> None:
    if not rule_admin.may_manage_rules(current_user):
        abort(403)


def _own_rule_or_404(rule_id: int) -> ComplianceRule:
    """Load a rule of the current user's institution; national and foreign ids give 404."""
    rule = rule_admin.find_visible(current_user, rule_id)
    if rule is None or rule.institution_id is None:
        abort(404)
    return rule


@bp.route("/compliance/rules")
@roles_required(*rule_admin.READER_ROLES)
def rules():
    rules = rule_admin.rules_page(current_user)
    adapted = {
        rule.code
        for rule in rules
        if rule.institution_id is not None and rule.active
    }
    return render_template(
        "lms/compliance/rules.html",
        rules=rules,
        adapted_codes=adapted,
        national_codes={rule.code for rule in rules if rule.institution_id is None},
        can_edit=rule_admin.may_manage_rules(current_user),
    )


def _form_page(form: RuleForm, *, rule=None, national=None, status: int = 200):
    return (
        render_template(
            "lms/compliance/rule_form.html", form=form, rule=rule, national=national
        ),
        status,
    )


@bp.route("/compliance/rules/new", methods=["GET", "POST"])
@roles_required(*rule_admin.READER_ROLES)
def new_rule():
    _require_manager()
    form = RuleForm(institution_id=current_user.institution_id)
    if not form.is_submitted():
        form.in_force_from.data = local_today(current_user.institution)
    if not form.validate_on_submit():
        return _form_page(form, status=400 if form.is_submitted() else 200)
    try:
        rule = rule_admin.create_rule(
            current_user.institution_id, form.code.data, form.values(), current_user
        )
    except rule_admin.CodeTaken:
        form.code.errors = [code_taken_message(form.code.data)]
        return _form_page(form, status=400)
    db.session.commit()
    flash(_("Compliance rule created: %(name)s", name=rule.name), "success")
    return redirect(url_for(".rules"))


@bp.route("/compliance/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@roles_required(*rule_admin.READER_ROLES)
def edit_rule(rule_id: int):
    _require_manager()
    rule = _own_rule_or_404(rule_id)
    if not rule.active:
        flash(_("This rule is retired. Restore it before editing it."), "error")
        return redirect(url_for(".rules"))
    form = RuleForm()
    if not form.is_submitted():
        form.fill(rule)
    if not form.validate_on_submit():
        return _form_page(form, rule=rule, status=400 if form.is_submitted() else 200)

    conflict = revisions.check(rule)
    if conflict is None:
        try:
            changed = rule_admin.update_rule(rule, form.values(), current_user)
            db.session.commit()
        except revisions.StaleDataError:
            conflict = revisions.stale(rule)
    if conflict is not None:
        fresh = RuleForm(formdata=None)
        fresh.fill(rule)
        revisions.show_conflict(conflict, revisions.differences(form, fresh))
        return _form_page(form, rule=rule, status=409)

    if changed:
        flash(_("Compliance rule saved: %(name)s", name=rule.name), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for(".rules"))


@bp.route("/compliance/rules/<int:rule_id>/adapt", methods=["GET", "POST"])
@roles_required(*rule_admin.READER_ROLES)
def adapt_rule(rule_id: int):
    """Store the institution's copy of a national rule, edited before it is saved."""
    _require_manager()
    national = rule_admin.find_visible(current_user, rule_id)
    if national is None or national.institution_id is not None:
        abort(404)

    existing = rule_admin.own_rule_with_code(current_user.institution_id, national.code)
    if existing is not None and existing.active:
        flash(_("The institution already adapted this rule. Edit its copy."), "info")
        return redirect(url_for(".edit_rule", rule_id=existing.id))
    if existing is not None:
        flash(
            _(
                "The institution's adaptation of this rule is retired."
                " Restore it on the rules page, then edit it."
            ),
            "error",
        )
        return redirect(url_for(".rules"))

    form = RuleForm()
    if not form.is_submitted():
        form.fill(national)
        form.name.data = national.display_name
        form.in_force_from.data = local_today(current_user.institution)
    if not form.validate_on_submit():
        return _form_page(
            form, national=national, status=400 if form.is_submitted() else 200
        )
    try:
        rule = rule_admin.adapt_rule(
            national, current_user.institution_id, form.values(), current_user
        )
    except rule_admin.CodeTaken:
        # The same form, sent twice at once, saved the adaptation first.
        return redirect(url_for(".adapt_rule", rule_id=national.id))
    db.session.commit()
    flash(
        _(
            "Adaptation saved: %(name)s now applies in the institution instead of"
            " the national rule.",
            name=rule.name,
        ),
        "success",
    )
    return redirect(url_for(".rules"))


@bp.route("/compliance/rules/<int:rule_id>/retire", methods=["GET", "POST"])
@roles_required(*rule_admin.READER_ROLES)
def retire_rule(rule_id: int):
    _require_manager()
    rule = _own_rule_or_404(rule_id)
    if not rule.active:
        flash(_("This rule is already retired."), "info")
        return redirect(url_for(".rules"))
    form = RetireForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        page = render_template(
            "lms/compliance/retire.html",
            form=form,
            rule=rule,
            adapts_national=rule.code in rule_admin.national_codes(),
        )
        return page, status
    rule_admin.retire_rule(rule, form.reason.data.strip(), current_user)
    db.session.commit()
    flash(_("Compliance rule retired: %(name)s", name=rule.name), "success")
    return redirect(url_for(".rules"))


@bp.route("/compliance/rules/<int:rule_id>/restore", methods=["POST"])
@roles_required(*rule_admin.READER_ROLES)
def restore_rule(rule_id: int):
    _require_manager()
    rule = _own_rule_or_404(rule_id)
    if rule.active:
        flash(_("This rule is not retired."), "info")
        return redirect(url_for(".rules"))
    rule_admin.restore_rule(rule, current_user)
    db.session.commit()
    flash(_("Compliance rule restored: %(name)s", name=rule.name), "success")
    return redirect(url_for(".rules"))
