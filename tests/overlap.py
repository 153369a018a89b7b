"""Two transactions that overlap, for tests of requests that race on PostgreSQL."""

import threading

from lms.extensions import db


def overlap(app, work) -> list[Exception]:
    """Run ``work`` in two threads whose transactions overlap and return the errors raised.

    The first thread stops before its commit until the second is done, or for
    three seconds while a lock makes the second wait.
    """
    first_done = threading.Event()
    second_done = threading.Event()
    errors = []

    def run(hold=False):
        with app.app_context():
            try:
                work()
                if hold:
                    first_done.set()
                    second_done.wait(timeout=3)
                db.session.commit()
            except Exception as exc:  # returned for the caller's asserts
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    def second():
        first_done.wait(timeout=30)
        run()
        second_done.set()

    threads = [threading.Thread(target=run, args=(True,)), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors
