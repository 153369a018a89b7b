"""Edits of a promotion rule are audited with the values before and after."""

import sqlalchemy as sa

from lms.audit import AuditEntry
from lms.extensions import db
from lms.promotion import engine
from tests.promotion.test_workflow import _rule_data


def _updates() -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "promotion_rule.updated")
            .order_by(AuditEntry.id)
        )
    )


def _saved_rule(hr, world):
    data = _rule_data(
        code="rank-clerk-deputy",
        to_step="administrative_rank:section_deputy",
        assessment_years="3",
        min_grade="competent",
    )
    assert hr.post("/promotions/rules/new", data).status_code == 302
    [rule] = engine.rules_of(world.uni.id)
    return rule, data


def test_rule_edit_audits_changes(world, frozen, login):
    """Relaxing a rule keeps each changed value with its old value."""
    db.session.commit()
    hr = login("hr")
    rule, data = _saved_rule(hr, world)

    relaxed = dict(
        data,
        name="科员晋升副科级（放宽）",
        min_years="0",
        assessment_years="",
        min_grade="",
        lock_version=str(rule.lock_version),
    )
    assert hr.post(f"/promotions/rules/{rule.id}", relaxed).status_code == 302

    [row] = _updates()
    changes = row.data["changes"]
    assert changes["min_years"] == {"from": 3, "to": 0}
    assert changes["assessment_years"] == {"from": 3, "to": None}
    assert changes["min_grade"] == {"from": "competent", "to": None}
    assert changes["name"] == {"from": "科员晋升正科级", "to": "科员晋升副科级（放宽）"}
    assert "code" not in changes
    assert row.data["track"] == "administrative_rank"
    page = login("admin").get("/admin/audit").get_data(as_text=True)
    assert "rank-clerk-deputy: 科员晋升副科级（放宽）" in page


def test_unchanged_rule_save_not_audited(world, frozen, login, english):
    """Saving a rule without a change adds no audit row and flashes a notice."""
    db.session.commit()
    hr = login("hr")
    rule, data = _saved_rule(hr, world)

    response = hr.post(
        f"/promotions/rules/{rule.id}",
        dict(data, lock_version=str(rule.lock_version)),
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Nothing changed." in response.get_data(as_text=True)
    assert _updates() == []
