"""XLSX archives that unpack past the limits are rejected before openpyxl reads them."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from courses.class_models import ClassMember, PendingImport
from lms import tabular
from lms.accounts.models import User
from lms.extensions import db
from tests.classes.helpers import make_class
from tests.conftest import count
from tests.factories import build_learning_world


def _workbook(rows: int = 3) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["工号", "姓名", "院系"])
    for number in range(rows):
        sheet.append([f"T{number:06d}", "王小明", "教育学院"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _with_huge_shared_strings(unpacked_bytes: int) -> bytes:
    """Return a valid workbook whose sharedStrings.xml inflates to ``unpacked_bytes``."""
    source = zipfile.ZipFile(io.BytesIO(_workbook()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in source.infolist():
            if member.filename != "xl/sharedStrings.xml":
                bomb.writestr(member, source.read(member))
        padding = b" " * unpacked_bytes
        bomb.writestr(
            "xl/sharedStrings.xml",
            b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main">' + padding + b"</sst>",
        )
    return buffer.getvalue()


def test_bomb_rejected_before_parsing(monkeypatch):
    content = _with_huge_shared_strings(tabular.MAX_XLSX_UNPACKED + 1)
    assert len(content) < tabular.MAX_XLSX_UNPACKED // 100

    def fail_if_called(*args, **kwargs):
        raise AssertionError("openpyxl opened an archive over the limit")

    monkeypatch.setattr("openpyxl.load_workbook", fail_if_called)
    with pytest.raises(tabular.TableError) as raised:
        tabular.read_xlsx(content)
    assert raised.value.code == "too_large"


def test_many_members_rejected(monkeypatch):
    monkeypatch.setattr(tabular, "MAX_XLSX_MEMBERS", 5)
    with pytest.raises(tabular.TableError) as raised:
        tabular.read_xlsx(_workbook())
    assert raised.value.code == "too_large"


def test_limit_counts_declared_sizes(monkeypatch):
    content = _workbook()
    unpacked = sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(content)).infolist())

    monkeypatch.setattr(tabular, "MAX_XLSX_UNPACKED", unpacked)
    assert len(tabular.read_xlsx(content).rows) == 3

    monkeypatch.setattr(tabular, "MAX_XLSX_UNPACKED", unpacked - 1)
    with pytest.raises(tabular.TableError) as raised:
        tabular.read_xlsx(content)
    assert raised.value.code == "too_large"


def test_not_a_zip_is_format_error():
    with pytest.raises(tabular.TableError) as raised:
        tabular.read_xlsx(b"PK\x03\x04 not really an archive")
    assert raised.value.code == "format"


@pytest.fixture
def world(app_ctx):
    world = build_learning_world()
    world.klass = make_class(world).id
    db.session.get(User, world.trainer).locale = "en"
    db.session.commit()
    return world


def test_roster_upload_of_bomb_is_400(world, login, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_XLSX_UNPACKED", 1024 * 1024)
    content = _with_huge_shared_strings(2 * 1024 * 1024)
    trainer = login(db.session.get(User, world.trainer).username)
    users_before = count(User)

    response = trainer.post(
        f"/classes/{world.klass}/import",
        data={"file": (io.BytesIO(content), "roster.xlsx")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "unpacks to more than 1 MB" in response.get_data(as_text=True)
    assert count(PendingImport) == 0
    assert count(ClassMember) == 0
    assert count(User) == users_before
