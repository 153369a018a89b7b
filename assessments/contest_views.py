"""Contest pages: standings with awards for staff, events and entrants for trainers.

The owner of a contest and the administrators of its institution change
it (``contests.may_manage``), and other trainers get 403 on every change.
Standings show every entrant's grades, so a trainer who is not a manager
reads them only when they may grade every event's course
(``contests.may_read_standings``).
"""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from assessments import contests, scoring
from assessments.task_views import (
    AUTHOR_ROLES,
    RESULT_ROLES,
    _own,
    _people_of_institution,
    bp,
)
from assessments.tasks_models import AwardMode, Contest, ContestEntrant
from courses import teachers
from courses.authoring import AuthoringError
from lms import exports, labels, revisions
from lms.accounts.access import in_hr_scope, roles_required
from lms.accounts.models import Role, User
from lms.extensions import db


# Contests -------------------------------------------------------------------------


@bp.route("/contests")
@roles_required(*RESULT_ROLES)
def contest_list():
    rows = db.session.scalars(
        sa.select(Contest)
        .filter_by(institution_id=current_user.institution_id)
        .order_by(Contest.created_at.desc())
    )
    return render_template("tasks/contests.html", contests=list(rows))


@bp.route("/contests/mine")
@roles_required(Role.COUNSELOR, Role.PARTY_WORKER)
def my_contests():
    """List the contests the current user entered, with their own standing only.

    Contests have no public setting, so an entrant sees their own event
    scores, total, rank, award and the number of ranked entrants, but no
    other entrant's name or score.
    """
    entered = db.session.scalars(
        sa.select(Contest)
        .join(ContestEntrant, ContestEntrant.contest_id == Contest.id)
        .where(
            ContestEntrant.user_id == current_user.id,
            Contest.institution_id == current_user.institution_id,
        )
        .order_by(Contest.created_at.desc())
    )
    rows = []
    for contest_row in entered:
        standings = contests.standings(contest_row)
        mine = next(row for row in standings if row.user.id == current_user.id)
        ranked = sum(1 for row in standings if row.rank is not None)
        rows.append((contest_row, mine, ranked))
    return render_template("tasks/my_contests.html", rows=rows)


def _visible_standings(contest: Contest) -> list[contests.Standing]:
    """Return the contest standings that the current user may see.

    Ranks and awards are those of the whole contest. A department HR officer
    gets only the rows of people in their department.
    """
    rows = contests.standings(contest)
    return [row for row in rows if in_hr_scope(current_user, row.user)]


def _managed(contest_id: int) -> Contest:
    """Load a contest the current user manages, or abort with 404 or 403."""
    contest_row = _own(Contest, contest_id)
    if not contests.may_manage(current_user, contest_row):
        abort(403)
    return contest_row


def _readable(contest_id: int) -> Contest:
    """Load a contest whose standings the current user reads, or abort with 404 or 403."""
    contest_row = _own(Contest, contest_id)
    if not contests.may_read_standings(current_user, contest_row):
        abort(403)
    return contest_row


def _contest_values(contest: Contest) -> dict:
    return {
        "title": contest.title,
        "award_mode": contest.award_mode.value,
        "first_tier": scoring.display(contest.first_tier),
        "second_tier": scoring.display(contest.second_tier),
        "third_tier": scoring.display(contest.third_tier),
    }


def _contest_fields() -> dict:
    """Label of each field of the contest's award form, for a rejected save."""
    return {
        "title": _("Title"),
        "award_mode": (_("Awards by"), lambda value: labels.label(value, "AwardMode")),
        "first_tier": _("First prize"),
        "second_tier": _("Second prize"),
        "third_tier": _("Third prize"),
    }


def _contest_page(contest: Contest, errors=None, status: int = 200, values=None):
    # The lists leave out what the contest already holds, which a second add rejects.
    added = {
        f"task:{event.task_id}" if event.task_id else f"quiz:{event.quiz_id}"
        for event in contest.events
    }
    sources = [
        (value, title)
        for value, title in contests.event_sources(current_user.institution_id, current_user)
        if value not in added
    ]
    entered = {entrant.user_id for entrant in contest.entrants}
    learners = [
        p for p in _people_of_institution() if p.role.is_learner and p.id not in entered
    ]
    readable = contests.may_read_standings(current_user, contest)
    may_set_owner = (
        current_user.role is Role.ADMIN
        and current_user.institution_id == contest.institution_id
    )
    return (
        render_template(
            "tasks/contest.html",
            contest=contest,
            standings=_visible_standings(contest) if readable else None,
            sources=sources,
            learners=learners,
            can_edit=contests.may_manage(current_user, contest),
            may_set_owner=may_set_owner,
            owner_values=values or {},
            trainers=teachers.trainer_choices(contest) if may_set_owner else [],
            modes=list(AwardMode),
            values=(
                _contest_values(contest)
                if request.method == "GET" or request.endpoint != "tasks.edit_contest"
                else request.form.to_dict()
            ),
            errors=errors or {},
        ),
        status,
    )


@bp.route("/contests/<int:contest_id>")
@roles_required(*RESULT_ROLES)
def contest(contest_id: int):
    return _contest_page(_own(Contest, contest_id))


