"""Progression events that HR records by hand, and the person profile HR edits.

Events are append-only: a correction is a new entry whose ``corrects_id``
names the entry it replaces. Every write adds an audit row.
"""

import logging
from datetime import date, timedelta
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms import audit, labels
from lms.accounts import contact
from lms.accounts.models import Post, User
from lms.compliance.explain import CADRE_RANK, PARTY_STATUS
from lms.compliance.models import CadreRank, PartyStatus, PersonProfile
from lms.compliance.profiles import find_profile
from lms.compliance.windows import PROBATION_MONTHS, add_months
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import format_date
from lms.records.models import ProgressionEntry, ProgressionKind, TrainingTier
from lms.stored_text import StoredText, stored_gettext

logger = logging.getLogger("lms.records")

#: Kinds HR records by hand; the other kinds are written by the platform.
HR_KINDS = (
    ProgressionKind.ASSESSMENT_GRADE,
    ProgressionKind.HONOUR,
    ProgressionKind.TITLE_CHANGE,
    ProgressionKind.RANK_CHANGE,
    ProgressionKind.APPOINTMENT,
    ProgressionKind.COMPETENCY_LEVEL,
)

#: Annual assessment (年度考核) grades, best first, with the stored Chinese name.
ASSESSMENT_GRADES = {
    "excellent": "优秀",
    "competent": "合格",
    "basically_competent": "基本合格",
    "incompetent": "不合格",
}

#: Professional titles of the teacher series, lowest first.
PROFESSIONAL_TITLES = {
    "teaching_assistant": "助教",
    "lecturer": "讲师",
    "associate_professor": "副教授",
    "professor": "教授",
}

#: Competency levels of the counselor standard, lowest first.
COMPETENCY_LEVELS = {"junior": "初级", "intermediate": "中级", "senior": "高级"}

#: Administrative ranks used for counselors, lowest first.
ADMINISTRATIVE_RANKS = {
    CadreRank.CLERK.value: "科员",
    CadreRank.SECTION_DEPUTY.value: "副科级",
    CadreRank.SECTION_CHIEF.value: "正科级",
    CadreRank.DIVISION_DEPUTY.value: "副处级",
    CadreRank.DIVISION_CHIEF.value: "正处级",
}

#: Posts with the stored Chinese name, as HR and the roster import write them.
POST_NAMES = {
    Post.FULL_TIME_COUNSELOR.value: "专职辅导员",
    Post.PART_TIME_COUNSELOR.value: "兼职辅导员",
    Post.PARTY_ORGANISER.value: "组织员",
    Post.TEACHER_BRANCH_SECRETARY.value: "教师党支部书记",
    Post.DEPARTMENT_PARTY_SECRETARY.value: "院系党组织书记",
}

HONOUR_LEVELS = {
    TrainingTier.SCHOOL.value: "校级",
    TrainingTier.PROVINCIAL.value: "省级",
    TrainingTier.NATIONAL.value: "国家级",
}

ASSESSMENT_GRADE_LABELS = {
    "excellent": _l("Excellent"),
    "competent": _l("Competent"),
    "basically_competent": _l("Basically competent"),
    "incompetent": _l("Incompetent"),
}

PROFESSIONAL_TITLE_LABELS = {
    "teaching_assistant": _l("Teaching assistant"),
    "lecturer": _l("Lecturer"),
    "associate_professor": _l("Associate professor"),
    "professor": _l("Professor"),
}

labels.register("grade", ASSESSMENT_GRADE_LABELS)
labels.register("professional_title", PROFESSIONAL_TITLE_LABELS)
labels.register("cadre_rank", CADRE_RANK)
labels.register("CadreRank", CADRE_RANK)
labels.register("party_status", PARTY_STATUS)
labels.register("PartyStatus", PARTY_STATUS)


