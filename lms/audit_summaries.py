"""Translated one-line summaries of audit entries, built from ``action`` and ``data``.

The ``summary`` column stores an English sentence written when the event
happened. The audit page shows the sentence built here instead, in the
reader's language, and falls back to the stored summary for an action
without a template or for a row whose ``data`` lacks a key the template needs.
"""

from decimal import Decimal, InvalidOperation
from typing import Callable, Mapping, Optional

from babel.lists import format_list
from flask_babel import force_locale, get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from lms import labels
from lms.i18n import plural_count
from lms.audit_subjects import SubjectKey, StoredTitle
from lms.stored_text import render_item

LOGIN_METHOD = {
    "password": _l("password"),
    "totp": _l("authenticator code"),
    "recovery_code": _l("recovery code"),
}

REVIEW_STEP = {
    "department": _l("Department review"),
    "institution": _l("Institution review"),
}

REVIEW_OUTCOME = {
    "approve": _l("approved"),
    "return": _l("returned for changes"),
    "reject": _l("rejected"),
}

#: Label per ``reason`` that ``framework.retired`` stores in ``data``.
FRAMEWORK_RETIRE_REASON = {
    "superseded": _l("a newer version was published"),
    "retired": _l("retired by hand"),
}

#: Person profile fields that ``profile.updated`` lists under ``changes``.
PROFILE_FIELD = {
    "party_status": _l("Party status"),
    "party_committee_member": _l("Party committee member"),
    "cadre_rank": _l("Cadre rank"),
    "full_time": _l("Full-time"),
    "post_started_on": _l("Post start date"),
    "probation_started_on": _l("Became a probationary Party member on"),
    "full_member_on": _l("Became a full Party member on"),
    "rank_since": _l("Cadre rank held since"),
    "gender": _l("Gender"),
    "phone": _l("Mobile phone"),
    "full_name": _l("Full name"),
    "department_id": _l("Department"),
    "email": _l("E-mail"),
}


def _job_run_outcome(data: dict) -> str:
    ok = data.get("ok")
    if ok is None:
        return str(_l("skipped because another process is running it"))
    return str(_l("succeeded")) if ok else str(_l("failed"))


def job_label(job_id: str) -> str:
    """Return a scheduled job's id with what it does, or the id of a job no longer known."""
    from lms.scheduler import find_job

    try:
        description = str(find_job(job_id).description or "")
    except KeyError:
        return job_id
    description = description.rstrip("。.")
    if not description:
        return job_id
    return gettext("%(id)s (%(description)s)", id=job_id, description=description)


def _attempt_result(data: dict) -> str:
    if data.get("needs_grading"):
        return str(_l("waiting for manual grading"))
    return str(_l("passed")) if data.get("passed") else str(_l("not passed"))


def _pass_change(data: dict) -> str:
    if not data.get("pass_to_fail"):
        return ""
    return str(_l("; this turned a passed attempt into a not-passed one"))


def _hr_scope(department_id: Optional[int], names: Mapping[SubjectKey, str]) -> str:
    if department_id is None:
        return str(_l("the whole institution"))
    name = names.get(("department", department_id))
    if name is not None:
        return name
    return str(_l("department %(id)s", id=department_id))


def _scope_removal(data: dict, names: Mapping[SubjectKey, str]) -> str:
    department_id = data.get("hr_department_id")
    if department_id is None:
        return ""
    return str(
        _l(
            " and removed their HR scope of %(department)s",
            department=_hr_scope(department_id, names),
        )
    )


def _changed_fields(data: dict) -> str:
    names = [
        labels.label(name, "audit_profile_field") for name in sorted(data["changes"])
    ]
    return format_list(names, locale=get_locale())


def _attendance_before(data: dict) -> str:
    previous = data["previous"]
    return "—" if previous is None else labels.label(previous, "AttendanceStatus")


def _score_change(data: dict) -> str:
    """Return "old → new" of a stored score, with "—" where there was none."""
    before, after = data["score"]
    return f"{_shown('score', before)} → {_shown('score', after)}"


def _checks(data: dict) -> str:
    """Return the failed checks an override set aside, in the current language.

    Each is stored-text JSON, or plain text in rows written before.
    """
    texts = [render_item(item).rstrip(".。 ") for item in data["problems"]]
    # Chinese clauses take a full-width semicolon and no space after it.
    separator = "；" if get_locale().language == "zh" else "; "
    return separator.join(text for text in texts if text)


def _counted(key: str, phrase: Callable[[int, str], str]) -> Callable[[dict], str]:
    """Return a deriver that passes ``data[key]`` to ``phrase``, an ``ngettext`` call.

    ``phrase`` gets the integer that picks the plural form and the value as
    shown, because stored counts may be decimals kept as text, e.g. hours "2.5".
    """

    def derive(data: dict) -> str:
        value = data[key]
        return phrase(plural_count(value), _shown(key, value))

    return derive


