"""Only a programme's author and administrators change, publish and archive it.

A trainer of the institution who did not create the programme reads its
authoring page but gets 403 on every change. An administrator changes the
author.
"""

import pytest
import sqlalchemy as sa

from courses.models import Programme, PublicationStatus
from lms import audit
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.organisations.models import Institution
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("english")

PROGRAMME_FORM = {
    "code": "p-draft",
    "title": "改名项目",
    "tier": "school",
    "kind": "pre_job",
    "level": "junior",
    "min_elective_hours": "0",
}


@pytest.fixture
def outsider(world) -> str:
    """Add ``trainer2``, a trainer of institution A who authors no programme."""
    institution = db.session.get(Institution, world.uni_a)
    make_user(institution, "trainer2", Role.TRAINER, full_name="王培训师")
    db.session.commit()
    return "trainer2"


def _programme(programme_id: int) -> Programme:
    db.session.expire_all()
    return db.session.get(Programme, programme_id)


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


def _writes(world) -> list[tuple[str, dict]]:
    """Every change to the draft programme, with a form that would succeed."""
    base = f"/manage/programmes/{world.draft}"
    link = _programme(world.draft).courses[0].id
    return [
        (base, PROGRAMME_FORM),
        (f"{base}/courses", {"course_id": str(world.course2), "required": "1"}),
        (f"{base}/courses/{link}/move", {"direction": "down"}),
        (f"{base}/courses/{link}/required", {"required": "0"}),
        (f"{base}/courses/{link}/prerequisites", {}),
        (f"{base}/courses/{link}/remove", {}),
        (f"{base}/publish", {}),
        (f"{base}/archive", {}),
    ]


def test_other_trainer_cannot_change_programme(world, outsider, login):
    session = login(outsider)
    writes = _writes(world)

    statuses = {url: session.post(url, data=data).status_code for url, data in writes}

    assert statuses == {url: 403 for url, _data in writes}
    programme = _programme(world.draft)
    assert programme.title == "未发布项目"
    assert programme.status is PublicationStatus.DRAFT
    assert [link.course_id for link in programme.courses] == [world.draft_course]


def test_other_trainer_reads_programme_page(world, outsider, login):
    page = login(outsider).get(f"/manage/programmes/{world.draft}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Only the author of this programme and administrators can change" in text
    assert "赵培训师" in text
    assert "Save programme" not in text
    assert '<fieldset class="plain" disabled>' in text
    assert f"/manage/programmes/{world.draft}/publish" not in text
    assert f"/manage/programmes/{world.draft}/courses" not in text


@pytest.mark.parametrize("username", ["trainer", "admin"])
def test_author_and_admin_change_programme(world, login, username):
    session = login(username)
    page = session.get(f"/manage/programmes/{world.draft}").get_data(as_text=True)

    saved = session.post(f"/manage/programmes/{world.draft}", data=PROGRAMME_FORM)
    added = session.post(
        f"/manage/programmes/{world.draft}/courses",
        data={"course_id": str(world.course2), "required": "1"},
    )

    assert "Save programme" in page
    assert '<fieldset class="plain">' in page
    assert saved.status_code == 302
    assert added.status_code == 302
    programme = _programme(world.draft)
    assert programme.title == "改名项目"
    assert [link.course_id for link in programme.courses] == [
        world.draft_course,
        world.course2,
    ]


def test_creator_becomes_author(world, outsider, login):
    session = login(outsider)

    created = session.post(
        "/manage/programmes/new", data={**PROGRAMME_FORM, "code": "p-new"}
    )
    programme_id = int(created.headers["Location"].rsplit("/", 1)[1])
    published_by_other = login("trainer").post(
        f"/manage/programmes/{programme_id}/publish"
    )

    assert created.status_code == 302
    assert _programme(programme_id).author_id == _user(outsider).id
    assert published_by_other.status_code == 403
    entry = db.session.scalars(
        sa.select(audit.AuditEntry).filter_by(action="programme.created")
    ).one()
    assert entry.subject_id == programme_id
    assert entry.actor_id == _user(outsider).id


def test_copier_authors_copy(world, outsider, login):
    copied = login(outsider).post(
        f"/manage/programmes/{world.programme}/copy", data={"code": "p1-copy"}
    )

    assert copied.status_code == 302
    copy = db.session.scalar(sa.select(Programme).filter_by(code="p1-copy"))
    assert copy.author_id == _user(outsider).id


def test_admin_changes_programme_author(world, outsider, login):
    changed = login("admin").post(
        f"/manage/programmes/{world.draft}/author", data={"author_username": outsider}
    )
    saved = login(outsider).post(f"/manage/programmes/{world.draft}", data=PROGRAMME_FORM)
    previous = login("trainer").post(f"/manage/programmes/{world.draft}/publish")

    assert changed.status_code == 302
    assert saved.status_code == 302
    assert previous.status_code == 403
    assert _programme(world.draft).author_id == _user(outsider).id
    entry = db.session.scalars(
        sa.select(audit.AuditEntry).filter_by(action="programme.author_changed")
    ).one()
    assert entry.data["previous_author_id"] == _user("trainer").id
    assert entry.data["author_id"] == _user(outsider).id


def test_trainer_cannot_change_programme_author(world, outsider, login):
    forbidden = login("trainer").post(
        f"/manage/programmes/{world.draft}/author", data={"author_username": outsider}
    )

    assert forbidden.status_code == 403
    assert _programme(world.draft).author_id == _user("trainer").id


def test_programme_author_rejects_learner(world, login):
    rejected = login("admin").post(
        f"/manage/programmes/{world.draft}/author",
        data={"author_username": "counselor1"},
    )

    assert rejected.status_code == 400
    assert "cannot author a programme" in rejected.get_data(as_text=True)
    assert _programme(world.draft).author_id == _user("trainer").id


def test_unowned_programme_admin_only(world, outsider, login):
    programme = _programme(world.draft)
    programme.author_id = None
    db.session.commit()

    forbidden = login("trainer").post(f"/manage/programmes/{world.draft}", data=PROGRAMME_FORM)
    page = login("admin").get(f"/manage/programmes/{world.draft}")
    saved = login("admin").post(f"/manage/programmes/{world.draft}", data=PROGRAMME_FORM)

    assert forbidden.status_code == 403
    assert "has no author, so only administrators change it" in page.get_data(as_text=True)
    assert saved.status_code == 302


def test_index_hides_others_status_buttons(world, outsider, login):
    other_page = login(outsider).get("/manage/programmes").get_data(as_text=True)
    author_page = login("trainer").get("/manage/programmes").get_data(as_text=True)

    assert f"/manage/programmes/{world.draft}/publish" not in other_page
    assert f"/manage/programmes/{world.draft}/publish" in author_page
