"""Spreadsheet reading, safe exports and upload checks shared by every importer."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from lms import exports, tabular, uploads

ROWS = [["工号", "姓名", "院系"], ["20230001", "张　三", "马克思主义学院"], ["20230002", "李四", "化学学院"]]


def _csv(encoding: str, bom: bytes = b"") -> bytes:
    text = "\r\n".join(",".join(r) for r in ROWS) + "\r\n"
    return bom + text.encode(encoding)


@pytest.mark.parametrize(
    "content, encoding",
    [
        (_csv("utf-8"), "utf-8"),
        (_csv("utf-8", b"\xef\xbb\xbf"), "utf-8-sig"),
        (_csv("gbk"), "gb18030"),
        (_csv("utf-16"), "utf-16"),
    ],
)
def test_csv_in_each_real_encoding_reads_the_same(content, encoding):
    table = tabular.read_csv(content)
    assert table.encoding == encoding
    assert table.headers == ["工号", "姓名", "院系"]
    # The ideographic space typed inside a name is normalised away to one space.
    assert table.rows[0] == (2, {"工号": "20230001", "姓名": "张 三", "院系": "马克思主义学院"})
    assert table.rows[1][0] == 3


def test_csv_that_is_no_known_encoding_is_refused():
    with pytest.raises(tabular.TableError) as error:
        tabular.read_csv(b"\xff\xfe\xfd"[1:] * 3 + b"\x81")
    assert error.value.code == "encoding"


def test_blank_rows_are_skipped_but_numbers_stay_those_of_the_sheet():
    table = tabular.read_csv("a,b\n1,2\n,\n3,4\n".encode())
    assert [n for n, _ in table.rows] == [2, 4]


def test_keep_text_cells_as_written():
    content = '题干,答案\r\n"第一行\r\n第二行，（全角）  ", 对 \r\n'.encode("gbk")

    table = tabular.read_csv(content, clean=tabular.keep_text)

    assert table.rows == [(2, {"题干": "第一行\n第二行，（全角）", "答案": "对"})]


def test_keep_text_skips_blank_rows():
    table = tabular.read_csv("a,b\n1,2\n , \n".encode(), clean=tabular.keep_text)

    assert [n for n, _ in table.rows] == [2]


def test_xlsx_numbers_typed_as_numbers_come_back_as_plain_text():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["工号", "姓名"])
    sheet.append([20230001, "王五"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = tabular.read_upload("名单.xlsx", buffer.getvalue())
    assert table.rows == [(2, {"工号": "20230001", "姓名": "王五"})]


def test_a_file_that_is_not_xlsx_is_a_format_error():
    with pytest.raises(tabular.TableError) as error:
        tabular.read_upload("名单.xlsx", b"not a zip")
    assert error.value.code == "format"


def test_headers_match_aliases_ignoring_case_width_and_spaces():
    table = tabular.read_csv("ＥＭＰＬＯＹＥＥ No,姓 名\n1,a\n".encode())
    found = tabular.map_headers(
        table, {"employee_no": ("工号", "employee no"), "name": ("姓名",), "dept": ("院系",)}
    )
    assert found == {"employee_no": "EMPLOYEE No", "name": "姓 名"}


@pytest.mark.parametrize("payload", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x"])
def test_formula_cells_are_neutralised_in_csv_and_xlsx(payload):
    csv_text = exports.csv_bytes(["h"], [[payload]]).decode("utf-8-sig")
    assert csv_text.splitlines()[1].strip('"').startswith("'")
    workbook = load_workbook(io.BytesIO(exports.xlsx_bytes(["h"], [[payload]])))
    cell = workbook.active["A2"]
    assert cell.data_type == "s"
    # XML turns a carriage return into a line feed; the apostrophe is what counts.
    assert cell.value.startswith("'") and cell.value[1:].strip() == payload.strip()


@pytest.mark.parametrize("title, kept", [("a/b:c", "a_b_c"), ("[x]*?\\", "_x____"), ("", "Sheet1")])
def test_xlsx_sheet_title_drops_forbidden_characters(title, kept):
    workbook = load_workbook(io.BytesIO(exports.xlsx_bytes(["h"], [["v"]], sheet_title=title)))
    assert workbook.sheetnames == [kept]


def test_plain_values_are_left_alone():
    assert exports.neutralise("张三") == "张三"
    assert exports.neutralise(-3) == -3
    assert exports.csv_bytes(["a"], [["x"]]).startswith(b"\xef\xbb\xbf")


def test_upload_must_match_extension_content_and_size(app):
    with app.app_context():
        stored = uploads.store("tests", "证明.pdf", io.BytesIO(b"%PDF-1.7 body"), allowed=["pdf"])
        assert stored.original_name == "证明.pdf"
        assert uploads.path_of("tests", stored.name).read_bytes() == b"%PDF-1.7 body"
        assert uploads.path_of("tests", "../" + stored.name) is None
        for name, content, code in [
            ("a.exe", b"MZ", "extension"),
            ("a.pdf", b"<html><script>", "content"),
            ("a.pdf", b"%PDF-" + b"x" * 100, "size"),
            ("", b"", "missing"),
        ]:
            with pytest.raises(uploads.UploadError) as error:
                uploads.store("tests", name, io.BytesIO(content), allowed=["pdf"], max_bytes=50)
            assert error.value.code == code


@pytest.mark.parametrize(
    "sent, kept",
    [
        ("证明.pdf", "证明.pdf"),
        ("../../secret<svg onload=alert(1)>.pdf", "secret<svg onload=alert(1)>.pdf"),
        ("C:\\Users\\a\\证明.pdf", "证明.pdf"),
        ("..\\../x.pdf", "x.pdf"),
        ("a\r\nb.pdf", "ab.pdf"),
        ("  名单.xlsx ", "名单.xlsx"),
        ("../", ""),
        ("dir/..", ""),
        ("", ""),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
        ("x" * 300, "x" * 255),
    ],
)
def test_client_filename_keeps_last_component(sent, kept):
    assert uploads.client_filename(sent) == kept


def test_store_keeps_last_path_component(app):
    with app.app_context():
        for sent in ("../../证明.pdf", "C:\\fakepath\\证明.pdf"):
            stored = uploads.store(
                "tests", sent, io.BytesIO(b"%PDF-1.7 body"), allowed=["pdf"]
            )
            assert stored.original_name == "证明.pdf"


def test_send_strips_path_from_download_name(app):
    with app.test_request_context():
        stored = uploads.store(
            "tests", "x.png", io.BytesIO(b"\x89PNG\r\n\x1a\nrest"), allowed=["png"]
        )
        response = uploads.send("tests", stored.name, "../../plan.png")
        response.close()

    assert response.headers["Content-Disposition"] == "attachment; filename=plan.png"


def test_stored_files_are_served_as_attachments_never_sniffed(app):
    with app.test_request_context():
        stored = uploads.store("tests", "x.png", io.BytesIO(b"\x89PNG\r\n\x1a\nrest"), allowed=["png"])
        response = uploads.send("tests", stored.name, "图.png")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("attachment")
        response.close()


def test_non_ascii_download_name_gets_named_fallback(app):
    with app.test_request_context():
        stored = uploads.store("tests", "x.png", io.BytesIO(b"\x89PNG\r\n\x1a\nrest"), allowed=["png"])
        chinese = uploads.send("tests", stored.name, "图.png")
        ascii_name = uploads.send("tests", stored.name, "plan.png")
        chinese.close()
        ascii_name.close()

    assert chinese.headers["Content-Disposition"] == (
        "attachment; filename=download.png; filename*=UTF-8''%E5%9B%BE.png"
    )
    assert ascii_name.headers["Content-Disposition"] == "attachment; filename=plan.png"


TRADITIONAL = "工號,姓名,院系\r\nT1,陳大文,資訊工程學系\r\nT2,林美玲,會計學系\r\n"
JAPANESE = "社員番号,氏名,部署\r\n1001,山田太郎,総務部\r\n1002,すずき花子,営業部\r\n"


@pytest.mark.parametrize(
    "content, likely",
    [
        (TRADITIONAL.encode("big5"), "Big5"),
        (JAPANESE.encode("shift_jis"), "Shift-JIS"),
        ("氏名\r\n山田太郎\r\n".encode("shift_jis"), "Shift-JIS"),
    ],
    ids=["big5", "shift-jis", "shift-jis kanji only"],
)
def test_csv_in_foreign_encoding_is_rejected(content, likely):
    with pytest.raises(tabular.TableError) as error:
        tabular.read_csv(content)
    assert error.value.code == "encoding"
    assert likely in error.value.detail


def test_gbk_with_a_few_rare_characters_is_read():
    text = "工号,姓名,院系\r\nT1,张喆,化学学院\r\nT2,劉芳,物理學院\r\nT3,王小明,教育学院\r\n"
    table = tabular.read_csv(text.encode("gbk"))
    assert table.encoding == "gb18030"
    assert table.rows[0][1]["姓名"] == "张喆"


def test_gb18030_four_byte_character_is_read():
    table = tabular.read_csv("工号,姓名\r\nT1,王𠀀\r\n".encode("gb18030"))
    assert table.encoding == "gb18030"
    assert table.rows[0][1]["姓名"] == "王𠀀"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(codec):
    table = tabular.read_csv(_csv(codec))
    assert table.encoding == codec
    assert table.headers == ["工号", "姓名", "院系"]
    assert table.rows[1][1]["姓名"] == "李四"


def test_unclosed_quote_is_a_quote_error():
    content = 'a,b\n1,2\n3,"open\n5,6\n'.encode()

    with pytest.raises(tabular.TableError) as error:
        tabular.read_csv(content)

    assert error.value.code == "quote"
    assert error.value.detail == "3"


def test_quoted_line_break_is_accepted():
    table = tabular.read_csv('a,b\n1,"two\nlines"\n3,4\n'.encode())

    assert [cells["a"] for _number, cells in table.rows] == ["1", "3"]


@pytest.mark.parametrize(
    "codec, name",
    [
        ("gb18030", "GBK (GB 18030)"),
        ("utf-8-sig", "UTF-8 with a byte order mark"),
        ("utf-8", "UTF-8"),
        ("xlsx", "XLSX workbook"),
        ("unknown-codec", "unknown-codec"),
    ],
)
def test_encoding_names_are_human(app_ctx, english, codec, name):
    assert tabular.encoding_name(codec) == name


def test_header_wider_than_limit_rejected():
    widest = ",".join(f"c{i}" for i in range(tabular.MAX_COLUMNS))
    assert len(tabular.read_csv(f"{widest}\n1\n".encode()).headers) == tabular.MAX_COLUMNS
    with pytest.raises(tabular.TableError) as error:
        tabular.read_csv(f"{widest},extra\n1\n".encode())
    assert error.value.code == "too_many_columns"


def _counting_clean(calls: list):
    def clean(text):
        calls.append(text)
        return tabular.normalise(text)

    return clean


def test_csv_cells_past_headers_not_read():
    calls = []
    content = ("工号,姓名\n" + "E001,王" + "," * 5000 + "x\n").encode()
    table = tabular.read_csv(content, clean=_counting_clean(calls))
    assert table.rows == [(2, {"工号": "E001", "姓名": "王"})]
    assert len(calls) == 2


def test_xlsx_declared_width_not_read():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["工号", "姓名"])
    sheet.append(["E001", "王"])
    # The cell makes the sheet declare all 16,384 columns of a worksheet.
    sheet.cell(row=40, column=16384, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)
    calls = []
    table = tabular.read_xlsx(buffer.getvalue(), clean=_counting_clean(calls))
    assert table.rows == [(2, {"工号": "E001", "姓名": "王"})]
    assert len(calls) <= 2 * 40