#: Values computed from ``data`` before formatting, by placeholder name.
def _previous_settings(data: dict) -> str:
    """Return the certificate settings an entry replaced, or "" for entries without them."""
    previous = data.get("previous")
    if not isinstance(previous, dict):
        return ""
    values = {key: previous.get(key, "—") for key in ("pattern", "prefix")}
    values["renewal_window_text"] = _days(previous.get("renewal_window_days", "—"))
    return str(
        _l(
            " (before: serial pattern %(pattern)s, prefix %(prefix)s,"
            " renewal window %(renewal_window_text)s)"
        )
    ) % values


def _days(value) -> str:
    return ngettext(
        "%(count)s day", "%(count)s days", plural_count(value), count=value
    )


_DERIVED: dict[str, Callable[[dict], str]] = {
    "previous_settings": _previous_settings,
    "method_label": lambda data: labels.label(data["method"], "audit_login_method"),
    "step_label": lambda data: labels.label(data["step"], "audit_review_step"),
    "outcome_label": lambda data: labels.label(data["outcome"], "audit_review_outcome"),
    "from_label": lambda data: labels.label(data["from"], "role"),
    "to_label": lambda data: labels.label(data["to"], "role"),
    "role_label": lambda data: labels.label(data["role"], "role"),
    "from_status": lambda data: labels.label(data["from"], "PublicationStatus"),
    "to_status": lambda data: labels.label(data["to"], "PublicationStatus"),
    "from_class_status": lambda data: labels.label(data["from"], "ClassStatus"),
    "to_class_status": lambda data: labels.label(data["to"], "ClassStatus"),
    "run_outcome": _job_run_outcome,
    "job_label": lambda data: job_label(data["job_id"]),
    "result": _attempt_result,
    "pass_change": _pass_change,
    "retire_reason_label": lambda data: labels.label(
        data["reason"], "audit_framework_retire_reason"
    ),
    "occurred_on_label": lambda data: labels.format_iso_date(data["occurred_on"]),
    "changed_fields": _changed_fields,
    "score_change": _score_change,
    "attendance_label": lambda data: labels.label(data["status"], "AttendanceStatus"),
    "attendance_before_label": _attendance_before,
    "member_status_label": lambda data: labels.label(data["status"], "member_status"),
    "track_label": lambda data: labels.label(data["track"], "promotion_track"),
    "checks_text": _checks,
    # Older rows of certificate.batch_finished may lack the revoked count.
    "revoked_skipped": lambda data: _shown("revoked", data.get("revoked", 0)),
    "retried_text": _counted(
        "retried",
        lambda n, count: ngettext(
            "%(count)s failed item", "%(count)s failed items", n, count=count
        ),
    ),
    "sessions_ended_text": _counted(
        "sessions_ended",
        lambda n, count: ngettext(
            "%(count)s session", "%(count)s sessions", n, count=count
        ),
    ),
    "other_sessions_ended_text": _counted(
        "sessions_ended",
        lambda n, count: ngettext(
            "%(count)s other session ended",
            "%(count)s other sessions ended",
            n,
            count=count,
        ),
    ),
    "people_text": _counted(
        "people",
        lambda n, count: ngettext(
            "%(count)s certificate", "%(count)s certificates", n, count=count
        ),
    ),
    "renewal_window_text": lambda data: _days(data["renewal_window_days"]),
    "opened_text": _counted(
        "student_count",
        lambda n, count: ngettext(
            "student evaluation opened for %(count)s student",
            "student evaluation opened for %(count)s students",
            n,
            count=count,
        ),
    ),
    "opened_codes_text": _counted(
        "codes",
        lambda n, count: ngettext(
            "with %(count)s code", "with %(count)s codes", n, count=count
        ),
    ),
    "codes_added_text": _counted(
        "codes",
        lambda n, count: ngettext(
            "%(count)s evaluation code added",
            "%(count)s evaluation codes added",
            n,
            count=count,
        ),
    ),
    "closed_text": _counted(
        "responses",
        lambda n, count: ngettext(
            "student evaluation closed with %(count)s response",
            "student evaluation closed with %(count)s responses",
            n,
            count=count,
        ),
    ),
    "codes_voided_text": _counted(
        "count",
        lambda n, count: ngettext(
            "%(count)s evaluation code voided",
            "%(count)s evaluation codes voided",
            n,
            count=count,
        ),
    ),
    "discarded_text": _counted(
        "issued",
        lambda n, count: ngettext(
            "student evaluation discarded with %(count)s code",
            "student evaluation discarded with %(count)s codes",
            n,
            count=count,
        ),
    ),
    "discarded_responses_text": _counted(
        "responses",
        lambda n, count: ngettext(
            "and %(count)s response", "and %(count)s responses", n, count=count
        ),
    ),
    "hours_text": _counted(
        "hours", lambda n, count: ngettext("%(count)s hour", "%(count)s hours", n, count=count)
    ),
    "awarded_text": _counted(
        "awarded",
        lambda n, count: ngettext("%(count)s point", "%(count)s points", n, count=count),
    ),
    "questions_text": _counted(
        "questions",
        lambda n, count: ngettext(
            "%(count)s question", "%(count)s questions", n, count=count
        ),
    ),
    "extra_minutes_text": _counted(
        "extra_minutes",
        lambda n, count: ngettext(
            "%(count)s extra minute", "%(count)s extra minutes", n, count=count
        ),
    ),
    "extra_attempts_text": _counted(
        "extra_attempts",
        lambda n, count: ngettext(
            "%(count)s extra attempt", "%(count)s extra attempts", n, count=count
        ),
    ),
    # Entries recorded before the title was stored name the programme by id.
    "programme_name": lambda data: data.get("programme_title") or str(data["programme_id"]),
}

