"""Serial patterns per institution: validation, formatting, counters and uniqueness."""

import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from certificates import serials
from certificates.models import Certificate, SerialCounter
from certificates.serials import SerialPatternError, check_pattern
from lms.accounts.models import Role
from lms.audit import AuditEntry
from lms.extensions import db
from tests.certificates.builders import issue, make_institution, make_programme, make_user


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("{prefix}-{year}", "must contain {seq}"),
        ("{prefix}-{seq:06d}", "must contain {year} or {yy}"),
        ("{prefix}-{year}-{seq:06d}-{dept}", "unknown field {dept}"),
        ("{prefix.__class__}-{year}-{seq}", "unknown field {prefix.__class__}"),
        ("{seq[0]}-{year}", "unknown field {seq[0]}"),
        ("{}-{year}-{seq}", "unknown field {}"),
        ("{prefix}/{year}/{seq:06d}", "only letters, digits, - and _"),
        ("{prefix} {year} {seq}", "only letters, digits, - and _"),
        ("{prefix}-{year}-{seq:>60}", "zero-padded width of 1 to 12 digits"),
        ("{prefix}-{year}-{seq:s}", "zero-padded width of 1 to 12 digits"),
        ("{prefix}-{year}-{seq:x}", "zero-padded width of 1 to 12 digits"),
        ("{prefix}-{year}-{seq:6d}", "zero-padded width of 1 to 12 digits"),
        ("{prefix}-{year}-{seq:013d}", "zero-padded width of 1 to 12 digits"),
        ("{prefix}-{year}-{seq:0999999d}", "zero-padded width of 1 to 12 digits"),
        ("{prefix}-{year}-{seq:0{yy}d}", "zero-padded width of 1 to 12 digits"),
        ("{prefix:>10}-{year}-{seq}", "{prefix} takes no format"),
        ("{prefix}-{year}-{seq!r}", "conversions such as !r"),
        ("{prefix!s}-{year}-{seq}", "conversions such as !r"),
        ("{prefix}-{year}-{seq}{seq}", "contains {seq} 2 times"),
        ("{prefix}-{year}-{seq:012d}-" + "x" * 20, "at most 40 characters"),
        ("{prefix-{year}-{seq}", "malformed"),
        ("", "1 to 80 characters"),
    ],
)
def test_pattern_rejected_with_reason(pattern, message):
    with pytest.raises(SerialPatternError) as error:
        check_pattern(pattern)

    assert message in str(error.value)
    assert len(str(error.value)) < 400


def test_pattern_checked_with_real_prefix():
    pattern = "{prefix}-{code}-{year}-{seq:06d}"

    check_pattern(pattern, prefix="SR", code="uni-a")
    with pytest.raises(SerialPatternError) as error:
        check_pattern(pattern, prefix="A" * 16, code="university-of-somewhere")

    assert "at most 40 characters" in str(error.value)
    assert "…" in str(error.value)


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("{prefix}-{year}-{seq:06d}", "SR-2026-000123"),
        ("{prefix}{yy}{seq:05d}", "SR2600123"),
        ("{code}_{year}_{seq}", "uni-a_2026_123"),
        ("{prefix}{yy:02d}{seq:012d}", "SR26000000000123"),
        ("{prefix}-{year}-{seq:d}", "SR-2026-123"),
    ],
)
def test_pattern_formats(pattern, expected):
    check_pattern(pattern)

    assert serials.format_pattern(pattern, "SR", "uni-a", 2026, 123) == expected


@pytest.mark.parametrize("prefix", ["", "S R", "SR-", "前缀", "A" * 17])
def test_prefix_rejected(prefix):
    with pytest.raises(SerialPatternError) as error:
        serials.check_prefix(prefix)

    assert error.value.field == "serial_prefix"


@pytest.fixture
def two_schools(app_ctx):
    first = make_institution("uni-a", "甲大学", prefix="JA")
    second = make_institution("uni-b", "乙大学", prefix="YI")
    return {
        "first": first,
        "second": second,
        "first_programme": make_programme(first, "p-a"),
        "second_programme": make_programme(second, "p-b"),
        "first_people": [make_user(first, f"a{i}") for i in range(3)],
        "second_people": [make_user(second, f"b{i}") for i in range(2)],
    }


