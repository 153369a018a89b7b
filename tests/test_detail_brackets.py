"""Rubric levels and framework versions put their details in the reader's brackets."""

import re


def _rubric_levels(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", item).strip() for item in re.findall(r"<li>(.*?)</li>", page, re.S)]


def _first_rubric(client) -> str:
    rubrics = client.get("/manage/rubrics").get_data(as_text=True)
    return re.search(r'href="(/manage/rubrics/\d+)"', rubrics).group(1)


def test_rubric_levels_in_chinese(seeded, login):
    trainer = login("trainer")

    levels = _rubric_levels(trainer.get(_first_rubric(trainer)).get_data(as_text=True))

    described = [level for level in levels if level.startswith("<strong>") and "）：" in level]
    assert described
    assert not [level for level in levels if level.startswith("<strong>") and "): " in level]


def test_rubric_levels_in_english(seeded, login, english):
    trainer = login("trainer")

    levels = _rubric_levels(trainer.get(_first_rubric(trainer)).get_data(as_text=True))

    assert [level for level in levels if level.startswith("<strong>") and "): " in level]


def test_framework_version_in_chinese(seeded, login):
    trainer = login("trainer")

    index = trainer.get("/frameworks").get_data(as_text=True)
    link = re.search(r'href="(/frameworks/\d+)"', index).group(1)
    detail = trainer.get(link).get_data(as_text=True)

    assert re.search(r"（#\d+）", index)
    assert re.search(r"（#\d+）", detail)
    assert not re.search(r" \(#\d+\)", index + detail)
