"""A question file checked under the wrong format names the format it looks like."""

import pytest

from assessments import transfer
from assessments.formats import FormatError

pytestmark = pytest.mark.usefixtures("english", "app_ctx")

GIFT = "::Q1:: 辅导员的首要职责是？ {=思想政治教育 ~宿舍维修}\n\n::Q2:: 判断 {T}\n".encode()
AIKEN = "辅导员的首要职责是？\nA. 思想政治教育\nB. 宿舍维修\nANSWER: A\n".encode()
XML = (
    '<?xml version="1.0"?><quiz><question type="truefalse"><name><text>x</text></name>'
    "<questiontext><text>判断</text></questiontext>"
    '<answer fraction="100"><text>true</text></answer>'
    '<answer fraction="0"><text>false</text></answer></question></quiz>'
).encode()


@pytest.mark.parametrize(
    ("chosen", "raw", "looks_like"),
    [
        ("gift", AIKEN, "Aiken"),
        ("gift", XML, "Moodle XML"),
        ("aiken", GIFT, "GIFT"),
        ("aiken", XML, "Moodle XML"),
        ("moodle_xml", GIFT, "GIFT"),
        ("moodle_xml", AIKEN, "Aiken"),
    ],
)
def test_wrong_format_names_likely_one(chosen, raw, looks_like):
    with pytest.raises(FormatError) as error:
        transfer.read_file(chosen, raw)

    [problem] = error.value.problems
    assert f"The file looks like {looks_like}" in str(problem)
    assert f"choose {looks_like} as the format" in str(problem)


@pytest.mark.parametrize(("chosen", "raw"), [("gift", GIFT), ("aiken", AIKEN), ("moodle_xml", XML)])
def test_right_format_still_reads(chosen, raw):
    assert transfer.read_file(chosen, raw).items


def test_broken_gift_keeps_its_own_problems():
    with pytest.raises(FormatError) as error:
        transfer.read_file("gift", "::Q:: 题干 {=甲 ~乙\n".encode())

    assert "looks like" not in str(error.value)