class CorrectionError(ValueError):
    """The entry named as corrected cannot be corrected by this entry.

    ``code`` is one of "not_found", "not_correctable", "kind_mismatch" and
    "already_corrected".
    """

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _title(kind: ProgressionKind, values: dict) -> str:
    """Return the stored Chinese headline of an event."""
    if kind is ProgressionKind.ASSESSMENT_GRADE:
        return f"{values['year']}年度考核：{ASSESSMENT_GRADES[values['grade']]}"
    if kind is ProgressionKind.HONOUR:
        level = HONOUR_LEVELS[values["level"]]
        return f"{values['year']}年{level}荣誉：{values['name']}"
    if kind is ProgressionKind.TITLE_CHANGE:
        return f"专业技术职务：{PROFESSIONAL_TITLES[values['title']]}"
    if kind is ProgressionKind.APPOINTMENT:
        return f"任职：{POST_NAMES[values['post']]}"
    if kind is ProgressionKind.COMPETENCY_LEVEL:
        return f"能力等级：{COMPETENCY_LEVELS[values['level']]}"
    return f"职级：{ADMINISTRATIVE_RANKS[values['rank']]}"


def title_text(kind: ProgressionKind, values: dict) -> StoredText:
    """Return an event's headline as stored text, shown in the reader's language.

    It says what ``_title`` says in Chinese, which stays the stored title.
    """
    if kind is ProgressionKind.ASSESSMENT_GRADE:
        return assessment_title(values["year"], ASSESSMENT_GRADE_LABELS[values["grade"]])
    if kind is ProgressionKind.HONOUR:
        return stored_gettext(
            "Honour (%(level)s, %(year)s): %(name)s",
            level=labels.TRAINING_TIER[values["level"]],
            year=str(values["year"]),
            name=values["name"],
        )
    if kind is ProgressionKind.TITLE_CHANGE:
        return stored_gettext(
            "Professional title: %(title)s",
            title=PROFESSIONAL_TITLE_LABELS[values["title"]],
        )
    if kind is ProgressionKind.APPOINTMENT:
        return stored_gettext("Post: %(post)s", post=labels.POST[values["post"]])
    if kind is ProgressionKind.COMPETENCY_LEVEL:
        return stored_gettext(
            "Competency level: %(level)s", level=labels.TARGET_LEVEL[values["level"]]
        )
    return stored_gettext(
        "Administrative rank: %(rank)s", rank=CADRE_RANK[values["rank"]]
    )


def assessment_title(year: int, grade) -> StoredText:
    """Return the headline of a year's assessment grade; ``grade`` is a label or a band name."""
    return stored_gettext(
        "Annual assessment %(year)s: %(grade)s", year=str(year), grade=grade
    )


def _detail(kind: ProgressionKind, values: dict, note: str) -> dict:
    keys = {
        ProgressionKind.ASSESSMENT_GRADE: ("grade", "year"),
        ProgressionKind.HONOUR: ("name", "level", "year"),
        ProgressionKind.TITLE_CHANGE: ("title",),
        ProgressionKind.RANK_CHANGE: ("rank",),
        ProgressionKind.APPOINTMENT: ("post", "ended_on", "unit"),
        ProgressionKind.COMPETENCY_LEVEL: ("level",),
    }[kind]
    detail = {key: values[key] for key in keys}
    if kind is ProgressionKind.APPOINTMENT:
        ended_on = detail["ended_on"]
        detail["ended_on"] = ended_on.isoformat() if ended_on else None
        detail["unit"] = (detail["unit"] or "").strip()
    detail["note"] = note
    return detail


def correction_of(entry_id: int) -> Optional[ProgressionEntry]:
    return db.session.scalar(
        sa.select(ProgressionEntry).where(ProgressionEntry.corrects_id == entry_id)
    )


def check_correction(
    person: User, kind: ProgressionKind, corrected: Optional[ProgressionEntry]
) -> None:
    """Raise CorrectionError unless ``corrected`` may be corrected by a ``kind`` entry."""
    if corrected is None or corrected.user_id != person.id:
        raise CorrectionError("not_found")
    if corrected.kind not in HR_KINDS:
        raise CorrectionError("not_correctable")
    if corrected.kind is not kind:
        raise CorrectionError("kind_mismatch")
    # NOTE: two corrections of one entry sent at the same moment can both
    # pass this check, because no constraint makes corrects_id unique.
    if correction_of(corrected.id) is not None:
        raise CorrectionError("already_corrected")


