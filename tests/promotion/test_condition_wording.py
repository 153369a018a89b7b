"""Rule condition messages suit both the applicant and HR, who read the same text."""

from datetime import date

from lms.compliance.models import CadreRank, PersonProfile
from lms.extensions import db
from lms.promotion.models import PromotionTrack
from lms.stored_text import StoredText
from tests.promotion.conftest import make_rule, set_title


def _unknown_dates(world) -> None:
    """Give the counselor a title rule needing a level, and a rank without a date."""
    set_title(world.counselor, "lecturer", date(2020, 9, 1))
    make_rule(world.uni.id, required_level="intermediate")
    db.session.add(PersonProfile(user_id=world.counselor.id, cadre_rank=CadreRank.CLERK))
    make_rule(
        world.uni.id,
        code="clerk-deputy",
        track=PromotionTrack.ADMINISTRATIVE_RANK,
        from_value="clerk",
        to_value="section_deputy",
        min_years=3,
    )
    db.session.commit()


def test_hr_page_conditions_in_english(world, frozen, login, english):
    """HR reads the unmet conditions without "you" or "your"."""
    _unknown_dates(world)

    page = login("hr").get(f"/people/{world.counselor.id}/promotions")

    text = page.get_data(as_text=True)
    assert "no level is on the record" in text
    assert "The record has no date for Clerk" in text
    assert "your record" not in text


def test_hr_page_conditions_in_chinese(world, frozen, login):
    """The Chinese conditions on the HR page do not address the reader."""
    _unknown_dates(world)
    hr = login("hr")
    hr.post("/language/zh_CN")

    text = hr.get(f"/people/{world.counselor.id}/promotions").get_data(as_text=True)

    assert "档案中未记录能力等级" in text
    assert "档案中没有取得科员的日期" in text
    assert "您的档案" not in text
    assert "您任" not in text


def test_stored_old_wording_still_translated(app_ctx):
    """Conditions stored in earlier snapshots keep their Chinese text."""
    old = StoredText(
        {
            "msgid": "Competency level %(level)s or higher is required; "
            "no level is on your record",
            "params": {"level": "中级"},
        }
    )

    assert old.render("zh_CN") == "须达到中级及以上能力等级；您的档案中未记录能力等级"
