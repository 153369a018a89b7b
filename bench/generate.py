"""Generate a national-scale data set for benchmarks.

    python -m bench.generate --tier M --database-url sqlite:///bench/data/m.sqlite3

Tiers: S (2,500 users), M (25,000) and L (270,000, PostgreSQL only). The demo
seed runs first, so the demo university, its accounts, framework, real
programme and compliance rules exist; the generator then adds provinces'
worth of institutions, departments, counselors and party-work staff, each
institution's courses, lessons, quizzes and programmes, and per person ten
enrolments, lesson progress, course completions with their hours-ledger
rows, quiz attempts with answers, certificates and progression entries.

The random seed is fixed, so a tier always yields the same rows. Rows are
written in bulk (COPY on PostgreSQL, executemany on SQLite) with ids chosen
here, so no row is read back while generating.
"""

import argparse
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Iterable

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from bench.inputs import absolute_sqlite_url, require_empty_database

logger = logging.getLogger("bench.generate")

TIERS = {"S": 2_500, "M": 25_000, "L": 270_000}
#: Learners of the demo university, the "institution of 5,000 people".
DEMO_INSTITUTION_USERS = {"S": 1_000, "M": 5_000, "L": 5_000}
#: Learners of the first province, the "province of 50,000" (L only).
BIG_PROVINCE_USERS = {"S": 1_500, "M": 15_000, "L": 50_000}
BENCH_PASSWORD = "bench-pass-2026"
SEED = 20261204

PROVINCES = [
    "江苏省", "北京市", "上海市", "天津市", "重庆市", "河北省", "山西省", "辽宁省",
    "吉林省", "黑龙江省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省",
    "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省",
    "甘肃省", "青海省", "内蒙古自治区", "广西壮族自治区", "西藏自治区",
    "宁夏回族自治区", "新疆维吾尔自治区",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
COMPOUND_SURNAMES = ["欧阳", "司马", "诸葛", "上官", "慕容", "东方"]
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲菊辉建国志雪梅晓婷宇浩然子轩欣怡佳琪思远嘉懿"
DEPARTMENTS = [
    "马克思主义学院", "文学院", "历史学院", "数学科学学院", "物理学院", "化学学院", "生命科学学院",
    "经济学院", "法学院", "教育学院", "外国语学院", "计算机学院", "机械工程学院", "医学院",
    "艺术学院", "体育学院", "新闻传播学院", "管理学院",
]
COURSE_TOPICS = [
    "学生心理危机识别与干预", "网络思想政治教育", "资助育人工作实务", "学风建设与学业指导",
    "职业生涯规划与就业指导", "班级建设与主题班会设计", "校园危机事件应对", "党团和班级建设",
]
LESSON_TEXT = (
    "<p>本节围绕辅导员日常工作中的典型情境展开，结合政策文件和真实案例，"
    "说明工作要点、常见误区与处理流程。学习后请完成本节小结。</p>"
)


@dataclass
class Counts:
    rows: dict

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


class Writer:
    """Buffers rows per table and writes them in bulk."""

    def __init__(self, engine: sa.Engine, metadata: sa.MetaData, batch: int = 50_000):
        #: Parents before children, so that every flush satisfies foreign keys.
        self.table_order = [table.name for table in metadata.sorted_tables]
        self.metadata = metadata
        self.defaults: dict[str, dict] = {}
        self.engine = engine
        self.dialect = engine.dialect.name
        self.batch = batch
        self.buffers: dict[str, tuple[list[str], list[tuple]]] = {}
        self.next_ids: dict[str, int] = {}
        self.counts = Counts({})

    def next_id(self, table: str) -> int:
        if table not in self.next_ids:
            with self.engine.connect() as conn:
                current = conn.scalar(sa.text(f'SELECT MAX(id) FROM "{table}"'))
            self.next_ids[table] = (current or 0) + 1
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def _defaults(self, table: str, given: dict) -> dict:
        """Values of the NOT NULL columns a row leaves out, from the models' defaults.

        ``create_all`` gives the tables no server defaults, so columns added to
        the models after this generator was written still get a value.
        """
        if table not in self.defaults:
            values = {}
            for column in self.metadata.tables[table].columns:
                if column.name in given or column.nullable or column.primary_key:
                    continue
                default = column.default
                if default is None:
                    continue
                if default.is_callable:
                    value = default.arg(None)
                else:
                    value = default.arg
                values[column.name] = value
            self.defaults[table] = values
        return self.defaults[table]

    def add(self, table: str, row: dict) -> None:
        row = {**self._defaults(table, row), **row}
        columns, rows = self.buffers.setdefault(table, (list(row), []))
        rows.append(tuple(row[c] for c in columns))
        if len(rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        for name in self.table_order:
            columns, rows = self.buffers.get(name, ([], []))
            if rows:
                self._write(name, columns, rows)
                self.counts.add(name, len(rows))
                rows.clear()

    def _write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if self.dialect == "postgresql":
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                names = ", ".join(f'"{c}"' for c in columns)
                with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row([_copy_value(v) for v in row])
                raw.commit()
            finally:
                raw.close()
            return
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        values = [tuple(_sqlite_value(v) for v in row) for row in rows]
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', values)

    def finish(self) -> None:
        self.flush()
        if self.dialect == "postgresql":
            with self.engine.begin() as conn:
                for table in self.next_ids:
                    conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                            f'(SELECT MAX(id) FROM "{table}"))'
                        )
                    )
                conn.execute(sa.text("ANALYZE"))
        else:
            with self.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))