def test_custom_pattern_used_at_issue(two_schools):
    serials.update_settings(
        two_schools["first"], prefix="BNU", pattern="{prefix}{yy}-{seq:04d}",
        renewal_window_days=60,
    )

    cert = issue(two_schools["first_people"][0], two_schools["first_programme"])

    assert cert.serial == "BNU26-0001"
    assert two_schools["first"].serial_prefix == "BNU"
    assert serials.renewal_window_days(two_schools["first"].id) == 60


def test_counters_per_institution_and_year(two_schools):
    a0, a1, a2 = two_schools["first_people"]
    b0, b1 = two_schools["second_people"]
    programme_a = two_schools["first_programme"]
    programme_b = two_schools["second_programme"]
    new_year = datetime(2027, 1, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai

    serial_list = [
        issue(a0, programme_a).serial,
        issue(b0, programme_b).serial,
        issue(a1, programme_a).serial,
        issue(a2, programme_a, completed_at=new_year).serial,
        issue(b1, programme_b, completed_at=new_year).serial,
    ]

    assert serial_list == [
        "JA-2026-000001",
        "YI-2026-000001",
        "JA-2026-000002",
        "JA-2027-000001",
        "YI-2027-000001",
    ]
    counters = {
        (row.institution_id, row.year): row.last_value
        for row in db.session.scalars(sa.select(SerialCounter))
    }
    assert counters[(two_schools["first"].id, 2026)] == 2


def test_year_boundary_in_shanghai(two_schools):
    # 23:30 on 31 December in Shanghai is still 2026 there, 15:30 UTC.
    late = datetime(2026, 12, 31, 15, 30, tzinfo=timezone.utc)
    early = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)

    first = issue(two_schools["first_people"][0], two_schools["first_programme"], late)
    second = issue(two_schools["first_people"][1], two_schools["first_programme"], early)

    assert first.serial == "JA-2026-000001"
    assert second.serial == "JA-2027-000001"


def test_serial_unique_in_database(two_schools):
    cert = issue(two_schools["first_people"][0], two_schools["first_programme"])
    clone = Certificate(
        serial=cert.serial,
        verification_code="ZZZZZZZZZZZZ",
        achievement_key="manual:clone",
        holder_id=cert.holder_id,
        institution_id=cert.institution_id,
        holder_name=cert.holder_name,
        title=cert.title,
        hours=cert.hours,
        issued_on=cert.issued_on,
        render_data={},
    )

    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(clone)


def test_pattern_change_skips_existing_serial(two_schools):
    # A new pattern that reproduces an existing serial must not reuse it.
    first = issue(two_schools["first_people"][0], two_schools["first_programme"])
    serials.update_settings(
        two_schools["first"], prefix="JA", pattern="{prefix}-{year}-{seq:06d}",
        renewal_window_days=90,
    )
    db.session.execute(
        sa.update(SerialCounter).values(last_value=0)
    )

    second = issue(two_schools["first_people"][1], two_schools["first_programme"])

    assert first.serial == "JA-2026-000001"
    assert second.serial == "JA-2026-000002"


def test_settings_page_rejects_bad_pattern(two_schools, login):
    make_user(two_schools["first"], "admin-a", Role.ADMIN)
    db.session.commit()
    admin = login("admin-a")

    response = admin.post(
        "/certificates/settings",
        data={
            "serial_prefix": "JA",
            "serial_pattern": "{prefix}-{year}-{serial}",
            "renewal_window_days": "90",
        },
    )

    assert response.status_code == 400
    assert "未知字段 {serial}" in response.get_data(as_text=True)
    assert serials.settings_of(two_schools["first"].id) is None


