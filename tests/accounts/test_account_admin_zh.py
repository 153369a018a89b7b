"""The account creation and edit pages in the default language, Chinese."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db


def test_new_account_page_in_chinese(seeded, app_ctx, login):
    page = login("admin").get("/people/new").get_data(as_text=True)

    assert "创建账号" in page
    assert "初始密码" in page or "随机初始密码" in page


def test_new_account_errors_in_chinese(seeded, app_ctx, login):
    values = {"username": "counselor1", "full_name": "王敏", "role": "counselor",
              "email": "not-an-address"}

    response = login("admin").post("/people/new", data=values)

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "用户名：counselor1 已被使用，请换一个用户名。" in text
    assert "电子邮箱：not-an-address 不是电子邮箱地址。" in text


def test_edit_page_in_chinese(seeded, app_ctx, login):
    counselor_id = db.session.scalar(sa.select(User.id).filter_by(username="counselor1"))

    page = login("admin").get(f"/people/{counselor_id}/account/edit").get_data(as_text=True)

    assert "每次修改都会连同修改前后的值记入审计日志。" in page
