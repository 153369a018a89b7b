"""The learner's class list says which open classes they cannot join themselves."""

ASSIGNED_NOTE = "本班名额由培训师指定。"
AUDIENCE_NOTE = "该培训班的培训项目面向其他岗位，因此不能自行报名。"


def test_organiser_told_class_is_for_other_posts(app_ctx, seeded, login):
    page = login("organiser").get("/classes").get_data(as_text=True)

    assert "新入职辅导员岗前培训班" in page
    assert AUDIENCE_NOTE in page


def test_assigned_class_says_trainers_assign(app_ctx, seeded, login):
    page = login("counselor1").get("/classes").get_data(as_text=True)

    assert ASSIGNED_NOTE in page


def test_joinable_class_has_no_note(app_ctx, seeded, login):
    counselor = login("counselor1")
    counselor.post("/language/zh_CN")

    page = counselor.get("/classes").get_data(as_text=True)
    joinable = page.split("新入职辅导员岗前培训班", 1)[1].split("</li>", 1)[0]

    assert AUDIENCE_NOTE not in joinable
    assert ASSIGNED_NOTE not in joinable
