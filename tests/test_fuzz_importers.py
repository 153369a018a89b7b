"""Every importer, fed arbitrary input, returns a result or its own clean error.

A parser that raises anything else (IndexError, KeyError, RecursionError,
UnicodeError, ...) would reach the user as a 500, so each test allows only
the importer's documented error type.
"""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.formats.aiken import parse_aiken
from assessments.formats.encoding import decode_upload
from assessments.formats.gift import parse_gift
from assessments.formats.moodle_xml import parse_moodle_xml
from assessments.formats.types import FormatError
from assessments.question_sheet import read_sheet
from certificates.credentials import check_open_badge, loads_credential
from lms import tabular

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Text made mostly of the characters each format treats specially.
GIFT_TEXT = st.lists(
    st.sampled_from(list("{}~=#:[]%->\\\n /0123456789.TFtrueAa中题") + ["::", "//", "$CATEGORY:"]),
    max_size=120,
).map("".join)
AIKEN_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["A. 是", "B) 否", "ANSWER: A", "ANSWER: Z", "ANSWER:", "题目", "", "C."]),
        st.text(max_size=30),
    ),
    max_size=15,
).map("\n".join)
XML_TEXT = st.lists(
    st.sampled_from(
        [
            "<quiz>", "</quiz>", '<question type="multichoice">', '<question type="truefalse">',
            '<question type="category">', "</question>", "<name><text>名</text></name>",
            "<questiontext><text>题</text></questiontext>", '<answer fraction="100">',
            '<answer fraction="-33.3">', '<answer fraction="x">', "<text>是</text>", "</answer>",
            "<single>true</single>", "<!DOCTYPE x [<!ENTITY a 'b'>]>", "&a;", "<", "&",
        ]
    ),
    max_size=25,
).map("".join)
#: CSV text of question sheets: headers, kind names, answers and separators.
SHEET_CELLS = st.sampled_from(
    [
        "题型", "题干", "选项A", "选项B", "选项I", "答案", "分值", "分类", "计分方式",
        "单选题", "多选题", "判断题", "填空题", "简答题", "问答题", "排序题", "配对题",
        "A", "ACD", "E", "对", "题___", "甲|乙", "4 | 要点", "思政/理论", "2.5", "0",
        "'=1", '"', "\n", "", "，", "按比例得分",
    ]
)
SHEET_TEXT = st.lists(
    st.lists(st.one_of(SHEET_CELLS, st.text(max_size=10)), max_size=10).map(",".join),
    max_size=8,
).map("\n".join)


@FUZZ
@given(st.binary(max_size=400))
def test_decode_upload_any_bytes(raw):
    try:
        decode_upload(raw)
    except FormatError:
        pass


@FUZZ
@given(st.one_of(GIFT_TEXT, st.text(max_size=200)))
def test_gift_any_text(text):
    try:
        parse_gift(text)
    except FormatError as error:
        assert str(error)


@FUZZ
@given(AIKEN_TEXT)
def test_aiken_any_text(text):
    try:
        parse_aiken(text)
    except FormatError as error:
        assert str(error)


@FUZZ
@given(st.one_of(XML_TEXT.map(str.encode), st.binary(max_size=300)))
def test_moodle_xml_any_bytes(data):
    try:
        parse_moodle_xml(data)
    except FormatError as error:
        assert str(error)


@FUZZ
@given(st.one_of(SHEET_TEXT.map(str.encode), st.binary(max_size=300)))
def test_question_sheet_any_bytes(app_ctx, data):
    try:
        read_sheet(data)
    except FormatError as error:
        assert str(error)


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8"))))
def test_csv_any_bytes(data):
    try:
        table = tabular.read_csv(data)
    except tabular.TableError:
        return
    assert table.headers
    for number, row in table.rows:
        assert number >= 2
        assert set(row) == set(table.headers)


@pytest.mark.parametrize(
    "data",
    [
        b"\xfe\xff" + b"\x00" * 15,  # a UTF-16 mark with an odd number of bytes
        b"\xff\xfe\x00\xd8",  # a UTF-16 mark with a lone surrogate
        b"\xef\xbb\xbf\xff\xfe",  # a UTF-8 mark with bytes that are not UTF-8
    ],
)
def test_csv_false_byte_order_mark(data):
    with pytest.raises(tabular.TableError) as error:
        tabular.read_csv(data)

    assert error.value.code == "encoding"


@FUZZ
@given(st.binary(max_size=300))
def test_xlsx_any_bytes(data):
    try:
        tabular.read_xlsx(b"PK\x03\x04" + data)
    except tabular.TableError:
        pass


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["@context", "type", "issuer", "proof", "id", "credentialSubject",
                         "verificationMethod", "proofValue", "cryptosuite", "x"]),
        children,
        max_size=5,
    ),
    max_leaves=20,
)


def _no_key(_method: str):
    raise KeyError("unknown key")


@FUZZ
@given(st.one_of(JSON_VALUES.map(json.dumps), st.text(max_size=100)))
def test_credential_any_json(text):
    try:
        credential = loads_credential(text)
    except ValueError:
        return
    result = check_open_badge(credential, lambda method: None)
    assert not result.ok


@FUZZ
@given(data=st.one_of(JSON_VALUES.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
def test_credential_upload_page_never_fails(app, data):
    from lms.extensions import limiter

    limiter.reset()
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post(
            "/verify/credential",
            data={"credential": (io.BytesIO(data), "credential.json")},
            content_type="multipart/form-data",
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code in (200, 400)
