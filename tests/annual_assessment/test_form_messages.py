"""The scheme form shows the platform's wording for WTForms' own checks."""

from tests.annual_assessment.test_views import scheme_form
from tests.wtforms_wording import wtforms_texts_in

NEW_SCHEME = "/annual-assessment/schemes/new"


def test_scheme_empty_in_chinese(world, login):
    hr = login("hr")

    response = hr.post(NEW_SCHEME, {})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "年度：此项为必填项。" in page
    assert "名称：此项为必填项。" in page
    assert wtforms_texts_in(page) == []


def test_scheme_letters_in_chinese(world, login):
    hr = login("hr")
    data = scheme_form(world.year + 1)
    data["year"] = "abc"
    data["dimensions-0-name"] = "师德师风"
    data["dimensions-0-min_score"] = "x"
    data["title"] = "方" * 201

    response = hr.post(NEW_SCHEME, data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "年度：请输入2000至2100之间的整数。" in page
    assert "最低分：请输入整数。" in page
    assert "名称：最多输入200个字符。" in page
    assert wtforms_texts_in(page) == []


def test_scheme_year_out_of_range_in_chinese(world, login):
    hr = login("hr")
    data = scheme_form(world.year + 1)
    data["year"] = "1990"

    response = hr.post(NEW_SCHEME, data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "年度：请输入2000至2100之间的数。" in page
    assert wtforms_texts_in(page) == []


def test_scheme_empty_in_english(world, login, english):
    hr = login("hr")

    response = hr.post(NEW_SCHEME, {})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Year: This field is required." in page
    assert "Title: This field is required." in page
    assert wtforms_texts_in(page) == []


def test_scheme_letters_in_english(world, login, english):
    hr = login("hr")
    data = scheme_form(world.year + 1)
    data["year"] = "abc"
    data["dimensions-0-name"] = "Ethics"
    data["dimensions-0-max_score"] = "ten"
    data["title"] = "T" * 201

    response = hr.post(NEW_SCHEME, data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Year: Enter a whole number from 2000 to 2100." in page
    assert "Highest score: Enter a whole number." in page
    assert "Title: Enter at most 200 characters." in page
    assert "Not a valid integer value" not in page
    assert wtforms_texts_in(page) == []
