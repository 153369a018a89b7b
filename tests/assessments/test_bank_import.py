"""The question-bank import confirms exactly the preview its page showed, once."""

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from assessments import pending_imports
from assessments.models import PendingQuestionImport, Question, QuestionBank
from lms.extensions import db
from tests.upload_cleanup import age_file, age_row, run_cleanup, use_empty_upload_dir

FIRST = "::甲::辅导员的首要职责是{=思想政治教育 ~宿舍维修}\n".encode()
SECOND = (
    "::乙::谈心谈话应当{=尊重学生 ~公开批评}\n\n::丙::危机干预首先{=确保安全 ~追究责任}\n"
).encode()


def _english(session):
    session.post("/language/en")
    return session


def _bank(trainer) -> QuestionBank:
    trainer.post("/manage/banks", data={"name": "思政题库"})
    return db.session.scalar(sa.select(QuestionBank))


def _preview(trainer, bank: QuestionBank, content: bytes, name: str):
    return trainer.post(
        f"/manage/banks/{bank.id}/import",
        data={
            "format": "gift",
            "category_id": str(bank.categories[0].id),
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def _confirm_url(page) -> str:
    return re.search(r'action="([^"]*/confirm)"', page.get_data(as_text=True)).group(1)


def _question_texts() -> list[str]:
    db.session.expire_all()
    in_banks = sa.select(Question.text).where(Question.category_id.is_not(None))
    return sorted(db.session.scalars(in_banks))


def test_confirm_imports_its_own_preview(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    first_url = _confirm_url(_preview(trainer, bank, FIRST, "a.gift"))
    _preview(trainer, bank, SECOND, "c.gift")

    response = trainer.post(first_url, follow_redirects=True)

    assert "1 question imported." in response.get_data(as_text=True)
    assert _question_texts() == ["辅导员的首要职责是"]


def test_confirm_after_failed_preview(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    first_url = _confirm_url(_preview(trainer, bank, FIRST, "a.gift"))
    failed = _preview(trainer, bank, b"::bad::{=a ~b\n", "b.gift")

    response = trainer.post(first_url)

    assert failed.status_code == 400
    assert response.status_code == 302
    assert _question_texts() == ["辅导员的首要职责是"]


def test_second_confirm_imports_nothing(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    url = _confirm_url(_preview(trainer, bank, SECOND, "c.gift"))
    trainer.post(url)

    again = trainer.post(url, follow_redirects=True)

    page = again.get_data(as_text=True)
    assert "The questions of c.gift were imported already" in page
    assert 'action="/manage/banks/%d/import"' % bank.id in page
    assert len(_question_texts()) == 2


def test_confirm_of_unknown_preview(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)

    response = trainer.post(f"/manage/banks/{bank.id}/import/999/confirm")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/manage/banks/{bank.id}/import")
    page = trainer.get(response.headers["Location"]).get_data(as_text=True)
    assert "This import preview was not found" in page


def test_confirm_of_another_users_preview(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    url = _confirm_url(_preview(trainer, bank, FIRST, "a.gift"))

    response = _english(login("admin")).post(url, follow_redirects=True)

    assert "This import preview was not found" in response.get_data(as_text=True)
    assert _question_texts() == []


def test_confirm_in_another_bank(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    url = _confirm_url(_preview(trainer, bank, FIRST, "a.gift"))
    trainer.post("/manage/banks", data={"name": "心理题库"})
    other = db.session.scalar(sa.select(QuestionBank).filter_by(name="心理题库"))

    response = trainer.post(
        url.replace(f"/banks/{bank.id}/", f"/banks/{other.id}/"), follow_redirects=True
    )

    assert "This import preview was not found" in response.get_data(as_text=True)
    assert _question_texts() == []


def test_confirm_of_expired_preview(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    url = _confirm_url(_preview(trainer, bank, FIRST, "a.gift"))
    pending = db.session.scalar(sa.select(PendingQuestionImport))
    pending.created_at -= pending_imports.LIFETIME + timedelta(minutes=1)
    db.session.commit()

    response = trainer.post(url, follow_redirects=True)

    assert "The preview of a.gift is older than a day" in response.get_data(as_text=True)
    assert _question_texts() == []


def test_preview_names_what_is_dropped_and_left_out(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    options = " ".join(f"~选项{n}" for n in range(2, 10))
    content = (
        "::数值::π 是多少？{#\n=3.14:0.01\n~#完全不对}\n\n"
        f"::太多::选出一项{{=选项1 {options}}}\n"
    ).encode()

    response = _preview(trainer, bank, content, "mixed.gift")
    page = response.get_data(as_text=True)

    assert "Preview: 1 question" in page
    assert "feedback for any other answer" in page
    assert "These questions are left out" in page
    assert "Line 5" in page
    assert "at most 8 choices" in page

    trainer.post(_confirm_url(response))
    assert _question_texts() == ["π 是多少？"]


def test_abandoned_preview_purged_by_cleanup(world, login, app, monkeypatch, tmp_path):
    upload_dir = use_empty_upload_dir(app, monkeypatch, tmp_path)
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    imported_url = _confirm_url(_preview(trainer, bank, SECOND, "c.gift"))
    trainer.post(imported_url)
    abandoned_url = _confirm_url(_preview(trainer, bank, FIRST, "a.gift"))
    young_url = _confirm_url(_preview(trainer, bank, FIRST, "b.gift"))
    rows = {row.filename: row for row in db.session.scalars(sa.select(PendingQuestionImport))}
    area = upload_dir / pending_imports.AREA
    abandoned_file = area / rows["a.gift"].stored_name
    young_file = area / rows["b.gift"].stored_name
    orphan_file = area / "0123456789abcdef0123456789abcdef.gift"
    orphan_file.write_bytes(FIRST)
    for name in ("c.gift", "a.gift"):
        age_row(PendingQuestionImport, rows[name].id)
    age_file(abandoned_file)
    age_file(orphan_file)

    result = run_cleanup()

    assert result["question_import_previews_deleted"] == 1
    assert result["files_deleted"] == 2
    db.session.expire_all()
    remaining = db.session.scalars(sa.select(PendingQuestionImport.filename)).all()
    assert sorted(remaining) == ["b.gift", "c.gift"]
    assert not abandoned_file.exists()
    assert not orphan_file.exists()
    assert young_file.exists()
    purged = trainer.post(abandoned_url, follow_redirects=True)
    assert purged.status_code == 200
    page = purged.get_data(as_text=True)
    assert "This import preview was not found" in page
    assert "Upload the file again." in page
    assert len(_question_texts()) == 2
    again = trainer.post(imported_url, follow_redirects=True)
    assert "The questions of c.gift were imported already" in again.get_data(as_text=True)
    trainer.post(young_url)
    assert len(_question_texts()) == 3


def test_claim_of_preview_deleted_meanwhile(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    _preview(trainer, bank, FIRST, "a.gift")
    pending = db.session.scalar(sa.select(PendingQuestionImport))
    db.session.execute(
        sa.delete(PendingQuestionImport).execution_options(synchronize_session=False)
    )

    with pytest.raises(pending_imports.ImportRejected) as rejected:
        pending_imports.claim(pending)

    assert rejected.value.code == "unknown"
    db.session.rollback()


def test_descriptions_only_file_named(world, login):
    trainer = _english(login("trainer"))
    bank = _bank(trainer)
    content = "::说明::以下各题考查辅导员的工作职责。\n\n[markdown] 请**独立**作答。\n".encode()

    response = _preview(trainer, bank, content, "descriptions.gift")
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert (
        "The file contains only descriptions (line 1, line 3), which are not questions: "
        "add questions to the file." in page
    )
    assert "The file contains no questions." not in page
    assert _question_texts() == []


MOODLE_WITH_CALCULATED = """\
<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<question type="multichoice"><questiontext><text>国家助学金的资助对象是</text></questiontext>
<answer fraction="100"><text>家庭经济困难学生</text></answer><answer fraction="0"><text>全体学生</text></answer></question>
<question type="calculated"><name><text>计算</text></name><questiontext><text>{a} + {b} = ?</text></questiontext>
<answer fraction="100"><text>{a} + {b}</text></answer></question>
</quiz>
""".encode()


def test_moodle_calculated_left_out_rest_imports(world, login):
    trainer = login("trainer")
    bank = _bank(trainer)

    preview = trainer.post(
        f"/manage/banks/{bank.id}/import",
        data={
            "format": "moodle_xml",
            "category_id": str(bank.categories[0].id),
            "file": (io.BytesIO(MOODLE_WITH_CALCULATED), "mixed.xml"),
        },
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    confirm = trainer.post(_confirm_url(preview), follow_redirects=True)

    assert preview.status_code == 200
    assert 'id="import-problems"' not in page
    left_out = page.split('<ul id="import-left-out">')[1].split("</ul>")[0]
    assert "第 5 行，题型：" in left_out
    assert "calculated" in left_out
    assert confirm.status_code == 200
    assert _question_texts() == ["国家助学金的资助对象是"]
