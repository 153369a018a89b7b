"""Form text reaches the views without NUL characters, on every database."""

import re

import sqlalchemy as sa
from flask import request
from werkzeug.datastructures import MultiDict

from lms.accounts.models import User
from lms.annual_assessment.models import AnnualAssessment
from lms.extensions import db


def test_self_report_drops_nul_characters(seeded, app_ctx, login):
    counselor = login("counselor1")
    page = counselor.get("/annual-assessment/mine").get_data(as_text=True)
    scheme = re.search(r"/annual-assessment/mine/self-report\?scheme=(\d+)", page).group(1)

    response = counselor.post(
        f"/annual-assessment/mine/self-report?scheme={scheme}",
        data={"self_report": "全年\x00谈心谈话 120 人次"},
    )

    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "counselor1"))
    report = db.session.scalar(
        sa.select(AnnualAssessment.self_report).where(AnnualAssessment.user_id == user.id)
    )
    assert report == "全年谈心谈话 120 人次"


def test_nul_removed_from_repeated_field(app):
    data = MultiDict([("posts", "辅导员"), ("posts", "组织\x00员"), ("note", "无")])
    with app.test_request_context("/", method="POST", data=data):
        assert request.form.getlist("posts") == ["辅导员", "组织员"]
        assert request.form["note"] == "无"
