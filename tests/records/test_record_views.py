"""The HR people list and personal training records through real logins."""

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from assessments.models import Quiz
from lms.accounts.models import User
from lms.extensions import db
from lms.labels import label
from lms.records.models import (
    HoursEntry,
    ProgressionEntry,
    ProgressionKind,
    TrainingKind,
    TrainingTier,
)
from lms.records.services import current_year
from tests.conftest import count
from tests.factories import correct_answers


def _english(session):
    session.post("/language/en")
    return session


def _complete_course1(login, world):
    """Enrol counselor1 and complete course 1 (two lessons and the quiz)."""
    counselor = _english(login("counselor1"))
    counselor.post(f"/programmes/{world.programme}/enrol")
    for lesson_id in world.lessons1:
        counselor.get(f"/courses/{world.course1}/lessons/{lesson_id}")
        counselor.post(f"/courses/{world.course1}/lessons/{lesson_id}/complete")
    response = counselor.post(f"/quizzes/{world.quiz}/start")
    attempt_id = int(
        re.search(r"/attempts/(\d+)$", response.headers["Location"]).group(1)
    )
    quiz = db.session.get(Quiz, world.quiz)
    counselor.post(f"/attempts/{attempt_id}/submit", data=correct_answers(quiz))
    return counselor


def _add_certificate_entry(user_id: int) -> None:
    db.session.add(
        ProgressionEntry(
            user_id=user_id,
            kind=ProgressionKind.CERTIFICATE,
            occurred_on=date(2026, 3, 1),
            title="初级辅导员岗前培训结业证书",
            detail={
                "serial": "UNI--2026-000007",
                "hours": "3.5",
                "expires_on": None,
                "verification_code": "abcDEF123",
            },
            source_type="certificate",
            source_id=7,
        )
    )
    db.session.commit()


# Person record -----------------------------------------------------------


def test_record_shows_ledger_and_training_entry(world, login):
    from lms.compliance.seed import seed_rules

    seed_rules()
    db.session.commit()
    counselor = _complete_course1(login, world)
    assert count(HoursEntry) == 1
    assert count(ProgressionEntry) == 1

    page = counselor.get(f"/people/{world.counselor}/record").get_data(as_text=True)

    assert page.count("心理危机识别") == 2  # one timeline row, one ledger row
    assert "2 hours" in page
    assert "School level" in page
    assert "Pre-job training" in page
    year = current_year(db.session.get(User, world.counselor))
    assert f"<td>{year}</td>" in page
    # The course is pre-job training, which the in-service rule leaves out.
    assert (
        f"0 of 16 school-level hours (not counting pre-job training) in {year};"
        f" 16 missing by {year}-12-31."
    ) in page


def test_record_links_certificate_serial_to_verify_page(world, login):
    _add_certificate_entry(world.counselor)

    page = (
        login("counselor1")
        .get(f"/people/{world.counselor}/record")
        .get_data(as_text=True)
    )

    assert '<a href="/verify/abcDEF123">UNI--2026-000007</a>' in page


def test_hr_of_same_institution_sees_record(world, login):
    _complete_course1(login, world)

    for username in ["hr", "admin"]:
        response = login(username).get(f"/people/{world.counselor}/record")
        assert response.status_code == 200, username
        assert "心理危机识别" in response.get_data(as_text=True), username


def test_record_hidden_from_other_people(world, login):
    _complete_course1(login, world)
    url = f"/people/{world.counselor}/record"

    for username in ["counselor2", "trainer", "hr_b", "counselor_b"]:
        assert login(username).get(url).status_code == 404, username


def test_unknown_person_is_404(world, login):
    hr = login("hr")

    assert hr.get("/people/987654/record").status_code == 404
    assert hr.get("/people/99999999999999999999999/record").status_code == 404


