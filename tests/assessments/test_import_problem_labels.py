"""Import problems name the line and the question part in the reader's language."""

import io

import pytest

from assessments import banks
from lms.accounts.models import User
from lms.extensions import db


@pytest.fixture
def bank(world):
    trainer = db.session.get(User, world.trainer)
    bank = banks.create_bank(world.uni_a, {"name": "导入题库"}, trainer)
    db.session.commit()
    return bank.id, bank.categories[0].id


def _upload(login, bank, raw: bytes, filename: str, fmt: str):
    bank_id, category_id = bank
    response = login("trainer").post(
        f"/manage/banks/{bank_id}/import",
        data={
            "format": fmt,
            "category_id": str(category_id),
            "file": (io.BytesIO(raw), filename),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    return page.split('<ul id="import-problems">')[1].split("</ul>")[0]


def test_gift_problem_in_chinese(bank, login):
    problems = _upload(login, bank, "::单选::题干{=甲 ~乙\n".encode(), "q.gift", "gift")

    assert "第 1 行，答案：" in problems
    assert "answers:" not in problems
    assert "line 1" not in problems


def test_file_problem_in_chinese(bank, login):
    problems = _upload(login, bank, b"// only a comment\n", "q.gift", "gift")

    assert "文件：" in problems
    assert "file:" not in problems


def test_moodle_type_problem_in_chinese(bank, login):
    raw = '<?xml version="1.0"?><quiz><question type="cloze"></question></quiz>'.encode()

    problems = _upload(login, bank, raw, "q.xml", "moodle_xml")

    assert "题型：" in problems
    assert "type:" not in problems


def test_problem_labels_in_english(bank, login, english):
    problems = _upload(login, bank, "::单选::题干{=甲 ~乙\n".encode(), "q.gift", "gift")

    assert "Line 1, Answers: " in problems


TRUNCATED_XML = b'<?xml version="1.0"?>\n<quiz><question type="truefalse"><name>'


def test_truncated_xml_in_chinese(bank, login):
    problems = _upload(login, bank, TRUNCATED_XML, "q.xml", "moodle_xml")

    assert "第 2 行" in problems
    assert "no element found" not in problems


def test_truncated_xml_in_english(bank, login, english):
    problems = _upload(login, bank, TRUNCATED_XML, "q.xml", "moodle_xml")

    assert (
        "The file is not well-formed XML: the file ends before the root element "
        "is closed at line 2, column 40."
    ) in problems


def _file_error(login, bank, raw: bytes, filename: str) -> str:
    bank_id, category_id = bank
    response = login("trainer").post(
        f"/manage/banks/{bank_id}/import",
        data={
            "format": "gift",
            "category_id": str(category_id),
            "file": (io.BytesIO(raw), filename),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b"", "The file q.gift is empty."),
        (b"::Q1:: 1+1? {=2}\x00\x01\x02", "The file q.gift is not text: it contains binary data."),
    ],
)
def test_gift_file_rejection_reason(bank, login, english, raw, expected):
    page = _file_error(login, bank, raw, "q.gift")

    assert expected in page
    assert "Upload a file in the GIFT format" not in page


def test_gift_wrong_extension_reason(bank, login, english):
    page = _file_error(login, bank, b"::Q1:: 1+1? {=2}", "q.docx")

    assert "Upload a file in the GIFT format, ending in .gift, .txt, at most 5 MB." in page


def test_aiken_wrong_extension_reason(bank, login, english):
    bank_id, category_id = bank
    response = login("trainer").post(
        f"/manage/banks/{bank_id}/import",
        data={
            "format": "aiken",
            "category_id": str(category_id),
            "file": (io.BytesIO(b"Q?\nA. x\nB. y\nANSWER: A\n"), "q.docx"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)

    assert "Upload a file in the Aiken format, ending in .txt, at most 5 MB." in page
    assert "a Aiken" not in page


@pytest.mark.parametrize("raw", [b"", b"\x00\x01\x02binary"])
def test_gift_rejection_not_extension_in_chinese(bank, login, raw):
    page = _file_error(login, bank, raw, "q.gift")

    assert "请上传扩展名为" not in page
