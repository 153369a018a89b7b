"""Who may see and change a framework: national standards and institutions' own."""

import sqlalchemy as sa

from courses import authoring
from lms.accounts.models import Role, User
from lms.competencies import services
from lms.competencies.models import CompetencyItem, Framework, FrameworkStatus
from lms.extensions import db
from tests.competencies.helpers import framework, make_draft, user
from tests.factories import make_user


def _second_trainer() -> User:
    """Add a trainer to the demo's second institution, the one of ``hr2``."""
    other = make_user(user("hr2").institution, "trainer_b", Role.TRAINER)
    db.session.commit()
    return other


def _published_own(actor: User, code: str) -> Framework:
    draft = make_draft(actor, code)
    services.publish(draft, actor)
    db.session.commit()
    return draft


def test_national_standard_is_read_only(app, seeded, login):
    with app.app_context():
        national = framework("counselor-2014")
        national_id, item = national.id, national.items[0]
        item_url = f"/frameworks/{national_id}/items/{item.id}"
        summary = item.summary
    trainer = login("trainer")

    answers = [
        trainer.post(f"/frameworks/{national_id}/retire"),
        trainer.post(f"/frameworks/{national_id}/new-version", data={"version": "私改版"}),
        trainer.post(item_url, data={"summary": "不应保存"}),
        trainer.get(f"/frameworks/{national_id}/mappings"),
        login("admin").post(f"/frameworks/{national_id}/retire"),
    ]

    assert [answer.status_code for answer in answers] == [403] * 5
    with app.app_context():
        national = framework("counselor-2014")
        assert national.status is FrameworkStatus.PUBLISHED
        assert national.successor is None
        assert db.session.get(CompetencyItem, item.id).summary == summary


def test_national_page_explains_adapting(app, seeded, login, english):
    with app.app_context():
        national_id = framework("counselor-2014").id

    page = login("trainer").get(f"/frameworks/{national_id}").get_data(as_text=True)
    learner_page = login("counselor1").get(f"/frameworks/{national_id}").get_data(as_text=True)

    assert "shared by every institution" in page
    assert "Retire" not in page
    assert "New version" not in page
    assert "shared by every institution" not in learner_page


def test_new_framework_is_institutions(app, seeded, login):
    login("trainer").post(
        "/frameworks/new",
        data={"code": "own-fw", "title": "本校框架", "version": "1", "issuer": "示范大学"},
    )

    with app.app_context():
        assert framework("own-fw").institution_id == user("trainer").institution_id


def test_other_institution_gets_not_found(app, seeded, login):
    with app.app_context():
        _second_trainer()
        own = _published_own(user("trainer"), "own-fw")
        own_id = own.id
    other = login("trainer_b")

    index = other.get("/frameworks").get_data(as_text=True)
    answers = [
        other.get(f"/frameworks/{own_id}"),
        other.get(f"/frameworks/{own_id}/export.csv"),
        other.post(f"/frameworks/{own_id}/retire"),
        login("hr2").get(f"/frameworks/{own_id}"),
    ]

    assert "own-fw" not in index
    assert [answer.status_code for answer in answers] == [404] * 4
    assert login("counselor1").get(f"/frameworks/{own_id}").status_code == 200
    with app.app_context():
        assert framework("own-fw").status is FrameworkStatus.PUBLISHED


def test_owner_retires_its_framework(app, seeded, login):
    with app.app_context():
        own_id = _published_own(user("trainer"), "own-fw").id

    response = login("trainer").post(f"/frameworks/{own_id}/retire")

    assert response.status_code == 302
    with app.app_context():
        assert framework("own-fw").status is FrameworkStatus.RETIRED


def test_course_choices_exclude_foreign_items(app, seeded):
    with app.app_context():
        other = _second_trainer()
        theirs = _published_own(other, "their-fw")
        ours = _published_own(user("trainer"), "our-fw")
        institution_id = user("trainer").institution_id

        offered = {
            item.framework.code
            for _level, items in authoring.competency_choices(institution_id)
            for item in items
        }
        foreign = services.unassignable(theirs.items, [], institution_id)

        assert {"our-fw", "counselor-2014"} <= offered
        assert "their-fw" not in offered
        assert foreign == list(theirs.items)
        assert services.unassignable(ours.items, [], institution_id) == []


def test_course_form_rejects_foreign_item(app, seeded, login):
    with app.app_context():
        theirs = _published_own(_second_trainer(), "their-fw")
        item_id = theirs.items[0].id

    response = login("trainer").post(
        "/manage/courses/new",
        data={"code": "c-foreign", "title": "外校能力项", "credit_hours": "2",
              "competency_ids": [str(item_id)]},
    )

    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(CompetencyItem).filter_by(id=item_id)) is not None
        assert "c-foreign" not in db.session.scalars(sa.text("SELECT code FROM course")).all()


def test_national_notes_match_read_only(app, seeded, login):
    with app.app_context():
        national_id = framework("counselor-2014").id

    page = login("admin").get(f"/frameworks/{national_id}").get_data(as_text=True)
    edit = login("admin").get(f"/frameworks/{national_id}/edit")

    assert edit.status_code == 403
    assert "管理员可以修改" not in page
    assert "按标准对三个等级的划分录入" in page
    assert "以本院校的代码导入副本后修改" in page
