"""Groups of notification kinds that users turn e-mail copies on or off for.

In-app notifications are always kept, so a preference decides only whether
an e-mail copy is sent.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from lms.accounts.models import Role, User
from lms.notifications import services
from lms.notifications.deadlines import registered_sources
from lms.notifications.tasks import EXPIRED_KIND, EXPIRY_STAGES


@dataclass(frozen=True)
class KindGroup:
    """Kinds that share one e-mail switch on the settings page."""

    key: str
    label: object
    kinds: tuple[str, ...]
    #: Roles that receive these notifications; empty means every role.
    roles: tuple[Role, ...] = ()


def kind_groups() -> list[KindGroup]:
    """Return every group of notification kinds, in the order the settings page shows."""
    from lms.compliance import tasks as compliance_tasks

    groups = [
        KindGroup(
            "certificate_expiry",
            _l("Certificate expiry reminders"),
            tuple(kind for _days, kind in EXPIRY_STAGES) + (EXPIRED_KIND,),
        ),
        KindGroup(
            "compliance",
            _l("Training requirement reminders"),
            (compliance_tasks.MONTHLY_KIND, compliance_tasks.YEARLY_KIND),
            (Role.COUNSELOR, Role.PARTY_WORKER),
        ),
        KindGroup(
            "compliance_hr_summary",
            _l("Compliance summaries for HR"),
            (compliance_tasks.HR_SUMMARY_KIND,),
            (Role.HR,),
        ),
        KindGroup(
            "reviews_due",
            _l("Applications and outside trainings waiting for your review"),
            ("promotion_review_due", "external_training_review_due"),
            (Role.HR, Role.ADMIN),
        ),
    ]
    for source in registered_sources():
        groups.append(KindGroup(source.kind, source.label, (source.kind,)))
    return groups


def groups_for(user: User) -> list[KindGroup]:
    """Return the groups that concern ``user``'s role."""
    return [group for group in kind_groups() if not group.roles or user.role in group.roles]


def group_enabled(user: User, group: KindGroup) -> bool:
    """Return whether e-mail is on for the group (on unless every kind is off)."""
    return any(services.email_enabled(user, kind) for kind in group.kinds)


def set_group(user: User, group: KindGroup, enabled: bool) -> None:
    """Turn e-mail copies of every kind in ``group`` on or off for ``user``."""
    for kind in group.kinds:
        services.set_email_preference(user, kind, enabled)
