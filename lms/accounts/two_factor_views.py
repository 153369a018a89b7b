"""Two-factor pages on the accounts blueprint: enrolment, turning it off,
recovery codes, the admin's reset, and the hook that enforces the
institution's requirement."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms import audit
from lms.accounts import sessions, two_factor
from lms.accounts.access import person_roles_required
from lms.accounts.forms import ConfirmTwoFactorForm, EmptyForm, PasswordConfirmForm
from lms.accounts.models import Role
from lms.accounts.views import _form_rejected, _managed_person_or_404, bp
from lms.extensions import db, limiter, user_rate_key


#: Endpoints a user who must enrol in two-factor login can still reach.
ALLOWED_WHILE_TWO_FACTOR_MISSING = frozenset(
    {
        "accounts.two_factor_setup",
        "accounts.change_password",
        "accounts.logout",
        "main.set_language",
        "main.health",
        "static",
    }
)


@bp.before_app_request
def _enforce_two_factor():
    """Send HR and admins whose institution requires two-factor login to enrolment."""
    if not current_user.is_authenticated or current_user.role not in two_factor.REQUIRED_FOR_ROLES:
        return None
    if request.endpoint in ALLOWED_WHILE_TWO_FACTOR_MISSING:
        return None
    if two_factor.is_required(current_user) and not two_factor.is_enabled(current_user):
        flash(_("Your institution requires two-factor login for your role. Set it up to continue."), "error")
        return redirect(url_for("accounts.two_factor_setup"))
    return None


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    user = current_user._get_current_object()
    if two_factor.is_enabled(user):
        return render_template(
            "lms/two_factor.html",
            enabled=True,
            required=two_factor.is_required(user),
            remaining=two_factor.remaining_recovery_codes(user),
            password_form=PasswordConfirmForm(user),
        )
    record = two_factor.begin_enrolment(user)
    db.session.commit()
    form = ConfirmTwoFactorForm()
    if form.validate_on_submit():
        codes = two_factor.confirm_enrolment(user, form.code.data, sessions.clock())
        if codes is not None:
            db.session.commit()
            flash(_("Two-factor login is on."), "success")
            return render_template("lms/recovery_codes.html", codes=codes)
        form.code.errors.append(_("The code is wrong. Enter the code the app shows now."))
    uri = two_factor.provisioning_uri(user, record)
    status = 400 if form.errors else 200
    return render_template(
        "lms/two_factor.html",
        enabled=False,
        required=two_factor.is_required(user),
        form=form,
        qr=two_factor.qr_data_uri(uri),
        secret=record.secret,
    ), status


@bp.route("/account/two-factor/disable", methods=["POST"])
@login_required
@limiter.limit("10 per hour", key_func=user_rate_key, deduct_when=_form_rejected)
def two_factor_disable():
    user = current_user._get_current_object()
    form = PasswordConfirmForm(user)
    if not two_factor.is_enabled(user):
        return redirect(url_for("accounts.two_factor_setup"))
    if two_factor.is_required(user):
        flash(_("Your institution requires two-factor login for your role, so it stays on."), "error")
        return redirect(url_for("accounts.two_factor_setup"))
    if not form.validate_on_submit():
        return _two_factor_page_with(form, sent="disable"), 200
    two_factor.disable(user, user)
    db.session.commit()
    flash(_("Two-factor login is off."), "success")
    return redirect(url_for("accounts.two_factor_setup"))


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
@limiter.limit("10 per hour", key_func=user_rate_key, deduct_when=_form_rejected)
def recovery_codes():
    user = current_user._get_current_object()
    form = PasswordConfirmForm(user)
    if not two_factor.is_enabled(user):
        return redirect(url_for("accounts.two_factor_setup"))
    if not form.validate_on_submit():
        return _two_factor_page_with(form, sent="codes"), 200
    codes = two_factor.replace_recovery_codes(user)
    audit.record(
        "account.recovery_codes_replaced",
        "user",
        user.id,
        f"{user.username} replaced the two-factor recovery codes",
        actor_id=user.id,
        institution_id=user.institution_id,
    )
    db.session.commit()
    return render_template("lms/recovery_codes.html", codes=codes)


def _two_factor_page_with(password_form, sent: str):
    """Render the page of enabled two-factor login with the errors of one password form.

    ``sent`` names the form that was posted ("disable" or "codes"), because
    both forms ask for the password and only that one shows its errors.
    """
    user = current_user._get_current_object()
    return render_template(
        "lms/two_factor.html",
        enabled=True,
        required=two_factor.is_required(user),
        remaining=two_factor.remaining_recovery_codes(user),
        password_form=password_form,
        sent=sent,
    )


@bp.route("/people/<int:person_id>/two-factor/reset", methods=["POST"])
@person_roles_required(Role.ADMIN)
def reset_two_factor(person_id: int):
    person = _managed_person_or_404(person_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if two_factor.is_enabled(person):
        two_factor.disable(current_user, person)
        sessions.revoke_user_sessions(person)
        db.session.commit()
        flash(_("Two-factor login of %(name)s is reset; they can enrol again.", name=person.full_name), "success")
    return redirect(url_for("accounts.manage_account", person_id=person.id))
