"""Stored text: a message and its parameters, rendered in the reader's language."""

from datetime import date, datetime, timezone

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from lms.stored_text import (
    StoredText,
    in_each_language,
    render_item,
    render_stored,
    split_text,
    stored_date,
    stored_datetime,
    stored_gettext,
    stored_join,
    stored_ngettext,
)


def test_message_renders_in_each_language(app_ctx):
    text = stored_gettext("Result released: %(task)s", task="案例分析")

    assert text.render("en") == "Result released: 案例分析"
    assert text.render("zh_CN") == "成绩已发布：案例分析"


def test_message_renders_in_current_locale(app_ctx):
    text = stored_gettext("Your promotion was approved")

    with force_locale("en"):
        english = str(text)
    with force_locale("zh_CN"):
        chinese = str(text)

    assert english == "Your promotion was approved"
    assert chinese == "您的晋升申请已获批准"


def test_json_round_trip_keeps_the_facts(app_ctx):
    text = stored_gettext("Result released: %(task)s", task="案例分析")

    again = StoredText(text.to_json())

    assert text.to_json() == {
        "msgid": "Result released: %(task)s",
        "params": {"task": "案例分析"},
    }
    assert again.render("zh_CN") == "成绩已发布：案例分析"


def test_plural_message_counts(app_ctx):
    one = stored_ngettext(
        "Your certificate expires in %(num)d day",
        "Your certificate expires in %(num)d days",
        1,
    )
    many = stored_ngettext(
        "Your certificate expires in %(num)d day",
        "Your certificate expires in %(num)d days",
        30,
    )

    assert one.render("en") == "Your certificate expires in 1 day"
    assert many.render("en") == "Your certificate expires in 30 days"
    assert many.render("zh_CN") == "您的证书将在30天后到期"


def test_date_parameter_follows_reader(app_ctx):
    text = stored_gettext(
        "Your certificate %(serial)s was revoked", serial=stored_date(date(2026, 3, 5))
    )

    assert text.render("en") == "Your certificate 2026-03-05 was revoked"
    assert "2026年3月5日" in text.render("zh_CN")


def test_datetime_in_stored_zone(app_ctx):
    moment = datetime(2026, 3, 5, 16, 30, tzinfo=timezone.utc)

    text = stored_datetime(moment, "medium", "Asia/Shanghai")

    assert text.render("en") == "2026-03-06 00:30"


def test_label_parameter_kept_per_language(app_ctx):
    text = stored_gettext("Result released: %(task)s", task=_l("Lecturer"))

    assert text.render("en") == "Result released: Lecturer"
    assert text.render("zh_CN") == "成绩已发布：讲师"


def test_each_language_keeps_every_rendering(app_ctx):
    text = in_each_language(lambda: _l("Lecturer"))

    assert text.to_json() == {"languages": {"zh_CN": "讲师", "en": "Lecturer"}}
    assert text.render("en") == "Lecturer"


def test_join_renders_each_part(app_ctx):
    text = stored_join([stored_gettext("Your promotion was approved"), "备注"], " | ")

    assert text.render("en") == "Your promotion was approved | 备注"


def test_typed_text_stays_as_written(app_ctx):
    rendered, data = split_text("请补充材料", "en")

    assert rendered == "请补充材料"
    assert data is None


def test_missing_data_gives_stored_text(app_ctx):
    assert render_stored(None, "2024年度考核：合格", "en") == "2024年度考核：合格"


@pytest.mark.parametrize(
    "data",
    [
        {"msgid": "Result released: %(task)s", "params": {"title": "x"}},
        {"msgid": "Result released: %(task)s", "params": "task"},
        {"date": "not a date"},
        {"unknown": 1},
        {"languages": {}},
    ],
)
def test_broken_data_gives_stored_text(app_ctx, data):
    assert render_stored(data, "原文", "en") == "原文"


def test_unknown_parameter_type_rejected(app_ctx):
    with pytest.raises(TypeError, match="cannot store a parameter of type set"):
        stored_gettext("Result released: %(task)s", task={1})


def test_item_renders_json_in_locale(app_ctx):
    item = stored_gettext("Result released: %(task)s", task="案例分析").to_json()

    assert render_item(item, "en") == "Result released: 案例分析"
    assert render_item(item, "zh_CN") == "成绩已发布：案例分析"


def test_plain_item_stays_as_written(app_ctx):
    assert render_item("职称：申请人档案现为副教授。", "en") == "职称：申请人档案现为副教授。"
    assert render_item(None, "en") == ""


def test_broken_item_gives_message_id(app_ctx):
    item = {"msgid": "Result released: %(task)s", "params": {"title": "x"}}

    assert render_item(item, "zh_CN") == "Result released: %(task)s"
    assert render_item({"unknown": 1}, "en") == ""
