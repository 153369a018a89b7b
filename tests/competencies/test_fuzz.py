"""Any bytes given to the readers end in data or in a list of problems."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.competencies import case_import, csvio, transfer

DETAILS = {"code": "fuzz", "title": "模糊测试", "version": "1"}
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

CSV_TEXT = st.lists(
    st.lists(
        st.text(alphabet=st.sampled_from('ab初级,"\n\r\t\x00=1.'), max_size=6),
        max_size=10,
    ),
    max_size=6,
).map(lambda rows: "\n".join(",".join(cells) for cells in rows))

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(
        st.sampled_from(
            ["CFDocument", "CFItems", "CFAssociations", "identifier", "title",
             "CFItemType", "fullStatement", "originNodeURI", "associationType"]
        ),
        children,
        max_size=4,
    ),
    max_leaves=20,
)


def _read(parse, content: bytes) -> None:
    try:
        parse(content)
    except transfer.ImportRejected as rejected:
        assert rejected.problems
        for problem in rejected.problems:
            assert problem.location
            assert problem.field


@SETTINGS
@given(st.binary(max_size=300))
def test_csv_reader_any_bytes(app_ctx, content):
    _read(lambda data: csvio.parse_csv(data, dict(DETAILS)), content)


@SETTINGS
@given(CSV_TEXT)
def test_csv_reader_csv_like_text(app_ctx, text):
    header = "等级代码,等级,职业功能代码,职业功能,条目代码,概述\n"
    _read(lambda data: csvio.parse_csv(data, dict(DETAILS)), (header + text).encode())


@SETTINGS
@given(st.binary(max_size=300))
def test_case_reader_any_bytes(app_ctx, content):
    _read(case_import.parse_package, content)


@SETTINGS
@given(JSON_VALUES)
def test_case_reader_any_json(app_ctx, value):
    import json

    _read(case_import.parse_package, json.dumps(value).encode())
