"""The nine duties of counselors under the 2017 regulation
(教育部令第43号《普通高等学校辅导员队伍建设规定》, article 5), and how the
nine functional areas of the 2014 competency standard correspond to them.

The regulation lists duties, not career stages, so the framework has one
level that covers every counselor. The duty summaries are short descriptions
written for this demo, not quotations of the regulation.
"""

from lms.seed_content.specs import (
    AreaMappingSpec,
    AreaSpec,
    FrameworkSpec,
    ItemSpec,
    LevelSpec,
)

LEVELS = (LevelSpec("all", "全体辅导员", 1, None, None),)

AREAS = (
    AreaSpec("theory_values", "思想理论教育和价值引领", 1),
    AreaSpec("party_league_class", "党团和班级建设", 2),
    AreaSpec("study_style", "学风建设", 3),
    AreaSpec("student_affairs", "学生日常事务管理", 4),
    AreaSpec("mental_health", "心理健康教育与咨询工作", 5),
    AreaSpec("online", "网络思想政治教育", 6),
    AreaSpec("crisis", "校园危机事件应对", 7),
    AreaSpec("career", "职业规划与就业创业指导", 8),
    AreaSpec("research", "理论和实践研究", 9),
)


def _duty(number: int, area: str, summary: str, work: tuple[str, ...]) -> ItemSpec:
    return ItemSpec("all", area, summary, work, (), (), code=f"D{number}")


ITEMS = (
    _duty(
        1,
        "theory_values",
        "帮助学生学习党的理论，树立正确的理想信念和价值观念。",
        ("组织理论学习和形势政策教育", "开展理想信念和社会主义核心价值观教育"),
    ),
    _duty(
        2,
        "party_league_class",
        "指导学生党支部、团支部和班集体建设，培养学生骨干。",
        ("指导支部和班委会开展工作", "做好学生党员发展和教育管理"),
    ),
    _duty(
        3,
        "study_style",
        "了解学生的专业学习情况，帮助学生端正学习态度、养成良好学风。",
        ("组织学风建设活动", "关心和帮扶学业有困难的学生"),
    ),
    _duty(
        4,
        "student_affairs",
        "做好入学和毕业教育、资助、评奖评优、安全教育等日常管理与服务。",
        ("组织新生入学教育和毕业生离校教育", "按规定做好资助和评奖评优工作"),
    ),
    _duty(
        5,
        "mental_health",
        "配合学校开展心理健康教育，及早发现心理问题并按程序转介。",
        ("普及心理健康知识", "排查、疏导和转介有心理困扰的学生"),
    ),
    _duty(
        6,
        "online",
        "运用网络和新媒体开展思想政治教育，引导网络舆论。",
        ("建设网络思政阵地", "关注和引导涉及学生的网络舆情"),
    ),
    _duty(
        7,
        "crisis",
        "参与校园危机事件的预防、报告和处置，做好事后教育和关怀。",
        ("发现危机事件及时报告并协助处置", "事后开展教育引导和心理支持"),
    ),
    _duty(
        8,
        "career",
        "为学生提供生涯规划和就业创业方面的指导与服务。",
        ("开展生涯规划教育", "提供就业信息和求职指导"),
    ),
    _duty(
        9,
        "research",
        "结合工作实际开展思想政治教育和学生工作研究，提高专业化水平。",
        ("总结工作案例", "参与或主持相关研究项目"),
    ),
)

DUTIES_2017 = FrameworkSpec(
    code="counselor-duties-2017",
    title="普通高等学校辅导员队伍建设规定：辅导员主要工作职责",
    issuer="教育部",
    year=2017,
    version="2017",
    document_no="教育部令第43号",
    notes=(
        "本框架列出规定第五条的九项辅导员工作职责，自2017年10月1日起施行。"
        "规定按职责而不按等级划分，因此只设一个适用于全体辅导员的等级。"
        "各职责的概述和工作内容是为演示编写的说明，并非规定原文。"
    ),
    levels=LEVELS,
    areas=AREAS,
    items=ITEMS,
)

#: 2014 area code -> (2017 area code, relation). The 2017 regulation renames
#: 思想政治教育 and 学业指导, with a changed emphasis, so those two are close
#: matches; the other seven keep their scope.
_CORRESPONDENCE = {
    "ideological": ("theory_values", "close_match"),
    "party_league_class": ("party_league_class", "exact_match"),
    "academic": ("study_style", "close_match"),
    "affairs": ("student_affairs", "exact_match"),
    "mental_health": ("mental_health", "exact_match"),
    "online": ("online", "exact_match"),
    "crisis": ("crisis", "exact_match"),
    "career": ("career", "exact_match"),
    "research": ("research", "exact_match"),
}

MAPPINGS_2014_TO_2017 = tuple(
    AreaMappingSpec("counselor-2014", source, DUTIES_2017.code, target, relation)
    for source, (target, relation) in _CORRESPONDENCE.items()
)
