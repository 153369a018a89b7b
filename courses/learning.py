"""Required programmes, level and next date for a learner's "My learning" page."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

import sqlalchemy as sa

from courses import services
from courses.class_models import ClassMember, MemberStatus
from courses.models import Programme, TargetLevel
from lms.accounts.models import Post, User
from lms.competencies.models import Framework, FrameworkStatus, Level
from lms.compliance.profiles import find_profile
from lms.extensions import db
from lms.records.models import ProgressionEntry, ProgressionKind

#: Posts the counselor competency standard's levels apply to.
COUNSELOR_POSTS = frozenset({Post.FULL_TIME_COUNSELOR, Post.PART_TIME_COUNSELOR})

#: Words a programme's free-text audience uses for each post, used for
#: programmes without ``audience_posts``.
POST_AUDIENCE_WORDS = {
    Post.FULL_TIME_COUNSELOR: ("专职辅导员",),
    Post.PART_TIME_COUNSELOR: ("兼职辅导员",),
    Post.PARTY_ORGANISER: ("组织员",),
    Post.TEACHER_BRANCH_SECRETARY: ("教师党支部书记", "党支部书记"),
    Post.DEPARTMENT_PARTY_SECRETARY: ("院系党组织书记", "党组织书记"),
}


@dataclass(frozen=True)
class PostPeriod:
    """One counselor post a person held, first and last day inclusive."""

    post: Post
    start: date
    end: date
    #: "profile" for the current post, "record" for an appointment entry.
    source: str
    #: Id of the appointment entry; None for the current post.
    entry_id: Optional[int] = None

    @property
    def days(self) -> int:
        """Days in the post, both ends included, before overlaps are merged."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class CounselorService:
    """Counselor service counted over every counselor post a person held."""

    periods: list[PostPeriod]
    #: The periods merged, so days in two overlapping posts count once.
    spans: list[tuple[date, date]]
    days: int
    #: The year of service the person is in (1 in the first year).
    year: int


def counselor_posts(user: User, today: date) -> list[PostPeriod]:
    """Return the counselor posts of the person, oldest first.

    They are the current post from the profile, when it is a counselor post
    with a start date, and each appointment on the progression record whose
    ``detail["post"]`` is a counselor post. An appointment ends on
    ``detail["ended_on"]`` when set, else the day before the next
    appointment or the current post starts, else today. Appointments that
    a later entry corrects do not count. Within one GET request the result
    is kept, because the dashboard computes the level once for itself and
    once per programme whose self-enrolment it checks.
    """
    cache = services.request_cache("counselor_posts")
    if cache is not None and (user.id, today) in cache:
        return cache[(user.id, today)]
    periods = _load_counselor_posts(user, today)
    if cache is not None:
        cache[(user.id, today)] = periods
    return periods


def _load_counselor_posts(user: User, today: date) -> list[PostPeriod]:
    profile = find_profile(user.id)
    current_start = profile.post_started_on if profile is not None else None
    entries = list(
        db.session.scalars(
            sa.select(ProgressionEntry)
            .where(
                ProgressionEntry.user_id == user.id,
                ProgressionEntry.kind == ProgressionKind.APPOINTMENT,
            )
            .order_by(ProgressionEntry.occurred_on, ProgressionEntry.id)
        )
    )
    corrected = {entry.corrects_id for entry in entries if entry.corrects_id}
    entries = [entry for entry in entries if entry.id not in corrected]

    periods = []
    for index, entry in enumerate(entries):
        post = _post_of(entry.detail or {})
        start = entry.occurred_on
        if post not in COUNSELOR_POSTS or start > today:
            continue
        end = _appointment_end(entry, entries[index + 1 :], current_start, today)
        if end >= start:
            periods.append(PostPeriod(post, start, end, "record", entry.id))
    if user.post in COUNSELOR_POSTS and current_start is not None:
        if current_start <= today:
            periods.append(PostPeriod(user.post, current_start, today, "profile"))
    return sorted(periods, key=lambda period: (period.start, period.end))


def _post_of(detail: dict) -> Optional[Post]:
    try:
        return Post(detail.get("post"))
    except ValueError:
        return None


def _appointment_end(entry, later_entries, current_start, today: date) -> date:
    ended_on = (entry.detail or {}).get("ended_on")
    if ended_on:
        try:
            return min(date.fromisoformat(ended_on), today)
        except (TypeError, ValueError):
            pass
    starts = [later.occurred_on for later in later_entries if later.occurred_on > entry.occurred_on]
    if current_start is not None and current_start > entry.occurred_on:
        starts.append(current_start)
    if starts:
        return min(min(starts) - timedelta(days=1), today)
    return today