#: Values computed from ``data`` and the names of referenced subjects.
_NAMED_DERIVED: dict[str, Callable[[dict, Mapping[SubjectKey, str]], str]] = {
    "scope_before": lambda data, names: _hr_scope(data["before"], names),
    "scope_after": lambda data, names: _hr_scope(data["after"], names),
    "scope_removal": _scope_removal,
}

#: Subject type of the ids that an action stores in ``data``, by data key.
#: ``describe`` shows such an id as the subject's name when it is given one.
#: ``task.assessor_added`` is left out because its summary names the assessor.
DATA_REFERENCES: dict[str, dict[str, str]] = {
    "account.hr_scope_changed": {"before": "department", "after": "department"},
    "account.role_changed": {"hr_department_id": "department"},
    "class.attendance_marked": {"session_id": "class_session"},
    "quiz.grant_set": {"user_id": "user"},
    "task.assessor_removed": {"assessor_id": "user"},
    "framework.versioned": {"predecessor_id": "framework"},
    "course.version_published": {"previous_id": "course"},
    "course.teacher_added": {"user_id": "user"},
    "course.teacher_removed": {"user_id": "user"},
    "course.author_changed": {"previous_author_id": "user", "author_id": "user"},
    "contest.owner_changed": {"previous_owner_id": "user", "owner_id": "user"},
    "programme.author_changed": {"previous_author_id": "user", "author_id": "user"},
    "certificate_programme_settings.saved": {
        "template_id": "certificate_template",
        "renews_programme_id": "programme",
    },
}

