"""A choice sent as spaces reads as no choice, never as a value outside the list."""

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db
from tests.records.test_hr_events import _english, _entries


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (
            {"kind": "honour", "honour_name": "优秀辅导员", "honour_level": "  ",
             "year": "2025"},
            "Honour level",
        ),
        ({"kind": "title_change", "professional_title": " "}, "Professional title"),
        ({"kind": "rank_change", "rank": "\t"}, "Administrative rank"),
        ({"kind": "appointment", "post": "  "}, "Post"),
    ],
)
def test_record_entry_blank_choice(world, login, form, field):
    """A required choice sent as spaces gets the field's message, not a server error."""
    hr = _english(login("hr"))

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data={"occurred_on": "2025-05-04", **form},
    )

    assert response.status_code == 400
    assert f"{field}: Required for this kind of event." in response.get_data(as_text=True)
    assert _entries(world.counselor) == []


@pytest.mark.parametrize("field", ["post", "gender", "full_time"])
def test_profile_blank_choice_keeps_value(world, login, field):
    """Spaces in a profile choice leave the stored value as it was."""
    person = db.session.get(User, world.counselor)
    before = (person.post, person.gender)
    form = {
        "party_status": "none",
        "cadre_rank": "",
        "full_time": "",
        "post": person.post.value,
        "post_started_on": "",
        "probation_started_on": "",
        "full_member_on": "",
        "rank_since": "",
        "gender": "",
    }
    form[field] = "  "

    response = login("hr").post(f"/people/{world.counselor}/profile", data=form)

    assert response.status_code in (302, 400)
    db.session.expire_all()
    person = db.session.scalar(sa.select(User).where(User.id == world.counselor))
    assert (person.post, person.gender) == before
