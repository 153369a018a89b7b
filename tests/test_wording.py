"""English wording: the brand, counts in the singular and list labels."""

import io

import pytest
import sqlalchemy as sa

from assessments.models import QuestionBank
from lms import audit
from lms.extensions import db
from lms.i18n import plural_count
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _english(session):
    session.post("/language/en")
    return session


def test_brand_in_english(world, login):
    page = _english(login("trainer")).get("/programmes").get_data(as_text=True)

    assert '<span class="brand-name">树人</span> Counselor Training</a>' in page


def test_brand_in_chinese(world, login):
    session = login("trainer")
    session.post("/language/zh_CN")

    page = session.get("/programmes").get_data(as_text=True)

    assert '<span class="brand-name">树人</span>辅导员培训</a>' in page


def test_aggregation_choices_in_english(world, login):
    page = _english(login("trainer")).get("/manage/tasks/new").get_data(as_text=True)

    assert ">Mean</option>" in page
    assert ">Median</option>" in page
    assert ">mean</option>" not in page


def test_import_preview_of_one_question(world, login):
    trainer = _english(login("trainer"))
    trainer.post("/manage/banks", data={"name": "思政题库"})
    bank = db.session.scalar(sa.select(QuestionBank))

    response = trainer.post(
        f"/manage/banks/{bank.id}/import",
        data={
            "format": "gift",
            "category_id": str(bank.categories[0].id),
            "file": (io.BytesIO("::甲::题目{=对 ~错}\n".encode()), "a.gift"),
        },
        content_type="multipart/form-data",
    )

    assert "Preview: 1 question</h2>" in response.get_data(as_text=True)


def test_audit_grant_in_singular(world, login):
    audit.record(
        "quiz.grant_set",
        "quiz",
        world.quiz,
        "grant",
        actor_id=world.trainer,
        institution_id=world.uni_a,
        data={
            "user_id": world.counselor,
            "extra_minutes": 1,
            "extra_attempts": 1,
            "reason": "系统故障",
        },
    )
    db.session.commit()

    page = _english(login("admin")).get("/admin/audit").get_data(as_text=True)

    assert "1 extra minute and 1 extra attempt: 系统故障" in page


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1), ("1.0", 1), ("1.5", 2), (0, 0), (None, 2), ("x", 2)]
)
def test_plural_count(value, expected):
    assert plural_count(value) == expected
