"""Audit summaries rendered from action and data in the reader's language."""

import pytest

from lms import audit
from lms.extensions import db
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _add(world, action, data, summary, *, subject_id=1, actor="admin"):
    audit.record(
        action,
        "thing",
        subject_id,
        summary,
        actor_id=getattr(world, actor) if actor else None,
        institution_id=world.uni_a,
        data=data,
    )


@pytest.fixture
def entries(world):
    _add(world, "certificate.issued", {"serial": "SR-0001", "hours": "8"}, "SR-0001 issued for someone")
    _add(world, "certificate.revoked", {"serial": "SR-0002", "reason": "重复"}, "SR-0002 revoked: dup")
    _add(world, "quiz.graded", {"score": "4", "max_score": "5", "passed": True,
                                "needs_grading": False}, "Quiz: 4/5")
    _add(world, "promotion.approved", {"step": "institution", "outcome": "approve"},
         "Someone: A → B, institution approve")
    _add(world, "external_training.rejected", {"reason": "无证明"}, "Someone: course")
    _add(world, "job.run_now", {"job_id": "nightly", "ok": True}, "admin ran job nightly by hand: ok")
    _add(world, "job.pause", {"job_id": "nightly"}, "admin paused job nightly")
    _add(world, "job.resume", {"job_id": "nightly"}, "admin resumed job nightly")
    _add(world, "task.scored", {"before": None, "after": "8.50"}, "A1B2: — -> 8.5")
    _add(world, "account.two_factor_failed", {}, "wrong second-factor code for hr",
         subject_id=world.hr, actor="hr")
    _add(world, "account.login_failed", {"username": "x", "ip": "127.0.0.1"},
         "failed login as 'x' from 127.0.0.1", actor=None)
    db.session.commit()
    return world


ENGLISH_WORDS = ["issued", "revoked", "ran job", "by hand", "paused", "resumed",
                 "logged in", "failed login", "Failed login", "approve", "graded",
                 "Score sheet", "second-factor"]


def test_audit_page_in_chinese(entries, login):
    page = login("admin").get("/admin/audit").get_data(as_text=True)

    for text in [
        "证书 SR-0001 已颁发（8 学时）",
        "证书 SR-0002 已撤销：重复",
        "测验作答已评分：4/5，已通过",
        "学校审核：已通过",
        "校外培训未予认定：无证明",
        "admin 手动运行了任务 nightly：成功",
        "admin 暂停了任务 nightly",
        "admin 恢复了任务 nightly",
        "从 127.0.0.1 以“x”登录失败",
        "admin 从 127.0.0.1 登录（密码）",
        "评分表已保存：— → 8.50",
        f"用户 {entries.hr} 输入的第二步验证码错误",
    ]:
        assert text in page
    summaries = page.split("<tbody>")[1].split("</tbody>")[0]
    summaries = "".join(cell.split("</td>")[0] for cell in summaries.split("<td>")[5::5])
    for word in ENGLISH_WORDS:
        assert word not in summaries


def test_audit_page_in_english(entries, login, english):
    page = login("admin").get("/admin/audit").get_data(as_text=True)

    assert "Certificate SR-0001 issued (8 hours)" in page
    assert "admin ran job nightly by hand: succeeded" in page
    assert "Institution review: approved" in page


def test_unknown_action_shows_stored_summary(world, login):
    _add(world, "widget.polished", {}, "admin polished widget 7")
    db.session.commit()

    page = login("admin").get("/admin/audit?action=widget.").get_data(as_text=True)

    assert "admin polished widget 7" in page


def test_missing_data_key_shows_stored_summary(world, login):
    _add(world, "certificate.revoked", {"serial": "SR-9"}, "SR-9 revoked: stored reason")
    db.session.commit()

    page = login("admin").get("/admin/audit?action=certificate.").get_data(as_text=True)

    assert "SR-9 revoked: stored reason" in page
