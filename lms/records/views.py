"""HR pages: the people list, each person's training record, HR-recorded
events and the person profile."""

from datetime import date
from typing import Optional

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms import paging, revisions
from lms.accounts import contact
from lms.accounts.access import get_person_or_404, hr_scope, roles_required
from lms.accounts.forms import OwnPhoneForm
from lms.accounts.models import Gender, Post, Role, User
from lms.competencies import evidence
from lms.compliance.models import CadreRank, PartyStatus
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.i18n import format_date
from lms.organisations.models import Department
from lms.records import appointments, day_cap, events, people_search, services
from lms.records.forms import PersonProfileForm, ProgressionEventForm, post_choices
from lms.records.models import ProgressionEntry, ProgressionKind, TrainingTier
from lms.routing import MAX_ID

bp = Blueprint("records", __name__)


def department_filter(raw: str) -> tuple[Optional[Department], Optional[str]]:
    """Resolve the ``department`` query value to one of the viewer's departments.

    Returns the department (None for "all") and an error message when the
    value is not the id of one of the viewer's departments. A department HR
    officer gets their own department whatever the value.
    """
    scope = hr_scope(current_user)
    raw = raw.strip()
    if scope is not None:
        # A department HR officer always sees their own department only.
        own = db.session.get(Department, scope)
        if raw and raw != str(scope):
            return own, _(
                "Department filter: you see the people of %(department)s only, "
                "so they are shown.",
                department=own.name,
            )
        return own, None
    if not raw:
        return None, None
    try:
        department_id = int(raw)
    except ValueError:
        department_id = None
    department = None
    if department_id is not None and 0 < department_id <= MAX_ID:
        department = db.session.get(Department, department_id)
    if department is None or department.institution_id != current_user.institution_id:
        message = _(
            "Department filter: %(value)s is not a department of your institution. "
            "Showing every department.",
            value=raw[:40],
        )
        return None, message
    return department, None


def visible_departments(viewer: User) -> list[Department]:
    """Return the departments whose people ``viewer`` may list."""
    scope = hr_scope(viewer)
    departments = viewer.institution.departments
    if scope is None:
        return list(departments)
    return [department for department in departments if department.id == scope]


@bp.route("/people")
@roles_required(Role.HR, Role.ADMIN)
def people():
    """List the people in the viewer's reach, 50 a page, searched and filtered."""
    department, department_error = department_filter(
        request.args.get("department", "")
    )
    filters = people_search.parse_filters(request.args)
    link_args = filters.query_args()
    if department is not None and hr_scope(current_user) is None:
        link_args["department"] = str(department.id)

    query = people_search.people_query(
        current_user.institution_id,
        department.id if department is not None else None,
        filters,
    )
    total = paging.count_rows(query)
    raw_page = request.args.get("page", "")
    out_of_range = paging.redirect_if_out_of_range(
        ".people", raw_page, total, link_args
    )
    if out_of_range is not None:
        return out_of_range

    page = paging.fetch_page(query, paging.page_number(raw_page), total)
    year = services.current_year(current_user)
    hours = services.hours_by_tier_for([person.id for person in page.items], year)
    errors = [department_error] if department_error else []
    return render_template(
        "lms/records/people.html",
        page=page,
        hours=hours,
        year=year,
        tiers=list(TrainingTier),
        departments=visible_departments(current_user),
        selected_department=department,
        filters=filters,
        filter_errors=errors + filters.errors,
        link_args=link_args,
        roles=people_search.role_choices(),
    )


def _require_hr_of(person: User) -> None:
    """Abort unless the current user is HR or admin of ``person``'s institution.

    Other roles get 403 and HR of another institution 404. Call after
    ``get_person_or_404``, so people outside the viewer's reach get 404 first.
    """
    if current_user.role not in (Role.HR, Role.ADMIN):
        abort(403)
    if current_user.institution_id != person.institution_id:
        abort(404)


