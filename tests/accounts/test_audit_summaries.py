"""Audit summaries rendered from action and data in the reader's language."""

import ast
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Optional

import pytest
import sqlalchemy as sa

from lms import audit
from lms.audit_summaries import (
    _DERIVED,
    _NAMED_DERIVED,
    ACTION_LABELS,
    SUBJECT_TYPE_LABELS,
    TEMPLATES,
)
from lms.extensions import db
from tests.accounts.test_audit_log import person_forms
from tests.factories import build_learning_world

REPOSITORY = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("lms", "courses", "assessments", "certificates")

#: Record calls whose action is computed, by (file, function): the actions
#: each can record. A new call of this kind must be added here.
COMPUTED_ACTIONS = {
    ("certificates/services.py", "record_archived_download"): {
        "certificate.archived_pdf_downloaded",
        "certificate.archived_credential_downloaded",
    },
    ("courses/authoring.py", "_set_status"): {
        "course.published",
        "course.archived",
        "programme.published",
        "programme.archived",
    },
    ("lms/records/events.py", "record_event"): {
        "progression.recorded",
        "progression.corrected",
    },
    ("lms/promotion/review.py", "_audit_decision"): {
        "promotion.department_approved",
        "promotion.approved",
        "promotion.returned",
        "promotion.rejected",
    },
    ("assessments/services.py", "_record_grade"): {"quiz.graded", "quiz.regraded"},
    ("lms/annual_assessment/services.py", "save_scheme"): {
        "annual_assessment_scheme.created",
        "annual_assessment_scheme.updated",
        "annual_assessment_scheme.corrected",
    },
    ("lms/annual_assessment/evaluation.py", "_audit"): {
        "student_evaluation.opened",
        "student_evaluation.codes_added",
        "student_evaluation.closed",
        "student_evaluation.reopened",
        "student_evaluation.codes_voided",
        "student_evaluation.discarded",
    },
}

#: Record calls whose subject type is computed, by (file, function).
COMPUTED_SUBJECT_TYPES = {
    ("courses/authoring.py", "_set_status"): {"course", "programme"},
}