def _copy_value(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _sqlite_value(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        return str(value)
    return value


def chinese_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.3 else 2))
    return surname + given


def _moment(rng: random.Random, start: date, days: int) -> datetime:
    day = start + timedelta(days=rng.randrange(days))
    return datetime(day.year, day.month, day.day, rng.randrange(1, 14), rng.randrange(60),
                    tzinfo=timezone.utc)


def institution_sizes(tier: str, rng: random.Random) -> list[tuple[str, int]]:
    """Return (province, learners) per synthetic institution, demo university excluded."""
    remaining = TIERS[tier] - DEMO_INSTITUTION_USERS[tier]
    big_province = BIG_PROVINCE_USERS[tier] - DEMO_INSTITUTION_USERS[tier]
    sizes = []
    while remaining > 0:
        size = min(remaining, rng.randint(40, 160))
        if big_province > 0:
            province = PROVINCES[0]
            big_province -= size
        else:
            province = PROVINCES[1 + len(sizes) % (len(PROVINCES) - 1)]
        sizes.append((province, size))
        remaining -= size
    return sizes


class Generator:
    def __init__(self, engine: sa.Engine, tier: str, metadata: sa.MetaData):
        self.tier = tier
        self.rng = random.Random(SEED)
        self.writer = Writer(engine, metadata)
        self.password_hash = generate_password_hash(BENCH_PASSWORD, "pbkdf2:sha256:1000")
        self.now = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
        self.framework_items: list[int] = []

    # -- content ---------------------------------------------------------------

    def institution_content(self, institution_id: int, code: str) -> list[dict]:
        """Add 8 courses with lessons and a quiz each, and 10 programmes of 3 courses."""
        w = self.writer
        courses = []
        for number, topic in enumerate(COURSE_TOPICS):
            course_id = w.next_id("course")
            hours = Decimal(self.rng.choice(["2", "3", "4", "6"]))
            w.add("course", {
                "id": course_id, "institution_id": institution_id, "code": f"{code}-c{number}",
                "title": topic, "summary": f"{topic}专题课程", "credit_hours": hours,
                "status": "published",
            })
            lessons = []
            for position in range(1, 5):
                lesson_id = w.next_id("lesson")
                w.add("lesson", {
                    "id": lesson_id, "course_id": course_id, "position": position,
                    "title": f"{topic}（第{position}讲）", "kind": "text",
                    "body_html": LESSON_TEXT, "duration_minutes": 45,
                })
                lessons.append(lesson_id)
            quiz_id = w.next_id("quiz")
            w.add("quiz", {
                "id": quiz_id, "course_id": course_id, "title": f"{topic}测验",
                "instructions": "", "pass_mark": 60, "max_attempts": 3,
                "time_limit_minutes": 30,
            })
            questions = []
            for position in range(1, 11):
                question_id = w.next_id("question")
                w.add("question", {
                    "id": question_id, "quiz_id": quiz_id, "position": position,
                    "kind": "single", "text": f"{topic}第{position}题：下列做法正确的是？",
                    "points": Decimal(10), "explanation": "",
                })
                choices = []
                for choice_position in range(1, 5):
                    choice_id = w.next_id("choice")
                    w.add("choice", {
                        "id": choice_id, "question_id": question_id,
                        "position": choice_position, "text": f"选项{choice_position}",
                        "is_correct": choice_position == 1,
                    })
                    choices.append(choice_id)
                questions.append((question_id, choices))
            courses.append({"id": course_id, "title": topic, "hours": hours,
                            "lessons": lessons, "quiz": quiz_id, "questions": questions})
        programmes = []
        for number in range(10):
            programme_id = w.next_id("programme")
            members = [courses[(number + k) % len(courses)] for k in range(3)]
            w.add("programme", {
                "id": programme_id, "institution_id": institution_id,
                "code": f"{code}-p{number}", "title": f"{2025 + number % 2}年辅导员专题培训{number + 1}",
                "summary": "", "tier": "school", "kind": "thematic" if number else "pre_job",
                "level": "junior", "audience": "专职辅导员", "status": "published",
                "certificate_validity_months": None,
            })
            for position, course in enumerate(members, start=1):
                w.add("programme_course", {
                    "id": w.next_id("programme_course"), "programme_id": programme_id,
                    "course_id": course["id"], "position": position, "required": True,
                })
            programmes.append({"id": programme_id, "courses": members,
                               "hours": sum(c["hours"] for c in members),
                               "title": f"{2025 + number % 2}年辅导员专题培训{number + 1}"})
        return programmes

    # -- people ----------------------------------------------------------------

    def add_user(self, institution_id, department_id, username, role, post) -> int:
        user_id = self.writer.next_id("user")
        self.last_name = chinese_name(self.rng)
        self.writer.add("user", {
            "id": user_id, "username": username, "password_hash": self.password_hash,
            "full_name": self.last_name, "employee_no": f"{user_id:08d}",
            "email": None, "role": role, "post": post, "institution_id": institution_id,
            "department_id": department_id, "locale": None, "active": True,
            "password_must_change": False, "created_at": self.now,
        })
        return user_id

    def learner_activity(self, user_id: int, institution: dict, programmes: list[dict]) -> None:
        w, rng = self.writer, self.rng
        completed_programmes = rng.randint(2, 4)
        # Programmes share courses: each lesson and course counts once per person.
        lessons_done: set[int] = set()
        courses_done: set[int] = set()
        for index, programme in enumerate(programmes):
            enrolled_at = _moment(rng, date(2025, 1, 1), 600)
            done = index < completed_programmes
            enrolment_id = w.next_id("enrolment")
            finished_at = enrolled_at + timedelta(days=rng.randint(3, 60)) if done else None
            w.add("enrolment", {
                "id": enrolment_id, "user_id": user_id, "programme_id": programme["id"],
                "enrolled_at": enrolled_at, "completed_at": finished_at,
            })
            if not done and index > completed_programmes + 1:
                continue
            for course in programme["courses"]:
                lessons = course["lessons"] if done else course["lessons"][: rng.randint(0, 3)]
                for lesson_id in lessons:
                    if lesson_id in lessons_done:
                        continue
                    lessons_done.add(lesson_id)
                    w.add("lesson_progress", {
                        "id": w.next_id("lesson_progress"), "user_id": user_id,
                        "lesson_id": lesson_id, "completed_at": enrolled_at,
                    })
                if done and course["id"] not in courses_done:
                    courses_done.add(course["id"])
                    self.course_completion(
                        user_id, enrolment_id, programme["id"], course, finished_at, index == 0
                    )
            if done and index == 0:
                self.certificate(user_id, institution, programme, finished_at)

    def course_completion(
        self, user_id, enrolment_id, programme_id, course, finished_at, with_attempts
    ):
        w, rng = self.writer, self.rng
        completion_id = w.next_id("course_completion")
        w.add("course_completion", {
            "id": completion_id, "user_id": user_id, "course_id": course["id"],
            "enrolment_id": enrolment_id, "completed_at": finished_at, "hours": course["hours"],
        })
        on = finished_at.date()
        w.add("hours_entry", {
            "id": w.next_id("hours_entry"), "user_id": user_id,
            "source_type": "course_completion", "source_id": completion_id,
            "training_type": "programme", "training_id": programme_id,
            "title": course["title"], "occurred_on": on, "year": on.year, "tier": "school",
            "kind": "thematic", "hours": course["hours"], "corrects_id": None,
            "created_at": finished_at,
        })
        w.add("progression_entry", {
            "id": w.next_id("progression_entry"), "user_id": user_id, "kind": "training",
            "occurred_on": on, "title": course["title"],
            "detail": {"hours": str(course["hours"]), "tier": "school", "course_id": course["id"]},
            "source_type": "course_completion", "source_id": completion_id,
            "corrects_id": None, "created_by_id": None, "created_at": finished_at,
        })
        if not with_attempts:
            return
        failed_first = rng.random() < 0.33
        for number in range(1, 3 if failed_first else 2):
            passed = number == 2 or not failed_first
            attempt_id = w.next_id("attempt")
            correct = rng.randint(6, 10) if passed else rng.randint(2, 5)
            w.add("attempt", {
                "id": attempt_id, "quiz_id": course["quiz"], "user_id": user_id,
                "number": number, "started_at": finished_at - timedelta(minutes=40),
                "submitted_at": finished_at - timedelta(minutes=20),
                "score": Decimal(correct * 10), "max_score": Decimal(100), "passed": passed,
            })
            for position, (question_id, choices) in enumerate(course["questions"]):
                chosen = choices[0] if position < correct else rng.choice(choices[1:])
                w.add("attempt_question", {
                    "id": w.next_id("attempt_question"), "attempt_id": attempt_id,
                    "question_id": question_id, "position": position + 1,
                    "choice_order": choices, "match_options": [],
                })
                w.add("attempt_answer", {
                    "id": w.next_id("attempt_answer"), "attempt_id": attempt_id,
                    "question_id": question_id, "response": [chosen],
                    "saved_at": finished_at - timedelta(minutes=25),
                    "awarded": Decimal(10) if position < correct else Decimal(0),
                })

    def certificate(self, user_id, institution, programme, finished_at):
        w = self.writer
        certificate_id = w.next_id("certificate")
        on = finished_at.date()
        code = "".join(self.rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(12))
        serial = f"{institution['prefix']}-{on.year}-{certificate_id:08d}"
        w.add("certificate", {
            "id": certificate_id, "serial": serial, "verification_code": code,
            "achievement_key": f"programme:{programme['id']}:user:{user_id}",
            "holder_id": user_id, "institution_id": institution["id"],
            "programme_id": programme["id"], "holder_name": self.last_name, "title": programme["title"],
            "hours": programme["hours"], "issued_on": on, "expires_on": None,
            "status": "valid", "revoked_at": None, "revoked_reason": None,
            "render_data": {"serial": serial}, "pdf_sha256": None, "credential_json": None,
            "created_at": finished_at,
        })
        self.verification_codes.append(code)

    # -- whole run -------------------------------------------------------------

    def run(self, demo_institution_id: int) -> dict:
        self.verification_codes: list[str] = []
        sizes = institution_sizes(self.tier, self.rng)
        institutions = [(demo_institution_id, PROVINCES[0], DEMO_INSTITUTION_USERS[self.tier], None)]
        for number, (province, size) in enumerate(sizes):
            institutions.append((None, province, size, number))
        learners = 0
        for institution_id, province, size, number in institutions:
            w = self.writer
            if institution_id is None:
                institution_id = w.next_id("institution")
                code = f"bench-{number:05d}"
                w.add("institution", {
                    "id": institution_id, "code": code, "name": f"{province[:2]}第{number + 1}大学",
                    "name_en": None, "province": province, "timezone": "Asia/Shanghai",
                    "serial_prefix": "SR",
                })
                staff_prefix = code
            else:
                code = "demo"
                staff_prefix = "demo"
            departments = []
            for d in range(self.rng.randint(5, 12)):
                department_id = w.next_id("department")
                w.add("department", {
                    "id": department_id, "institution_id": institution_id,
                    "code": f"d{d:02d}", "name": DEPARTMENTS[d % len(DEPARTMENTS)],
                })
                departments.append(department_id)
            if number is not None:
                self.add_user(institution_id, None, f"{staff_prefix}-hr", "hr", None)
                self.add_user(institution_id, None, f"{staff_prefix}-trainer", "trainer", None)
            programmes = self.institution_content(institution_id, code)
            info = {"id": institution_id, "prefix": "SR"}
            for index in range(size):
                is_party = self.rng.random() < 0.074
                role = "party_worker" if is_party else "counselor"
                post = (
                    self.rng.choice(["party_organiser", "teacher_branch_secretary",
                                     "department_party_secretary"])
                    if is_party
                    else ("full_time_counselor" if self.rng.random() < 0.8
                          else "part_time_counselor")
                )
                user_id = self.add_user(
                    institution_id, self.rng.choice(departments), f"{staff_prefix}-u{index:05d}",
                    role, post,
                )
                w.add("progression_entry", {
                    "id": w.next_id("progression_entry"), "user_id": user_id,
                    "kind": "appointment", "occurred_on": date(2015 + index % 10, 9, 1),
                    "title": "聘任为辅导员", "detail": {}, "source_type": None,
                    "source_id": None, "corrects_id": None, "created_by_id": None,
                    "created_at": self.now,
                })
                self.learner_activity(user_id, info, programmes)
                learners += 1
            if learners and learners % 20_000 < size:
                logger.info("%d learners generated", learners)
        self.writer.finish()
        return {"learners": learners, "institutions": len(institutions),
                "rows": self.writer.counts.rows}