#: Summary template per action. Placeholders are keys of the entry's ``data``,
#: ``actor`` (the username), ``subject_id``, ``summary`` and the names in
#: ``_DERIVED``. A template uses ``summary`` (the stored one) only for actions
#: whose recording call builds it from names, codes and titles alone, so it
#: contains no English words.
TEMPLATES = {
    "account.login": _l("%(actor)s logged in from %(ip)s (%(method_label)s)"),
    "account.login_failed": _l("Failed login as %(username)s from %(ip)s"),
    "account.password_changed": _l(
        "%(actor)s changed the password; %(other_sessions_ended_text)s"
    ),
    "account.password_set": _l(
        "Password of user %(subject_id)s set from the command line;"
        " it must be changed at the next login"
    ),
    "account.sessions_ended": _l(
        "%(actor)s ended %(sessions_ended_text)s of user %(subject_id)s"
    ),
    "account.operator_granted": _l(
        "User %(subject_id)s made a platform operator from the command line"
    ),
    "account.operator_revoked": _l(
        "User %(subject_id)s no longer a platform operator, changed from the command line"
    ),
    "account.created": _l(
        "Account of user %(subject_id)s (%(role_label)s) created from the command line"
    ),
    "account.created_by_admin": _l(
        "%(actor)s created the account %(username)s (%(role_label)s)"
    ),
    "account.details_changed": _l(
        "%(actor)s changed the account of user %(subject_id)s: %(changed_fields)s"
    ),
    "institution.created": _l("Institution %(subject_id)s created from the command line"),
    "account.enabled": _l("%(actor)s enabled the account of user %(subject_id)s"),
    "account.disabled": _l("%(actor)s disabled the account of user %(subject_id)s"),
    "account.role_changed": _l(
        "%(actor)s changed the role of user %(subject_id)s"
        " from %(from_label)s to %(to_label)s%(scope_removal)s"
    ),
    "account.two_factor_enabled": _l("%(actor)s turned on two-factor login"),
    "account.two_factor_disabled": _l(
        "%(actor)s turned off two-factor login of user %(subject_id)s"
    ),
    "account.two_factor_failed": _l("Wrong second-factor code for user %(subject_id)s"),
    "account.two_factor_reset": _l(
        "Two-factor login of user %(subject_id)s reset from the command line"
    ),
    "account.hr_scope_changed": _l(
        "%(actor)s changed the HR scope of user %(subject_id)s"
        " from %(scope_before)s to %(scope_after)s"
    ),
    "account.recovery_codes_replaced": _l("%(actor)s replaced the two-factor recovery codes"),
    "security.two_factor_required": _l(
        "%(actor)s made two-factor login required for HR and administrator accounts"
    ),
    "security.two_factor_optional": _l(
        "%(actor)s made two-factor login optional for HR and administrator accounts"
    ),
    "profile.updated": _l("Profile of user %(subject_id)s updated: %(changed_fields)s"),
    "progression.recorded": _l("%(summary)s, dated %(occurred_on_label)s"),
    "annual_assessment.scored": _l(
        "%(actor)s entered the score of %(component)s: %(score_change)s"
    ),
    "annual_assessment.finalised": _l("Annual assessment finalised: %(total)s, %(band)s"),
    "annual_assessment.reopened": _l("Annual assessment reopened: %(reason)s"),
    "annual_assessment_scheme.corrected": _l(
        "Assessment scheme corrected after scores were entered: %(reason)s"
    ),
    "student_evaluation.opened": _l(
        "%(summary)s: %(opened_text)s %(opened_codes_text)s (at least %(minimum)s)"
    ),
    "student_evaluation.codes_added": _l(
        "%(summary)s: %(codes_added_text)s, %(issued)s in all"
    ),
    "student_evaluation.closed": _l("%(summary)s: %(closed_text)s"),
    "student_evaluation.reopened": _l("%(summary)s: student evaluation reopened"),
    "student_evaluation.codes_voided": _l(
        "%(summary)s: %(codes_voided_text)s, %(void)s of %(issued)s void in all"
    ),
    "student_evaluation.discarded": _l(
        "%(summary)s: %(discarded_text)s (%(used)s used, %(void)s void)"
        " %(discarded_responses_text)s: %(reason)s"
    ),
    "progression.corrected": _l(
        "%(summary)s, dated %(occurred_on_label)s (corrects entry %(corrects_id)s)"
    ),
    # NOTE: framework entries are recorded without an institution, so the
    # audit page, which lists one institution's entries, does not show them.
    "framework.retired": _l("%(summary)s retired: %(retire_reason_label)s"),
    "framework.versioned": _l(
        "New draft %(summary)s copied from framework %(predecessor_id)s"
    ),
    "framework.imported": _l("%(summary)s imported with %(items)s competency items"),
    # The subject column names the course or programme; its stored summary
    # repeats that name after the code.
    "course.published": _l("Status: %(from_status)s → %(to_status)s"),
    "course.archived": _l("Status: %(from_status)s → %(to_status)s"),
    "programme.published": _l("Status: %(from_status)s → %(to_status)s"),
    "programme.archived": _l("Status: %(from_status)s → %(to_status)s"),
    "course.version_published": _l(
        "%(summary)s published; it replaces course %(previous_id)s"
        " in %(programme_links)s programmes"
    ),
    "course.created": _l("%(summary)s created as version %(version)s"),
    "course.teacher_added": _l("User %(user_id)s added to the co-teachers"),
    "course.teacher_removed": _l("User %(user_id)s removed from the co-teachers"),
    "course.author_changed": _l("Author: %(previous_author_id)s → %(author_id)s"),
    "contest.owner_changed": _l("Owner: %(previous_owner_id)s → %(owner_id)s"),
    "programme.author_changed": _l("Author: %(previous_author_id)s → %(author_id)s"),
    "class.attendance_marked": _l(
        "Attendance at session %(session_id)s marked %(attendance_label)s"
        " (before: %(attendance_before_label)s)"
    ),
    "class.request_approved": _l("%(summary)s: %(member_status_label)s"),
    "class.status_changed": _l(
        "%(summary)s: status %(from_class_status)s → %(to_class_status)s"
    ),
    "class.member_withdrawn_leave": _l(
        "%(summary)s: withdrawn for leave, %(missed_hours)s of %(scheduled_hours)s"
        " hours missed, limit %(limit)s"
    ),
    "class.member_reinstated": _l(
        "%(summary)s: reinstated, %(missed_hours)s of %(scheduled_hours)s"
        " hours missed, limit %(limit)s"
    ),
    "class.roster_imported": _l(
        "Roster imported: %(created)s accounts created, %(enrolled)s enrolled,"
        " %(waiting)s on the waiting list"
    ),
    "quiz.graded": _l("Quiz attempt graded: %(score)s/%(max_score)s, %(result)s"),
    "quiz.regraded": _l(
        "Quiz attempt regraded: %(score)s/%(max_score)s, %(result)s%(pass_change)s"
    ),
    "quiz.essay_graded": _l(
        "Essay answer graded: %(awarded_text)s (before: %(previous)s)%(pass_change)s"
    ),
    "quiz.deleted": _l(
        "Quiz %(title)s deleted from course %(course_code)s (%(questions_text)s)"
    ),
    "quiz.grant_set": _l(
        "User %(user_id)s given %(extra_minutes_text)s and"
        " %(extra_attempts_text)s: %(reason)s"
    ),
    "task.scored": _l("Score sheet saved: %(before)s → %(after)s"),
    "task.moderated": _l("Moderated score: %(before)s → %(after)s (%(reason)s)"),
    "task.released": _l("Task score released: %(final_score)s"),
    "task.assessor_added": _l(
        "%(summary)s (user %(assessor_id)s) added as an assessor"
    ),
    "task.assessor_removed": _l("User %(assessor_id)s removed from the assessors"),
    "certificate.issued": _l("Certificate %(serial)s issued (%(hours_text)s)"),
    "certificate.revoked": _l("Certificate %(serial)s revoked: %(reason)s"),
    "certificate.hours_withdrawn": _l(
        "Hours of certificate %(serial)s withdrawn (%(hours_text)s): %(reason)s"
    ),
    "certificate.archived_pdf_downloaded": _l(
        "Archived PDF of revoked certificate %(serial)s downloaded"
    ),
    "certificate.archived_credential_downloaded": _l(
        "Archived credential of revoked certificate %(serial)s downloaded"
    ),
    "certificate.superseded": _l("Certificate %(serial)s replaced by %(superseded_by)s"),
    "certificate.basis_failed": _l(
        "Certificate %(serial)s rests on an attempt on %(quiz)s regraded to a fail"
    ),
    "certificate.batch_created": _l(
        "Batch of %(people_text)s created for programme %(programme_name)s"
    ),
    "certificate.batch_finished": _l(
        "Certificate batch finished: %(issued)s issued, %(existing)s already held,"
        " %(revoked_skipped)s skipped as revoked, %(failed)s failed"
    ),
    "certificate.batch_resumed": _l("Certificate batch resumed: %(retried_text)s retried"),
    "certificate_template.saved": _l(
        "Certificate template saved as version %(number)s"
    ),
    "certificate_settings.saved": _l(
        "Certificate settings saved: serial pattern %(pattern)s, prefix %(prefix)s,"
        " renewal window %(renewal_window_text)s%(previous_settings)s"
    ),
    "certificate_programme_settings.saved": _l(
        "Programme certificate settings saved: template %(template_id)s,"
        " renews programme %(renews_programme_id)s"
    ),
    "promotion.applied": _l("Promotion application submitted"),
    "promotion.resubmitted": _l("Promotion application resubmitted (revision %(revision)s)"),
    "promotion.withdrawn": _l("Promotion application withdrawn"),
    "promotion.department_approved": _l("%(step_label)s: %(outcome_label)s"),
    "promotion.approved": _l("%(step_label)s: %(outcome_label)s"),
    "promotion.returned": _l("%(step_label)s: %(outcome_label)s"),
    "promotion.rejected": _l("%(step_label)s: %(outcome_label)s"),
    "promotion.override": _l(
        "%(step_label)s: approved despite a failed check (%(checks_text)s)."
        " Reason: %(reason)s"
    ),
    "promotion_rule.created": _l(
        "Promotion rule %(summary)s created (%(track_label)s)"
    ),
    "promotion_rule.updated": _l(
        "Promotion rule %(summary)s updated (%(track_label)s)"
    ),
    "compliance_rule.created": _l("Training-hour rule %(summary)s created"),
    "compliance_rule.adapted": _l(
        "National training-hour rule adapted for the institution as %(summary)s"
    ),
    "compliance_rule.updated": _l("Training-hour rule %(summary)s updated"),
    "compliance_rule.retired": _l(
        "Training-hour rule %(summary)s retired. Reason: %(reason)s"
    ),
    "compliance_rule.restored": _l("Training-hour rule %(summary)s restored"),
    "external_training.entered": _l("External training entered by HR: %(hours_text)s"),
    "external_training.approved": _l("External training approved: %(hours_text)s"),
    "external_training.rejected": _l("External training rejected: %(reason)s"),
    "external_training.withdrawn": _l("External training approval withdrawn: %(reason)s"),
    "external_training.cancelled": _l("External training cancelled by its submitter"),
    "job.run_now": _l("%(actor)s ran job %(job_label)s by hand: %(run_outcome)s"),
    "job.pause": _l("%(actor)s paused job %(job_label)s"),
    "job.resume": _l("%(actor)s resumed job %(job_label)s"),
}

