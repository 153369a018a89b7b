"""The administrative-rank track follows a rank that HR changes on the profile form."""

import io
from datetime import date

from pypdf import PdfReader

from lms.extensions import db
from lms.promotion import engine
from lms.promotion.models import PromotionTrack
from lms.records import events
from lms.records.models import ProgressionKind
from tests.promotion.conftest import make_rule

RANK = dict(track=PromotionTrack.ADMINISTRATIVE_RANK)


def _clerk_on_record(world) -> None:
    """Record the counselor as a clerk since 2021, and add the first two rank rules."""
    events.record_event(
        world.counselor,
        world.hr,
        ProgressionKind.RANK_CHANGE,
        date(2021, 7, 1),
        {"rank": "clerk"},
    )
    make_rule(
        world.uni.id, code="clerk-deputy", from_value="clerk",
        to_value="section_deputy", **RANK,
    )
    make_rule(
        world.uni.id, code="deputy-chief", from_value="section_deputy",
        to_value="section_chief", **RANK,
    )
    db.session.commit()


def _profile_form(**values) -> dict:
    form = {
        "party_status": "none",
        "cadre_rank": "",
        "full_time": "",
        "post_started_on": "",
        "probation_started_on": "",
        "full_member_on": "",
        "rank_since": "",
    }
    form.update(values)
    return form


def test_profile_rank_sets_rank_track(world, frozen, login, english):
    """A rank set on the profile replaces the recorded one on the promotion page."""
    _clerk_on_record(world)

    response = login("hr").post(
        f"/people/{world.counselor.id}/profile",
        _profile_form(cadre_rank="section_deputy", rank_since="2026-03-01"),
    )
    assert response.status_code == 302

    db.session.expire_all()
    position = engine.positions(world.counselor)[PromotionTrack.ADMINISTRATIVE_RANK]
    assert position.value == "section_deputy"
    assert position.since == date(2026, 3, 1)
    page = login("counselor1").get("/promotions").get_data(as_text=True)
    assert "Deputy section level · since" in page
    assert "Clerk → Deputy section level" not in page
    assert "Deputy section level → Section level" in page


def test_profile_rank_date_sets_years(world, frozen, login, english):
    """A rank date corrected on the profile counts the years in the rank."""
    _clerk_on_record(world)

    response = login("hr").post(
        f"/people/{world.counselor.id}/profile",
        _profile_form(cadre_rank="clerk", rank_since="2019-07-01"),
    )
    assert response.status_code == 302

    db.session.expire_all()
    position = engine.positions(world.counselor)[PromotionTrack.ADMINISTRATIVE_RANK]
    assert position.value == "clerk"
    assert position.since == date(2019, 7, 1)


def test_recorded_rank_without_profile_rank(world, frozen):
    """Without a rank on the profile, the rank on the record is used."""
    events.record_event(
        world.counselor,
        world.hr,
        ProgressionKind.RANK_CHANGE,
        date(2021, 7, 1),
        {"rank": "clerk"},
    )
    events.profile_of(world.counselor).cadre_rank = None
    db.session.commit()

    position = engine.positions(world.counselor)[PromotionTrack.ADMINISTRATIVE_RANK]
    assert position.value == "clerk"
    assert position.since == date(2021, 7, 1)


def test_dossier_shows_profile_rank(world, frozen, login, english):
    """The dossier names the rank and date set on the profile form."""
    _clerk_on_record(world)
    hr = login("hr")
    hr.post(
        f"/people/{world.counselor.id}/profile",
        _profile_form(cadre_rank="section_deputy", rank_since="2026-03-01"),
    )

    response = hr.get(f"/people/{world.counselor.id}/dossier.pdf")

    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Deputy section level · since 2026-03-01" in text
