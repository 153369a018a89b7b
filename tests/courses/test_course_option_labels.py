"""Course and rubric choices put their status or points in the reader's brackets."""

import re


def _options(page: str) -> list[str]:
    return re.findall(r"<option[^>]*>([^<]*)</option>", page)


def test_task_form_options_in_chinese(seeded, login):
    page = login("trainer").get("/manage/tasks/new").get_data(as_text=True)

    options = _options(page)
    assert "mid-theme-education v1 主题教育项目的设计与组织（已发布）" in options
    assert not [option for option in options if "(已发布)" in option]
    assert not [option for option in options if re.search(r"\(\d+(\.\d+)?\)$", option)]


def test_task_form_options_in_english(seeded, login, english):
    page = login("trainer").get("/manage/tasks/new").get_data(as_text=True)

    assert "mid-theme-education v1 主题教育项目的设计与组织 (Published)" in _options(page)


def test_programme_form_options_in_chinese(seeded, login):
    trainer = login("trainer")
    programmes = trainer.get("/manage/programmes").get_data(as_text=True)
    links = re.findall(r'href="(/manage/programmes/\d+)"', programmes)

    options = []
    for link in sorted(set(links)):
        options += _options(trainer.get(link).get_data(as_text=True))

    assert [option for option in options if option.endswith("（已发布）")]
    assert not [option for option in options if "(已发布)" in option]

