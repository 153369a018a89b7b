"""Locale selection: the user's choice, then the browser, then zh_CN."""

import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

import flask_babel
from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from lms.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # CLI commands and scheduled jobs pick a locale with force_locale.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    best = request.accept_languages.best_match(
        languages + ["zh", "zh-CN", "en-US"], default=None
    )
    if best is None:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return "zh_CN" if best.lower().startswith("zh") else "en"


def select_timezone() -> str:
    if has_request_context() and current_user.is_authenticated:
        return current_user.institution.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def current_language() -> str:
    """Return the active locale as its code in ``LANGUAGES``, e.g. "zh_CN".

    Babel expands "zh_CN" to "zh_Hans_CN" when it parses it, so the Locale
    object does not compare equal to the configured code as a string.
    """
    locale = get_locale()
    for code in current_app.config["LANGUAGES"]:
        if locale == _parsed(code):
            return code
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def user_language(user) -> str:
    """Return the configured code of ``user``'s chosen language, else the default one.

    Text written for one person outside their requests (notifications and
    their e-mail copies) uses it.
    """
    if user.locale in current_app.config["LANGUAGES"]:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@lru_cache(maxsize=16)
def _parsed(code: str) -> Locale:
    """Parse a configured code once; base.html asks for the language several times a page."""
    return Locale.parse(code)


def four_digit_year(pattern: str) -> str:
    """Return a CLDR date pattern with a two-digit year ("yy") widened to the full year."""
    return re.sub(r"(?<!y)yy(?!y)", "y", pattern)


#: CLDR's named formats, which the English UI replaces with its own patterns.
NAMED_FORMATS = ("short", "medium", "long", "full")
#: English dates and date-times in ISO order with a four-digit year, the
#: form the class pages and the data exports show, so every English page
#: writes a date one way.
ENGLISH_DATE = "yyyy-MM-dd"
ENGLISH_DATETIME = "yyyy-MM-dd HH:mm"


def date_pattern(format: str = "medium", locale: Locale | str | None = None) -> str:
    """Return the pattern this UI formats a date with, for ``locale`` or the current one.

    A named English format becomes ENGLISH_DATE. Other locales keep their
    CLDR format, widened to a four-digit year in the short one (English's
    "M/d/yy" shows 2999 as "1/1/99"). Any other value is a pattern already.
    """
    locale = _locale(locale)
    if format in NAMED_FORMATS and locale.language == "en":
        return ENGLISH_DATE
    if format == "short":
        return four_digit_year(locale.date_formats["short"].pattern)
    return format


def datetime_pattern(format: str = "medium", locale: Locale | str | None = None) -> str:
    """Return the pattern this UI formats a date-time with; see date_pattern."""
    locale = _locale(locale)
    if format in NAMED_FORMATS and locale.language == "en":
        return ENGLISH_DATETIME
    if format == "short":
        return locale.datetime_formats["short"].format(
            locale.time_formats["short"].pattern,
            four_digit_year(locale.date_formats["short"].pattern),
        )
    return format


def _locale(locale: Locale | str | None) -> Locale:
    if locale is None:
        return get_locale()
    if isinstance(locale, str):
        return _parsed(locale)
    return locale


def format_date(value: date | None = None, format: str = "medium") -> str:
    """Format a date like Flask-Babel, in the pattern date_pattern picks."""
    return flask_babel.format_date(value, date_pattern(format))


def format_datetime(value: datetime | None = None, format: str = "medium") -> str:
    """Format a datetime in the user's time zone, in the pattern datetime_pattern picks."""
    return flask_babel.format_datetime(value, datetime_pattern(format))


def format_local_datetime(value: datetime, format: str = "short") -> str:
    """Format a naive datetime that is in local time already, such as a form value.

    Unlike format_datetime it does not convert the value to the user's
    zone, so a value near year 1 or 9999 formats instead of overflowing.
    """
    return flask_babel.format_datetime(value, datetime_pattern(format), rebase=False)


def format_date_range(start: date, end: date, format: str = "long") -> str:
    """Format the period from ``start`` to ``end``: "2026年9月1日至2026年9月30日" in Chinese."""
    return flask_babel.gettext(
        "%(start)s to %(end)s", start=format_date(start, format), end=format_date(end, format)
    )


def plural_count(value: Decimal | int | str | None) -> int:
    """Return the integer that picks the plural form of ``value``, a decimal count.

    Python's gettext needs an integer. A fraction, or a value that is not a
    number, maps to 2, because English and Chinese, the UI's languages, use
    the "other" form for it. ``value`` may be a decimal stored as text.
    """
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return 2
    if not number.is_finite() or number != number.to_integral_value():
        return 2
    return int(number)


def join_names(names) -> str:
    """Join names as the reader's language lists them: 甲、乙 in Chinese, "A, B" otherwise.

    The separator is the translated ", ", as templates write ``join(_(', '))``.
    """
    return flask_babel.gettext(", ").join(str(name) for name in names)


def institution_name(institution) -> str:
    """Return the institution's name in the reader's language: its English name, if
    it has one, on English pages, else its Chinese name."""
    if current_language() == "en" and institution.name_en:
        return institution.name_en
    return institution.name


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["dateformat"] = format_date
    app.jinja_env.filters["datetimeformat"] = format_datetime
    app.jinja_env.filters["plural_count"] = plural_count
    app.jinja_env.filters["join_names"] = join_names
    app.jinja_env.globals["date_range"] = format_date_range
    app.jinja_env.filters["institution_name"] = institution_name
    # Flask-Babel 4 does not put get_locale into Jinja. base.html calls
    # get_locale() for <html lang> and the language switch and compares the
    # result with "zh_CN", so templates get the configured code.
    app.jinja_env.globals["get_locale"] = current_language
