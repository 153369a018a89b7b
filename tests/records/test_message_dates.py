"""Record forms write the dates in their messages in the reader's language."""

import io

from lms.records.models import ExternalTraining, ProgressionEntry
from tests.conftest import count

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _training() -> dict:
    return {
        "title": "全国高校辅导员示范培训",
        "organiser": "教育部思想政治工作司",
        "tier": "national",
        "kind": "demonstration",
        "start_date": "2025-12-29",
        "end_date": "2026-01-02",
        "hours": "10",
        "evidence": (io.BytesIO(PDF), "结业证书.pdf"),
    }


def _submit_twice(counselor):
    first = counselor.post(
        "/records/external", data=_training(), content_type="multipart/form-data"
    )
    assert first.status_code == 302
    return counselor.post(
        "/records/external", data=_training(), content_type="multipart/form-data"
    )


def test_duplicate_training_dates_in_chinese(world, login):
    response = _submit_twice(login("counselor1"))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "2025年12月29日" in page
    assert "2026年1月2日" in page
    assert "2025-12-29" not in page.replace('value="2025-12-29"', "")
    assert count(ExternalTraining) == 1


def test_duplicate_training_dates_in_english(world, login):
    counselor = login("counselor1")
    counselor.post("/language/en")

    page = _submit_twice(counselor).get_data(as_text=True)

    assert "from 2025-12-29 to 2026-01-02" in page


def test_post_end_before_start_in_chinese(world, login):
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data={
            "kind": "appointment",
            "occurred_on": "2019-09-01",
            "post": "part_time_counselor",
            "ended_on": "2019-08-31",
            "unit": "物理学院",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "2019年9月1日" in page
    assert count(ProgressionEntry) == 0


def test_entry_date_range_in_chinese(world, login):
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data={
            "kind": "honour",
            "occurred_on": "1949-10-01",
            "name": "优秀辅导员",
            "level": "school",
            "year": "1949",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "1950年1月1日" in page
    assert "1950-01-01" not in page