def create_sqlite_folder(database_url: str) -> None:
    """Create the folder of a SQLite database file, which SQLite does not create itself."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def generate(database_url: str, tier: str) -> dict:
    """Create the schema, seed the demo data and add the tier's synthetic rows."""
    from lms import create_app
    from lms.extensions import db
    from lms.organisations.models import Institution
    from lms.seed import seed_demo

    if tier == "L" and not database_url.startswith("postgresql"):
        raise SystemExit("tier L needs PostgreSQL: pass a postgresql+psycopg:// URL")
    database_url = absolute_sqlite_url(database_url)
    create_sqlite_folder(database_url)
    # The generator takes the first institution as the demo university, so
    # on a database with earlier rows it would write wrong data.
    require_empty_database(
        database_url,
        "The generator fills an empty database only: drop and recreate it, "
        "or pass a new SQLite file.",
    )
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        seed_demo(password=BENCH_PASSWORD)
        demo = db.session.scalar(sa.select(Institution).order_by(Institution.id))
        demo.province = PROVINCES[0]
        db.session.commit()
        demo_id = demo.id
        started = time.monotonic()
        result = Generator(db.engine, tier, db.metadata).run(demo_id)
        result["seconds"] = round(time.monotonic() - started, 1)
        db.engine.dispose()
    return result


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tier", choices=sorted(TIERS), default="S")
    parser.add_argument("--database-url", required=True,
                        help="empty database to fill, e.g. sqlite:///bench/data/m.sqlite3")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    result = generate(args.database_url, args.tier)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
