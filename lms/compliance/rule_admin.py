"""Access checks for compliance rules, and the changes that editors make.

National rules (no institution) are read by every institution and changed
by no one through the app. An institution adapts a national rule by storing
its own copy with the same code: ``engine.rules_for`` and the population
report then use the copy in that institution and the national rule
everywhere else. An institution's rules are never deleted. A retired rule
stops applying but stays, with its snapshots and audit entries. Retiring an
adaptation puts the national rule back in force for the institution.

Admins and HR officers with the whole institution in scope change their
institution's rules. Department HR reads them only, as with promotion rules.
"""

import enum
from datetime import date
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.accounts.access import hr_scope
from lms.accounts.models import Role, User
from lms.audit import record
from lms.compliance.models import ComplianceRule
from lms.extensions import db

#: Roles that read the rules page.
READER_ROLES = (Role.HR, Role.ADMIN)

#: Columns that the editor sets and the audit log records, in form order.
EDITABLE_FIELDS = (
    "name",
    "source",
    "verified",
    "roles",
    "posts",
    "full_time_only",
    "party_member_only",
    "party_committee_only",
    "cadre_ranks",
    "new_to_post",
    "new_to_post_months",
    "window_kind",
    "skip_post_start_year",
    "window_years",
    "window_months",
    "min_hours",
    "min_count",
    "min_days",
    "hours_per_day",
    "tiers",
    "kinds",
    "excluded_kinds",
    "at_risk_days",
    "in_force_from",
)


class RuleChangeError(ValueError):
    """A change that the rule's state forbids, with a message for the user."""


class CodeTaken(RuleChangeError):
    """Another request stored a rule of the institution with the same code first."""


def _insert(rule: ComplianceRule) -> None:
    """Add a new rule, or raise CodeTaken when the institution's code is taken.

    The forms check the code before saving, but a form sent twice at once
    passes that check twice, and the unique key rejects the later insert.
    """
    try:
        with db.session.begin_nested():
            db.session.add(rule)
    except IntegrityError:
        raise CodeTaken(rule.code) from None


def may_manage_rules(user: User) -> bool:
    """Return whether ``user`` may create, edit, adapt and retire their institution's rules."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.HR and hr_scope(user) is None


def may_edit(user: User, rule: ComplianceRule) -> bool:
    """Return whether ``user`` may change ``rule``: their own institution's only."""
    return (
        may_manage_rules(user)
        and rule.institution_id is not None
        and rule.institution_id == user.institution_id
    )


def visible_to(user: User) -> sa.ColumnElement[bool]:
    """Return the filter of rules that ``user`` may see: national and their institution's."""
    return sa.or_(
        ComplianceRule.institution_id.is_(None),
        ComplianceRule.institution_id == user.institution_id,
    )


def find_visible(user: User, rule_id: int) -> Optional[ComplianceRule]:
    """Return the rule if ``user`` may see it, else None, so a view returns 404 for a missing id and for a foreign one alike."""
    rule = db.session.get(ComplianceRule, rule_id)
    if rule is None or rule.institution_id not in (None, user.institution_id):
        return None
    return rule


def rules_page(user: User) -> list[ComplianceRule]:
    """Return the national rules and the user's institution's rules, retired ones too.

    Sorted by code, with the institution's rule before the national rule it
    adapts, and active rules before retired ones.
    """
    return list(
        db.session.scalars(
            sa.select(ComplianceRule)
            .where(visible_to(user))
            .order_by(
                ComplianceRule.code,
                ComplianceRule.institution_id.is_(None),
                ComplianceRule.active.desc(),
                ComplianceRule.id,
            )
        )
    )


def national_codes() -> set[str]:
    return set(
        db.session.scalars(
            sa.select(ComplianceRule.code).where(ComplianceRule.institution_id.is_(None))
        )
    )


def own_rule_with_code(institution_id: int, code: str) -> Optional[ComplianceRule]:
    return db.session.scalar(
        sa.select(ComplianceRule).where(
            ComplianceRule.institution_id == institution_id,
            ComplianceRule.code == code,
        )
    )


def _stored(value):
    """Return a column value as JSON stores it in the audit log."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def rule_values(rule: ComplianceRule) -> dict:
    return {name: _stored(getattr(rule, name)) for name in EDITABLE_FIELDS}


def _apply(rule: ComplianceRule, values: dict) -> None:
    for name in EDITABLE_FIELDS:
        setattr(rule, name, values[name])


def _summary(rule: ComplianceRule) -> str:
    return f"{rule.code}: {rule.name}"


def create_rule(
    institution_id: int, code: str, values: dict, actor: User
) -> ComplianceRule:
    """Add a rule of the institution from checked form values; flush only."""
    rule = ComplianceRule(institution_id=institution_id, code=code, active=True)
    _apply(rule, values)
    _insert(rule)
    record(
        "compliance_rule.created",
        "compliance_rule",
        rule.id,
        _summary(rule),
        actor_id=actor.id,
        institution_id=rule.institution_id,
        data={"code": code, **rule_values(rule)},
    )
    return rule


def adapt_rule(
    national: ComplianceRule, institution_id: int, values: dict, actor: User
) -> ComplianceRule:
    """Store the institution's copy of a national rule, which replaces it there; flush only."""
    if national.institution_id is not None:
        raise RuleChangeError("only a national rule can be adapted")
    rule = ComplianceRule(institution_id=institution_id, code=national.code, active=True)
    _apply(rule, values)
    _insert(rule)
    record(
        "compliance_rule.adapted",
        "compliance_rule",
        rule.id,
        _summary(rule),
        actor_id=actor.id,
        institution_id=rule.institution_id,
        data={"code": rule.code, "national_rule_id": national.id, **rule_values(rule)},
    )
    return rule


def update_rule(rule: ComplianceRule, values: dict, actor: User) -> list[str]:
    """Change an active rule of an institution; return the changed fields; flush only.

    Nothing is recorded when no value changed.
    """
    if rule.institution_id is None:
        raise RuleChangeError("national rules are read-only")
    before = rule_values(rule)
    _apply(rule, values)
    after = rule_values(rule)
    changed = [name for name in EDITABLE_FIELDS if before[name] != after[name]]
    if changed:
        db.session.flush()
        changes = {name: {"from": before[name], "to": after[name]} for name in changed}
        record(
            "compliance_rule.updated",
            "compliance_rule",
            rule.id,
            _summary(rule),
            actor_id=actor.id,
            institution_id=rule.institution_id,
            data={"changes": changes},
        )
    return changed


def retire_rule(rule: ComplianceRule, reason: str, actor: User) -> None:
    """Stop applying an institution's rule, keeping it for history; flush only."""
    if rule.institution_id is None:
        raise RuleChangeError("national rules are read-only")
    rule.active = False
    db.session.flush()
    record(
        "compliance_rule.retired",
        "compliance_rule",
        rule.id,
        _summary(rule),
        actor_id=actor.id,
        institution_id=rule.institution_id,
        data={"reason": reason},
    )


def restore_rule(rule: ComplianceRule, actor: User) -> None:
    """Apply a retired rule of an institution again; flush only."""
    if rule.institution_id is None:
        raise RuleChangeError("national rules are read-only")
    rule.active = True
    db.session.flush()
    record(
        "compliance_rule.restored",
        "compliance_rule",
        rule.id,
        _summary(rule),
        actor_id=actor.id,
        institution_id=rule.institution_id,
        data={},
    )