def _render_record(person: User, entry_form=None, status: int = 200, phone_form=None):
    entries = services.timeline(person)
    year = services.current_year(person)
    can_record = (
        current_user.role in (Role.HR, Role.ADMIN)
        and current_user.institution_id == person.institution_id
    )
    if can_record and entry_form is None:
        entry_form = _entry_form_for(person, entries)
    is_self = person.id == current_user.id
    service, level = _counselor_service(person)
    assessment_scheme = _assessment_scheme_for(person) if can_record else None
    if is_self and phone_form is None:
        phone_form = OwnPhoneForm(formdata=None, phone=person.phone)
    return (
        render_template(
            "lms/records/person_record.html",
            person=person,
            timeline=entries,
            corrections={
                entry.corrects_id: entry for entry in entries if entry.corrects_id
            },
            hr_kinds=events.HR_KINDS,
            ledger=services.ledger(person),
            capped_days=day_cap.capped_days(person.id),
            max_hours_per_day=day_cap.max_hours_per_day(),
            summary=services.yearly_summary(person, year),
            verdicts=services.compliance_verdicts(person),
            is_self=is_self,
            can_record=can_record,
            competency_radar=(
                evidence.radar_for(person) if person.role.is_learner else None
            ),
            entry_form=entry_form,
            phone_form=phone_form,
            service=service,
            service_level=level,
            uncounted_posts=_uncounted_posts(person, entries, service),
            assessment_scheme=assessment_scheme,
            profile=events.profile_of(person) if is_self or can_record else None,
        ),
        status,
    )


def _counselor_service(person: User):
    """Return the person's counselor service and the level it gives, or (None, None)."""
    from courses.learning import COUNSELOR_POSTS, counselor_service, person_level

    if person.post not in COUNSELOR_POSTS:
        return None, None
    today = local_today(person.institution)
    return counselor_service(person, today), person_level(person, today)


def _uncounted_posts(person: User, entries: list[ProgressionEntry], service) -> list:
    """Return (entry, reason) for each uncorrected appointment that adds no service."""
    from courses.learning import COUNSELOR_POSTS

    if service is None:
        return []
    counted = {period.entry_id for period in service.periods}
    corrected = {entry.corrects_id for entry in entries if entry.corrects_id}
    today = local_today(person.institution)
    result = []
    for entry in entries:
        if entry.kind is not ProgressionKind.APPOINTMENT:
            continue
        if entry.id in counted or entry.id in corrected:
            continue
        post = (entry.detail or {}).get("post")
        if post not in {counselor_post.value for counselor_post in COUNSELOR_POSTS}:
            reason = _("not a counselor post")
        elif entry.occurred_on > today:
            reason = _("starts after today")
        else:
            reason = _("ends before its first day, or the next post starts on the same day")
        result.append((entry, reason))
    return result


def _assessment_scheme_for(person: User):
    """Return the annual assessment scheme to link from a counselor's record, if any.

    That is the scheme of the current year, else the newest one. Only
    counselors are assessed, so other people get None.
    """
    from lms.annual_assessment import services as assessment_services

    if person.role is not Role.COUNSELOR:
        return None
    scheme = assessment_services.scheme_of(
        person.institution_id, services.current_year(person)
    )
    if scheme is not None:
        return scheme
    schemes = assessment_services.schemes_of(person.institution_id)
    return schemes[0] if schemes else None


def _entry_form_for(person: User, entries: list[ProgressionEntry]):
    """Return an empty event form, or one filled from ``?correct=<entry id>``."""
    raw = request.args.get("correct", "")
    form = ProgressionEventForm(formdata=None)
    if not raw.isdigit():
        return form
    corrected = next((e for e in entries if str(e.id) == raw), None)
    if corrected is None or corrected.kind not in events.HR_KINDS:
        return form
    detail = corrected.detail or {}
    form.kind.data = corrected.kind.value
    form.occurred_on.data = corrected.occurred_on
    form.grade.data = detail.get("grade") or ""
    form.year.data = detail.get("year")
    form.honour_name.data = detail.get("name") or ""
    if corrected.kind is ProgressionKind.COMPETENCY_LEVEL:
        form.competency_level.data = detail.get("level") or ""
    else:
        form.honour_level.data = detail.get("level") or ""
    form.professional_title.data = detail.get("title") or ""
    form.rank.data = detail.get("rank") or ""
    form.post.data = detail.get("post") or ""
    form.ended_on.data = _iso_date(detail.get("ended_on"))
    form.unit.data = detail.get("unit") or ""
    form.note.data = detail.get("note") or ""
    form.corrects.data = str(corrected.id)
    return form


def _iso_date(value) -> Optional[date]:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


@bp.route("/people/<int:person_id>/record")
@login_required
def person_record(person_id: int):
    person = get_person_or_404(person_id)
    return _render_record(person)


@bp.route("/account/phone", methods=["POST"])
@login_required
def edit_own_phone():
    """Change the signed-in person's own mobile number from their record page."""
    person = current_user._get_current_object()
    form = OwnPhoneForm()
    if not form.validate_on_submit():
        return _render_record(person, status=400, phone_form=form)
    changed = contact.update_contact(
        person, person, gender=person.gender, phone=form.phone.data
    )
    db.session.commit()
    if changed:
        flash(_("Your mobile number was saved."), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for(".person_record", person_id=person.id, _anchor="contact"))


