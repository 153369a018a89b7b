"""Framework pages through the test client with real logins."""

import pytest
import sqlalchemy as sa

from lms.competencies.models import (
    AreaMapping,
    CompetencyItem,
    Framework,
    FrameworkStatus,
    MappingRelation,
)
from lms.extensions import db
from tests.competencies.helpers import adopt, area, framework, make_draft, user
from tests.conftest import csrf_from


def _new_framework(trainer, **overrides):
    data = {"code": "new-fw", "title": "新框架", "version": "1"}
    data.update(overrides)
    return trainer.post("/frameworks/new", data=data)


def test_trainer_builds_and_publishes_framework(app, seeded, login):
    trainer = login("trainer")

    response = _new_framework(trainer)
    assert response.status_code == 302
    with app.app_context():
        fw_id = framework("new-fw").id
    base = f"/frameworks/{fw_id}"
    assert trainer.post(f"{base}/levels/new", data={"code": "junior", "name": "初级", "position": "1", "min_years": "1", "max_years": ""}).status_code == 302
    assert trainer.post(f"{base}/areas/new", data={"code": "mental", "name": "心理健康", "position": "1"}).status_code == 302
    with app.app_context():
        fw = framework("new-fw")
        level_id, area_id = fw.levels[0].id, fw.areas[0].id
    response = trainer.post(
        f"{base}/items/new",
        data={"level_id": level_id, "area_id": area_id, "code": "1.1", "summary": "识别心理危机", "work_content": "一\r\n\r\n二 "},
    )
    assert response.status_code == 302
    assert trainer.post(f"{base}/publish").status_code == 302

    with app.app_context():
        fw = framework("new-fw")
        assert fw.status is FrameworkStatus.PUBLISHED
        assert fw.published_at is not None
        assert fw.items[0].work_content == "一\n二"
    page = login("counselor1").get(base)
    assert page.status_code == 200
    assert "识别心理危机" in page.get_data(as_text=True)


def test_trainer_edits_draft_item(app, seeded, login):
    with app.app_context():
        draft = make_draft(user("trainer"))
        db.session.commit()
        item = draft.items[0]
        url = f"/frameworks/{draft.id}/items/{item.id}"
        data = {"level_id": item.level_id, "area_id": item.area_id, "code": item.code, "summary": "改过的概述"}
    trainer = login("trainer")

    assert trainer.get(url).status_code == 200
    assert trainer.post(url, data=data).status_code == 302
    with app.app_context():
        assert db.session.get(CompetencyItem, item.id).summary == "改过的概述"


@pytest.mark.parametrize("username", ["counselor1", "hr"])
def test_other_roles_cannot_edit(app, seeded, login, username):
    session = login(username)
    with app.app_context():
        fw_id = framework("counselor-2014").id

    assert session.get("/frameworks/new").status_code == 403
    assert _new_framework(session).status_code == 403
    assert session.post(f"/frameworks/{fw_id}/retire").status_code == 403
    assert session.get(f"/frameworks/{fw_id}/mappings").status_code == 403
    assert session.get("/frameworks/import").status_code == 403
    with app.app_context():
        assert framework("new-fw") is None
        assert framework("counselor-2014").status is FrameworkStatus.PUBLISHED


def test_draft_hidden_from_counselor(app, seeded, login):
    with app.app_context():
        draft_id = make_draft(user("trainer")).id
        db.session.commit()
    counselor = login("counselor1")

    assert counselor.get(f"/frameworks/{draft_id}").status_code == 404
    assert counselor.get(f"/frameworks/{draft_id}/export.csv").status_code == 404
    assert "演示框架" not in counselor.get("/frameworks").get_data(as_text=True)
    assert "演示框架" in login("trainer").get("/frameworks").get_data(as_text=True)


def test_missing_title_names_field(app, seeded, login):
    response = _new_framework(login("trainer"), title="")

    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True) or "必填" in response.get_data(as_text=True)
    with app.app_context():
        assert framework("new-fw") is None