def grade_recorded_for(person: User, year: int) -> bool:
    """Return whether ``person`` has an uncorrected annual grade for ``year``."""
    corrected = sa.select(ProgressionEntry.corrects_id).where(
        ProgressionEntry.corrects_id.is_not(None)
    )
    entries = db.session.scalars(
        sa.select(ProgressionEntry).where(
            ProgressionEntry.user_id == person.id,
            ProgressionEntry.kind == ProgressionKind.ASSESSMENT_GRADE,
            ProgressionEntry.id.not_in(corrected),
        )
    )
    return any(entry.detail.get("year") == year for entry in entries)


def earliest_post_on(person: User) -> Optional[date]:
    """Return the first day of the person's earliest recorded post, or None.

    That is the current post's start date or an uncorrected appointment
    (a post held earlier) on the record, whichever is earlier.
    """
    corrected = sa.select(ProgressionEntry.corrects_id).where(
        ProgressionEntry.corrects_id.is_not(None)
    )
    first_appointment = db.session.scalar(
        sa.select(sa.func.min(ProgressionEntry.occurred_on)).where(
            ProgressionEntry.user_id == person.id,
            ProgressionEntry.kind == ProgressionKind.APPOINTMENT,
            ProgressionEntry.id.not_in(corrected),
        )
    )
    profile = profile_of(person)
    starts = [
        day
        for day in (first_appointment, profile.post_started_on if profile else None)
        if day is not None
    ]
    return min(starts) if starts else None


def grade_before_first_post(person: User, year) -> Optional[date]:
    """Return the earliest post's start when ``year`` is before it, else None.

    An annual grade assesses a year of work in a post, so none can be for a
    year before the person's first recorded post.
    """
    if not isinstance(year, int):
        return None
    first = earliest_post_on(person)
    if first is not None and year < first.year:
        return first
    return None


def assessed_year(person: User, year) -> bool:
    """Return whether ``person``'s annual assessment of ``year`` is finalised.

    Its grade then comes from the assessment and is not entered by hand.
    """
    from lms.annual_assessment.services import finalised_for_year

    if not isinstance(year, int):
        return False
    return finalised_for_year(person, year) is not None


