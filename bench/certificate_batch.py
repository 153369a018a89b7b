"""Certificate batch issuance against a bare WeasyPrint render of the same page.

    python -m bench.certificate_batch -n 100
    python -m bench.certificate_batch -n 100 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/h_bench

In one run:

(a) the default Chinese template is rendered once through the product's own
    template pipeline (``designs.build_html`` of the sample data), and that
    HTML is then written to PDF ``-n`` times in a loop of this process with
    bare ``weasyprint.HTML(string=...).write_pdf(font_config=...)``, reusing
    one ``FontConfiguration`` for every page as the product's renderer does
    (the page's stylesheet is inline, so both parse it for every page).
    That loop runs WeasyPrint as released, which is the baseline. A second
    loop adds Shuren's font embedding (``certificates.font_embedding``),
    which the product installs in every process, to show how much of the
    batch's lead comes from it;
(b) a fresh database (SQLite in a temporary folder unless ``--database-url``
    names an empty PostgreSQL database, whose tables are dropped and created
    again) gets ``-n`` people who completed one programme, and
    ``certificates.batches.run_batch`` issues their certificates with
    ``--processes`` worker processes (2 by default).

Prints certificates per second for each and the ratios of the batch to
both loops, and the ratio that their CPU time per certificate predicts when the batch
has as many free cores as processes.
"""

import argparse
import os
import resource
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from bench.inputs import positive_int, require_empty_database
from bench.run import work_folder

COMPLETED = datetime(2026, 6, 30, 2, 0, tzinfo=timezone.utc)


def bare_html(app) -> str:
    """Return the HTML the default zh template produces for the sample data."""
    from certificates import designs, template_services
    from certificates.template_models import TemplateLanguage

    with app.app_context():
        body, css = template_services.default_source(TemplateLanguage.ZH)
        spec = designs.TemplateSpec(
            page_size="A4",
            orientation="landscape",
            language="zh",
            body_html=body,
            css=css,
            font_family=app.config["CERTIFICATE_FONT_FAMILY"],
        )
        return designs.build_html(spec, designs.placeholder_values(spec, designs.sample_data()))


def _cpu_seconds() -> float:
    """Return the CPU time of this process and its children, running or finished."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        + _running_children_cpu_seconds()
    )


def _running_children_cpu_seconds() -> float:
    """Return the CPU time of running child processes and the children they reaped.

    ``RUSAGE_CHILDREN`` counts only children this process has waited for.
    The batch workers are children of the multiprocessing fork server,
    which runs until this process exits, so their time is read from
    ``/proc`` (Linux): fields utime, stime, cutime and cstime of
    ``/proc/<pid>/stat``, in clock ticks.
    """
    ticks = 0
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except FileNotFoundError:  # exited since the children list was read
                continue
            # Fields after the command name, which is in brackets, start at field 3.
            fields = stat.rpartition(")")[2].split()
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def bare_render(html: str, count: int, embedding: bool = False) -> tuple[float, float]:
    """Write ``html`` to PDF ``count`` times; return the seconds and CPU seconds taken.

    WeasyPrint runs as released unless ``embedding`` is true, which adds
    Shuren's font embedding (``certificates.font_embedding``) and nothing else.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from certificates import font_embedding

    if embedding:
        font_embedding.install()
    else:
        font_embedding.uninstall()
    try:
        fonts = FontConfiguration()
        HTML(string=html).write_pdf(font_config=fonts)  # warm up: font discovery, imports
        cpu = _cpu_seconds()
        started = time.perf_counter()
        for _ in range(count):
            HTML(string=html).write_pdf(font_config=fonts)
        return time.perf_counter() - started, _cpu_seconds() - cpu
    finally:
        font_embedding.install()


def fill(count: int) -> tuple[int, int]:
    """Add an institution, a programme and ``count`` completers; return (programme, hr)."""
    from courses.models import Enrolment, Programme, PublicationStatus, TargetLevel
    from lms.accounts.models import Post, Role, User
    from lms.extensions import db
    from lms.organisations.models import Institution
    from lms.records.models import TrainingKind, TrainingTier

    institution = Institution(code="bench-univ", name="树人基准大学", serial_prefix="SR")
    db.session.add(institution)
    db.session.flush()
    hr = User(
        username="bench-hr", full_name="人事处", role=Role.HR,
        institution_id=institution.id, password_hash="!",
    )
    programme = Programme(
        institution_id=institution.id, code="bench-p", title="初级辅导员岗位培训",
        summary="", tier=TrainingTier.SCHOOL, kind=TrainingKind.PRE_JOB,
        level=TargetLevel.JUNIOR, audience="专职辅导员", status=PublicationStatus.PUBLISHED,
    )
    db.session.add_all([hr, programme])
    db.session.flush()
    db.session.execute(
        sa.insert(User),
        [
            {
                "username": f"bench-{number:05d}", "full_name": f"欧阳学员{number}",
                "employee_no": f"T{number:07d}", "role": Role.COUNSELOR,
                "post": Post.FULL_TIME_COUNSELOR, "institution_id": institution.id,
                "password_hash": "!",
            }
            for number in range(count)
        ],
    )
    ids = db.session.scalars(
        sa.select(User.id).where(User.username.like("bench-0%")).order_by(User.id)
    ).all()
    db.session.execute(
        sa.insert(Enrolment),
        [
            {"user_id": user_id, "programme_id": programme.id, "completed_at": COMPLETED}
            for user_id in ids
        ],
    )
    db.session.commit()
    return programme.id, hr.id


def batch_run(app, count: int, processes: int) -> tuple[float, float, dict]:
    """Issue ``count`` certificates as one batch; return seconds, CPU seconds and counts.

    The CPU seconds count this process and the worker processes, whose
    start-up (app, fonts) is part of the batch, and the fork server the
    workers come from, which imports the app's modules when the first batch
    of a process starts it.
    """
    from certificates import batches
    from courses.models import Programme
    from lms.accounts.models import User
    from lms.extensions import db

    with app.app_context():
        db.drop_all()
        db.create_all()
        programme_id, hr_id = fill(count)
        batch = batches.create_batch(
            db.session.get(User, hr_id), db.session.get(Programme, programme_id)
        )
        db.session.commit()
        batch_id = batch.id
        db.session.remove()
    cpu = _cpu_seconds()
    started = time.perf_counter()
    batches.run_batch(app, batch_id, processes=processes)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    with app.app_context():
        counts = batches.progress(db.session.get(batches.CertificateBatch, batch_id))
        db.session.remove()
        db.engine.dispose()
    return seconds, cpu, counts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=positive_int, default=100)
    parser.add_argument("--processes", type=positive_int, default=2)
    parser.add_argument("--database-url",
                        help="an empty database, whose tables are dropped and created "
                             "again (default: SQLite in the work folder)")
    parser.add_argument("--keep-files", action="store_true",
                        help="keep the work folder (shuren-certificate-batch-* in the system's "
                             "temporary folder): the SQLite database unless --database-url is "
                             "given, the issued certificates' PDFs and the uploads folder")
    args = parser.parse_args(argv)
    if args.database_url:
        # The batch run drops the product's tables before it fills them.
        require_empty_database(
            args.database_url,
            "This benchmark drops the product's tables and creates them again: "
            "pass an empty database.",
        )
    with work_folder("shuren-certificate-batch-", keep=args.keep_files) as tmpdir:
        compare(args, str(tmpdir))


def compare(args: argparse.Namespace, tmpdir: str) -> None:
    """Time the bare loops and the batch in ``tmpdir`` and print the comparison."""
    from lms import create_app

    url = args.database_url or f"sqlite:///{tmpdir}/bench.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "CERTIFICATE_DIR": os.path.join(tmpdir, "certificates"),
            "UPLOAD_DIR": os.path.join(tmpdir, "uploads"),
            "SECRET_KEY": "bench-secret",
            "CERTIFICATE_BATCH_AUTOSTART": False,
        }
    )
    load_before = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    html = bare_html(app)
    bare_s, bare_cpu = bare_render(html, args.count)
    embedding_s, embedding_cpu = bare_render(html, args.count, embedding=True)
    batch_s, batch_cpu, counts = batch_run(app, args.count, args.processes)
    if counts["issued"] != args.count:
        raise SystemExit(f"the batch issued {counts['issued']} of {args.count}: {counts}")

    bare_rate = args.count / bare_s
    batch_rate = args.count / batch_s
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"database: {url.split(':', 1)[0]}, N = {args.count}, cores: {os.cpu_count()}, "
          f"load average before: {load_before}, after: {load}")
    print("| run | seconds | certificates/s | CPU s per certificate |")
    print("|---|---|---|---|")
    print(f"| bare WeasyPrint, 1 process | {bare_s:.2f} | {bare_rate:.2f} "
          f"| {bare_cpu / args.count:.3f} |")
    print(f"| bare loop with Shuren's font embedding, 1 process | {embedding_s:.2f} "
          f"| {args.count / embedding_s:.2f} | {embedding_cpu / args.count:.3f} |")
    print(f"| batch, {args.processes} processes | {batch_s:.2f} | {batch_rate:.2f} "
          f"| {batch_cpu / args.count:.3f} |")
    print(f"ratio batch / bare: {batch_rate / bare_rate:.2f}")
    print(f"ratio batch / bare loop with the same font embedding: "
          f"{args.count / batch_s / (args.count / embedding_s):.2f}")
    # On a machine shared with other work the wall-clock ratio depends on
    # the share of the cores each run got; CPU time per certificate does not.
    cores = min(args.processes, os.cpu_count() or 1)
    print(f"ratio from CPU time, {cores} free cores (estimate): "
          f"{cores * bare_cpu / batch_cpu:.2f}")


if __name__ == "__main__":
    main()
