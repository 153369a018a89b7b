"""Two transactions issuing at once, on PostgreSQL where they really overlap.

SQLite allows one writer at a time, and a second writer whose snapshot is
stale fails with "database is locked" in place of waiting, so these tests
run only when LMS_TEST_DATABASE_URL points at PostgreSQL.
"""

import threading

import pytest
import sqlalchemy as sa

from certificates import services
from certificates.models import Certificate, SerialCounter
from courses.models import Programme
from lms.accounts.models import User
from lms.extensions import db
from tests.certificates.builders import (
    issue,
    make_institution,
    make_programme,
    make_user,
)


@pytest.fixture
def postgres_only(app):
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect != "postgresql":
        pytest.skip("needs PostgreSQL: set LMS_TEST_DATABASE_URL")


def run_together(app, monkeypatch, jobs):
    """Run each job in its own thread and transaction once all passed the pre-check.

    The barrier in ``find_by_achievement`` makes every thread miss the other's
    row, so the unique key, not the pre-check, has to stop the duplicate.
    """
    barrier = threading.Barrier(len(jobs), timeout=30)
    real_find = services.find_by_achievement
    first_call = threading.local()

    def find_then_wait(key):
        found = real_find(key)
        if not getattr(first_call, "done", False):
            first_call.done = True
            barrier.wait()
        return found

    monkeypatch.setattr(services, "find_by_achievement", find_then_wait)
    results, errors = [None] * len(jobs), []

    def worker(index, job):
        with app.app_context():
            try:
                cert = job()
                db.session.commit()
                results[index] = (cert.id, cert.serial)
            except Exception as exc:  # reported by the assert below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def test_parallel_issue_yields_one_certificate(app, postgres_only, monkeypatch):
    with app.app_context():
        institution = make_institution()
        user_id = make_user(institution, "c1").id
        programme_id = make_programme(institution).id
        db.session.commit()

    def job():
        user = db.session.get(User, user_id)
        programme = db.session.get(Programme, programme_id)
        return issue(user, programme)

    results = run_together(app, monkeypatch, [job, job])

    assert results[0] == results[1]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 1
        counter = db.session.scalar(sa.select(SerialCounter))
        assert counter.last_value == 1


def test_parallel_issues_get_distinct_serials(app, postgres_only, monkeypatch):
    with app.app_context():
        institution = make_institution()
        user_ids = [make_user(institution, f"c{i}").id for i in range(3)]
        programme_id = make_programme(institution).id
        db.session.commit()

    def job_for(user_id):
        def job():
            user = db.session.get(User, user_id)
            programme = db.session.get(Programme, programme_id)
            return issue(user, programme)

        return job

    results = run_together(app, monkeypatch, [job_for(u) for u in user_ids])

    serials = sorted(serial for _, serial in results)
    assert serials == ["SR-2026-000001", "SR-2026-000002", "SR-2026-000003"]