def record_event(
    person: User,
    actor: User,
    kind: ProgressionKind,
    occurred_on: date,
    values: dict,
    note: str = "",
    corrects: Optional[ProgressionEntry] = None,
) -> ProgressionEntry:
    """Append an HR-recorded event to ``person``'s timeline and audit it; flush only.

    ``values`` contains the kind's fields: grade and year, name, level and year,
    title, rank, or post, ``ended_on`` (a date or None) and unit, as the
    stored values of the tables above. An appointment's ``occurred_on`` is
    the first day in the post. A rank change also sets the profile's cadre
    rank (see ``sync_cadre_rank``).
    """
    if kind not in HR_KINDS:
        raise ValueError(f"{kind} is not recorded by hand")
    if corrects is not None:
        check_correction(person, kind, corrects)
    entry = ProgressionEntry(
        user_id=person.id,
        kind=kind,
        occurred_on=occurred_on,
        title=_title(kind, values),
        title_data=title_text(kind, values).to_json(),
        detail=_detail(kind, values, note),
        corrects_id=corrects.id if corrects is not None else None,
        created_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    action = "progression.corrected" if corrects is not None else "progression.recorded"
    audit.record(
        action,
        "progression_entry",
        entry.id,
        f"{person.full_name}: {entry.title}",
        actor_id=actor.id,
        institution_id=person.institution_id,
        data={
            "user_id": person.id,
            "kind": kind.value,
            "occurred_on": occurred_on.isoformat(),
            "detail": entry.detail,
            "corrects_id": entry.corrects_id,
        },
    )
    if kind is ProgressionKind.RANK_CHANGE:
        sync_cadre_rank(person, actor)
    return entry


def sync_cadre_rank(person: User, actor: User) -> None:
    """Set the profile's cadre rank and rank date from ``person``'s record; flush only.

    The cadre training rules and the administrative-rank promotion track
    read the rank from the profile, so a rank change recorded by hand must
    reach it. The latest rank is that of the
    uncorrected rank change with the latest date. The rank date is the date
    of the earliest change in the unbroken run of changes to that rank at
    the end of the record, so recording the same rank again does not move
    it. A changed profile is audited like an edit of the profile form.
    """
    corrected = sa.select(ProgressionEntry.corrects_id).where(
        ProgressionEntry.corrects_id.is_not(None)
    )
    changes = db.session.scalars(
        sa.select(ProgressionEntry)
        .where(
            ProgressionEntry.user_id == person.id,
            ProgressionEntry.kind == ProgressionKind.RANK_CHANGE,
            ProgressionEntry.id.not_in(corrected),
        )
        .order_by(ProgressionEntry.occurred_on.desc(), ProgressionEntry.id.desc())
    ).all()
    rank = (changes[0].detail or {}).get("rank") if changes else None
    if rank not in ADMINISTRATIVE_RANKS:
        return
    since = changes[0].occurred_on
    for change in changes[1:]:
        if (change.detail or {}).get("rank") != rank:
            break
        since = change.occurred_on
    set_cadre_rank(person, actor, CadreRank(rank), since)


def set_cadre_rank(person: User, actor: User, rank: CadreRank, since: date) -> None:
    """Set the profile's cadre rank and the day it took effect; flush only.

    Audited like an edit of the profile form when either value changes.
    """
    profile = profile_of(person)
    before = _profile_values(profile)
    if profile is None:
        profile = PersonProfile(user_id=person.id)
        db.session.add(profile)
    profile.cadre_rank = rank
    profile.rank_since = since
    db.session.flush()
    after = _profile_values(profile)
    changes = {
        key: [before[key], after[key]]
        for key in ("cadre_rank", "rank_since")
        if before[key] != after[key]
    }
    if changes:
        contact.record_profile_change(person, actor, changes)


# Person profile


#: Profile columns that hold a date, stored in the audit log as ISO dates.
_PROFILE_DATES = ("post_started_on", "probation_started_on", "full_member_on", "rank_since")


def _profile_values(profile: Optional[PersonProfile]) -> dict:
    if profile is None:
        return {
            "party_status": PartyStatus.NONE.value,
            "party_committee_member": False,
            "cadre_rank": None,
            "full_time": None,
            **{name: None for name in _PROFILE_DATES},
        }
    values = {
        "party_status": profile.party_status.value,
        "party_committee_member": profile.party_committee_member,
        "cadre_rank": profile.cadre_rank.value if profile.cadre_rank else None,
        "full_time": profile.full_time,
    }
    for name in _PROFILE_DATES:
        value = getattr(profile, name)
        values[name] = value.isoformat() if value else None
    return values


def full_member_date_problem(probation: date, full_member_on: date) -> Optional[str]:
    """Return the message for a full-member date that cannot follow ``probation``, else None."""
    if full_member_on <= probation:
        return _(
            "The full-member date %(full)s is not after the probation start"
            " %(probation)s. Enter the day of admission to full membership,"
            " which follows a probation of at least one year.",
            full=format_date(full_member_on),
            probation=format_date(probation),
        )
    earliest = add_months(probation, PROBATION_MONTHS)
    if full_member_on < earliest:
        return _(
            "A probation lasts at least one year, so a probation that began"
            " on %(probation)s ends on %(earliest)s at the earliest. Check"
            " both dates.",
            probation=format_date(probation),
            earliest=format_date(earliest),
        )
    return None


def probation_over(probation: date, today: date) -> bool:
    """Return whether a probation from ``probation`` has ended even if extended."""
    return add_months(probation, 2 * PROBATION_MONTHS) < today


def record_party_date(person: User, actor: User, full_member: bool, on: date) -> dict:
    """Record the day ``person`` became a probationary or a full Party member; flush only.

    A probation start makes a person without Party status a probationary
    member, and a full-member date makes them a full member. Audited like an
    edit of the profile form. Returns the changed fields as {name: [old, new]}.
    """
    profile = profile_of(person)
    before = _profile_values(profile)
    if profile is None:
        profile = PersonProfile(user_id=person.id)
        db.session.add(profile)
    if full_member:
        profile.full_member_on = on
        profile.party_status = PartyStatus.MEMBER
    else:
        profile.probation_started_on = on
        if profile.party_status is not PartyStatus.MEMBER:
            profile.party_status = PartyStatus.PROBATIONARY
    db.session.flush()
    after = _profile_values(profile)
    changes = {
        key: [before[key], after[key]] for key in after if before[key] != after[key]
    }
    if changes:
        contact.record_profile_change(person, actor, changes)
    return changes


def profile_of(person: User) -> Optional[PersonProfile]:
    return find_profile(person.id)


def update_profile(
    person: User,
    actor: User,
    *,
    party_status: PartyStatus,
    party_committee_member: bool,
    cadre_rank: Optional[CadreRank],
    full_time: Optional[bool],
    post_started_on: Optional[date],
    post: Optional[Post] = None,
    other_changes: Optional[dict] = None,
    dates: Optional[dict] = None,
) -> dict:
    """Set the attributes the compliance rules filter on; flush only.

    ``post`` replaces the person's post unless it is None. Call
    ``record_left_post`` first to keep the post being left on the record.
    ``dates`` sets ``probation_started_on``, ``full_member_on`` and
    ``rank_since`` (a date or None each); left out, they keep their values.

    Returns the changed fields as {name: [old, new]}, including
    ``other_changes`` made to the person in the same edit, such as those
    ``contact.update_contact`` returns. An audit row is added only when
    something changed.
    """
    profile = profile_of(person)
    before = _profile_values(profile)
    old_post = person.post
    new_post = post if post is not None else old_post
    if profile is None:
        profile = PersonProfile(user_id=person.id)
        db.session.add(profile)
    profile.party_status = party_status
    profile.party_committee_member = party_committee_member
    profile.cadre_rank = cadre_rank
    profile.full_time = full_time
    profile.post_started_on = post_started_on
    for name, value in (dates or {}).items():
        if name not in _PROFILE_DATES:
            raise ValueError(f"{name} is not a profile date")
        setattr(profile, name, value)
    person.post = new_post

    after = _profile_values(profile)
    changes = {
        key: [before[key], after[key]] for key in after if before[key] != after[key]
    }
    if old_post is not new_post:
        changes["post"] = [
            old_post.value if old_post else None,
            new_post.value if new_post else None,
        ]
    changes.update(other_changes or {})
    if changes:
        # The profile page saves the post and contact details on the person
        # too; touching the profile raises its lock version for those as well.
        profile.updated_at = now_utc()
    db.session.flush()
    if changes:
        contact.record_profile_change(person, actor, changes)
    return changes


def appointment_on_record(person: User, post: Post, started_on: date) -> bool:
    """Return whether an uncorrected appointment to ``post`` from ``started_on`` is recorded."""
    corrected = sa.select(ProgressionEntry.corrects_id).where(
        ProgressionEntry.corrects_id.is_not(None)
    )
    entries = db.session.scalars(
        sa.select(ProgressionEntry).where(
            ProgressionEntry.user_id == person.id,
            ProgressionEntry.kind == ProgressionKind.APPOINTMENT,
            ProgressionEntry.occurred_on == started_on,
            ProgressionEntry.id.not_in(corrected),
        )
    )
    return any((entry.detail or {}).get("post") == post.value for entry in entries)


def record_left_post(
    person: User,
    actor: User,
    *,
    left_post: Optional[Post],
    left_started_on: Optional[date],
    new_started_on: Optional[date],
) -> Optional[ProgressionEntry]:
    """Record the post a profile edit replaces as an appointment; flush only.

    Years of service then keep counting the post after the profile names
    another post or a later start date.

    The appointment runs from the old start date to the day before the new
    one and is audited like an entry HR records by hand. Nothing is recorded
    when the old post or either start date is unknown, or when the same
    appointment is already on the record. Nothing is recorded either when
    the new start is not after the old one, because the old post would then
    end before it starts, as when only the post is corrected. Returns the
    new entry, if any.
    """
    if left_post is None or left_started_on is None or new_started_on is None:
        return None
    ended_on = new_started_on - timedelta(days=1)
    if ended_on < left_started_on:
        return None
    if appointment_on_record(person, left_post, left_started_on):
        return None
    values = {"post": left_post.value, "ended_on": ended_on, "unit": ""}
    entry = record_event(
        person, actor, ProgressionKind.APPOINTMENT, left_started_on, values
    )
    logger.info(
        "Recorded post %s of user %s (%s to %s) left in a profile edit by user %s",
        left_post.value,
        person.id,
        left_started_on,
        ended_on,
        actor.id,
    )
    return entry