_CORRECTION_ERRORS = {
    "not_found": lambda: _("The entry to correct is not on this record."),
    "not_correctable": lambda: _(
        "Only assessment grades, honours, title and rank changes and posts "
        "held can be corrected here."
    ),
    "kind_mismatch": lambda: _(
        "A correction must be of the same kind as the entry it corrects."
    ),
    "already_corrected": lambda: _(
        "This entry already has a correction. Correct the latest entry instead."
    ),
}


def _load_entry(raw_id: str) -> Optional[ProgressionEntry]:
    entry_id = int(raw_id)
    if entry_id > MAX_ID:
        return None
    return db.session.get(ProgressionEntry, entry_id)


def _assessed_year_of(person: User, form: ProgressionEventForm) -> Optional[int]:
    """Return the year a grade entry would change whose assessment is finalised.

    That is the form's year, or the year of the grade entry it corrects.
    """
    years = [form.year.data]
    if form.corrects.data and not form.corrects.errors:
        corrected = _load_entry(form.corrects.data)
        if corrected is not None and corrected.user_id == person.id:
            years.append((corrected.detail or {}).get("year"))
    for year in years:
        if events.assessed_year(person, year):
            return year
    return None


def _grade_year_problem(person: User, form: ProgressionEventForm) -> Optional[str]:
    """Return why the form's grade year cannot be recorded for ``person``, or None."""
    year = form.year.data
    first_post = events.grade_before_first_post(person, year)
    if first_post is not None:
        return _(
            "The grade is for %(year)s, before the person's earliest recorded "
            "post began (%(start)s). Correct the year, or first add the "
            "earlier post to their record.",
            year=year,
            start=format_date(first_post),
        )
    blocked_year = _assessed_year_of(person, form)
    if blocked_year is not None:
        return _(
            "The %(year)s grade comes from the finalised annual assessment. "
            "Reopen the assessment to change it.",
            year=blocked_year,
        )
    if not form.corrects.data and events.grade_recorded_for(person, year):
        return _("An annual grade for %(year)s is already on the record; correct that entry instead.", year=year)
    return None


def _check_entry(
    person: User, form: ProgressionEventForm, kind: Optional[ProgressionKind]
) -> tuple[bool, Optional[ProgressionEntry]]:
    """Run the checks against the person's record; return (valid, corrected entry).

    Each check runs when the fields it reads are valid, even if other fields
    are not, so that one response names every field to correct.
    """
    if kind is None:
        return True, None
    valid = not form.corrects.errors
    corrected = None
    if form.corrects.data and valid:
        corrected = _load_entry(form.corrects.data)
        try:
            events.check_correction(person, kind, corrected)
        except events.CorrectionError as error:
            form.corrects.errors = [_CORRECTION_ERRORS[error.code]()]
            valid = False
    if (
        kind is ProgressionKind.ASSESSMENT_GRADE
        and form.year.data is not None
        and not form.year.errors
    ):
        problem = _grade_year_problem(person, form)
        if problem is not None:
            form.year.errors = [problem]
            valid = False
    # The post a failed correction names may clash with the new one, so
    # that clash is not reported.
    if (
        kind is ProgressionKind.APPOINTMENT
        and not form.corrects.errors
        and form.occurred_on.data is not None
        and not form.occurred_on.errors
        and not form.ended_on.errors
    ):
        conflict = appointments.find_conflict(
            person,
            form.occurred_on.data,
            form.ended_on.data,
            replaced_id=corrected.id if corrected is not None else None,
        )
        if conflict is not None:
            form[conflict.field].errors = [conflict.message]
            valid = False
    return valid, corrected


@bp.route("/people/<int:person_id>/record/entries", methods=["POST"])
@login_required
def add_entry(person_id: int):
    """Append an assessment grade, honour, title or rank change, post held, or a correction."""
    person = get_person_or_404(person_id)
    _require_hr_of(person)
    form = ProgressionEventForm()
    form.today = local_today(person.institution)
    valid = form.validate_on_submit()
    if form.meta.csrf and form.csrf_token.errors:
        return _render_record(person, form, 400)

    kind = None if form.kind.errors else ProgressionKind(form.kind.data)
    checked, corrected = _check_entry(person, form, kind)
    if not (valid and checked):
        return _render_record(person, form, 400)
    try:
        entry = events.record_event(
            person,
            current_user,
            kind,
            form.occurred_on.data,
            form.values(),
            (form.note.data or "").strip(),
            corrects=corrected,
        )
    except events.CorrectionError as error:
        form.corrects.errors = [_CORRECTION_ERRORS[error.code]()]
        return _render_record(person, form, 400)
    db.session.commit()
    flash(_("Entry added to the record: %(title)s", title=entry.display_title), "success")
    return redirect(
        url_for(".person_record", person_id=person.id, _anchor=f"entry-{entry.id}")
    )