def test_duplicate_code_rejected(app, seeded, login):
    response = _new_framework(login("trainer"), code="counselor-2014")

    assert response.status_code == 400
    assert "counselor-2014" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Framework)) == 2


def test_bad_code_characters_rejected(app, seeded, login):
    response = _new_framework(login("trainer"), code="有 空格")

    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Framework)) == 2


def test_duplicate_cell_rejected(app, seeded, login):
    with app.app_context():
        draft = make_draft(user("trainer"))
        db.session.commit()
        item = draft.items[0]
        url = f"/frameworks/{draft.id}/items/new"
        data = {"level_id": item.level_id, "area_id": item.area_id, "code": "9.9", "summary": "重复"}

    response = login("trainer").post(url, data=data)

    assert response.status_code == 400
    assert item.code in response.get_data(as_text=True)


def test_years_order_checked(app, seeded, login):
    with app.app_context():
        draft_id = make_draft(user("trainer")).id
        db.session.commit()

    response = login("trainer").post(
        f"/frameworks/{draft_id}/levels/new",
        data={"code": "mid", "name": "中级", "position": "3", "min_years": "8", "max_years": "4"},
    )

    assert response.status_code == 400


def test_published_framework_not_editable(app, seeded, login):
    with app.app_context():
        fw = adopt("counselor-2014")
        fw_id, item = fw.id, fw.items[0]
        data = {"level_id": item.level_id, "area_id": item.area_id, "code": item.code, "summary": "不应保存"}
        item_id, summary = item.id, item.summary

    response = login("trainer").post(f"/frameworks/{fw_id}/items/{item_id}", data=data)

    assert response.status_code == 400
    assert "new version" in response.get_data(as_text=True).lower() or "新版本" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CompetencyItem, item_id).summary == summary


def test_publish_empty_draft_rejected(app, seeded, login):
    trainer = login("trainer")
    _new_framework(trainer)
    with app.app_context():
        fw_id = framework("new-fw").id

    response = trainer.post(f"/frameworks/{fw_id}/publish", follow_redirects=True)

    assert response.status_code == 200
    with app.app_context():
        assert framework("new-fw").status is FrameworkStatus.DRAFT


def test_delete_draft(app, seeded, login):
    with app.app_context():
        draft_id = make_draft(user("trainer")).id
        db.session.commit()

    response = login("trainer").post(f"/frameworks/{draft_id}/delete")

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Framework, draft_id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CompetencyItem)) == 36


def test_new_version_through_view(app, seeded, login):
    with app.app_context():
        fw_id = adopt("counselor-2014").id
    trainer = login("trainer")

    form = trainer.get(f"/frameworks/{fw_id}/new-version")
    response = trainer.post(f"/frameworks/{fw_id}/new-version", data={"version": "2026 修订"})

    assert 'value="2"' in form.get_data(as_text=True)
    assert response.status_code == 302
    with app.app_context():
        copy = framework("counselor-2014", 2)
        assert copy.version == "2026 修订"
        assert copy.status is FrameworkStatus.DRAFT
        assert copy.predecessor_id == fw_id
        assert copy.institution_id == user("trainer").institution_id


def test_add_mapping_through_view(app, seeded, login):
    with app.app_context():
        draft = make_draft(user("trainer"))
        db.session.commit()
        draft_id, source_id = draft.id, draft.areas[0].id
        target_id = area("counselor-duties-2017", "mental_health").id
    trainer = login("trainer")

    page = trainer.get(f"/frameworks/{draft_id}/mappings")
    response = trainer.post(
        f"/frameworks/{draft_id}/mappings",
        data={"source_area_id": source_id, "target_area_id": target_id, "relation": "close_match", "note": "范围相近"},
    )
    again = trainer.post(
        f"/frameworks/{draft_id}/mappings",
        data={"source_area_id": source_id, "target_area_id": target_id, "relation": "related"},
    )

    assert "<optgroup" in page.get_data(as_text=True)
    assert response.status_code == 302
    assert again.status_code == 400
    with app.app_context():
        mapping = db.session.scalar(sa.select(AreaMapping).filter_by(source_area_id=source_id))
        assert mapping.relation is MappingRelation.CLOSE_MATCH
        assert mapping.note == "范围相近"


