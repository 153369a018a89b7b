"""The programme form states its completion rule without a zero elective minimum."""

import re


def _programme_pages(client) -> list[str]:
    programmes = client.get("/manage/programmes").get_data(as_text=True)
    links = sorted(set(re.findall(r'href="(/manage/programmes/\d+)"', programmes)))
    return [client.get(link).get_data(as_text=True) for link in links]


def test_completion_rule_without_electives(seeded, login, english):
    pages = _programme_pages(login("trainer"))

    assert any("Completion: every required course. A course" in page for page in pages)
    assert not any("at least 0 hours" in page for page in pages)
    assert any("worth at least 4 hours" in page for page in pages)