#: Short label per action, shown in the audit page's action column. An action
#: without a label is shown as its code.
ACTION_LABELS = {
    "account.login": _l("Login"),
    "account.login_failed": _l("Failed login"),
    "account.password_changed": _l("Password changed"),
    "account.password_set": _l("Password set"),
    "account.operator_granted": _l("Platform operator granted"),
    "account.operator_revoked": _l("Platform operator revoked"),
    "account.sessions_ended": _l("Sessions ended"),
    "account.created": _l("Account created"),
    "account.created_by_admin": _l("Account created by an administrator"),
    "account.details_changed": _l("Account details changed"),
    "institution.created": _l("Institution created"),
    "account.enabled": _l("Account enabled"),
    "account.disabled": _l("Account disabled"),
    "account.role_changed": _l("Role changed"),
    "account.hr_scope_changed": _l("HR scope changed"),
    "account.two_factor_enabled": _l("Two-factor login turned on"),
    "account.two_factor_disabled": _l("Two-factor login turned off"),
    "account.two_factor_failed": _l("Wrong second-factor code"),
    "account.two_factor_reset": _l("Two-factor login reset"),
    "account.recovery_codes_replaced": _l("Recovery codes replaced"),
    "security.two_factor_required": _l("Two-factor login required"),
    "security.two_factor_optional": _l("Two-factor login optional"),
    "profile.updated": _l("Profile updated"),
    "progression.recorded": _l("Career record added"),
    "annual_assessment_scheme.created": _l("Assessment scheme created"),
    "annual_assessment_scheme.updated": _l("Assessment scheme changed"),
    "annual_assessment_scheme.corrected": _l("Assessment scheme corrected"),
    "annual_assessment.submitted": _l("Assessment filing submitted"),
    "annual_assessment.scored": _l("Assessment score entered"),
    "annual_assessment.finalised": _l("Assessment finalised"),
    "annual_assessment.reopened": _l("Assessment reopened"),
    "student_evaluation.opened": _l("Student evaluation opened"),
    "student_evaluation.codes_added": _l("Student evaluation codes added"),
    "student_evaluation.closed": _l("Student evaluation closed"),
    "student_evaluation.reopened": _l("Student evaluation reopened"),
    "student_evaluation.codes_voided": _l("Student evaluation codes voided"),
    "student_evaluation.discarded": _l("Student evaluation discarded"),
    "progression.corrected": _l("Career record corrected"),
    "framework.published": _l("Competency framework published"),
    "framework.retired": _l("Competency framework retired"),
    "framework.versioned": _l("Competency framework version drafted"),
    "framework.imported": _l("Competency framework imported"),
    "quiz.graded": _l("Quiz graded"),
    "quiz.regraded": _l("Quiz regraded"),
    "quiz.essay_graded": _l("Essay graded"),
    "quiz.deleted": _l("Quiz deleted"),
    "quiz.grant_set": _l("Quiz extra attempts set"),
    "task.scored": _l("Score sheet saved"),
    "task.moderated": _l("Score moderated"),
    "task.released": _l("Task score released"),
    "task.assessor_added": _l("Assessor added"),
    "task.assessor_removed": _l("Assessor removed"),
    "task.pairs_drawn": _l("Discussion pairs drawn"),
    "rubric.copied": _l("Rubric copied"),
    "certificate.issued": _l("Certificate issued"),
    "certificate.revoked": _l("Certificate revoked"),
    "certificate.hours_withdrawn": _l("Certificate hours withdrawn"),
    "certificate.archived_pdf_downloaded": _l("Revoked certificate's PDF downloaded"),
    "certificate.archived_credential_downloaded": _l(
        "Revoked certificate's credential downloaded"
    ),
    "certificate.superseded": _l("Certificate replaced"),
    "certificate.basis_failed": _l("Certificate's attempt regraded to a fail"),
    "certificate.batch_created": _l("Certificate batch created"),
    "certificate.batch_finished": _l("Certificate batch finished"),
    "certificate.batch_resumed": _l("Certificate batch resumed"),
    "certificate_template.saved": _l("Certificate template saved"),
    "certificate_settings.saved": _l("Certificate settings saved"),
    "certificate_programme_settings.saved": _l("Programme certificate settings saved"),
    "course.published": _l("Course published"),
    "course.archived": _l("Course archived"),
    "course.version_published": _l("Course version published"),
    "course.created": _l("Course created"),
    "course.teacher_added": _l("Course co-teacher added"),
    "course.teacher_removed": _l("Course co-teacher removed"),
    "course.author_changed": _l("Course author changed"),
    "programme.published": _l("Programme published"),
    "programme.archived": _l("Programme archived"),
    "programme.created": _l("Programme created"),
    "programme.author_changed": _l("Programme author changed"),
    "class.created": _l("Class created"),
    "class.status_changed": _l("Class status changed"),
    "class.attendance_marked": _l("Attendance marked"),
    "class.request_approved": _l("Class request approved"),
    "class.request_rejected": _l("Class request rejected"),
    "class.member_withdrawn": _l("Class member withdrawn"),
    "class.member_withdrawn_leave": _l("Class member withdrawn for leave"),
    "class.member_reinstated": _l("Class member reinstated"),
    "class.roster_imported": _l("Class roster imported"),
    "contest.saved": _l("Contest saved"),
    "contest.entrant_added": _l("Contest entrant added"),
    "contest.entrant_removed": _l("Contest entrant removed"),
    "contest.event_added": _l("Contest event added"),
    "contest.event_removed": _l("Contest event removed"),
    "contest.owner_changed": _l("Contest owner changed"),
    "promotion.applied": _l("Promotion application submitted"),
    "promotion.resubmitted": _l("Promotion application resubmitted"),
    "promotion.withdrawn": _l("Promotion application withdrawn"),
    "promotion.department_approved": _l("Promotion approved by department"),
    "promotion.approved": _l("Promotion approved"),
    "promotion.returned": _l("Promotion application returned"),
    "promotion.rejected": _l("Promotion application rejected"),
    "promotion.override": _l("Promotion approved with an override"),
    "promotion_rule.created": _l("Promotion rule created"),
    "promotion_rule.updated": _l("Promotion rule updated"),
    "compliance_rule.created": _l("Training-hour rule created"),
    "compliance_rule.adapted": _l("National training-hour rule adapted"),
    "compliance_rule.updated": _l("Training-hour rule updated"),
    "compliance_rule.retired": _l("Training-hour rule retired"),
    "compliance_rule.restored": _l("Training-hour rule restored"),
    "external_training.entered": _l("External training entered"),
    "external_training.approved": _l("External training approved"),
    "external_training.rejected": _l("External training rejected"),
    "external_training.withdrawn": _l("External training approval withdrawn"),
    "external_training.cancelled": _l("External training cancelled"),
    "job.run_now": _l("Job run by hand"),
    "job.pause": _l("Job paused"),
    "job.resume": _l("Job resumed"),
}