def test_mapping_within_framework_rejected(app, seeded, login):
    with app.app_context():
        draft = make_draft(user("trainer"))
        db.session.commit()
        draft_id = draft.id
        source_id, target_id = draft.areas[0].id, draft.areas[1].id

    response = login("trainer").post(
        f"/frameworks/{draft_id}/mappings",
        data={"source_area_id": source_id, "target_area_id": target_id, "relation": "related"},
    )

    assert response.status_code == 400


def test_delete_mapping(app, seeded, login):
    with app.app_context():
        fw = adopt("counselor-2014")
        mapping = db.session.scalar(sa.select(AreaMapping).filter_by(source_area_id=fw.areas[0].id))
        url = f"/frameworks/{fw.id}/mappings/{mapping.id}/delete"
        mapping_id = mapping.id

    assert login("trainer").post(url).status_code == 302
    with app.app_context():
        assert db.session.get(AreaMapping, mapping_id) is None


def test_csrf_required_on_publish(app, seeded, login):
    with app.app_context():
        draft_id = make_draft(user("trainer")).id
        db.session.commit()
    trainer = login("trainer")

    response = trainer.client.post(f"/frameworks/{draft_id}/publish", data={})

    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Framework, draft_id).status is FrameworkStatus.DRAFT


def test_case_uri_resolves_item(app, seeded, login):
    with app.app_context():
        fw = framework("counselor-2014")
        identifier, fw_id = fw.items[3].identifier, fw.id

    response = login("counselor1").get(f"/frameworks/uri/{identifier}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/frameworks/{fw_id}")
    assert login("counselor1").get("/frameworks/uri/not-a-uuid").status_code == 404


def test_nav_link_for_trainer_only(app, seeded, login):
    assert 'href="/frameworks"' in login("trainer").get("/frameworks").get_data(as_text=True)
    assert 'href="/frameworks"' not in login("counselor1").get("/frameworks").get_data(as_text=True)


def test_admin_creates_framework(app, seeded, login):
    response = _new_framework(login("admin"), code="admin-fw")

    assert response.status_code == 302
    with app.app_context():
        assert framework("admin-fw").status is FrameworkStatus.DRAFT


def test_trainer_edits_and_deletes_level(app, seeded, login):
    with app.app_context():
        draft = make_draft(user("trainer"))
        db.session.commit()
        draft_id = draft.id
        level_id = draft.levels[1].id
    trainer = login("trainer")
    url = f"/frameworks/{draft_id}/levels/{level_id}"

    edited = trainer.post(
        url, data={"code": "senior", "name": "高级辅导员", "position": "2"}
    )
    deleted = trainer.post(f"{url}/delete")

    assert edited.status_code == 302
    assert deleted.status_code == 302
    with app.app_context():
        fw = db.session.get(Framework, draft_id)
        assert [level.code for level in fw.levels] == ["junior"]
        assert sorted(item.code for item in fw.items) == ["1.1", "1.2"]


def test_trainer_edits_framework_details(app, seeded, login):
    with app.app_context():
        draft_id = make_draft(user("trainer")).id
        db.session.commit()

    response = login("trainer").post(
        f"/frameworks/{draft_id}/edit",
        data={"code": "demo-fw", "title": "改名的框架", "version": "1", "year": "2025"},
    )

    assert response.status_code == 302
    with app.app_context():
        fw = db.session.get(Framework, draft_id)
        assert fw.title == "改名的框架"
        assert fw.year == 2025


def test_level_years_punctuation_in_chinese(app, seeded, login):
    with app.app_context():
        draft = make_draft(user("trainer"))
        db.session.commit()
        url = f"/frameworks/{draft.id}"

    page = login("trainer").get(url).get_data(as_text=True)

    assert "（junior；工作年限：1–3）" in page
    assert "（senior；工作年限：4–）" in page
    assert "(junior;" not in page
