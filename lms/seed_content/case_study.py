"""Programme: 学生工作案例研讨, a school-level course whose quiz is one essay (论述题).

The demo ``counselor2`` has submitted an answer to the essay, so the demo
``trainer``, who authors the course, finds it in the grading queue
(``lms.seed._seed_essay_attempt``). The lesson's ``duration_minutes`` is
90, two 45-minute class periods, which is the course's credited 学时.
"""

from lms.seed_content.specs import (
    AuthoredQuizSpec,
    CourseSpec,
    LessonSpec,
    ProgrammeSpec,
)

_CASE_WRITING = """
<h2>一、为什么要写工作案例</h2>
<p>辅导员每天处理大量学生事务，但经验如果只留在记忆里，就很难被同事借鉴，也难以在总结和研究中使用。把一件处理过的事写成案例，可以帮助自己复盘判断和做法，也为年度考核、职称评审和工作研究积累材料。</p>
<h2>二、案例的四个部分</h2>
<ul>
<li><strong>情境：</strong>交代时间、对象和事情经过，只写与问题有关的事实，隐去学生的姓名、学号等可识别信息。</li>
<li><strong>分析：</strong>说明问题的性质和成因，用学生发展、心理健康、学业指导等方面的知识解释，而不是只写“学生思想不稳定”。</li>
<li><strong>处置：</strong>按时间顺序写出采取了哪些措施、与谁协同、依据的是哪项制度。</li>
<li><strong>反思：</strong>写出效果如何、哪些做法值得保留、下次会有什么不同。</li>
</ul>
<h2>三、常见的问题</h2>
<p>初写案例时容易把案例写成工作汇报：只写做了什么，不写为什么这样做；或者堆砌理论，和具体情境脱节。好的案例分析应当让读者看清辅导员在每个关键节点上的判断和依据。</p>
<h2>四、课后练习</h2>
<ul>
<li>选择一件本学期处理过的学生事务，按四个部分列出提纲。</li>
<li>检查提纲中是否有可以识别学生身份的信息，并作匿名化处理。</li>
</ul>
"""

#: Form values for ``assessments.authoring.save_quiz`` and ``save_question``.
CASE_QUIZ = AuthoredQuizSpec(
    values={
        "title": "案例分析论述",
        "instructions": "本测验共1道论述题，满分10分，由授课教师评分，得分达到6分即为通过。最多可作答2次。",
        "pass_mark": "60",
        "max_attempts": "2",
        "time_limit_minutes": "",
        "grading_method": "highest",
    },
    questions=(
        {
            "kind": "essay",
            "points": "10",
            "text": "结合你处理过的一件学生日常事务，按“情境—分析—处置—反思”四个部分写一篇案例分析，不少于300字。",
            "scoring_points": (
                "2 | 情境交代清楚，并隐去学生的可识别信息\n"
                "3 | 分析问题的性质和成因，有依据\n"
                "3 | 处置措施具体，说明协同的部门和依据的制度\n"
                "2 | 反思效果并提出改进"
            ),
            "explanation": "评分看四部分是否完整，以及分析和处置是否有依据。",
        },
    ),
)

CASE_WRITING = CourseSpec(
    code="case-writing",
    title="学生工作案例的分析与撰写",
    summary="学习把处理过的学生事务写成案例：交代情境、分析成因、说明处置和反思改进，为总结和研究积累材料。",
    credit_hours="2",
    competencies=("2.4", "2.9"),
    lessons=(LessonSpec("案例的结构与写法", 90, _CASE_WRITING),),
    authored_quiz=CASE_QUIZ,
)

CASE_STUDY_PROGRAMME = ProgrammeSpec(
    code="case-study-2026",
    title="学生工作案例研讨",
    summary=(
        "面向工作四年以上的专职辅导员的校级专题培训，共1门课程。"
        "学员学习案例的分析与撰写，并提交一篇案例分析论述，由授课教师评分。"
    ),
    tier="school",
    kind="thematic",
    level="intermediate",
    audience="工作四年以上的专职辅导员",
    certificate_validity_months=None,
    courses=(CASE_WRITING,),
    audience_posts=("full_time_counselor",),
)

#: The essay the demo counselor submitted, in the four parts the question asks for.
SUBMITTED_ESSAY = (
    "情境：上学期期中，我所带年级的一名学生（以下称小A）连续两周没有参加早读和班级活动，"
    "室友反映他经常熬夜打游戏，白天在宿舍睡觉，有两门课程的平时作业没有提交。\n"
    "分析：从学业预警名单和任课教师的反馈看，小A的问题不只是纪律问题。谈心谈话中了解到，"
    "他对所学专业缺乏兴趣，第一次高数测验不及格后产生了逃避心理，用游戏回避学业压力。"
    "这属于学业适应困难引发的行为问题，需要学业帮扶和心理支持结合。\n"
    "处置：我先与小A进行了两次谈话，帮助他梳理专业课程和未来方向；"
    "联系高数任课教师为他安排了答疑，并请班级学习委员结成学习小组；"
    "按学校学业预警办法向家长通报情况，取得家长配合；同时提醒他可以预约心理中心咨询。\n"
    "反思：一个月后小A恢复了正常作息，期末两门课程均通过。回头看，"
    "如果能在第一次测验成绩出来时就关注到他，效果会更好。今后我会在每次阶段测验后"
    "查看成绩明显下降的学生名单，提前介入。"
)
