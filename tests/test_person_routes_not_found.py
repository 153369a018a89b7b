"""Routes about one person return 404 to users who may not see that person.

An existing person out of the viewer's reach and an id that matches no one
must get the same status, so the status never tells whether an id exists.
Users who may see the person (themselves, HR and admins in reach) may still
get 403 when their role lacks the right.
"""

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.annual_assessment.models import AssessmentScheme
from lms.extensions import db

# Every route whose path names a person, as (method, path template).
PERSON_ROUTES = (
    ("GET", "/people/{person}/record"),
    ("POST", "/people/{person}/record/entries"),
    ("GET", "/people/{person}/profile"),
    ("POST", "/people/{person}/profile"),
    ("GET", "/people/{person}/external/new"),
    ("POST", "/people/{person}/external/new"),
    ("GET", "/people/{person}/promotions"),
    ("GET", "/people/{person}/dossier.pdf"),
    ("POST", "/people/{person}/hr-scope"),
    ("GET", "/people/{person}/account"),
    ("POST", "/people/{person}/role"),
    ("POST", "/people/{person}/sessions/end"),
    ("POST", "/people/{person}/disable"),
    ("POST", "/people/{person}/enable"),
    ("POST", "/people/{person}/two-factor/reset"),
    ("GET", "/annual-assessment/schemes/{scheme}/people/{person}"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/components/1"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/finalise"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/reopen"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/evaluation/open"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/evaluation/codes"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/evaluation/void"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/evaluation/discard"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/evaluation/close"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/evaluation/reopen"),
    ("POST", "/annual-assessment/schemes/{scheme}/people/{person}/evaluation/apply"),
)

# Viewers for whom counselor1 is out of reach: another counselor, a trainer,
# HR of the other department and HR of another institution.
OUTSIDERS = ("counselor2", "trainer", "hr_cs", "hr2")


def _ids() -> dict:
    def user_id(username):
        return db.session.scalar(sa.select(User.id).filter_by(username=username))

    counselor1 = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    scheme_id = db.session.scalar(
        sa.select(AssessmentScheme.id).filter_by(institution_id=counselor1.institution_id)
    )
    missing = db.session.scalar(sa.select(sa.func.max(User.id))) + 1000
    return {
        "counselor1": counselor1.id,
        "counselor2": user_id("counselor2"),
        "missing": missing,
        "scheme": scheme_id,
    }


def _status(session, method, template, person, scheme) -> int:
    url = template.format(person=person, scheme=scheme)
    response = session.get(url) if method == "GET" else session.post(url)
    response.close()
    return response.status_code


@pytest.mark.parametrize("username", OUTSIDERS)
def test_outsider_gets_404_for_existing_and_missing(app_ctx, seeded, login, username):
    ids = _ids()
    session = login(username)
    wrong = []
    for method, template in PERSON_ROUTES:
        for person in (ids["counselor1"], ids["missing"]):
            status = _status(session, method, template, person, ids["scheme"])
            if status != 404:
                wrong.append(f"{method} {template} for {person}: {status}")
    assert wrong == []


def test_counselor2_promotions_of_counselor1_is_404(app_ctx, seeded, login):
    ids = _ids()
    response = login("counselor2").get(f"/people/{ids['counselor1']}/promotions")
    assert response.status_code == 404


def test_counselor2_assessment_of_counselor1_is_404(app_ctx, seeded, login):
    ids = _ids()
    url = f"/annual-assessment/schemes/{ids['scheme']}/people/{ids['counselor1']}"
    assert login("counselor2").get(url).status_code == 404


def test_own_id_on_hr_page_is_403(app_ctx, seeded, login):
    """A counselor's own id reveals nothing, so a role check may return 403."""
    ids = _ids()
    session = login("counselor2")
    own = ids["counselor2"]
    assert session.get(f"/people/{own}/promotions").status_code == 403
    url = f"/annual-assessment/schemes/{ids['scheme']}/people/{own}"
    assert session.get(url).status_code == 403
    assert session.get(f"/people/{own}/account").status_code == 403


def test_hr_list_page_stays_403_for_counselor(app_ctx, seeded, login):
    session = login("counselor2")
    assert session.get("/people").status_code == 403
    assert session.get("/promotions/review").status_code == 403


def test_hr_in_reach_gets_403_on_admin_page(app_ctx, seeded, login):
    """HR may read counselor1's record, so the admin-only page may return 403."""
    ids = _ids()
    assert login("hr").get(f"/people/{ids['counselor1']}/account").status_code == 403
