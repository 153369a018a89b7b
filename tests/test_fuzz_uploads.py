"""View-level fuzzing of every upload form with random bytes and CSV-like text.

Each upload must return 200 or 400 (a preview or a page with a message) or a
redirect to a preview that itself renders, never a 500, and must write no
rows. Preview pages may store the parsed upload for the confirm step, so the
counts cover the rows a confirmed import or an accepted upload would write.
"""

import io

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from assessments.models import Question, QuestionBank, QuestionCategory
from certificates.template_models import CertificateTemplate, TemplateVersion
from courses.class_models import ClassMember, TrainingClass
from lms.accounts.models import User
from lms.competencies.models import CompetencyItem, Framework, FunctionalArea
from lms.extensions import db
from lms.records.models import ExternalTraining
from tests.conftest import count

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["工号", "姓名", "院系", "code", "title", "1.1", "=1+1", '"', "", "\x00"]),
)
_CSV_ROWS = st.lists(st.lists(_CELL, min_size=1, max_size=7), min_size=0, max_size=12)


@st.composite
def csv_like(draw) -> bytes:
    """Draw delimited text in one of the encodings people upload."""
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    rows = draw(_CSV_ROWS)
    text = "\r\n".join(delimiter.join(cells) for cells in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    return text.encode(encoding, errors="replace")


@st.composite
def table_with_header(draw, header: list[str]) -> bytes:
    """Draw a CSV with the real header row and random cells, to reach row checks."""
    rows = draw(st.lists(st.lists(_CELL, min_size=len(header), max_size=len(header)), max_size=8))
    lines = [",".join(header)] + [",".join(c.replace(",", "") for c in row) for row in rows]
    return "\r\n".join(lines).encode("utf-8", errors="replace")


UPLOADS = st.one_of(st.binary(max_size=2048), csv_like())
ROSTER_HEADER = ["工号", "姓名", "院系", "性别", "手机", "邮箱"]
FRAMEWORK_HEADER = [
    "等级代码", "等级", "职业功能代码", "职业功能", "条目代码", "概述",
    "工作内容", "能力要求", "理论知识要求",
]


def assert_clean_response(client, response, where: str) -> None:
    """Assert a 200 or 400 page, or a redirect to a page that renders."""
    assert response.status_code in (200, 302, 400), f"{where}: {response.status_code}"
    if response.status_code == 302:
        follow = client.get(response.headers["Location"])
        assert follow.status_code == 200, f"{where} preview: {follow.status_code}"
    elif response.status_code == 400:
        assert_error_message(response, where)


def assert_error_message(response, where: str) -> None:
    """Assert a 400 page that shows the user what is wrong with the upload."""
    assert response.status_code == 400, f"{where}: {response.status_code}"
    page = response.get_data(as_text=True)
    assert "flash-error" in page or "field-error" in page, f"{where}: no message"


def _post_file(client, url: str, data: dict, field: str, content: bytes, name: str):
    body = dict(data)
    body[field] = (io.BytesIO(content), name)
    return client.post(url, data=body, content_type="multipart/form-data")


def _trainer_class_id() -> int:
    return db.session.scalar(sa.select(TrainingClass.id).order_by(TrainingClass.id))


def test_roster_upload_survives_fuzz(seeded, app_ctx, login):
    trainer = login("trainer")
    url = f"/classes/{_trainer_class_id()}/import"
    before = (count(User), count(ClassMember))

    @FUZZ
    @given(
        content=st.one_of(UPLOADS, table_with_header(ROSTER_HEADER)),
        name=st.sampled_from(["r.csv", "r.txt", "r.xlsx"]),
    )
    def upload(content, name):
        response = _post_file(trainer, url, {}, "file", content, name)
        assert_clean_response(trainer, response, url)

    upload()
    assert (count(User), count(ClassMember)) == before


def test_bank_import_survives_fuzz(seeded, app_ctx, login):
    trainer = login("trainer")
    bank = db.session.scalar(sa.select(QuestionBank).order_by(QuestionBank.id))
    category_id = db.session.scalar(
        sa.select(QuestionCategory.id).filter_by(bank_id=bank.id).order_by(QuestionCategory.id)
    )
    url = f"/manage/banks/{bank.id}/import"
    before = count(Question)
    valid = _post_file(
        trainer,
        url,
        {"format": "gift", "category_id": str(category_id)},
        "file",
        "::Q1:: 一加一等于几？ {=2 ~3}\n".encode(),
        "bank.txt",
    )
    assert valid.status_code == 200, "a valid GIFT file must reach the preview"
    assert count(Question) == before

    @FUZZ
    @given(
        content=st.one_of(UPLOADS, st.text(max_size=400).map(str.encode)),
        file_format=st.sampled_from(["gift", "aiken", "moodle_xml", "spreadsheet"]),
    )
    def upload(content, file_format):
        data = {"format": file_format, "category_id": str(category_id)}
        name = "bank.csv" if file_format == "spreadsheet" else "bank.txt"
        response = _post_file(trainer, url, data, "file", content, name)
        assert_clean_response(trainer, response, url)

    upload()
    assert count(Question) == before


def test_framework_import_survives_fuzz(seeded, app_ctx, login):
    trainer = login("trainer")
    url = "/frameworks/import"
    before = (count(Framework), count(FunctionalArea), count(CompetencyItem))

    @FUZZ
    @given(
        content=st.one_of(
            UPLOADS,
            table_with_header(FRAMEWORK_HEADER),
            st.text(max_size=400).map(str.encode),
        ),
        file_format=st.sampled_from(["csv", "case"]),
    )
    def upload(content, file_format):
        name = "framework.csv" if file_format == "csv" else "framework.json"
        data = {"file_format": file_format, "code": "fuzz", "title": "模糊测试", "version": "1"}
        response = _post_file(trainer, url, data, "upload", content, name)
        assert_clean_response(trainer, response, url)

    upload()
    assert (count(Framework), count(FunctionalArea), count(CompetencyItem)) == before


def test_external_evidence_survives_fuzz(seeded, app_ctx, login):
    counselor = login("counselor1")
    url = "/records/external"
    form = {
        "title": "省级辅导员骨干培训",
        "organiser": "省教育厅",
        "tier": "provincial",
        "kind": "thematic",
        "start_date": "2026-03-02",
        "end_date": "2026-03-03",
        "hours": "8",
    }

    valid = _post_file(counselor, url, form, "evidence", b"%PDF-1.4\n%%EOF\n", "e.pdf")
    assert valid.status_code == 302, "the form with a PDF must be accepted"

    @FUZZ
    @given(content=UPLOADS, name=st.sampled_from(["e.pdf", "e.png", "e.jpg", "e.exe"]))
    def upload(content, name):
        before = count(ExternalTraining)
        response = _post_file(counselor, url, form, "evidence", content, name)
        assert response.status_code in (302, 400), response.status_code
        accepted = response.status_code == 302
        if not accepted:
            assert_error_message(response, url)
        assert count(ExternalTraining) == before + accepted

    upload()


def test_certificate_image_survives_fuzz(seeded, app_ctx, login):
    trainer = login("trainer")
    url = "/certificates/templates/new"
    form = {
        "name": "模糊测试模板",
        "page_size": "A4",
        "orientation": "landscape",
        "language": "zh",
        "body_html": "<h1>{{ holder_name }}</h1>",
    }
    valid = trainer.post(url, data={**form, "name": "无图片模板"})
    assert valid.status_code == 302, "the form without images must be accepted"
    before = (count(CertificateTemplate), count(TemplateVersion))

    @FUZZ
    @given(
        content=st.binary(max_size=2048),
        field=st.sampled_from(["background", "logo", "signature", "seal"]),
        name=st.sampled_from(["i.png", "i.jpg", "i.svg", "i.gif"]),
    )
    def upload(content, field, name):
        response = _post_file(trainer, url, form, field, content, name)
        assert_error_message(response, url)

    upload()
    assert (count(CertificateTemplate), count(TemplateVersion)) == before


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xd8\xff", "damaged or incomplete"),
        (_png(40, 40)[:60], "damaged or incomplete"),
        (_png(8000, 6000), "more than 40 million pixels"),
    ],
    ids=["magic bytes only", "truncated png", "48 megapixels"],
)
def test_certificate_image_must_decode(seeded, app_ctx, login, content, message):
    trainer = login("trainer")
    db.session.get(User, trainer_id()).locale = "en"
    db.session.commit()
    form = {
        "name": "图片检查",
        "page_size": "A4",
        "orientation": "landscape",
        "language": "zh",
        "body_html": "<h1>{{ holder_name }}</h1>",
    }
    name = "seal.png" if content.startswith(b"\x89PNG") else "seal.jpg"

    response = _post_file(trainer, "/certificates/templates/new", form, "seal", content, name)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    saved = sa.select(CertificateTemplate).filter_by(name="图片检查")
    assert db.session.scalar(saved) is None
    accepted = _post_file(
        trainer, "/certificates/templates/new", form, "seal", _png(40, 40), "seal.png"
    )
    assert accepted.status_code == 302


def trainer_id() -> int:
    """Return the id of the seeded trainer account."""
    return db.session.scalar(sa.select(User.id).filter_by(username="trainer"))
