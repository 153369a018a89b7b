"""Dossier PDF, XLSX lists, department-scoped HR pages and the SVG charts."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import sqlalchemy as sa
from flask import render_template
from pypdf import PdfReader

from lms import hr_charts
from lms.accounts.models import Role
from lms.competencies import evidence
from lms.competencies.models import (
    CompetencyItem,
    Framework,
    FrameworkStatus,
    FunctionalArea,
    Level,
)
from lms.compliance.models import ComplianceRule, WindowKind
from lms.db import now_utc
from lms.extensions import db
from lms.promotion import dossier
from lms.promotion.models import PromotionApplication
from lms.records.models import HoursEntry, TrainingTier
from tests.conftest import count
from tests.promotion.conftest import add_grade, make_rule, set_title


def _yearly_rule(world):
    db.session.add(
        ComplianceRule(
            institution_id=world.uni.id,
            code="school-yearly",
            name="每年校级培训不少于16学时",
            roles=[Role.COUNSELOR],
            window_kind=WindowKind.CALENDAR_YEAR,
            min_hours=Decimal(16),
            tiers=[TrainingTier.SCHOOL],
        )
    )


def _hours(user, year, month, hours):
    db.session.add(
        HoursEntry(
            user_id=user.id,
            source_type="test",
            source_id=year * 100 + month,
            title=f"{year}年{month}月校级培训",
            occurred_on=date(year, month, 10),
            year=year,
            tier=TrainingTier.SCHOOL,
            hours=Decimal(hours),
        )
    )


def test_dossier_pdf_has_the_chinese_name_and_record(world, frozen, login):
    set_title(world.counselor, "lecturer", date(2022, 9, 1))
    add_grade(world.counselor, 2026, "excellent")
    _hours(world.counselor, 2027, 3, "12")
    db.session.commit()

    response = login("hr").get(f"/people/{world.counselor.id}/dossier.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "林晓雯" in text
    assert "马克思主义学院" in text
    assert "2027" in text
    assert "12" in text


def test_dossier_pdf_hours_without_trailing_zero(world, frozen, login):
    _hours(world.counselor, 2027, 3, "28")
    _hours(world.counselor, 2026, 4, "12.5")
    db.session.commit()

    response = login("hr").get(f"/people/{world.counselor.id}/dossier.pdf")

    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "28" in text
    assert "12.5" in text
    assert "28.0" not in text
    assert "12.50" not in text


def _three_area_framework():
    framework = Framework(
        code="fw-radar",
        title="辅导员职业能力标准",
        status=FrameworkStatus.PUBLISHED,
        published_at=now_utc(),
    )
    db.session.add(framework)
    db.session.flush()
    level = Level(framework_id=framework.id, code="junior", name="初级", position=1)
    db.session.add(level)
    items = []
    for position, name in enumerate(["思想政治教育", "党团和班级建设", "学风建设"], 1):
        area = FunctionalArea(
            framework_id=framework.id, code=f"a{position}", name=name, position=position
        )
        db.session.add(area)
        db.session.flush()
        item = CompetencyItem(
            framework_id=framework.id,
            level_id=level.id,
            area_id=area.id,
            code=f"1.{position}",
            summary=f"{name}要点",
        )
        db.session.add(item)
        items.append(item)
    db.session.flush()
    return items


def test_dossier_pdf_shows_competency_radar(world, frozen, login):
    items = _three_area_framework()
    evidence.record_evidence(
        world.counselor.id, "test", 1, [items[0].id], Decimal("0.75"), date(2026, 5, 1)
    )
    db.session.commit()
    html = render_template(
        "promotion/dossier_pdf.html", **dossier.context(world.counselor, date(2027, 6, 1))
    )

    response = login("hr").get(f"/people/{world.counselor.id}/dossier.pdf")

    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert "<polygon" in html
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    for name in ("思想政治教育", "党团和班级建设", "学风建设"):
        assert name in text
    assert "75%" in text


def test_dossier_pdf_without_framework_has_no_radar(world, frozen, login):
    db.session.commit()
    html = render_template(
        "promotion/dossier_pdf.html", **dossier.context(world.counselor, date(2027, 6, 1))
    )

    assert "<svg" not in html


def test_dossier_access(world, frozen, login):
    db.session.commit()
    url = f"/people/{world.counselor.id}/dossier.pdf"
    assert login("counselor2").get(url).status_code == 404
    assert login("physics_hr").get(url).status_code == 404
    assert login("hr_other").get(url).status_code == 404


def _sheet(response):
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_people_xlsx_status_and_scope(world, frozen, login):
    _yearly_rule(world)
    _hours(world.counselor, 2027, 3, "16")
    world.counselor2.full_name = "=HYPERLINK(\"x\")"
    db.session.commit()

    rows = _sheet(login("hr").get("/promotions/exports/people.xlsx"))
    header, people = rows[0], {row[0]: row for row in rows[1:]}
    assert header[:3] == ["Name", "Employee number", "Department"]
    assert header[-1] == "每年校级培训不少于16学时"
    assert people["林晓雯"][-1] == "Met"
    assert people["'=HYPERLINK(\"x\")"][2] == "物理学院"

    scoped = _sheet(login("dept_hr").get("/promotions/exports/people.xlsx"))
    assert [row[0] for row in scoped[1:]] == ["林晓雯"]


def test_people_xlsx_hours_match_list(world, frozen, login):
    _hours(world.counselor, 2027, 3, "12.5")
    _hours(world.counselor, 2026, 3, "40")
    db.session.commit()
    hr = login("hr")

    rows = _sheet(hr.get("/promotions/exports/people.xlsx"))

    header, people = rows[0], {row[0]: row for row in rows[1:]}
    assert header[5:9] == [
        "School level hours in 2027",
        "Provincial level hours in 2027",
        "National level hours in 2027",
        "Total hours in 2027",
    ]
    assert people["林晓雯"][5:9] == [12.5, 0, 0, 12.5]
    page = hr.get("/people").get_data(as_text=True)
    assert "12.5" in page


def test_people_xlsx_follows_department_filter(world, frozen, login):
    db.session.commit()
    hr = login("hr")
    page = hr.get(f"/people?department={world.physics.id}").get_data(as_text=True)
    assert f"/promotions/exports/people.xlsx?department={world.physics.id}" in page

    rows = _sheet(
        hr.get(f"/promotions/exports/people.xlsx?department={world.physics.id}")
    )

    assert [row[0] for row in rows[1:]] == ["周子航"]


def test_applications_xlsx(world, frozen, login):
    set_title(world.counselor, "lecturer", date(2022, 9, 1))
    rule = make_rule(world.uni.id)
    db.session.commit()
    login("counselor1").post(f"/promotions/apply/{rule.id}", {"statement": ""})
    assert count(PromotionApplication) == 1

    rows = _sheet(login("hr").get("/promotions/exports/applications.xlsx"))
    assert rows[1][1:8] == [
        "林晓雯",
        None,
        "马克思主义学院",
        "Professional title",
        "Lecturer",
        "Associate professor",
        "Waiting for the department review",
    ]
    url = "/promotions/exports/applications.xlsx"
    assert len(_sheet(login("physics_hr").get(url))) == 1
    assert login("counselor1").get(url).status_code == 403


def test_department_hr_sees_only_their_department(world, frozen, login):
    _yearly_rule(world)
    db.session.commit()
    dept_hr = login("dept_hr")

    people = dept_hr.get("/people").get_data(as_text=True)
    assert "林晓雯" in people
    assert "周子航" not in people
    # Asking for another department still shows their own.
    other = dept_hr.get(f"/people?department={world.physics.id}")
    people = other.get_data(as_text=True)
    assert "林晓雯" in people
    assert "周子航" not in people
    assert dept_hr.get(f"/people/{world.counselor2.id}/record").status_code == 404
    assert dept_hr.get(f"/people/{world.counselor.id}/record").status_code == 200

    institution_people = login("hr").get("/people").get_data(as_text=True)
    assert "林晓雯" in institution_people
    assert "周子航" in institution_people


def test_compliance_dashboard_counts_only_the_officer_department(world, frozen, login):
    _yearly_rule(world)
    _hours(world.counselor, 2027, 3, "16")
    db.session.commit()
    rule_id = db.session.scalar(sa.select(ComplianceRule.id))

    overview = login("dept_hr").get("/compliance").get_data(as_text=True)
    assert "物理学院" not in overview
    assert "<svg" in overview
    assert "Hours credited per month in 2027" in overview

    url = f"/compliance/rules/{rule_id}?department={world.physics.id}"
    drill = login("dept_hr").get(url)
    text = drill.get_data(as_text=True)
    assert "林晓雯" in text
    assert "周子航" not in text

    full = login("hr").get("/compliance").get_data(as_text=True)
    assert "物理学院" in full


def test_bar_chart_scales_and_escapes():
    values = [Decimal("4"), Decimal("8.5")]
    svg = hr_charts.bar_chart("<b>title</b>", ["1月", "2月"], values)

    assert "&lt;b&gt;title&lt;/b&gt;" in svg
    assert "<b>" not in svg
    assert 'height="180.0"' in svg  # the largest bar fills the area
    assert 'height="84.7"' in svg  # 4 of 8.5
    assert ">8.5<" in svg
    assert ">4<" in svg


def test_stacked_chart_splits_each_row_by_share():
    def segments(met, at_risk, missed):
        return [
            hr_charts.Segment("Met", met),
            hr_charts.Segment("At risk", at_risk),
            hr_charts.Segment("Missed", missed),
        ]

    svg = hr_charts.stacked_bar_chart(
        "compliance", [("学院", segments(3, 1, 0)), ("空", segments(0, 0, 0))]
    )

    width = hr_charts.WIDTH - 150 - 2 * hr_charts.LEFT_PAD
    assert f'width="{width * 3 / 4:.1f}"' in svg
    assert f'width="{width / 4:.1f}"' in svg
    assert "Missed: 0" not in svg


def _certificate(world, programme_id=None, *, status=None):
    from certificates.models import Certificate, CertificateStatus

    certificate = Certificate(
        serial="UNI-2026-000001",
        verification_code="ABCDEFGHJKMN",
        achievement_key=f"test:{world.counselor.id}",
        holder_id=world.counselor.id,
        institution_id=world.uni.id,
        programme_id=programme_id,
        holder_name=world.counselor.full_name,
        title="初级辅导员岗前培训",
        hours=Decimal(40),
        issued_on=date(2026, 5, 1),
        status=status or CertificateStatus.VALID,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def test_certificate_source_feeds_the_certificate_condition(world, frozen):
    from certificates.models import CertificateStatus
    from lms.promotion import engine
    from tests.factories import make_course, make_programme

    programme = make_programme(world.uni, "p1", [make_course(world.uni, "c1")])
    set_title(world.counselor, "lecturer", date(2020, 9, 1))
    rule = make_rule(world.uni.id, required_programme_id=programme.id)
    assert not engine.evaluate(rule, world.counselor).eligible

    certificate = _certificate(world, programme.id)
    assert engine.evaluate(rule, world.counselor).eligible

    certificate.status = CertificateStatus.SUPERSEDED
    db.session.flush()
    assert not engine.evaluate(rule, world.counselor).eligible


def test_department_hr_lists_only_their_certificates(world, frozen, login):
    _certificate(world)
    db.session.commit()

    own = login("dept_hr").get("/certificates/issued").get_data(as_text=True)
    assert "UNI-2026-000001" in own
    other = login("physics_hr").get("/certificates/issued").get_data(as_text=True)
    assert "UNI-2026-000001" not in other
    assert login("physics_hr").get("/certificates/UNI-2026-000001").status_code == 404


def test_hours_by_month_counts_one_department(world, frozen):
    from lms.compliance import dashboard

    _hours(world.counselor, 2027, 3, "16")
    _hours(world.counselor2, 2027, 5, "4.5")
    _hours(world.counselor2, 2026, 5, "8")
    db.session.flush()

    whole = dashboard.hours_by_month(world.uni, 2027)
    marxism = dashboard.hours_by_month(world.uni, 2027, world.marxism.id)

    assert whole[2] == Decimal(16)
    assert whole[4] == Decimal("4.5")
    assert sum(whole) == Decimal("20.5")
    assert marxism[2] == Decimal(16)
    assert marxism[4] == Decimal(0)


def test_department_hr_queue_lists_only_their_trainings(world, frozen, login):
    from lms.records import external
    from lms.records.models import TrainingKind

    external.submit(
        world.counselor2,
        title="省级骨干培训",
        organiser="省教育厅",
        tier=TrainingTier.PROVINCIAL,
        kind=TrainingKind.BACKBONE_CAMP,
        start_date=date(2027, 3, 2),
        end_date=date(2027, 3, 6),
        hours=Decimal(40),
        evidence_name="结业证明.pdf",
        extension="pdf",
        content=b"%PDF-1.4\n%%EOF\n",
    )
    db.session.commit()

    own = login("physics_hr").get("/records/external/pending").get_data(as_text=True)
    other = login("dept_hr").get("/records/external/pending").get_data(as_text=True)

    assert "省级骨干培训" in own
    assert "省级骨干培训" not in other


def test_dossier_lists_years_without_hours(world, frozen, login):
    _hours(world.counselor, 2025, 3, "20")
    db.session.commit()

    context = dossier.context(world.counselor, date(2027, 9, 1))
    html = render_template("promotion/dossier_pdf.html", **context)

    assert list(context["hours"]) == ["2025", "2026", "2027"]
    assert context["year_totals"]["2027"] == 0
    assert '<tr><td>2027</td><td class="number">0</td>' in html
    assert '<tr><td>2026</td><td class="number">0</td>' in html


def test_dossier_without_hours_shows_current_year(world, frozen, login):
    context = dossier.context(world.counselor, date(2027, 9, 1))

    assert context["hours"] == {"2027": {}}
    assert context["year_totals"] == {"2027": 0}


def test_dossier_pdf_shows_current_year_row(world, frozen, login):
    _hours(world.counselor, 2025, 3, "20")
    db.session.commit()

    response = login("hr").get(f"/people/{world.counselor.id}/dossier.pdf")

    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages
    )
    assert "2026 0 0 0 0" in text


def test_counselor_downloads_own_dossier_but_no_one_elses(world, frozen, login):
    _hours(world.counselor, 2027, 3, "12")
    db.session.commit()
    client = login("counselor1")

    own = client.get(f"/people/{world.counselor.id}/dossier.pdf")
    other = client.get(f"/people/{world.counselor2.id}/dossier.pdf")

    assert own.status_code == 200
    assert own.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(own.data)).pages)
    assert "林晓雯" in text
    assert other.status_code == 404


def test_own_pages_link_own_dossier(world, frozen, login):
    db.session.commit()
    client = login("counselor1")
    link = f'href="/people/{world.counselor.id}/dossier.pdf"'

    assert link in client.get(f"/people/{world.counselor.id}/record").get_data(as_text=True)
    assert link in client.get("/promotions").get_data(as_text=True)


def test_dossier_pdf_lists_each_ledger_row(world, frozen, login):
    _hours(world.counselor, 2027, 3, "12")
    _hours(world.counselor, 2026, 5, "7.5")
    db.session.commit()

    response = login("hr").get(f"/people/{world.counselor.id}/dossier.pdf")

    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages
    )
    assert "Hours ledger" in text
    assert "2027年3月校级培训" in text
    assert "2026年5月校级培训" in text
    assert "7.5" in text


def test_dossier_label_value_gap(world, frozen, login):
    set_title(world.counselor, "lecturer", date(2022, 9, 1))
    db.session.commit()

    response = login("hr").get(f"/people/{world.counselor.id}/dossier.pdf")

    first_page = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "Professional title" in first_page
    assert "titleLecturer" not in first_page


def test_dossier_pdf_states_the_party_and_post_facts(world, frozen, login):
    from lms.compliance.models import PartyStatus, PersonProfile

    db.session.add(
        PersonProfile(
            user_id=world.counselor.id,
            party_status=PartyStatus.MEMBER,
            party_committee_member=True,
            probation_started_on=date(2013, 9, 1),
            full_member_on=date(2014, 9, 1),
            post_started_on=date(2016, 9, 1),
        )
    )
    db.session.commit()

    response = login("hr").get(f"/people/{world.counselor.id}/dossier.pdf")

    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "Party status" in text
    assert "Party member" in text
    assert "grassroots Party" in text
    assert "2014" in text
    assert "Post start date" in text
    assert "2016" in text


def test_dossier_pdf_marks_corrected_record_entries(world, frozen, login):
    from lms.records.models import ProgressionKind
    from tests.promotion.conftest import add_entry

    wrong = add_entry(
        world.counselor,
        ProgressionKind.ASSESSMENT_GRADE,
        date(2026, 12, 20),
        {"year": 2026, "grade": "incompetent"},
    )
    add_entry(
        world.counselor,
        ProgressionKind.ASSESSMENT_GRADE,
        date(2026, 12, 20),
        {"year": 2026, "grade": "competent"},
        corrects=wrong,
    )
    db.session.commit()

    response = login("hr").get(f"/people/{world.counselor.id}/dossier.pdf")

    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages
    )
    assert text.count("(correction)") == 1
    assert text.count("(superseded)") == 1
