"""The schemes page lists components with Chinese brackets and 、 in Chinese."""


def test_scheme_components_in_chinese(world, login):
    page = login("hr").get("/annual-assessment/").get_data(as_text=True)

    assert "院系考核（25.0）、学工部考核（25.0）、学生评议（50.0）、加分（最多 10.0 分）" in page
    assert "院系考核 (25.0), " not in page


def test_scheme_components_in_english(world, login, english):
    page = login("hr").get("/annual-assessment/").get_data(as_text=True)

    assert "院系考核 (25.0), 学工部考核 (25.0), 学生评议 (50.0), 加分 (up to 10.0 points)" in page
