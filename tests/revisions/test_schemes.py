"""Lost-update protection of the yearly assessment scheme editor."""

import sqlalchemy as sa

from lms.annual_assessment.models import AssessmentScheme
from lms.extensions import db
from lms.organisations.models import Institution


def _scheme_id() -> int:
    return db.session.scalar(
        sa.select(AssessmentScheme.id)
        .join(Institution, Institution.id == AssessmentScheme.institution_id)
        .where(Institution.code == "demo-univ")
        .order_by(AssessmentScheme.year.desc())
    )


def test_stale_scheme_save_rejected(app, race):
    with app.app_context():
        scheme_id = _scheme_id()
        title = db.session.get(AssessmentScheme, scheme_id).title

    edit = race(f"/annual-assessment/schemes/{scheme_id}/edit", "admin", "hr")
    edit.first_saves(title="甲改过的方案名称")
    edit.second_saves(**{"bands-0-name": "乙改过的等级"})

    with app.app_context():
        scheme = db.session.get(AssessmentScheme, scheme_id)
        assert scheme.title == "甲改过的方案名称"
        assert scheme.bands[0].name != "乙改过的等级"
    assert title != "甲改过的方案名称"


def test_band_change_rejects_stale_scheme(app, race):
    with app.app_context():
        scheme_id = _scheme_id()

    edit = race(f"/annual-assessment/schemes/{scheme_id}/edit", "admin", "hr")
    edit.first_saves(**{"bands-0-name": "甲改过的等级"})
    edit.second_saves(title="乙改过的方案名称")

    with app.app_context():
        scheme = db.session.get(AssessmentScheme, scheme_id)
        assert scheme.bands[0].name == "甲改过的等级"
        assert scheme.title != "乙改过的方案名称"
    edit.second_saves_again()
