"""English pages write dates and date-times one way; Chinese keeps its CLDR forms."""

from datetime import date, datetime, timezone

import pytest
from flask_babel import force_locale

from lms.i18n import format_date, format_datetime

DAY = date(2026, 12, 5)
MOMENT = datetime(2027, 6, 1, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("name", ["short", "medium", "long", "full"])
def test_english_dates_in_one_style(app, name):
    with app.test_request_context(), force_locale("en"):
        assert format_date(DAY, name) == "2026-12-05"
        assert format_datetime(MOMENT, name) == "2027-06-01 18:00"


def test_chinese_dates_keep_locale_forms(app):
    with app.test_request_context(), force_locale("zh_CN"):
        assert format_date(DAY) == "2026年12月5日"
        assert format_date(DAY, "short") == "2026/12/5"
        assert format_datetime(MOMENT, "short") == "2027/6/1 18:00"


def test_explicit_pattern_kept(app):
    with app.test_request_context(), force_locale("en"):
        assert format_date(DAY, "d MMM") == "5 Dec"

