"""A rule form with a lowest grade but no checked years names the years field."""

from lms.extensions import db
from lms.promotion import engine
from tests.promotion.test_workflow import _rule_data


def test_new_rule_grade_without_years(world, frozen, login, english):
    """A lowest grade without the years it covers is an error on that field, not on the code."""
    db.session.commit()
    hr = login("hr")
    data = _rule_data(
        code="rank-clerk-deputy",
        to_step="administrative_rank:section_deputy",
        min_grade="competent",
    )

    response = hr.post("/promotions/rules/new", data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Set how many years the lowest grade applies to." in page
    assert "is already used by another rule" not in page
    assert engine.rules_of(world.uni.id, active_only=False) == []


def test_edited_rule_grade_without_years(world, frozen, login, english):
    """Editing a rule so that its grade has no years does not call its own code taken."""
    db.session.commit()
    hr = login("hr")
    data = _rule_data(
        code="rank-clerk-deputy",
        to_step="administrative_rank:section_deputy",
        assessment_years="3",
        min_grade="competent",
    )
    assert hr.post("/promotions/rules/new", data).status_code == 302
    [rule] = engine.rules_of(world.uni.id, active_only=False)

    response = hr.post(
        f"/promotions/rules/{rule.id}",
        dict(data, assessment_years="", lock_version=str(rule.lock_version)),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Set how many years the lowest grade applies to." in page
    assert "rank-clerk-deputy is already used" not in page