def test_settings_page_huge_width_short_message(two_schools, login):
    make_user(two_schools["first"], "admin-a", Role.ADMIN)
    db.session.commit()
    admin = login("admin-a")

    response = admin.post(
        "/certificates/settings",
        data={
            "serial_prefix": "JA",
            "serial_pattern": "{prefix}-{year}-{seq:0999999d}",
            "renewal_window_days": "90",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert len(page) < 50_000
    assert "编号格式" in page
    assert "{seq:0999999d}" in page
    assert "1 至 12 位" in page
    assert "the pattern" not in page
    assert serials.settings_of(two_schools["first"].id) is None


def test_settings_page_saves_pattern(two_schools, login):
    make_user(two_schools["first"], "admin-a", Role.ADMIN)
    db.session.commit()
    admin = login("admin-a")

    response = admin.post(
        "/certificates/settings",
        data={
            "serial_prefix": "BNU",
            "serial_pattern": "{prefix}-{yy}-{seq:05d}",
            "renewal_window_days": "30",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert serials.serial_pattern(two_schools["first"].id) == "{prefix}-{yy}-{seq:05d}"
    page = admin.get("/certificates/settings").get_data(as_text=True)
    assert "BNU-26-00123" in page
    entry = db.session.scalar(
        sa.select(AuditEntry).filter_by(action="certificate_settings.saved")
    )
    assert entry.data["pattern"] == "{prefix}-{yy}-{seq:05d}"


def test_settings_page_admin_only(two_schools, login):
    make_user(two_schools["first"], "hr-a", Role.HR)
    make_user(two_schools["first"], "trainer-a", Role.TRAINER)
    db.session.commit()

    assert login("hr-a").get("/certificates/settings").status_code == 403
    assert login("trainer-a").get("/certificates/settings").status_code == 403


def _post_settings(admin, prefix: str, pattern: str):
    return admin.post(
        "/certificates/settings",
        data={"serial_prefix": prefix, "serial_pattern": pattern, "renewal_window_days": "90"},
    )


def test_settings_page_rejects_other_school_prefix(two_schools, login, english):
    """Is a prefix refused that would give the serials of another school?"""
    make_user(two_schools["second"], "admin-b", Role.ADMIN)
    db.session.commit()

    response = _post_settings(login("admin-b"), "ja", "{prefix}-{year}-{seq:06d}")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Serial prefix: 甲大学 already uses the serial prefix JA" in page
    assert "add {code} to the pattern" in page
    db.session.expire_all()
    assert two_schools["second"].serial_prefix == "YI"


def test_settings_page_accepts_shared_prefix_with_code(two_schools, login):
    make_user(two_schools["second"], "admin-b", Role.ADMIN)
    db.session.commit()

    response = _post_settings(login("admin-b"), "JA", "{prefix}-{code}-{year}-{seq:06d}")
    cert = issue(two_schools["second_people"][0], two_schools["second_programme"])

    assert response.status_code == 302
    assert cert.serial == "JA-uni-b-2026-000001"


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("三十", "续期窗口（到期前天数）：请输入0至3650之间的整数。"),
        ("4000", "续期窗口（到期前天数）：请输入0至3650之间的数。"),
    ],
)
def test_settings_page_renewal_window_one_message(two_schools, login, window, message):
    make_user(two_schools["first"], "admin-a", Role.ADMIN)
    db.session.commit()

    response = login("admin-a").post(
        "/certificates/settings",
        data={
            "serial_prefix": "JA",
            "serial_pattern": "{prefix}-{year}-{seq:06d}",
            "renewal_window_days": window,
        },
    )

    assert response.status_code == 400
    errors = re.findall(r'<p class="field-error">(.*?)</p>', response.get_data(as_text=True))
    assert errors == [message]
    assert serials.settings_of(two_schools["first"].id) is None


def test_settings_audit_keeps_previous_values(two_schools, login):
    """Changing the serial prefix is audited with the values it replaced."""
    make_user(two_schools["first"], "admin-a", Role.ADMIN)
    db.session.commit()
    admin = login("admin-a")
    old_prefix = two_schools["first"].serial_prefix
    old_pattern = serials.serial_pattern(two_schools["first"].id)

    response = admin.post(
        "/certificates/settings",
        data={
            "serial_prefix": "BNU",
            "serial_pattern": "{prefix}-{yy}-{seq:05d}",
            "renewal_window_days": "30",
        },
    )

    assert response.status_code == 302
    entry = db.session.scalar(
        sa.select(AuditEntry).filter_by(action="certificate_settings.saved")
    )
    assert entry.data["previous"]["prefix"] == old_prefix
    assert entry.data["previous"]["pattern"] == old_pattern
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert f"原为：编号格式 {old_pattern}，前缀 {old_prefix}" in page
