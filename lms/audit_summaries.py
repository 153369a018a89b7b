"""Translated one-line summaries of audit entries, built from ``action`` and ``data``.

The ``summary`` column stores an English sentence written when the event
happened. The audit page shows the sentence built here instead, in the
reader's language, and falls back to the stored summary for an action
without a template or for a row whose ``data`` lacks a key the template needs.
"""

from typing import Callable, Optional

from flask_babel import lazy_gettext as _l

from lms import labels

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


def _job_run_outcome(data: dict) -> str:
    ok = data.get("ok")
    if ok is None:
        return str(_l("skipped because another process is running it"))
    return str(_l("succeeded")) if ok else str(_l("failed"))


def _attempt_result(data: dict) -> str:
    if data.get("needs_grading"):
        return str(_l("waiting for manual grading"))
    return str(_l("passed")) if data.get("passed") else str(_l("not passed"))


#: Values computed from ``data`` before formatting, by placeholder name.
_DERIVED: dict[str, Callable[[dict], str]] = {
    "method_label": lambda data: labels.label(data["method"], "audit_login_method"),
    "step_label": lambda data: labels.label(data["step"], "audit_review_step"),
    "outcome_label": lambda data: labels.label(data["outcome"], "audit_review_outcome"),
    "from_label": lambda data: labels.label(data["from"], "role"),
    "to_label": lambda data: labels.label(data["to"], "role"),
    "run_outcome": _job_run_outcome,
    "result": _attempt_result,
}

#: Summary template per action. Placeholders are keys of the entry's ``data``,
#: ``actor`` (the username), ``subject_id`` and the names in ``_DERIVED``.
TEMPLATES = {
    "account.login": _l("%(actor)s logged in from %(ip)s (%(method_label)s)"),
    "account.login_failed": _l("Failed login as %(username)s from %(ip)s"),
    "account.password_changed": _l(
        "%(actor)s changed the password; %(sessions_ended)s other sessions ended"
    ),
    "account.sessions_ended": _l(
        "%(actor)s ended %(sessions_ended)s sessions of user %(subject_id)s"
    ),
    "account.enabled": _l("%(actor)s enabled the account of user %(subject_id)s"),
    "account.disabled": _l("%(actor)s disabled the account of user %(subject_id)s"),
    "account.role_changed": _l(
        "%(actor)s changed the role of user %(subject_id)s from %(from_label)s to %(to_label)s"
    ),
    "account.two_factor_enabled": _l("%(actor)s turned on two-factor login"),
    "account.two_factor_disabled": _l(
        "%(actor)s turned off two-factor login of user %(subject_id)s"
    ),
    "account.two_factor_failed": _l("Wrong second-factor code for user %(subject_id)s"),
    "account.recovery_codes_replaced": _l("%(actor)s replaced the two-factor recovery codes"),
    "security.two_factor_required": _l(
        "%(actor)s made two-factor login required for HR and administrator accounts"
    ),
    "security.two_factor_optional": _l(
        "%(actor)s made two-factor login optional for HR and administrator accounts"
    ),
    "quiz.graded": _l("Quiz attempt graded: %(score)s/%(max_score)s, %(result)s"),
    "quiz.regraded": _l("Quiz attempt regraded: %(score)s/%(max_score)s, %(result)s"),
    "quiz.essay_graded": _l("Essay answer graded: %(awarded)s points (before: %(previous)s)"),
    "quiz.deleted": _l(
        "Quiz %(title)s deleted from course %(course_code)s (%(questions)s questions)"
    ),
    "task.scored": _l("Score sheet saved: %(before)s → %(after)s"),
    "task.moderated": _l("Moderated score: %(before)s → %(after)s (%(reason)s)"),
    "task.released": _l("Task score released: %(final_score)s"),
    "certificate.issued": _l("Certificate %(serial)s issued (%(hours)s hours)"),
    "certificate.revoked": _l("Certificate %(serial)s revoked: %(reason)s"),
    "certificate.superseded": _l("Certificate %(serial)s replaced by %(superseded_by)s"),
    "promotion.applied": _l("Promotion application submitted"),
    "promotion.resubmitted": _l("Promotion application resubmitted (revision %(revision)s)"),
    "promotion.withdrawn": _l("Promotion application withdrawn"),
    "promotion.department_approved": _l("%(step_label)s: %(outcome_label)s"),
    "promotion.approved": _l("%(step_label)s: %(outcome_label)s"),
    "promotion.returned": _l("%(step_label)s: %(outcome_label)s"),
    "promotion.rejected": _l("%(step_label)s: %(outcome_label)s"),
    "external_training.entered": _l("External training entered by HR: %(hours)s hours"),
    "external_training.approved": _l("External training approved: %(hours)s hours"),
    "external_training.rejected": _l("External training rejected: %(reason)s"),
    "job.run_now": _l("%(actor)s ran job %(job_id)s by hand: %(run_outcome)s"),
    "job.pause": _l("%(actor)s paused job %(job_id)s"),
    "job.resume": _l("%(actor)s resumed job %(job_id)s"),
}

labels.register("audit_login_method", LOGIN_METHOD)
labels.register("audit_review_step", REVIEW_STEP)
labels.register("audit_review_outcome", REVIEW_OUTCOME)


class _Values(dict):
    """Format arguments that compute a ``_DERIVED`` value when a template uses its name."""

    def __init__(self, data: dict, **extra):
        super().__init__({key: "—" if value is None else value for key, value in data.items()})
        self.update(extra)
        self.data = data

    def __missing__(self, name: str):
        derive = _DERIVED.get(name)
        if derive is None:
            raise KeyError(name)
        return derive(self.data)


def describe(entry, actor_username: Optional[str]) -> str:
    """Return the entry's summary in the current locale, or the stored one."""
    template = TEMPLATES.get(entry.action)
    if template is None or not isinstance(entry.data, dict):
        return entry.summary
    values = _Values(entry.data, actor=actor_username or "—", subject_id=entry.subject_id)
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return entry.summary
