"""Cell normalisation of roster uploads."""

import pytest

from courses import class_import


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("２０２３０００１", "20230001"),
        ("20230001.0", "20230001"),
        (" t2023-01 ", "T2023-01"),
        ("1.38E+10", "1.38E+10"),
    ],
)
def test_employee_number(raw, expected):
    assert class_import.employee_no(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("张 三", "张三"),
        ("欧阳　娜娜", "欧阳娜娜"),
        ("Li  Ming", "Li Ming"),
        ("买买提·艾力", "买买提·艾力"),
    ],
)
def test_full_name(raw, expected):
    assert class_import.full_name(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("13800138000.0", "13800138000"),
    ],
)
def test_phone(raw, expected):
    assert class_import.phone(raw) == expected


@pytest.mark.parametrize(
    "name, key",
    [("物理学院", "物理"), ("物理", "物理"), ("物理系", "物理"), ("ＰＨＹ", "phy"), ("学院", "学院")],
)
def test_department_key(name, key):
    assert class_import.department_key(name) == key


def test_scientific_notation_detected():
    assert class_import.is_scientific("1.38001E+10")
    assert class_import.is_scientific("2E7")
    assert not class_import.is_scientific("13800138000")
