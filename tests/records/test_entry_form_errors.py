"""Record entry forms name every missing or invalid field in one response."""

import io
import re

import pytest

from lms.records.models import ExternalTraining, ProgressionEntry
from tests.conftest import count

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EVIDENCE_LABEL = "Evidence (PDF, JPEG or PNG, at most 10 MB)"


def _english(session):
    session.post("/language/en")
    return session


def _training(**overrides) -> dict:
    form = {
        "title": "全国高校辅导员示范培训",
        "organiser": "教育部思想政治工作司",
        "tier": "national",
        "kind": "demonstration",
        "start_date": "2025-12-29",
        "end_date": "2026-01-02",
        "hours": "10",
        "evidence": (io.BytesIO(PDF), "结业证书.pdf"),
    }
    form.update(overrides)
    return form


def _post_forms(page: str) -> list[str]:
    return [
        tag
        for tag in re.findall(r"<form [^>]*>", page)
        if 'method="post"' in tag and "/language/" not in tag and "/logout" not in tag
    ]


@pytest.fixture(autouse=True)
def evidence_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))


def test_entry_pages_leave_checks_to_server(world, login):
    # A browser that checks the fields itself names only the first gap.
    hr = login("hr")
    counselor = login("counselor1")
    pages = [
        counselor.get("/records/external"),
        hr.get(f"/people/{world.counselor}/external/new"),
        hr.get(f"/people/{world.counselor}/record"),
        hr.get(f"/people/{world.counselor}/profile"),
    ]

    for response in pages:
        forms = _post_forms(response.get_data(as_text=True))
        assert forms, response.request.path
        for tag in forms:
            assert "novalidate" in tag, (response.request.path, tag)


def test_bad_evidence_named_with_missing_fields(world, login):
    counselor = _english(login("counselor1"))
    fields = _training(
        title="", hours="", evidence=(io.BytesIO(b"plain text"), "证书.txt")
    )

    response = counselor.post(
        "/records/external", data=fields, content_type="multipart/form-data"
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Title: This field is required." in page
    assert "Hours: This field is required." in page
    assert f"{EVIDENCE_LABEL}: Upload a PDF, JPEG or PNG file" in page
    assert count(ExternalTraining) == 0


def test_hr_entry_names_evidence_with_missing_fields(world, login):
    hr = _english(login("hr"))
    fields = _training(
        organiser="", start_date="", evidence=(io.BytesIO(b"plain text"), "证书.txt")
    )

    response = hr.post(
        f"/people/{world.counselor}/external/new",
        data=fields,
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Organiser: This field is required." in page
    assert "Start date: This field is required." in page
    assert f"{EVIDENCE_LABEL}: Upload a PDF, JPEG or PNG file" in page
    assert 'value="全国高校辅导员示范培训"' in page
    assert count(ExternalTraining) == 0


def test_duplicate_named_with_invalid_exam(world, login):
    counselor = _english(login("counselor1"))
    first = counselor.post(
        "/records/external", data=_training(), content_type="multipart/form-data"
    )
    assert first.status_code == 302

    response = counselor.post(
        "/records/external",
        data=_training(exam="maybe"),
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Exam result: “maybe” is not one of the listed options" in page
    assert "Title: You already submitted" in page
    assert count(ExternalTraining) == 1


def test_grade_year_named_with_missing_date(world, login):
    hr = _english(login("hr"))
    recorded = hr.post(
        f"/people/{world.counselor}/record/entries",
        data={
            "kind": "assessment_grade",
            "occurred_on": "2026-01-15",
            "grade": "excellent",
            "year": "2025",
        },
    )
    assert recorded.status_code == 302

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data={"kind": "assessment_grade", "occurred_on": "", "grade": "", "year": "2025"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Date: This field is required." in page
    assert "Assessment grade: Required for this kind of event." in page
    assert "Year: An annual grade for 2025 is already on the record" in page
    assert count(ProgressionEntry) == 1