#: Placeholders every template may use besides the entry's data keys.
ENTRY_PLACEHOLDERS = (
    {"actor", "subject_id", "summary"} | set(_DERIVED) | set(_NAMED_DERIVED)
)


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
    _add(world, "certificate.issued", {"serial": "SR-0001", "hours": "8.0"}, "SR-0001 issued for someone")
    _add(world, "certificate.revoked", {"serial": "SR-0002", "reason": "重复"}, "SR-0002 revoked: dup")
    _add(world, "quiz.graded", {"score": "4.0000", "max_score": "5.0000", "passed": True,
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
        "评分表已保存：— → 8.5",
        f"用户 {entries.hr} 输入的第二步验证码错误",
    ]:
        assert text in page
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    summaries = "".join(
        row.split("<td")[5].split(">", 1)[1].split("</td>")[0]
        for row in body.split("<tr>")[1:]
    )
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


# Every recorded action is labelled ----------------------------------------


@dataclass
class RecordCall:
    """One ``audit.record(...)`` call found in the source."""

    site: tuple[str, str]  # (file relative to the repository, enclosing function)
    line: int
    actions: Optional[set[str]]  # None when the action is computed
    subject_types: Optional[set[str]]  # None when the subject type is computed
    data_keys: Optional[set[str]]  # None when ``data`` is not a dict literal


def _literal_strings(node: ast.expr) -> Optional[set[str]]:
    """Return the strings a literal or ``"a" if x else "b"`` evaluates to, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body = _literal_strings(node.body)
        orelse = _literal_strings(node.orelse)
        if body is not None and orelse is not None:
            return body | orelse
    return None


def _data_keys(call: ast.Call) -> Optional[set[str]]:
    data = next((kw.value for kw in call.keywords if kw.arg == "data"), None)
    if data is None:
        return set()
    if isinstance(data, ast.Dict) and all(
        isinstance(key, ast.Constant) and isinstance(key.value, str)
        for key in data.keys
    ):
        return {key.value for key in data.keys}
    return None


def _imports_audit(tree: ast.Module) -> bool:
    """Return whether the module imports ``lms.audit`` or its ``record`` function."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        names = {alias.name for alias in node.names}
        if node.module == "lms" and "audit" in names:
            return True
        if node.module == "lms.audit" and "record" in names:
            return True
    return False


def _is_record_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return (
            func.attr == "record"
            and isinstance(func.value, ast.Name)
            and func.value.id == "audit"
        )
    return isinstance(func, ast.Name) and func.id == "record"


class _RecordCallFinder(ast.NodeVisitor):
    """Collect a module's record calls, each with its innermost enclosing function."""

    def __init__(self, relative_path: str):
        self.relative_path = relative_path
        self.function = "<module>"
        self.calls: list[RecordCall] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if _is_record_call(node):
            self.calls.append(RecordCall(
                site=(self.relative_path, self.function),
                line=node.lineno,
                actions=_literal_strings(node.args[0]),
                subject_types=_literal_strings(node.args[1]),
                data_keys=_data_keys(node),
            ))
        self.generic_visit(node)


def _record_calls() -> list[RecordCall]:
    """Parse the application packages and return every audit record call."""
    calls = []
    for package in SOURCE_PACKAGES:
        for path in sorted((REPOSITORY / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if not _imports_audit(tree):
                continue
            finder = _RecordCallFinder(path.relative_to(REPOSITORY).as_posix())
            finder.visit(tree)
            calls.extend(finder.calls)
    return calls


def _actions_of(call: RecordCall) -> set[str]:
    if call.actions is not None:
        return call.actions
    return COMPUTED_ACTIONS.get(call.site, set())


def _recorded_actions(calls: list[RecordCall]) -> set[str]:
    return set().union(*(_actions_of(call) for call in calls))


def test_source_scan_finds_record_calls():
    calls = _record_calls()
    actions = _recorded_actions(calls)

    assert len(calls) > 40
    assert "certificate.issued" in actions
    assert "framework.published" in actions  # called as ``record(...)``
    assert "account.enabled" in actions
    assert "account.disabled" in actions


def test_computed_actions_are_listed():
    calls = _record_calls()
    unlisted = [
        f"{call.site[0]}:{call.line} in {call.site[1]}"
        for call in calls
        if call.actions is None and call.site not in COMPUTED_ACTIONS
    ]
    computed_sites = {call.site for call in calls if call.actions is None}

    assert unlisted == [], "add the actions these calls record to COMPUTED_ACTIONS"
    stale = set(COMPUTED_ACTIONS) - computed_sites
    assert stale == set(), "COMPUTED_ACTIONS lists calls that are gone"


def test_recorded_actions_have_labels():
    actions = _recorded_actions(_record_calls())

    assert sorted(actions - ACTION_LABELS.keys()) == []


def test_recorded_subject_types_have_labels():
    subject_types = set()
    unlisted = []
    for call in _record_calls():
        if call.subject_types is not None:
            subject_types |= call.subject_types
        elif call.site in COMPUTED_SUBJECT_TYPES:
            subject_types |= COMPUTED_SUBJECT_TYPES[call.site]
        else:
            unlisted.append(f"{call.site[0]}:{call.line}")

    assert unlisted == [], "add these calls' subject types to COMPUTED_SUBJECT_TYPES"
    assert sorted(subject_types - SUBJECT_TYPE_LABELS.keys()) == []


def test_templates_use_keys_every_call_passes(app_ctx, english):
    """A template may name only data keys that every call of its action passes.

    Calls whose ``data`` is not a dict literal are not checked.
    """
    problems = []
    for call in _record_calls():
        if call.data_keys is None:
            continue
        for action in _actions_of(call):
            template = TEMPLATES.get(action)
            if template is None:
                continue
            placeholders = set(re.findall(r"%\((\w+)\)s", str(template)))
            unknown = placeholders - call.data_keys - ENTRY_PLACEHOLDERS
            if unknown:
                where = f"{call.site[0]}:{call.line}"
                problems.append(f"{action} at {where}: {sorted(unknown)}")

    assert problems == []


# New templates on the audit page --------------------------------------------


@pytest.fixture
def recorded(world):
    """Record entries through the services that write them, plus two by hand."""
    from assessments.marking import set_grant
    from assessments.models import Quiz
    from certificates import serials
    from courses.authoring import archive_programme
    from courses.models import Programme
    from lms.accounts.models import User
    from lms.compliance.models import CadreRank, PartyStatus
    from lms.organisations.models import Institution
    from lms.promotion.services import set_hr_scope
    from lms.records.events import record_event, update_profile
    from lms.records.models import ProgressionKind

    admin = db.session.get(User, world.admin)
    counselor = db.session.get(User, world.counselor)
    set_hr_scope(db.session.get(User, world.hr), world.school, admin)
    update_profile(
        counselor,
        admin,
        party_status=PartyStatus.MEMBER,
        party_committee_member=False,
        cadre_rank=CadreRank.CLERK,
        full_time=None,
        post_started_on=None,
    )
    record_event(
        counselor,
        admin,
        ProgressionKind.ASSESSMENT_GRADE,
        date(2026, 1, 5),
        {"grade": "excellent", "year": 2025},
    )
    set_grant(
        db.session.get(Quiz, world.quiz),
        counselor,
        {"extra_minutes": "10", "extra_attempts": "1", "reason": "病假补考"},
        admin,
    )
    serials.update_settings(
        db.session.get(Institution, world.uni_a),
        prefix="JA",
        pattern="{prefix}-{year}-{seq:06d}",
        renewal_window_days=90,
        actor=admin,
    )
    archive_programme(db.session.get(Programme, world.programme), admin)
    _add(world, "class.attendance_marked",
         {"session_id": 7, "status": "late", "previous": None},
         "张老师, 2026-03-02 第一讲: late")
    _add(world, "certificate.batch_finished",
         {"pending": 0, "issued": 3, "existing": 1, "failed": 0, "total": 4},
         "3 issued, 1 already held, 0 failed", actor=None)
    db.session.commit()
    return world


def _summary_cells(page: str) -> dict[str, str]:
    """Return (action label, summary) by action code; the oldest row of a code wins."""
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    cells = {}
    for row in body.split("<tr>")[1:]:
        action = row.split('data-action="')[1].split('"')[0]
        columns = [cell.split("</td>")[0] for cell in row.split("<td")[1:]]
        cells[action] = (columns[2].split(">", 1)[1], columns[4].split(">", 1)[1])
    return cells


def test_new_templates_in_chinese(recorded, login):
    page = login("admin").get("/admin/audit").get_data(as_text=True)
    cells = _summary_cells(page)

    assert cells["account.hr_scope_changed"][0] == "变更人事管理范围"
    assert cells["account.hr_scope_changed"][1] in {
        f"admin 将用户 {person} 的人事管理范围由“全单位”改为“教育学院”"
        for person in person_forms("钱人事", "hr")
    }
    assert cells["profile.updated"][0] == "更新个人信息"
    assert cells["profile.updated"][1] in {
        f"用户 {person} 的个人信息已更新：干部职级和政治面貌"
        for person in person_forms("张老师", "counselor1")
    }
    assert cells["progression.recorded"] == (
        "添加履历记录",
        "张老师: 2025年度考核：优秀，日期：2026年1月5日",
    )
    assert cells["quiz.grant_set"][0] == "设置测验额外作答次数"
    assert cells["quiz.grant_set"][1] in {
        f"用户 {person} 获得延长 10 分钟、增加 1 次作答：病假补考"
        for person in person_forms("张老师", "counselor1")
    }
    assert cells["certificate_settings.saved"] == (
        "保存证书设置",
        "证书设置已保存：编号格式 {prefix}-{year}-{seq:06d}，前缀 JA，续期窗口 90 天"
        "（原为：编号格式 {prefix}-{year}-{seq:06d}，前缀 UNI-，续期窗口 90 天）",
    )
    assert cells["programme.archived"] == ("归档培训项目", "状态：已发布 → 已归档")
    assert cells["class.attendance_marked"] == (
        "登记考勤",
        "场次 7 的考勤登记为“迟到”（原为：—）",
    )
    assert cells["certificate.batch_finished"] == (
        "批量发证完成",
        "批量发证完成：颁发 3 份，1 份已持有，0 份因证书已撤销而跳过，0 份失败",
    )


def test_new_templates_in_english(recorded, login, english):
    page = login("admin").get("/admin/audit").get_data(as_text=True)
    cells = _summary_cells(page)

    assert cells["account.hr_scope_changed"][1] == (
        "admin changed the HR scope of user 钱人事 (hr) from the whole institution to 教育学院"
    )
    assert cells["profile.updated"][1] == (
        "Profile of user 张老师 (counselor1) updated: Cadre rank and Party status"
    )
    assert cells["progression.recorded"][1] == (
        "张老师: Annual assessment 2025: Excellent, dated 2026-01-05"
    )
    assert cells["programme.archived"] == ("Programme archived", "Status: Published → Archived")


# Record titles the platform wrote, in the reader's language ------------------


def _record_grade(world):
    from lms.accounts.models import User
    from lms.records.events import record_event
    from lms.records.models import ProgressionKind

    entry = record_event(
        db.session.get(User, world.counselor),
        db.session.get(User, world.admin),
        ProgressionKind.ASSESSMENT_GRADE,
        date(2026, 1, 5),
        {"grade": "excellent", "year": 2025},
    )
    db.session.commit()
    return entry


def _row(page: str, action: str) -> list[str]:
    """Return the cells of the first row of ``action`` on the audit page."""
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    for row in body.split("<tr>")[1:]:
        if f'data-action="{action}"' in row:
            return [cell.split("</td>")[0].split(">", 1)[1] for cell in row.split("<td")[1:]]
    raise AssertionError(f"no {action} row")


def test_record_title_in_english(world, login, english):
    _record_grade(world)

    page = login("admin").get("/admin/audit?action=progression.").get_data(as_text=True)
    cells = _row(page, "progression.recorded")

    assert cells[3] == "Career record 张老师: Annual assessment 2025: Excellent"
    assert cells[4] == "张老师: Annual assessment 2025: Excellent, dated 2026-01-05"
    assert "年度考核" not in page.split("<tbody>")[1]


def test_record_title_in_chinese(world, login):
    _record_grade(world)

    page = login("admin").get("/admin/audit?action=progression.").get_data(as_text=True)
    cells = _row(page, "progression.recorded")

    assert cells[3] == "履历记录 张老师：2025年度考核：优秀"
    assert cells[4] == "张老师: 2025年度考核：优秀，日期：2026年1月5日"


def test_plain_record_title_kept(world, login, english):
    """Entries without stored-text titles, and summaries that do not end in the title, stay."""
    from lms.records.models import ProgressionEntry

    entry = _record_grade(world)
    entry.title_data = None
    other = _record_grade(world)
    rewritten = db.session.scalars(
        sa.select(audit.AuditEntry).where(audit.AuditEntry.subject_id == other.id)
    ).one()
    rewritten.summary = "改写的摘要"
    db.session.commit()

    page = login("admin").get("/admin/audit?action=progression.").get_data(as_text=True)

    assert "张老师: 2025年度考核：优秀, dated 2026-01-05" in page
    assert "改写的摘要, dated 2026-01-05" in page
    assert "Annual assessment 2025: Excellent, dated" not in page
    assert db.session.get(ProgressionEntry, other.id).title_data is not None


def test_record_titles_of_own_institution_only(world):
    from lms.audit_subjects import StoredTitle, load_titles

    entry = _record_grade(world)
    key = ("progression_entry", entry.id)

    assert load_titles([key], world.uni_b) == {}
    assert load_titles([key, ("progression_entry", 0)], world.uni_a) == {
        key: StoredTitle("2025年度考核：优秀", "2025年度考核：优秀")
    }


# Counts of one in English summaries ------------------------------------------


@pytest.fixture
def counted_once(world):
    _add(world, "account.sessions_ended", {"sessions_ended": 1}, "admin ended 1")
    _add(world, "account.password_changed", {"sessions_ended": 1}, "password changed")
    _add(world, "certificate.batch_created",
         {"people": 1, "programme_id": 5, "programme_title": "新任辅导员培训"},
         "batch of 1")
    _add(world, "certificate_settings.saved",
         {"pattern": "{seq}", "prefix": "JA", "renewal_window_days": 1,
          "previous": {"pattern": "{seq}", "prefix": "UNI-", "renewal_window_days": 1}},
         "settings saved")
    db.session.commit()
    return world


def test_counts_of_one_in_english(counted_once, login, english):
    page = login("admin").get("/admin/audit").get_data(as_text=True)
    cells = _summary_cells(page)

    assert cells["account.sessions_ended"][1] == "admin ended 1 session of user 1"
    assert cells["account.password_changed"][1] == (
        "admin changed the password; 1 other session ended"
    )
    assert cells["certificate.batch_created"][1] == (
        "Batch of 1 certificate created for programme 新任辅导员培训"
    )
    assert cells["certificate_settings.saved"][1] == (
        "Certificate settings saved: serial pattern {seq}, prefix JA, renewal window"
        " 1 day (before: serial pattern {seq}, prefix UNI-, renewal window 1 day)"
    )


def test_counts_of_one_in_chinese(counted_once, login):
    page = login("admin").get("/admin/audit").get_data(as_text=True)
    cells = _summary_cells(page)

    assert cells["account.sessions_ended"][1] == "admin 结束了用户 1 的 1 个会话"
    assert cells["account.password_changed"][1] == "admin 修改了密码，结束了其他 1 个会话"
    assert cells["certificate.batch_created"][1] == (
        "已为培训项目 新任辅导员培训 创建批量发证任务，共 1 份证书"
    )
    assert cells["certificate_settings.saved"][1] == (
        "证书设置已保存：编号格式 {seq}，前缀 JA，续期窗口 1 天"
        "（原为：编号格式 {seq}，前缀 UNI-，续期窗口 1 天）"
    )


@pytest.fixture
def evaluation_counted_once(world):
    for verb, data in [
        ("opened", {"student_count": 1, "codes": 1, "minimum": 1}),
        ("codes_added", {"codes": 1, "issued": 2}),
        ("closed", {"responses": 1}),
        ("codes_voided", {"count": 1, "void": 1, "issued": 2}),
        ("discarded", {"issued": 1, "used": 1, "void": 0, "responses": 1,
                       "reason": "重复"}),
    ]:
        _add(world, f"student_evaluation.{verb}", data, "张老师: 2025")
    db.session.commit()
    return world


def test_evaluation_counts_of_one_in_english(evaluation_counted_once, login, english):
    page = login("admin").get("/admin/audit").get_data(as_text=True)
    cells = _summary_cells(page)

    assert cells["student_evaluation.opened"][1] == (
        "张老师: 2025: student evaluation opened for 1 student with 1 code (at least 1)"
    )
    assert cells["student_evaluation.codes_added"][1] == (
        "张老师: 2025: 1 evaluation code added, 2 in all"
    )
    assert cells["student_evaluation.closed"][1] == (
        "张老师: 2025: student evaluation closed with 1 response"
    )
    assert cells["student_evaluation.codes_voided"][1] == (
        "张老师: 2025: 1 evaluation code voided, 1 of 2 void in all"
    )
    assert cells["student_evaluation.discarded"][1] == (
        "张老师: 2025: student evaluation discarded with 1 code (1 used, 0 void)"
        " and 1 response: 重复"
    )


def test_evaluation_counts_of_one_in_chinese(evaluation_counted_once, login):
    page = login("admin").get("/admin/audit").get_data(as_text=True)
    cells = _summary_cells(page)

    assert cells["student_evaluation.opened"][1] == (
        "张老师: 2025：已为 1 名学生开启学生评议，发放 1 个评议码（至少 1 个）"
    )
    assert cells["student_evaluation.codes_added"][1] == "张老师: 2025：新增 1 个评议码，共 2 个"
    assert cells["student_evaluation.closed"][1] == "张老师: 2025：学生评议已结束，共 1 份答卷"
    assert cells["student_evaluation.codes_voided"][1] == (
        "张老师: 2025：作废评议码 1 个，已发放 2 个中共作废 1 个"
    )
    assert cells["student_evaluation.discarded"][1] == (
        "张老师: 2025：已删除学生评议，含评议码 1 个（已使用 1 个，已作废 0 个）和答卷 1 份，"
        "原因：重复"
    )
