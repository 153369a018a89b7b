"""Record types for the seed content.

Enum members are named by their stored value (e.g. ``"single"`` for
``QuestionKind.SINGLE``) so that this package imports no models.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class LevelSpec:
    code: str
    name: str
    position: int
    min_years: int | None
    max_years: int | None


@dataclass(frozen=True)
class AreaSpec:
    code: str
    name: str
    position: int


@dataclass(frozen=True)
class ItemSpec:
    """One level x area cell. Each requirement tuple is stored as one line per entry."""

    level: str
    area: str
    summary: str
    work_content: tuple[str, ...]
    ability_requirements: tuple[str, ...]
    knowledge_requirements: tuple[str, ...]
    #: Item code; None gives "<level position>.<area position>".
    code: str | None = None


@dataclass(frozen=True)
class FrameworkSpec:
    code: str
    title: str
    issuer: str
    year: int
    version: str
    notes: str
    levels: tuple[LevelSpec, ...]
    areas: tuple[AreaSpec, ...]
    items: tuple[ItemSpec, ...]
    document_no: str | None = None


@dataclass(frozen=True)
class AreaMappingSpec:
    """Area ``source_area`` of one framework corresponds to ``target_area`` of another.

    ``relation`` is a MappingRelation value (exact_match, close_match, related).
    """

    source_framework: str
    source_area: str
    target_framework: str
    target_area: str
    relation: str


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str


@dataclass(frozen=True)
class InstitutionSpec:
    code: str
    name: str
    name_en: str
    timezone: str
    serial_prefix: str
    departments: tuple[DepartmentSpec, ...]


@dataclass(frozen=True)
class AccountSpec:
    username: str
    full_name: str
    employee_no: str
    email: str
    role: str
    post: str | None
    department: str | None
    #: Full years in the current post, counted to the last 1 September, for
    #: the post start date that the compliance rules and levels read. None
    #: records no date.
    years_in_post: int | None = None
    #: For an HR account: the code of the one department it is limited to.
    hr_department: str | None = None
    #: ``PartyStatus`` value recorded on the profile; None records the default.
    party_status: str | None = None
    #: Full years as a full Party member, counted to the last 1 September,
    #: for the probation start (one year earlier) and the full-member date
    #: that the Party training rules read. None records no dates.
    years_as_member: int | None = None
    party_committee_member: bool = False
    #: For an admin account: whether it also runs the shared scheduled jobs.
    platform_operator: bool = False


@dataclass(frozen=True)
class QuestionSpec:
    """A quiz question; ``choices`` pairs each choice text with whether it is correct."""

    kind: str
    text: str
    points: int
    explanation: str
    choices: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class QuizSpec:
    title: str
    pass_mark: int
    max_attempts: int | None
    time_limit_minutes: int | None
    questions: tuple[QuestionSpec, ...]


@dataclass(frozen=True)
class AuthoredQuizSpec:
    """A quiz authored through the trainer services: their form values.

    ``values`` go to ``assessments.authoring.save_quiz`` and each of
    ``questions`` to ``save_question``, so a question of any kind, an essay
    with its scoring points included, is checked as the quiz editor checks it.
    """

    values: dict
    questions: tuple[dict, ...]


@dataclass(frozen=True)
class LessonSpec:
    """A lesson. ``kind`` is a ``LessonKind`` value; an offline session also has
    a local start (``YYYY-MM-DDTHH:MM`` in the institution's zone) and a place."""

    title: str
    duration_minutes: int
    body_html: str
    kind: str = "text"
    session_starts_at: str | None = None
    session_place: str | None = None
    #: Title of the course module the lesson belongs to, if any.
    module: str | None = None


@dataclass(frozen=True)
class CourseSpec:
    code: str
    title: str
    summary: str
    credit_hours: str
    #: Codes of the competency items the course trains, e.g. "1.5".
    competencies: tuple[str, ...]
    lessons: tuple[LessonSpec, ...]
    quiz: QuizSpec | None = None
    #: The quiz of a course in a programme that ``seed_authored_programme``
    #: authors; ``quiz`` is for the courses the seed writes as rows.
    authored_quiz: AuthoredQuizSpec | None = None


@dataclass(frozen=True)
class ProgrammeSpec:
    code: str
    title: str
    summary: str
    tier: str
    kind: str
    level: str
    audience: str
    certificate_validity_months: int | None
    courses: tuple[CourseSpec, ...]
    #: ``Post`` values of the audience.
    audience_posts: tuple[str, ...] = ()
    #: Codes of the courses that are elective; the others are required.
    electives: tuple[str, ...] = ()
    min_elective_hours: str = "0"
    #: Pairs of (course code, code of a course to complete first).
    prerequisites: tuple[tuple[str, str], ...] = ()