#: Label per ``subject_type``, shown in the audit page's object column.
SUBJECT_TYPE_LABELS = {
    "user": _l("User"),
    "institution": _l("Institution"),
    "person_profile": _l("Profile"),
    "progression_entry": _l("Career record"),
    "annual_assessment": _l("Annual assessment"),
    "annual_assessment_scheme": _l("Assessment scheme"),
    "framework": _l("Competency framework"),
    "course": _l("Course"),
    "programme": _l("Programme"),
    "training_class": _l("Training class"),
    "class_member": _l("Class member"),
    "class_attendance": _l("Attendance record"),
    "quiz": _l("Quiz"),
    "attempt": _l("Quiz attempt"),
    "attempt_answer": _l("Quiz answer"),
    "performance_task": _l("Performance task"),
    "task_submission": _l("Task submission"),
    "score_sheet": _l("Score sheet"),
    "rubric": _l("Rubric"),
    "contest": _l("Contest"),
    "certificate": _l("Certificate"),
    "certificate_batch": _l("Certificate batch"),
    "certificate_template": _l("Certificate template"),
    "external_training": _l("External training"),
    "promotion_application": _l("Promotion application"),
    "promotion_rule": _l("Promotion rule"),
    "compliance_rule": _l("Training-hour rule"),
    "job": _l("Scheduled job"),
    "job_run": _l("Job run"),
}

