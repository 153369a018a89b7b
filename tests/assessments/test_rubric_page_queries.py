"""The rubric list and the task form load rubrics with their criteria and levels."""

from tests.test_query_budgets import queries_for

DEFINITION = "案例分析 | 1\n- 优秀 | 50 | 全面\n- 合格 | 30 | 基本\n语言表达 | 1\n- 优秀 | 50 | 流畅\n- 合格 | 20 | 通顺"


def _add_rubrics(trainer, count: int, start: int) -> None:
    for number in range(start, start + count):
        response = trainer.post(
            "/manage/rubrics/new",
            data={
                "code": f"case-{number}",
                "title": f"案例评分{number}",
                "description": "",
                "definition": DEFINITION,
            },
        )
        assert response.status_code == 302


def test_rubric_pages_do_not_grow_with_rubrics(app, world, login):
    trainer = login("trainer")
    pages = ("/manage/rubrics", "/manage/tasks/new")

    _add_rubrics(trainer, 1, 0)
    few = [queries_for(app, trainer.client, page) for page in pages]
    _add_rubrics(trainer, 6, 1)
    many = [queries_for(app, trainer.client, page) for page in pages]

    assert many[0] <= few[0], (few, many)
    assert many[1] <= few[1], (few, many)
