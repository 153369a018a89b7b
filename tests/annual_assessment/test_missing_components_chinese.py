"""The missing components of an assessment are listed with 、 in Chinese."""

from tests.annual_assessment.test_views import finalise, person_url, score_url


def test_missing_components_joined_chinese(world, login):
    """The page and the finalise error name the missing components with 、."""
    hr = login("hr")
    hr.post(score_url(world, world.alice, "学工部考核"), {"score": "80"})

    page = hr.get(person_url(world, world.alice)).get_data(as_text=True)
    response = finalise(hr, world, world.alice)

    assert "院系考核、学生评议、加分" in page
    assert "院系考核, 学生评议" not in page
    assert "院系考核、学生评议、加分" in response.get_data(as_text=True)
