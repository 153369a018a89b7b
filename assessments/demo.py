"""Demo question bank for the seed: one question of every kind, in two categories;
and the demo essay answer that awaits a trainer's grade.

The facts come from 《普通高等学校辅导员队伍建设规定》 (教育部令第43号, 2017):
in force from 2017-10-01, nine duties in 第五条, full-time counselor posts at
no less than 1 counselor per 200 students overall.
"""

import sqlalchemy as sa

from datetime import timedelta

from assessments import banks, logger, services
from assessments.models import QuestionBank, QuestionKind, Quiz
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db

BANK_NAME = "辅导员队伍建设规定题库"
POLICY = "队伍建设规定"
DUTIES = "工作职责"

#: (category, question form values). Every question explains its answer.
QUESTIONS = [
    (POLICY, {
        "kind": "single",
        "text": "《普通高等学校辅导员队伍建设规定》（教育部令第43号）自何时起施行？",
        "choice_1": "2017年10月1日", "correct_1": "1",
        "choice_2": "2006年9月1日",
        "choice_3": "2017年9月21日",
        "explanation": "第43号令2017年9月21日公布，自2017年10月1日起施行。",
        "tags_topic": "政策法规",
    }),
    (POLICY, {
        "kind": "true_false",
        "text": "高校应按总体上师生比不低于1:200的比例设置专职辅导员岗位。",
        "choice_1": "正确", "correct_1": "1", "choice_2": "错误",
        "explanation": "第43号令要求专职辅导员总体上师生比不低于1:200。",
        "tags_topic": "队伍配备",
    }),
    (POLICY, {
        "kind": "fill_blank",
        "text": "第43号令取代了2006年发布的教育部令第 _____ 号。",
        "blanks": "24 | 二十四",
        "explanation": "第43号令取代2006年的教育部令第24号。",
        "tags_topic": "政策法规",
    }),
    (POLICY, {
        "kind": "short_answer",
        "text": "专职辅导员岗位的配备比例，总体上师生比不低于多少？",
        "accepted": "1:200\n1∶200\n一比二百",
        "explanation": "总体上师生比不低于1:200。",
        "tags_topic": "队伍配备",
    }),
    (DUTIES, {
        "kind": "multiple",
        "scoring": "partial_penalty",
        "points": "2",
        "text": "下列哪些属于第43号令第五条规定的辅导员职责？",
        "choice_1": "心理健康教育与咨询工作", "correct_1": "1",
        "choice_2": "网络思想政治教育", "correct_2": "1",
        "choice_3": "校园危机事件应对", "correct_3": "1",
        "choice_4": "学生宿舍维修",
        "explanation": "第五条列出九项职责，宿舍维修不在其中。",
        "tags_functional_area": "心理健康教育与咨询工作, 网络思想政治教育, 校园危机事件应对",
    }),
    (DUTIES, {
        "kind": "matching",
        "points": "2",
        "text": "将职责与其在第五条中的序号对应。",
        "choice_1": "思想理论教育和价值引领", "match_1": "第一项",
        "choice_2": "党团和班级建设", "match_2": "第二项",
        "choice_3": "学风建设", "match_3": "第三项",
        "match_4": "第十项",
        "explanation": "第五条依次列出九项职责；没有第十项。",
        "tags_topic": "职责",
    }),
    (DUTIES, {
        "kind": "ordering",
        "text": "按第五条中的先后顺序排列下列职责。",
        "choice_1": "学生日常事务管理",
        "choice_2": "心理健康教育与咨询工作",
        "choice_3": "网络思想政治教育",
        "choice_4": "校园危机事件应对",
        "explanation": "它们是第五条的第四至第七项。",
        "tags_topic": "职责",
    }),
    (DUTIES, {
        "kind": "essay",
        "points": "5",
        "text": "结合第五条的九项职责，谈谈辅导员如何做好校园危机事件应对。",
        "scoring_points": "2 | 说明危机事件应对在九项职责中的位置\n3 | 提出预防、处置和事后跟进的具体做法",
        "explanation": "评分看两点：职责定位和具体做法。",
        "tags_functional_area": "校园危机事件应对",
        "tags_level": "初级",
    }),
]


def seed_demo_bank(institution_id: int, author: User) -> bool:
    """Create the demo bank unless the institution has it; return whether it was created."""
    exists = db.session.scalar(
        sa.select(QuestionBank.id).filter_by(institution_id=institution_id, name=BANK_NAME)
    )
    if exists:
        return False
    bank = banks.create_bank(
        institution_id, {"name": BANK_NAME, "description": "示例题库：每种题型各一道。"}, author
    )
    top = bank.categories[0]
    categories = {
        name: banks.create_category(bank, {"name": name, "parent_id": str(top.id)}, author)
        for name in (POLICY, DUTIES)
    }
    for category, values in QUESTIONS:
        banks.save_bank_question(categories[category], {"points": "1", **values}, author)
    logger.info("Demo question bank %s created", bank.id)
    return True


#: How long before its submission the demo essay attempt was started.
ESSAY_WRITING_TIME = timedelta(minutes=40)


def submit_essay_attempt(learner: User, quiz: Quiz, essay: str) -> bool:
    """Start and submit an attempt of ``learner`` that answers each essay with ``essay``.

    Does nothing when the learner has an attempt at ``quiz`` already. Return
    whether an attempt was submitted.
    """
    if services.attempts_for(learner, quiz):
        return False
    submitted_at = now_utc()
    attempt = services.start_attempt(learner, quiz, now=submitted_at - ESSAY_WRITING_TIME)
    responses = {
        slot.question_id: essay
        for slot in attempt.questions
        if slot.question.kind is QuestionKind.ESSAY
    }
    services.submit_attempt(attempt, responses, now=submitted_at)
    logger.info("Demo essay attempt %s of %r submitted", attempt.id, learner)
    return True