def actions_labelled(text: str) -> list[str]:
    """Return the actions whose label contains ``text``, ignoring case.

    A label matches in the current locale or in English, so an administrator
    can search by the label the page shows as well as by the English one.
    """
    needle = text.casefold()
    if not needle:
        return []
    with force_locale("en"):
        english = {action: str(label) for action, label in ACTION_LABELS.items()}
    return [
        action
        for action, label in ACTION_LABELS.items()
        if needle in str(label).casefold() or needle in english[action].casefold()
    ]


labels.register("audit_action", ACTION_LABELS)
labels.register("audit_subject_type", SUBJECT_TYPE_LABELS)
labels.register("audit_login_method", LOGIN_METHOD)
labels.register("audit_review_step", REVIEW_STEP)
labels.register("audit_review_outcome", REVIEW_OUTCOME)
labels.register("audit_framework_retire_reason", FRAMEWORK_RETIRE_REASON)
labels.register("audit_profile_field", PROFILE_FIELD)


#: Data keys that hold scores or hours. Their stored form carries the column's
#: scale ("100.0000", "28.0"), which a reader should see as 100 and 28.
NUMBER_KEYS = frozenset(
    {"score", "max_score", "hours", "awarded", "previous", "before", "after", "final_score"}
)


def plain_number(value):
    """Return ``value`` without trailing zeros when it is a number, else unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    return format(number.normalize(), "f")


def _shown(key: str, value):
    if value is None:
        return "—"
    return plain_number(value) if key in NUMBER_KEYS else value


class _Values(dict):
    """Format arguments that compute a derived value when a template uses its name."""

    def __init__(self, data: dict, names: Mapping[SubjectKey, str], **extra):
        super().__init__({key: _shown(key, value) for key, value in data.items()})
        self.update(extra)
        self.data = data
        self.names = names

    def __missing__(self, name: str):
        derive = _DERIVED.get(name)
        if derive is not None:
            return derive(self.data)
        derive_named = _NAMED_DERIVED.get(name)
        if derive_named is not None:
            return derive_named(self.data, self.names)
        raise KeyError(name)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def referenced_subjects(entry) -> list[SubjectKey]:
    """Return the entry's subject and the subjects its ``data`` refers to by id."""
    keys = [(entry.subject_type, entry.subject_id)] if _is_id(entry.subject_id) else []
    if isinstance(entry.data, dict):
        for key, subject_type in DATA_REFERENCES.get(entry.action, {}).items():
            value = entry.data.get(key)
            if _is_id(value):
                keys.append((subject_type, value))
    return keys


