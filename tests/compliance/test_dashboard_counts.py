"""The HR dashboard's counts, computed in the database, equal the engine's verdicts."""

import random
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from certificates import hours as certificate_hours
from certificates import services as certificates
from certificates.models import Certificate
from courses import services
from lms.accounts.models import Role
from lms.compliance.dashboard import count_verdicts, summarise
from lms.compliance.engine import Status, evaluate, evaluate_institution, rules_for
from lms.compliance.explain import explain
from lms.compliance.report import population_report
from lms.extensions import db
from lms.organisations.models import Institution
from tests.compliance.test_programme_trainings import (
    _complete_both,
    _count_rule,
    _finish,
    _hours_rule,
    _shared_world,
)
from tests.compliance.test_report import _population
from tests.factories import make_institution, make_user


def _nonzero(counter: Counter) -> Counter:
    return Counter({status: n for status, n in counter.items() if n})


def test_summarise_matches_engine_counts(app_ctx):
    today = datetime(2026, 11, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    ids = _population(random.Random(3))
    for institution_id in ids:
        institution = db.session.get(Institution, institution_id)
        summaries = summarise(institution, today)
        expected = [
            count_verdicts(rule, evaluate_institution(institution, rule, today))
            for rule in rules_for(institution_id)
        ]
        assert [s.rule.id for s in summaries] == [e.rule.id for e in expected]
        for summary, engine in zip(summaries, expected):
            assert _nonzero(summary.total) == _nonzero(engine.total), summary.rule.code
            departments = {d: _nonzero(c) for d, c in summary.by_department.items() if +c}
            assert departments == {d: _nonzero(c) for d, c in engine.by_department.items()}


def test_credited_elsewhere_counts_alike(app_ctx, monkeypatch, app):
    """A completed programme without 学时 of its own counts as a training in all three.

    The engine's verdicts and their explanation, the population report and
    the dashboard count the same people as having had a provincial training.
    """
    monkeypatch.setitem(app.config, "LESSON_MIN_TIME_SHARE", 0)
    uni = make_institution()
    hr = make_user(uni, "hr", Role.HR)
    world = _shared_world(uni)
    shared, school_only, school, provincial = world
    done = make_user(uni, "done")
    _complete_both(done, *world)
    half = make_user(uni, "half")
    services.enrol(half, school)
    services.enrol(half, provincial)
    _finish(half, school_only)
    alone = make_user(uni, "alone")
    services.enrol(alone, provincial)
    _finish(alone, shared)
    withdrawn = make_user(uni, "withdrawn")
    _complete_both(withdrawn, *world)
    cert = db.session.scalar(
        sa.select(Certificate).filter_by(holder_id=withdrawn.id, programme_id=provincial.id)
    )
    certificates.revoke(cert, "记录有误", hr)
    certificate_hours.withdraw_hours(cert, hr, "记录有误")
    hours_kept = make_user(uni, "kept")
    _complete_both(hours_kept, *world)
    cert = db.session.scalar(
        sa.select(Certificate).filter_by(holder_id=hours_kept.id, programme_id=provincial.id)
    )
    certificates.revoke(cert, "记录有误", hr)
    make_user(uni, "none")
    rules = [_count_rule(), _count_rule("any-training", tiers=()), _hours_rule()]
    today = datetime.now(ZoneInfo("UTC"))

    verdicts = {rule.code: evaluate_institution(uni, rule, today) for rule in rules}
    achieved = {
        code: {v.person.username: v.achieved for v in found if v.person.role is Role.COUNSELOR}
        for code, found in verdicts.items()
    }
    assert achieved["provincial-5y"] == {
        "done": 1, "half": 0, "alone": 1, "withdrawn": 0, "kept": 1, "none": 0,
    }
    assert achieved["any-training"] == {
        "done": 2, "half": 0, "alone": 1, "withdrawn": 1, "kept": 2, "none": 0,
    }
    assert achieved["yearly-hours"] == {
        "done": 6, "half": 2, "alone": 4, "withdrawn": 6, "kept": 6, "none": 0,
    }
    by_name = {v.person.username: v for v in verdicts["provincial-5y"]}
    assert evaluate(done, rules[0], today).achieved == 1
    assert explain(by_name["done"]) == explain(evaluate(done, rules[0], today))
    assert explain(by_name["done"]) != explain(by_name["none"])

    reports = {r.rule.code: r for r in population_report([uni.id], today)}
    summaries = {s.rule.code: s for s in summarise(uni, today)}
    for rule in rules:
        engine = count_verdicts(rule, verdicts[rule.code])
        assert Counter(dict(reports[rule.code].totals)) == Counter(
            v.status for v in verdicts[rule.code]
        ), rule.code
        assert _nonzero(summaries[rule.code].total) == _nonzero(engine.total), rule.code
    assert reports["provincial-5y"].totals[Status.MET] == 3