@bp.route("/people/<int:person_id>/profile", methods=["GET", "POST"])
@login_required
def edit_profile(person_id: int):
    """Edit the attributes that decide which compliance rules cover a person."""
    person = get_person_or_404(person_id)
    _require_hr_of(person)
    profile = events.profile_of(person)
    form = _profile_form(person, profile)
    if request.method == "GET":
        _fill_profile_form(form, person, profile)
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return _render_profile(person, profile, form, status)

    conflict = revisions.check(profile) if profile is not None else None
    if conflict is None:
        try:
            return _save_profile(form, person, profile)
        except revisions.StaleDataError:
            conflict = revisions.stale(profile)
    fresh = _profile_form(person, profile, formdata=None)
    _fill_profile_form(fresh, person, profile)
    revisions.show_conflict(conflict, revisions.differences(form, fresh))
    return _render_profile(person, profile, form, 409)


def _render_profile(person: User, profile, form: PersonProfileForm, status: int):
    return (
        render_template(
            "lms/records/profile.html", person=person, profile=profile, form=form
        ),
        status,
    )


def _profile_form(person: User, profile, **kwargs) -> PersonProfileForm:
    form = PersonProfileForm(**kwargs)
    form.today = local_today(person.institution)
    if profile is not None:
        form.stored_rank = profile.cadre_rank.value if profile.cadre_rank else ""
        form.stored_rank_since = profile.rank_since
    if person.role.is_learner:
        form.post.choices = post_choices(person.role.value, person.post)
    else:
        del form.post
    return form


def _fill_profile_form(form: PersonProfileForm, person: User, profile) -> None:
    """Show the stored profile and contact details of ``person``."""
    if profile is not None:
        form.party_status.data = profile.party_status.value
        form.party_committee_member.data = profile.party_committee_member
        form.cadre_rank.data = profile.cadre_rank.value if profile.cadre_rank else ""
        form.full_time.data = {True: "yes", False: "no"}.get(profile.full_time, "")
        form.post_started_on.data = profile.post_started_on
        form.probation_started_on.data = profile.probation_started_on
        form.full_member_on.data = profile.full_member_on
        form.rank_since.data = profile.rank_since
    if "post" in form and person.post is not None:
        form.post.data = person.post.value
    form.gender.data = person.gender.value if person.gender else ""
    form.phone.data = person.phone


def _save_profile(form: PersonProfileForm, person: User, profile):
    new_post = Post(form.post.data) if "post" in form and form.post.data else None
    left_entry = None
    if form.keep_left_post.data:
        left_entry = events.record_left_post(
            person,
            current_user,
            left_post=person.post,
            left_started_on=profile.post_started_on if profile else None,
            new_started_on=form.post_started_on.data,
        )
    contact_changes = contact.update_contact(
        person,
        current_user,
        gender=Gender(form.gender.data) if form.gender.data else None,
        phone=form.phone.data,
        record=False,
    )
    changes = events.update_profile(
        person,
        current_user,
        party_status=PartyStatus(form.party_status.data),
        party_committee_member=form.party_committee_member.data,
        cadre_rank=CadreRank(form.cadre_rank.data) if form.cadre_rank.data else None,
        full_time={"yes": True, "no": False}.get(form.full_time.data),
        post_started_on=form.post_started_on.data,
        post=new_post,
        other_changes=contact_changes,
        dates={
            "probation_started_on": form.probation_started_on.data,
            "full_member_on": form.full_member_on.data,
            "rank_since": form.rank_since.data,
        },
    )
    db.session.commit()
    if changes:
        flash(_("Profile of %(name)s saved.", name=person.full_name), "success")
    if left_entry is not None:
        flash(
            _(
                "The post held until %(date)s was added to the record as an "
                "earlier post: %(title)s",
                date=left_entry.detail["ended_on"],
                title=left_entry.display_title,
            ),
            "info",
        )
    if not changes and left_entry is None:
        flash(_("Nothing changed."), "info")
    return redirect(url_for(".person_record", person_id=person.id))


from lms.records import external_views  # noqa: F401  (registers routes on bp)
from lms.records import bulk_views  # noqa: E402,F401  (registers routes on bp)
