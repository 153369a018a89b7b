"""The HR dashboard's counts, computed in the database, equal the engine's verdicts."""

import random
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from lms.compliance.dashboard import count_verdicts, summarise
from lms.compliance.engine import evaluate_institution, rules_for
from lms.extensions import db
from lms.organisations.models import Institution
from tests.compliance.test_report import _population


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
