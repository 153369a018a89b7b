"""The database-computed population report gives the engine's counts exactly."""

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from lms.accounts.models import Post, Role, User
from lms.compliance.engine import Status, evaluate_institution, rules_for
from lms.compliance.models import CadreRank, PartyStatus, PersonProfile
from lms.compliance.report import population_report, province_institution_ids
from lms.compliance.seed import seed_rules
from lms.extensions import db
from lms.records.models import HoursEntry, TrainingKind, TrainingTier
from tests.factories import make_department, make_institution, make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROLES = [Role.COUNSELOR] * 6 + [Role.PARTY_WORKER] * 3 + [Role.HR, Role.TRAINER]
POSTS = {
    Role.COUNSELOR: [Post.FULL_TIME_COUNSELOR, Post.PART_TIME_COUNSELOR],
    Role.PARTY_WORKER: [
        Post.PARTY_ORGANISER,
        Post.TEACHER_BRANCH_SECRETARY,
        Post.DEPARTMENT_PARTY_SECRETARY,
    ],
}


def _population(rng: random.Random) -> list[int]:
    """Two institutions of one province and one elsewhere, with varied people and ledgers."""
    institutions = []
    source = 0
    for code, province in (("a", "江苏省"), ("b", "江苏省"), ("c", "浙江省")):
        institution = make_institution(f"uni-{code}", f"{code}大学")
        institution.province = province
        departments = [make_department(institution, f"d{n}", f"学院{n}") for n in range(3)]
        for number in range(40):
            role = rng.choice(ROLES)
            user = make_user(
                institution,
                f"{code}{number}",
                role,
                post=rng.choice(POSTS[role]) if role in POSTS else None,
                department=rng.choice(departments + [None]),
            )
            user.active = rng.random() > 0.05
            if rng.random() < 0.7:
                started = None
                if rng.random() < 0.6:
                    started = date(2026, 12, 31) - timedelta(days=rng.randint(0, 2500))
                profile = PersonProfile(
                    user_id=user.id,
                    party_status=rng.choice(list(PartyStatus)),
                    party_committee_member=rng.random() < 0.2,
                    cadre_rank=rng.choice([None, *CadreRank]),
                    full_time=rng.choice([None, None, True, False]),
                    post_started_on=started,
                )
                # A generator of its own keeps the draws above, and so the
                # rest of the population, as they were before these dates.
                _add_party_and_rank_dates(profile, random.Random(f"{code}{number}"))
                db.session.add(profile)
            for _ in range(rng.randint(0, 6)):
                source += 1
                on = date(2026, 12, 31) - timedelta(days=rng.randint(0, 2200))
                entry = HoursEntry(
                    user_id=user.id, source_type="test", source_id=source, title="培训",
                    occurred_on=on, year=on.year, tier=rng.choice(list(TrainingTier)),
                    kind=rng.choice([None, *TrainingKind]),
                    hours=Decimal(rng.choice(["0.5", "2", "4", "7.5", "8", "16", "24", "40"])),
                )
                db.session.add(entry)
                if rng.random() < 0.1:
                    db.session.flush()
                    db.session.add(
                        HoursEntry(
                            user_id=user.id, source_type=None, source_id=None, title="更正",
                            occurred_on=on, year=on.year, tier=entry.tier, kind=entry.kind,
                            hours=-entry.hours, corrects_id=entry.id,
                        )
                    )
        institutions.append(institution)
    seed_rules()
    db.session.commit()
    return [institution.id for institution in institutions]


def _add_party_and_rank_dates(profile: PersonProfile, rng: random.Random) -> None:
    """Set Party and rank dates around 2026, some missing, some years old."""
    if rng.random() < 0.8:
        probation = date(2026, 12, 31) - timedelta(days=rng.randint(0, 1800))
        profile.probation_started_on = probation
        if rng.random() < 0.6:
            profile.full_member_on = probation + timedelta(days=rng.randint(365, 760))
    if rng.random() < 0.2:
        profile.full_member_on = date(2026, 12, 31) - timedelta(days=rng.randint(0, 1500))
        if profile.probation_started_on and profile.probation_started_on >= profile.full_member_on:
            profile.probation_started_on = None
    if rng.random() < 0.7:
        profile.rank_since = date(2026, 12, 31) - timedelta(days=rng.randint(0, 2500))


def _engine_counts(institution_ids, today):
    expected = defaultdict(lambda: defaultdict(Counter))
    for institution_id in institution_ids:
        from lms.organisations.models import Institution

        institution = db.session.get(Institution, institution_id)
        for rule in rules_for(institution_id):
            for verdict in evaluate_institution(institution, rule, today):
                unit = (institution_id, verdict.person.department_id)
                expected[rule.code][unit][verdict.status] += 1
    return expected


@pytest.mark.parametrize(
    "today",
    [
        datetime(2026, 11, 15, 10, 0, tzinfo=SHANGHAI),
        datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI),
        datetime(2027, 1, 1, 0, 10, tzinfo=SHANGHAI),
        datetime(2026, 6, 30, 16, 30, tzinfo=ZoneInfo("UTC")),
    ],
    ids=["november", "new-years-eve", "new-year", "utc-evening"],
)
def test_report_matches_engine(app_ctx, today):
    ids = _population(random.Random(7))
    expected = _engine_counts(ids, today)
    reports = population_report(ids, today)
    assert sorted(r.rule.code for r in reports) == sorted(expected)
    for report in reports:
        units = {unit: Counter(dict(c)) for unit, c in report.units.items() if +c}
        assert units == {u: c for u, c in expected[report.rule.code].items()}, report.rule.code
        total = sum((c for c in expected[report.rule.code].values()), Counter())
        assert Counter(dict(report.totals)) == total, report.rule.code
    # The population exercises the missing post start date on every rule
    # that reads the date.
    by_code = {report.rule.code: report.totals for report in reports}
    for code in (
        "counselor-pre-job",
        "counselor-national-provincial-5y",
        "party-probationary-training",
        "party-new-member-training",
        "cadre-division-5y",
    ):
        assert by_code[code][Status.START_DATE_MISSING] > 0, code
    # ... and the Party-date rules both cover people and leave some out.
    for code in ("party-probationary-training", "party-new-member-training"):
        covered = sum(n for status, n in by_code[code].items() if status is not Status.NOT_APPLICABLE and status is not Status.START_DATE_MISSING)
        assert covered > 0, code
        assert by_code[code][Status.NOT_APPLICABLE] > 0, code


def test_report_queries_do_not_grow_with_people(app, app_ctx):
    from sqlalchemy import event

    ids = _population(random.Random(11))
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        population_report(ids, date(2026, 11, 15))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    rules = len(rules_for(ids[0]))
    # institutions, rules, population, then per rule one grouped query and at
    # most two for the people with windows of their own.
    assert len(statements) <= 3 + rules * 3


def test_province_selects_its_institutions(app_ctx):
    ids = _population(random.Random(3))
    assert province_institution_ids("江苏省") == ids[:2]
    assert province_institution_ids("西藏自治区") == []
