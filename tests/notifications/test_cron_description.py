"""Job schedules in words for the admin jobs page, in English and Chinese."""

import pytest
from flask_babel import force_locale

from lms.cron_description import describe_cron
from lms.scheduler import DEFAULT_JOBS

CASES = [
    ("* * * * *", "Every minute", "每分钟"),
    ("*/5 * * * *", "Every 5 minutes", "每 5 分钟"),
    ("15 * * * *", "Every hour at minute 15", "每小时第 15 分钟"),
    ("0 2 * * *", "Every day at 02:00", "每天 02:00"),
    ("50 23 * * *", "Every day at 23:50", "每天 23:50"),
    ("0 3 * * mon", "Every Monday at 03:00", "每周一 03:00"),
    ("0 3 * * sun", "Every Sunday at 03:00", "每周日 03:00"),
    ("30 7 * * mon-fri", "Monday to Friday at 07:30", "每周一至周五 07:30"),
    ("0 4 1 * *", "On day 1 of every month at 04:00", "每月 1 日 04:00"),
    ("0 8 1 11 *", "Every year on November 1 at 08:00", "每年 11月1日 08:00"),
    ({"hour": 8}, "Every day at 08:00", "每天 08:00"),
    ({"day_of_week": "fri", "hour": 18, "minute": 5}, "Every Friday at 18:05", "每周五 18:05"),
]


@pytest.mark.parametrize(("cron", "english", "chinese"), CASES)
def test_describe_cron_both_languages(app_ctx, cron, english, chinese):
    with force_locale("en"):
        assert describe_cron(cron) == english
    with force_locale("zh_CN"):
        assert describe_cron(cron) == chinese


def test_numeric_weekday_follows_apscheduler(app_ctx):
    """APScheduler 3.x counts weekdays from Monday = 0, unlike crontab."""
    with force_locale("en"):
        assert describe_cron("0 3 * * 0") == "Every Monday at 03:00"
        assert describe_cron("0 3 * * 1") == "Every Tuesday at 03:00"


@pytest.mark.parametrize(
    "cron",
    [
        "*/7 * * * *",
        "0 */2 * * *",
        "0,30 8 * * *",
        "0 8 * * mon,wed",
        "0 8 * * sat-sun",
        "0 8 1-7 * *",
        "0 8 * 11 *",
        "0 8 1 * mon",
        "0 8 last * *",
        "0 8 30 2 *",
        {"hour": 8, "second": 30},
        {"hour": 8, "end_date": "2030-01-01"},
        "not a cron",
        "61 * * * *",
    ],
)
def test_describe_cron_falls_back(app_ctx, cron):
    with force_locale("en"):
        assert describe_cron(cron) is None


@pytest.mark.parametrize("spec", DEFAULT_JOBS, ids=lambda spec: spec.id)
def test_every_default_job_described(app_ctx, spec):
    with force_locale("en"):
        english = describe_cron(spec.cron)
    with force_locale("zh_CN"):
        chinese = describe_cron(spec.cron)

    assert english
    assert chinese
    assert chinese != english
