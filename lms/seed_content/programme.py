"""Programme: 初级辅导员岗位培训, the demo university's pre-job training.

Each lesson's ``duration_minutes`` is 90, two 45-minute class periods, so a
course's lessons add up to its credited 学时 at 45 minutes per 学时.
"""

from lms.seed_content import (
    course_mental_health,
    course_national_security,
    course_online,
    course_party_congress,
)
from lms.seed_content.specs import ProgrammeSpec

JUNIOR_PRE_JOB = ProgrammeSpec(
    code="junior-prejob-2026",
    title="初级辅导员岗位培训",
    summary=(
        "面向新入职专职辅导员的岗前培训线上部分，共4门必修课程、28学时，"
        "内容涵盖心理健康教育、网络思想政治教育、国家安全教育和党的二十大精神学习。"
        "每门课程须学完全部课时并通过结业测验。"
        "新入职专职辅导员的岗前培训一般不少于40学时，其余学时由学校集中面授和跟岗实践完成。"
    ),
    tier="school",
    kind="pre_job",
    level="junior",
    audience="新入职专职辅导员",
    certificate_validity_months=36,
    courses=(
        course_mental_health.COURSE,
        course_online.COURSE,
        course_national_security.COURSE,
        course_party_congress.COURSE,
    ),
)
