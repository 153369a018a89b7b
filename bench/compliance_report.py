"""HR compliance report against a plain aggregate over the same ledger rows.

    python -m bench.compliance_report --database-url sqlite:///bench/data/m.sqlite3

Times ``lms.compliance.report.population_report`` for the demo university
(5,000 people from tier M up) and for its province (15,000 people in tier M,
50,000 in tier L), and in the same run, for the same people, one plain
``SELECT user_id, SUM(hours) ... GROUP BY user_id`` per rule over the rows
that rule reads. Prints the median of five runs of each and their ratio.
A rule whose window is each person's own (post start, Party dates) reads
all of the person's rows of its kinds in the plain aggregate.
"""

import argparse
import statistics
import time

import sqlalchemy as sa

from bench.generate import PROVINCES, absolute_sqlite_url
from bench.inputs import require_sqlite_file


def _median_seconds(function, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    require_sqlite_file(args.database_url)

    from lms import create_app
    from lms.accounts.models import User
    from lms.compliance import ledger
    from lms.compliance.report import _rules_by_institution, population_report
    from lms.compliance.windows import local_today, window_for
    from lms.extensions import db
    from lms.organisations.models import Institution
    from lms.records.models import HoursEntry

    app = create_app({"SQLALCHEMY_DATABASE_URI": absolute_sqlite_url(args.database_url)})
    print("| population | people | ledger rows | report s | plain aggregate s | ratio |")
    print("|---|---|---|---|---|---|")
    with app.app_context():
        demo = db.session.scalar(sa.select(Institution).filter_by(code="demo-univ"))
        province = list(db.session.scalars(
            sa.select(Institution.id).where(Institution.province == PROVINCES[0])))
        for name, ids in (("institution", [demo.id]), ("province", province)):
            people = sa.select(User.id).where(User.institution_id.in_(ids))
            today = local_today(demo)
            rules = _rules_by_institution(ids)[ids[0]]

            def plain():
                for rule in rules:
                    filters = [HoursEntry.user_id.in_(people), *ledger.restriction_filters(rule)]
                    if not rule.counts_from_person_dates:
                        filters += ledger.window_filters(window_for(rule, today))
                    db.session.execute(
                        sa.select(HoursEntry.user_id, sa.func.sum(HoursEntry.hours))
                        .where(*filters).group_by(HoursEntry.user_id)
                    ).all()

            def report():
                population_report(ids, today)
                db.session.expunge_all()

            report()
            plain()
            report_s = _median_seconds(report)
            plain_s = _median_seconds(plain)
            count = db.session.scalar(sa.select(sa.func.count()).select_from(people.subquery()))
            rows = db.session.scalar(
                sa.select(sa.func.count(HoursEntry.id)).where(HoursEntry.user_id.in_(people)))
            print(f"| {name} | {count} | {rows} | {report_s:.3f} | {plain_s:.3f} "
                  f"| {report_s / plain_s:.2f} |")
        db.engine.dispose()


if __name__ == "__main__":
    main()