def name_from_data(entry) -> Optional[str]:
    """Return the name of an entry's subject kept in its data, for subjects without an id.

    An entry about a scheduled job as a whole stores subject id 0 and the
    job's id under ``job_id``.
    """
    if entry.subject_type == "job" and isinstance(entry.data, dict):
        job_id = entry.data.get("job_id")
        if isinstance(job_id, str) and job_id:
            return job_label(job_id)
    return None


def _named_references(entry, names: Mapping[SubjectKey, str]) -> dict:
    """Map ``subject_id`` and the entry's reference keys to the names that are known."""
    found = {}
    subject_name = names.get((entry.subject_type, entry.subject_id))
    if subject_name is not None:
        found["subject_id"] = subject_name
    for key, subject_type in DATA_REFERENCES.get(entry.action, {}).items():
        value = entry.data.get(key)
        name = names.get((subject_type, value)) if _is_id(value) else None
        if name is not None:
            found[key] = name
    return found


def summary_in_reader_language(entry, titles: Mapping[SubjectKey, StoredTitle]) -> str:
    """Return the stored summary with the subject's headline in the current language.

    A summary that ends with the headline its subject row stores in the
    default language (a career record entry's, for instance) gets the
    headline rendered from the row's stored text instead. Any other summary
    is returned as stored.
    """
    title = titles.get((entry.subject_type, entry.subject_id))
    summary = entry.summary
    if title is None or not title.stored or not summary.endswith(title.stored):
        return summary
    return summary[: len(summary) - len(title.stored)] + title.shown


def describe(
    entry,
    actor_username: Optional[str],
    names: Optional[Mapping[SubjectKey, str]] = None,
    titles: Optional[Mapping[SubjectKey, StoredTitle]] = None,
) -> str:
    """Return the entry's summary in the current locale, or the stored one.

    ``names`` maps ``(subject_type, id)`` to a readable name. The summary shows
    the entry's subject and the ids listed in ``DATA_REFERENCES`` by that name
    where one is given, and by id otherwise. ``titles`` contains the headlines
    of subjects that keep them as stored text (``audit_subjects.load_titles``);
    the stored summary, used as is or in a template, shows such a headline in
    the current language (``summary_in_reader_language``).
    """
    summary = summary_in_reader_language(entry, titles or {})
    template = TEMPLATES.get(entry.action)
    if template is None or not isinstance(entry.data, dict):
        return summary
    names = names or {}
    values = _Values(
        entry.data,
        names,
        actor=actor_username or "—",
        subject_id=entry.subject_id,
        summary=summary,
    )
    values.update(_named_references(entry, names))
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return summary