@bp.route("/manage/contests/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_contest():
    values = {
        "award_mode": AwardMode.RANK_SHARE.value,
        "first_tier": "10",
        "second_tier": "20",
        "third_tier": "30",
    }
    errors = {}
    status = 200
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            created = contests.save_contest(
                current_user.institution_id, values, current_user
            )
        except AuthoringError as error:
            db.session.rollback()
            errors, status = error.errors, 400
        else:
            db.session.commit()
            flash(_("Contest created. Add its events and entrants."), "success")
            return redirect(url_for("tasks.contest", contest_id=created.id))
    return (
        render_template(
            "tasks/contest_form.html",
            values=values,
            errors=errors,
            modes=list(AwardMode),
        ),
        status,
    )


@bp.route("/manage/contests/<int:contest_id>", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def edit_contest(contest_id: int):
    contest_row = _managed(contest_id)
    data = request.form.to_dict()
    try:
        conflict = revisions.save(
            contest_row,
            lambda: contests.save_contest(
                current_user.institution_id, data, current_user, contest_row
            ),
        )
    except AuthoringError as error:
        db.session.rollback()
        return _contest_page(_own(Contest, contest_id), error.errors, 400)
    if conflict is not None:
        fresh = _contest_values(contest_row)
        revisions.show_conflict(
            conflict, revisions.value_differences(data, fresh, _contest_fields())
        )
        return _contest_page(contest_row, None, 409)
    flash(_("Contest saved."), "success")
    return redirect(url_for("tasks.contest", contest_id=contest_id))


@bp.route("/contests/<int:contest_id>/standings.csv")
@roles_required(*RESULT_ROLES)
def export_standings(contest_id: int):
    contest_row = _readable(contest_id)
    headers = [_("Rank"), _("Entrant"), _("Employee number")]
    headers += [event.title for event in contest_row.events]
    headers += [_("Total"), _("Award")]
    rows = [
        [row.rank or "", row.user.full_name, row.user.employee_no or ""]
        + [scoring.display(value) if value is not None else "" for value in row.scores]
        + [scoring.display(row.total) if row.total is not None else "", row.award_label]
        for row in _visible_standings(contest_row)
    ]
    filename = f"contest-{contest_row.id}-standings.csv"
    return exports.csv_response(filename, headers, rows)


@bp.route("/manage/contests/<int:contest_id>/events", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def add_contest_event(contest_id: int):
    contest_row = _managed(contest_id)
    try:
        contests.add_event(
            contest_row,
            request.form.get("source", ""),
            request.form.get("weight", ""),
            current_user,
        )
    except AuthoringError as error:
        db.session.rollback()
        return _contest_page(_own(Contest, contest_id), error.errors, 400)
    db.session.commit()
    flash(_("Event added."), "success")
    return redirect(url_for("tasks.contest", contest_id=contest_id))


@bp.route("/manage/contests/<int:contest_id>/entrants", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def add_contest_entrant(contest_id: int):
    contest_row = _managed(contest_id)
    raw = request.form.get("user_id", "")
    user = db.session.get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if user is not None and user.institution_id != contest_row.institution_id:
        # Treated as an unused id, so the message does not reveal that the id exists.
        user = None
    try:
        if user is None:
            message = _("Entrant: choose a person from the list.")
            raise AuthoringError({"user_id": message})
        added = contests.add_entrant(contest_row, user, current_user)
    except AuthoringError as error:
        db.session.rollback()
        return _contest_page(_own(Contest, contest_id), error.errors, 400)
    db.session.commit()
    if added:
        flash(_("Entrant added."), "success")
    else:
        flash(_("That person is already entered."), "success")
    return redirect(url_for("tasks.contest", contest_id=contest_id))


@bp.route(
    "/manage/contests/<int:contest_id>/events/<int:event_id>/remove", methods=["POST"]
)
@roles_required(*AUTHOR_ROLES)
def remove_contest_event(contest_id: int, event_id: int):
    if contests.remove_event(_managed(contest_id), event_id, current_user):
        db.session.commit()
        flash(_("Event removed."), "success")
    else:
        flash(_("That event is not part of this contest."), "error")
    return redirect(url_for("tasks.contest", contest_id=contest_id))


@bp.route(
    "/manage/contests/<int:contest_id>/entrants/<int:user_id>/remove",
    methods=["POST"],
)
@roles_required(*AUTHOR_ROLES)
def remove_contest_entrant(contest_id: int, user_id: int):
    if contests.remove_entrant(_managed(contest_id), user_id, current_user):
        db.session.commit()
        flash(_("Entrant withdrawn."), "success")
    else:
        flash(_("That person is not entered."), "error")
    return redirect(url_for("tasks.contest", contest_id=contest_id))


@bp.route("/manage/contests/<int:contest_id>/owner", methods=["POST"])
@roles_required(Role.ADMIN)
def set_contest_owner(contest_id: int):
    """Let an administrator hand the contest to another trainer or administrator."""
    contest_row = _own(Contest, contest_id)
    values = {"owner_username": request.form.get("owner_username", "")}
    try:
        conflict = revisions.save(
            contest_row,
            lambda: contests.set_owner(contest_row, values, current_user),
            lambda row: {"owner_id": row.owner_id},
        )
    except AuthoringError as error:
        db.session.rollback()
        return _contest_page(_own(Contest, contest_id), error.errors, 400, values)
    if conflict is not None:
        owner = contest_row.owner
        saved = {"owner_username": owner.username if owner is not None else ""}
        revisions.show_conflict(
            conflict,
            revisions.value_differences(values, saved, {"owner_username": _("Contest owner")}),
        )
        return _contest_page(contest_row, None, 409, values)
    flash(_("Owner changed."), "success")
    return redirect(url_for("tasks.contest", contest_id=contest_id))
