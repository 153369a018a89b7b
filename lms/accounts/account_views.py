"""Admin pages that create an account and edit its name, department and e-mail.

The routes are registered on the ``accounts`` blueprint.
"""

import logging

import sqlalchemy as sa
from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts import services
from lms.accounts.access import person_roles_required, roles_required
from lms.accounts.account_forms import AccountDetailsForm, NewAccountForm
from lms.accounts.models import Role, User
from lms.accounts.passwords import random_first_password
from lms.accounts.views import _managed_person_or_404, bp, render_manage_page
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.onboarding import OnboardingError, create_account
from lms.organisations.models import Department

logger = logging.getLogger("lms.accounts")


@bp.route("/people/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_account():
    """Create an account of the admin's institution and show its first password once."""
    institution = current_user.institution
    form = NewAccountForm(institution, local_today(institution))
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("lms/account_new.html", form=form), status

    password = random_first_password(
        username=form.username.data, employee_no=form.employee_no.data or None
    )
    try:
        person = _create(form, password)
    except sa.exc.IntegrityError:
        # The form checked the username, so another request that committed
        # in the meantime took it.
        db.session.rollback()
        logger.warning("Account %r not created: username taken", form.username.data)
        form.username.errors = [
            _("%(value)s is taken. Choose another username.", value=form.username.data)
        ]
        return render_template("lms/account_new.html", form=form), 400
    except OnboardingError as error:
        # NOTE: the form applies every rule of create_account, so this only
        # runs when a rule is added there and not to the form. The message
        # is the command line's English one.
        db.session.rollback()
        logger.error("Account %r not created: %s", form.username.data, error)
        flash(_("The account was not created: %(reason)s", reason=str(error)), "error")
        return render_template("lms/account_new.html", form=form), 400
    db.session.commit()

    flash(_("The account of %(name)s was created.", name=person.full_name), "success")
    html, _status = render_manage_page(person, first_password=password)
    response = _uncached_response(html, 201)
    response.headers["Location"] = url_for("accounts.manage_account", person_id=person.id)
    return response


def _uncached_response(html: str, status: int):
    """Return ``html`` as a response that no browser or proxy stores."""
    response = make_response(html, status)
    # The page shows the first password, which must not stay in a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _create(form: NewAccountForm, password: str) -> User:
    """Create the account the checked ``form`` describes; flush only."""
    from lms.compliance.models import PartyStatus
    from lms.records.events import update_profile

    department_id = form.department_id()
    department = db.session.get(Department, department_id) if department_id else None
    person = create_account(
        form.institution,
        form.username.data,
        form.full_name.data,
        Role(form.role.data),
        password,
        department_code=department.code if department else None,
        post=form.chosen_post(),
        employee_no=form.employee_no.data or None,
        email=form.email.data or None,
        must_change=True,
        actor=current_user._get_current_object(),
    )
    if form.post_started_on.data is not None:
        update_profile(
            person,
            current_user,
            party_status=PartyStatus.NONE,
            party_committee_member=False,
            cadre_rank=None,
            full_time=None,
            post_started_on=form.post_started_on.data,
        )
    return person


@bp.route("/people/<int:person_id>/account/edit", methods=["GET", "POST"])
@person_roles_required(Role.ADMIN)
def edit_account(person_id: int):
    """Edit the name, department and e-mail of an account of the admin's institution."""
    # NOTE: the user row has no lock version, so when two admins save the
    # same account at once the later save wins. The audit log keeps both.
    person = _managed_person_or_404(person_id)
    stored = {
        "full_name": person.full_name,
        "department": str(person.department_id or ""),
        "email": person.email or "",
    }
    form = AccountDetailsForm(person.institution, person, data=stored)
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("lms/account_edit.html", person=person, form=form), status

    changes = services.update_details(
        current_user,
        person,
        full_name=form.full_name.data,
        department_id=form.department_id(),
        email=form.email.data or None,
    )
    db.session.commit()
    if changes:
        flash(_("The account of %(name)s was saved.", name=person.full_name), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("accounts.manage_account", person_id=person.id))
