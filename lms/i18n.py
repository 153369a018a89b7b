"""Locale selection: the user's choice, then the browser, then zh_CN."""

from flask import Flask, current_app, request, session
from flask_login import current_user

from lms.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
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
    if current_user.is_authenticated:
        return current_user.institution.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
