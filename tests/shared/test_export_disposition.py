"""Export downloads carry a usable ASCII file name and the original UTF-8 one."""

import pytest

from lms.exports import _disposition


@pytest.mark.parametrize(
    ("filename", "fallback"),
    [
        ("合规.csv", 'filename="export.csv"'),
        ("学时达标.xlsx", 'filename="export.xlsx"'),
        ("compliance-2026.csv", 'filename="compliance-2026.csv"'),
        ("合规-2026.csv", 'filename="2026.csv"'),
        ("档案", 'filename="export"'),
    ],
)
def test_ascii_fallback_never_bare(filename, fallback):
    header = _disposition(filename)

    assert header.startswith("attachment; ")
    assert fallback in header


def test_utf8_name_kept():
    assert "filename*=UTF-8''%E5%90%88%E8%A7%84.csv" in _disposition("合规.csv")