def test_guest_record_and_people_go_to_login(world, client):
    for url in [f"/people/{world.counselor}/record", "/people"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


# People list -------------------------------------------------------------


def test_people_is_for_hr_and_admin(world, login):
    for username in ["counselor1", "organiser", "trainer"]:
        assert login(username).get("/people").status_code == 403, username
    for username in ["hr", "admin"]:
        assert login(username).get("/people").status_code == 200, username


def test_people_lists_own_institution_only(world, login):
    page = _english(login("hr")).get("/people").get_data(as_text=True)

    for name in ["张老师", "李老师", "王组织员", "赵培训师", "钱人事"]:
        assert name in page
    assert "周老师" not in page
    assert "吴人事" not in page
    assert f'href="/people/{world.counselor}/record"' in page
    assert "Full-time counselor" in page
    assert "Party organiser" in page
    assert "教育学院" in page


def test_people_shows_hours_by_tier(world, login):
    _complete_course1(login, world)
    user = db.session.get(User, world.counselor2)
    year = current_year(user)
    db.session.add(
        HoursEntry(
            user_id=user.id,
            title="省级示范培训",
            occurred_on=date(year, 5, 1),
            year=year,
            tier=TrainingTier.PROVINCIAL,
            kind=TrainingKind.DEMONSTRATION,
            hours=Decimal("24.0"),
        )
    )
    db.session.commit()

    page = _english(login("hr")).get("/people").get_data(as_text=True)

    rows = {
        name: re.search(rf"<tr>\s*<td>{name}.*?</tr>", page, re.S).group(0)
        for name in ["张老师", "李老师"]
    }
    cells = {name: re.findall(r"<td>([\d.]+)</td>", row) for name, row in rows.items()}
    assert cells["张老师"] == ["2", "0", "0"]
    assert cells["李老师"] == ["0", "24", "0"]


def test_people_filters_by_department(world, login):
    page = login("hr").get(f"/people?department={world.physics}").get_data(as_text=True)

    assert "李老师" in page
    assert "张老师" not in page


def test_people_rejects_invalid_department(world, login):
    hr = _english(login("hr"))

    for value in ["abc", "²", "-1", "99999999999999999999999", str(world.other_school)]:
        response = hr.get("/people", query_string={"department": value})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, value
        assert "Department filter" in page, value
        assert "张老师" in page, value
        assert "周老师" not in page, value


# Labels ------------------------------------------------------------------


def test_label_filter_handles_members_and_values(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert label(TrainingTier.PROVINCIAL) == "Provincial level"
        assert label("backbone_camp", "kind") == "Backbone training camp"
        assert label(None) == ""
        assert label("unknown_value", "tier") == "unknown_value"


def test_certificate_links_on_record(world, login):
    from certificates.models import Certificate

    counselor = _complete_course1(login, world)
    counselor.get(f"/courses/{world.course2}/lessons/{world.lessons2[0]}")
    counselor.post(f"/courses/{world.course2}/lessons/{world.lessons2[0]}/complete")
    certificate = db.session.scalar(sa.select(Certificate))
    assert certificate is not None

    own = counselor.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    hr_page = login("hr").get(f"/people/{world.counselor}/record").get_data(as_text=True)

    verify_link = f'<a href="/verify/{certificate.verification_code}">{certificate.serial}</a>'
    detail_link = f'<a href="/certificates/{certificate.serial}">{certificate.serial}</a>'
    assert verify_link in own
    # HR lands on the certificate page, where it can also revoke.
    assert detail_link in hr_page


def test_page_titles_use_full_width_colon(world, login):
    admin = login("admin")

    record = admin.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    account = admin.get(f"/people/{world.counselor}/account").get_data(as_text=True)

    assert "<h1>培训档案：张老师</h1>" in record
    assert "培训档案: " not in record
    assert "<h1>账号：张老师</h1>" in account
    assert "账号: " not in account


def test_page_titles_keep_ascii_colon_in_english(world, login, english):
    admin = login("admin")

    record = admin.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    account = admin.get(f"/people/{world.counselor}/account").get_data(as_text=True)

    assert "<h1>Training record: 张老师</h1>" in record
    assert "<h1>Account: 张老师</h1>" in account