def counselor_service(user: User, today: date) -> Optional[CounselorService]:
    """Count counselor service over all counselor posts, each day once.

    Returns None when no counselor post with a known start is on the
    profile or the record.
    """
    periods = counselor_posts(user, today)
    if not periods:
        return None
    spans: list[tuple[date, date]] = []
    for period in periods:
        if spans and period.start <= spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], max(spans[-1][1], period.end))
        else:
            spans.append((period.start, period.end))
    days = sum((end - start).days + 1 for start, end in spans)
    # Whole years are counted as if the days were served in one stretch
    # ending today, so one uninterrupted post counts as before.
    started = today - timedelta(days=days - 1)
    completed = today.year - started.year - (
        (today.month, today.day) < (started.month, started.day)
    )
    return CounselorService(periods, spans, days, max(completed, 0) + 1)


def years_of_service(user: User, today: date) -> Optional[int]:
    """Return the year of counselor service the person is in (1 in the first year).

    Service counts over every counselor post (see ``counselor_service``).
    Returns None when no counselor post with a known start is recorded.
    """
    service = counselor_service(user, today)
    return service.year if service is not None else None


def person_level(user: User, today: Optional[date] = None) -> Optional[TargetLevel]:
    """Return the competency level the person's years of service fall in.

    The bounds are the ``min_years``/``max_years`` of the levels coded
    junior, intermediate and senior in one framework (see
    ``_bounded_levels``). Years of service count over every counselor post
    (see ``counselor_service``). Returns None for posts the counselor
    competency standard does not cover (Party work), without a counselor post
    with a known start or without levels that carry bounds.
    """
    from lms.compliance.windows import local_today

    if user.post not in COUNSELOR_POSTS:
        return None

    years = years_of_service(user, today or local_today(user.institution))
    if years is None:
        return None
    for level in _bounded_levels(user.institution_id):
        if level.min_years <= years and (level.max_years is None or years <= level.max_years):
            return TargetLevel(level.code)
    return None


def _bounded_levels(institution_id: Optional[int]) -> list[Level]:
    """Return the bounded levels of the framework that sets an institution's levels.

    That framework is the newest published one of the institution with
    such levels, else the newest published national one. Drafts, retired
    versions and other institutions' frameworks never count, and levels of
    two frameworks are never mixed.
    """
    levels = list(
        db.session.scalars(
            sa.select(Level)
            .join(Framework, Framework.id == Level.framework_id)
            .where(
                Level.code.in_([level.value for level in TargetLevel]),
                Level.min_years.is_not(None),
                Framework.status == FrameworkStatus.PUBLISHED,
                sa.or_(
                    Framework.institution_id.is_(None),
                    Framework.institution_id == institution_id,
                ),
            )
            .order_by(
                Framework.institution_id.is_(None),
                Framework.id.desc(),
                Level.position,
            )
        )
    )
    if not levels:
        return []
    chosen = levels[0].framework_id
    return [level for level in levels if level.framework_id == chosen]


def audience_includes(programme: Programme, post: Optional[Post]) -> bool:
    """Return whether the programme is meant for ``post``.

    The structured ``audience_posts`` decides when it is set. Programmes
    without it fall back to the free-text audience naming the post.
    """
    if post is None:
        return False
    if programme.audience_posts:
        return post.value in programme.audience_posts
    # NOTE: the fallback matches the post's Chinese name in the free text.
    return any(word in (programme.audience or "") for word in POST_AUDIENCE_WORDS[post])


def names_an_audience(programme: Programme) -> bool:
    """Return whether the programme names the posts it is meant for."""
    if programme.audience_posts:
        return True
    text = programme.audience or ""
    return any(word in text for words in POST_AUDIENCE_WORDS.values() for word in words)


def required_programmes(user: User, level: Optional[TargetLevel]) -> list[Programme]:
    """Return published programmes meant for the user's post and level, not yet taken.

    ``level`` is ``person_level(user)``. When it is None (unknown),
    programmes of every level count.
    """
    enrolled = {enrolment.programme_id for enrolment in services.enrolments_of(user)}
    return [
        programme
        for programme in services.published_programmes(user.institution_id)
        if programme.id not in enrolled
        and audience_includes(programme, user.post)
        and (level is None or programme.level is level)
    ]


@dataclass
class Deadline:
    on: date
    #: "session" or "class_end".
    kind: str
    title: str
    class_id: int


def next_deadline(memberships: list[ClassMember], today: date) -> Optional[Deadline]:
    """Return the earliest upcoming session or class end among enrolled classes."""
    candidates = []
    for member in memberships:
        if member.status is not MemberStatus.ENROLLED:
            continue
        training_class = member.training_class
        for session in training_class.sessions:
            if session.held_on >= today:
                candidates.append(
                    Deadline(session.held_on, "session", session.title, training_class.id)
                )
        if training_class.ends_on >= today:
            candidates.append(
                Deadline(training_class.ends_on, "class_end", training_class.title, training_class.id)
            )
    return min(candidates, key=lambda deadline: deadline.on, default=None)
