"""Records forms show the platform's wording for WTForms' own checks."""

import io

import pytest

from tests.wtforms_wording import wtforms_texts_in

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _english(session):
    session.post("/language/en")
    return session


def _grade_form(**overrides) -> dict:
    form = {
        "kind": "assessment_grade",
        "occurred_on": "2026-01-15",
        "grade": "excellent",
        "year": "2025",
    }
    form.update(overrides)
    return form


def _training_form(**overrides) -> dict:
    form = {
        "title": "全国高校辅导员示范培训",
        "organiser": "教育部思想政治工作司",
        "tier": "national",
        "kind": "demonstration",
        "start_date": "2025-12-29",
        "end_date": "2026-01-02",
        "hours": "10",
        "evidence": (io.BytesIO(PDF), "结业证书.pdf"),
    }
    form.update(overrides)
    return form


@pytest.fixture(autouse=True)
def evidence_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))


def test_event_year_letters_in_chinese(world, login):
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data=_grade_form(year="abc", honour_name="荣" * 201),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "年度：请输入1950至2100之间的整数。" in page
    assert "荣誉：最多输入200个字符。" in page
    assert "不是有效的整数" not in page
    assert wtforms_texts_in(page) == []


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("abc", "Year: Enter a whole number from 1950 to 2100."),
        ("1900", "Year: Enter a number from 1950 to 2100."),
    ],
)
def test_event_year_in_english(world, login, year, message):
    hr = _english(login("hr"))

    response = hr.post(
        f"/people/{world.counselor}/record/entries", data=_grade_form(year=year)
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert wtforms_texts_in(page) == []


def test_training_empty_in_chinese(world, login):
    counselor = login("counselor1")

    response = counselor.post(
        "/records/external",
        data=_training_form(title="", organiser="", start_date=""),
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "名称：此项为必填项。" in page
    assert "该字段是必填字段。" not in page
    assert wtforms_texts_in(page) == []


def test_training_too_long_in_english(world, login):
    counselor = _english(login("counselor1"))

    response = counselor.post(
        "/records/external",
        data=_training_form(title="T" * 201),
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Title: Enter at most 200 characters." in page
    assert wtforms_texts_in(page) == []
