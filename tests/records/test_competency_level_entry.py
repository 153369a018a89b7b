"""HR records a person's competency level, which the promotion rules read."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db
from lms.promotion import engine
from lms.promotion.models import PromotionTrack
from tests.records.test_bulk_records import _confirm, _upload
from tests.records.test_hr_events import _english, _entries


def _level_form(**overrides) -> dict:
    form = {
        "kind": "competency_level",
        "occurred_on": "2025-09-01",
        "competency_level": "intermediate",
        "note": "学校辅导员能力等级认定",
    }
    form.update(overrides)
    return form


def _person(world) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.id == world.counselor))


def test_hr_records_competency_level(world, login):
    """A recorded level is on the record and is the person's level for promotions."""
    hr = _english(login("hr"))

    response = hr.post(f"/people/{world.counselor}/record/entries", data=_level_form())

    assert response.status_code == 302
    [entry] = _entries(world.counselor)
    assert entry.detail["level"] == "intermediate"
    assert entry.title == "能力等级：中级"
    position = engine.positions(_person(world))[PromotionTrack.COMPETENCY_LEVEL]
    assert position.value == "intermediate"
    page = hr.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    assert "Competency level: Intermediate" in page


def test_competency_level_required(world, login):
    """The level kind without a level names the missing field."""
    hr = _english(login("hr"))

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data=_level_form(competency_level=""),
    )

    assert response.status_code == 400
    assert "Competency level: Required for this kind of event." in response.get_data(
        as_text=True
    )
    assert _entries(world.counselor) == []


def test_competency_level_corrected(world, login):
    """A mistyped level is corrected by a new entry that replaces it."""
    hr = login("hr")
    url = f"/people/{world.counselor}/record/entries"
    hr.post(url, data=_level_form(competency_level="senior"))
    [wrong] = _entries(world.counselor)

    response = hr.post(url, data=_level_form(corrects=str(wrong.id)))

    assert response.status_code == 302
    position = engine.positions(_person(world))[PromotionTrack.COMPETENCY_LEVEL]
    assert position.value == "intermediate"


def test_upload_records_competency_level(world, login):
    """A records upload takes 能力等级 rows, here from a GBK file."""
    hr = login("hr")
    employee_no = _person(world).employee_no or _person(world).username
    content = f"工号,类型,日期,结果\n{employee_no},能力等级,2025-09-01,中级\n"

    response = _upload(hr, content.encode("gbk"))
    assert response.status_code == 200
    assert _confirm(hr, response.get_data(as_text=True)).status_code == 302

    [entry] = _entries(world.counselor)
    assert entry.title == "能力等级：中级"
    assert entry.detail["level"] == "intermediate"


def test_upload_names_unknown_competency_level(world, login):
    """An unknown level in an upload row names the result column and the levels."""
    hr = _english(login("hr"))
    employee_no = _person(world).employee_no or _person(world).username
    content = f"工号,类型,日期,结果\n{employee_no},能力等级,2025-09-01,特级\n"

    response = _upload(hr, content.encode("utf-8"))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Write one of 初级, 中级 or 高级." in page
    assert _entries(world.counselor) == []
