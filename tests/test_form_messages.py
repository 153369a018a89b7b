"""WTForms' default validation messages come out in the platform's wording."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from werkzeug.datastructures import MultiDict

from lms.form_messages import WTFORMS_MESSAGES, PlatformForm, translations
from tests.wtforms_wording import builtin_msgids

ROOT = Path(__file__).resolve().parent.parent
CHINESE = ROOT / "lms/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
#: Flask-WTF's file validators translate these through the form as well.
FLASK_WTF_MSGIDS = {
    "File does not have an approved extension.",
    "File does not have an approved extension: {extensions}",
}


def _all_subclasses(cls) -> set[type]:
    found = set()
    for subclass in cls.__subclasses__():
        found.add(subclass)
        found |= _all_subclasses(subclass)
    return found


def test_every_builtin_msgid_mapped():
    missing = sorted((builtin_msgids() | FLASK_WTF_MSGIDS) - set(WTFORMS_MESSAGES))

    assert missing == []


def test_every_platform_wording_in_chinese():
    with CHINESE.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {message.id for message in catalogue if message.string}

    missing = sorted(
        {str(message._args[0]) for message in WTFORMS_MESSAGES.values()} - translated
    )

    assert missing == []


def test_platform_wording_keeps_placeholders():
    for msgid, message in WTFORMS_MESSAGES.items():
        wording = str(message._args[0])
        for name in ("%(min)d", "%(max)d", "%(min)s", "%(max)s", "%(values)s", "{extensions}"):
            assert (name in msgid) == (name in wording), (msgid, wording)


def test_unknown_message_unchanged(app):
    with app.test_request_context():
        assert translations.gettext("Some message of a form.") == "Some message of a form."
        assert translations.ngettext("One thing.", "%(n)d things.", 2) == "%(n)d things."


def test_every_form_is_platform_form(app):
    plain = sorted(
        f"{form.__module__}.{form.__qualname__}"
        for form in _all_subclasses(FlaskForm)
        if not issubclass(form, PlatformForm)
        and form.__module__.split(".")[0] in ("lms", "courses", "assessments", "certificates")
    )

    assert plain == []


class _SampleForm(PlatformForm):
    class Meta:
        csrf = False

    name = StringField("Name", validators=[DataRequired(), Length(max=5)])
    count = IntegerField("Count", validators=[NumberRange(min=1, max=9)])
    share = DecimalField("Share")
    note = StringField("Note", validators=[DataRequired(message="Write a note.")])


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            {
                "name": ["Enter at most 5 characters."],
                "count": ["Enter a whole number from 1 to 9."],
                "share": ["Enter a number such as 25 or 33.3."],
                "note": ["Write a note."],
            },
        ),
        (
            "zh_CN",
            {
                "name": ["最多输入5个字符。"],
                "count": ["请输入1至9之间的整数。"],
                "share": ["请输入数字，例如 25 或 33.3。"],
                "note": ["Write a note."],
            },
        ),
    ],
)
def test_sample_form_messages(app, locale, expected):
    data = MultiDict({"name": "abcdefg", "count": "x", "share": "y", "note": ""})
    with app.test_request_context(headers={"Accept-Language": locale.replace("_", "-")}):
        form = _SampleForm(formdata=data)

        assert not form.validate()
        assert form.errors == expected


class _NumbersForm(PlatformForm):
    class Meta:
        csrf = False

    plain = IntegerField("Plain", validators=[Optional()])
    floor = IntegerField("Floor", validators=[InputRequired(), NumberRange(min=0)])
    ceiling = IntegerField("Ceiling", validators=[Optional(), NumberRange(max=40)])
    score = IntegerField(
        "Score", validators=[NumberRange(1, 5, message="Choose a score from 1 to 5.")]
    )
    share = DecimalField("Share", validators=[NumberRange(min=1, max=100)])


def test_unparsed_numbers_get_one_message(app):
    """Does a number typed as text get one message that states the range?"""
    data = MultiDict(
        {"plain": "x", "floor": "x", "ceiling": "x", "score": "x", "share": "x"}
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        form = _NumbersForm(formdata=data)

        assert not form.validate()
        assert form.errors == {
            "plain": ["Enter a whole number."],
            "floor": ["Enter a whole number of at least 0."],
            "ceiling": ["Enter a whole number of at most 40."],
            "score": ["Choose a score from 1 to 5."],
            "share": ["Enter a number from 1 to 100."],
        }


def test_out_of_range_numbers_unchanged(app):
    """Does a parsed number outside the range keep the range's own message?"""
    data = MultiDict(
        {"plain": "7", "floor": "-1", "ceiling": "41", "score": "6", "share": "0"}
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        form = _NumbersForm(formdata=data)

        assert not form.validate()
        assert form.errors == {
            "floor": ["Enter a number of at least 0."],
            "ceiling": ["Enter a number of at most 40."],
            "score": ["Choose a score from 1 to 5."],
            "share": ["Enter a number from 1 to 100."],
        }


def test_sample_form_required_message(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        form = _SampleForm(formdata=MultiDict({"count": "5"}))

        assert not form.validate()
        assert form.errors["name"] == ["此项为必填项。"]
