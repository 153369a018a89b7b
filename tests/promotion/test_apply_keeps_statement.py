"""A refused application gives the typed statement back to the applicant."""

from datetime import date

from lms.extensions import db
from lms.promotion.models import PromotionApplication
from tests.conftest import count
from tests.promotion.conftest import make_rule, set_title


def test_refused_application_shows_statement(world, frozen, login, english):
    """A statement sent after the person stopped meeting the rule is shown again."""
    set_title(world.counselor, "lecturer", date(2026, 9, 1))
    rule = make_rule(world.uni.id, min_years=5)
    db.session.commit()
    statement = "主持校级课题一项，指导学生获省级奖项三次。"

    response = login("counselor1").post(
        f"/promotions/apply/{rule.id}", {"statement": statement}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert statement in page
    assert "Your statement was not sent." in page
    assert count(PromotionApplication) == 0
